package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/devices/strictyaml"
)

// Defaults applied when neither defaults, a group nor the device sets a
// field. They are part of the user contract (devices.example.yaml).
const (
	DefaultPort          = 830
	DefaultHostKeyPolicy = "strict"
	DefaultTimeout       = 30 * time.Second
	DefaultKnownHosts    = "~/.ssh/known_hosts"
	DefaultSession       = "per-poll"
)

// Switchover readiness defaults (issue 16): the readiness: block.
const (
	DefaultReadinessMinBackupUptime = 10 * time.Minute
	DefaultReadinessInterval        = time.Hour
	DefaultReadinessSeverity        = ReadinessWarning
)

// readiness.severity values: the state a router that would not survive a
// switchover raises check to, or off for none.
const (
	ReadinessWarning  = "warning"
	ReadinessCritical = "critical"
	ReadinessOff      = "off"
)

// Host key policies.
const (
	HostKeyStrict    = "strict"     // the host key must be in known_hosts
	HostKeyAcceptNew = "accept-new" // unknown hosts are added, changed keys refused
	HostKeyOff       = "off"        // no check: lab use only
)

// Session modes.
const (
	SessionPerPoll    = "per-poll"   // one SSH+NETCONF session per poll
	SessionPersistent = "persistent" // keep the session between polls
)

// Inventory is the fleet, as read from one inventory file.
type Inventory struct {
	// Path is the file the inventory was read from, as given.
	Path string
	// Devices are in file order, with defaults and groups applied; those
	// read from NetBox (by Resolve) follow, in NetBox's order.
	Devices []Device
	// NetBox is the inventory's netbox section; nil when it has none.
	NetBox *NetBox

	// base keeps defaults and groups for merging NetBox's devices in.
	base *mergeBase
	// sourceWarnings are problems met while reading the device sources
	// (a NetBox device without a name, a stale cache), reported first by
	// Warnings.
	sourceWarnings []string
}

// Device is one router with every inherited setting resolved: code that
// dials or schedules never needs to look at defaults or groups.
type Device struct {
	Name     string
	Host     string
	Port     int
	Username string
	Auth     Auth
	// KnownHosts is an absolute path (relative paths in the file are taken
	// from the inventory file's directory, "~/" is expanded).
	KnownHosts    string
	HostKeyPolicy string // HostKeyStrict, HostKeyAcceptNew or HostKeyOff
	// Timeout is the hard deadline for one poll of this device, dial to
	// last RPC.
	Timeout time.Duration
	Site    string
	// Tags is the union of the tags of defaults, the groups in order and
	// the device, without duplicates.
	Tags []string
	// Groups are the groups the device listed, in its order (for a device
	// from NetBox: the groups named like its role and its tags).
	Groups []string
	// Platform and Role are NetBox's platform and role slugs, for devices
	// read from NetBox; "" otherwise.
	Platform, Role string
	// ExpectedREs is how many REs the device should have alive; 0 means not
	// set: use the most REs seen in stored history.
	ExpectedREs int
	// Session is SessionPerPoll (default) or SessionPersistent.
	Session string
	// PortSet and KnownHostsSet say that Port and KnownHosts were given
	// in the inventory (defaults, a group or the device) rather than
	// defaulted: with SSHConfig, only a value not given in the inventory
	// is taken from ssh_config.
	PortSet, KnownHostsSet bool
	// Jump is the chain of SSH jump hosts the router is reached through,
	// first hop first, as OpenSSH's ProxyJump. nil means not set: direct,
	// or ssh_config's ProxyJump with SSHConfig; empty and non-nil ("jump:
	// none") means direct even when ssh_config names a ProxyJump.
	Jump []JumpHost
	// SSHConfig is an absolute path to an OpenSSH client config file whose
	// HostName, Port, User, IdentityFile, ProxyJump and UserKnownHostsFile
	// apply where the inventory leaves them out; "" reads none.
	SSHConfig string
	// JumpHosts are the inventory's jump_hosts entries by name, set (and
	// shared, read-only, between devices) when SSHConfig is: they apply to
	// the jump hosts ssh_config's ProxyJump names. nil when there are none.
	JumpHosts map[string]JumpHost
	// LegacyAlgorithms also offers the key exchanges, ciphers and host key
	// algorithms that old Junos releases need.
	LegacyAlgorithms bool
	// Logs are the /var/log file names to read, e.g. "messages",
	// "mastership"; nil means the agent's default set, empty means none.
	Logs []string
	// Maintenance are the device's maintenance windows: those of
	// defaults, its groups and its own, all applying. Findings whose flap
	// overlaps one are marked maintenance and raise no alert.
	Maintenance []maintenance.Window
	// Readiness are the switchover readiness settings, each inherited
	// on its own from defaults and groups.
	Readiness Readiness
}

// Readiness is the readiness: block of a device: how switchover
// readiness is judged and how often its rarely read data is read again.
type Readiness struct {
	// MinBackupUptime is how long a backup RE must have been up to count
	// as ready: a freshly booted backup is still synchronising.
	MinBackupUptime time.Duration
	// Interval is how often the replication state (show task
	// replication) is read at most, reboots, switchovers and commits
	// aside.
	Interval time.Duration
	// Severity is ReadinessWarning, ReadinessCritical or ReadinessOff.
	Severity string
}

// Auth says how to authenticate to a device. It holds where secrets are,
// never the secrets themselves, so a Device can be logged or printed.
// Methods are tried in the order key, agent, password.
type Auth struct {
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string
	// PasswordFile is an absolute path to a file holding the password.
	// A parsed inventory sets at most one of PasswordEnv and PasswordFile;
	// if both are set, PasswordEnv wins.
	PasswordFile string
	// PrivateKey is an absolute path to a private key file.
	PrivateKey string
	// PassphraseEnv names an environment variable holding PrivateKey's
	// passphrase.
	PassphraseEnv string
	// Agent uses the keys of the SSH agent at $SSH_AUTH_SOCK.
	Agent bool
}

// Configured reports whether at least one authentication method is set.
func (a Auth) Configured() bool {
	return a.PasswordEnv != "" || a.PasswordFile != "" || a.PrivateKey != "" || a.Agent
}

// Device returns the device with the given name.
func (inv *Inventory) Device(name string) (Device, bool) {
	for _, d := range inv.Devices {
		if d.Name == name {
			return d, true
		}
	}
	return Device{}, false
}

// Select returns the devices named in names plus those having any of tags,
// in inventory order. Both empty selects every device. A name that is not
// in the inventory, or a tag that no device has, is an error: a typo on a
// scheduled command line must not quietly audit less than intended.
func (inv *Inventory) Select(names, tags []string) ([]Device, error) {
	if len(names) == 0 && len(tags) == 0 {
		return slices.Clone(inv.Devices), nil
	}
	var unknownNames, unknownTags []string
	for _, n := range names {
		if _, ok := inv.Device(n); !ok && !slices.Contains(unknownNames, n) {
			unknownNames = append(unknownNames, n)
		}
	}
	for _, t := range tags {
		if !slices.ContainsFunc(inv.Devices, func(d Device) bool { return slices.Contains(d.Tags, t) }) &&
			!slices.Contains(unknownTags, t) {
			unknownTags = append(unknownTags, t)
		}
	}
	var errs []error
	if len(unknownNames) > 0 {
		errs = append(errs, fmt.Errorf("%s: unknown device(s): %s", inv.Path, quoteList(unknownNames)))
	}
	if len(unknownTags) > 0 {
		errs = append(errs, fmt.Errorf("%s: no device has tag(s): %s", inv.Path, quoteList(unknownTags)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Device
	for _, d := range inv.Devices {
		if slices.Contains(names, d.Name) || slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(d.Tags, t) }) {
			out = append(out, d)
		}
	}
	return out, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// Warnings returns problems that do not stop the agent but that an
// operator should fix: secret files others can read, missing secret files,
// devices with no way to authenticate, host key checking turned off. They
// are computed from the files as they are now, one line each, in a stable
// order, and never contain a secret.
func (inv *Inventory) Warnings() []string {
	out := slices.Clone(inv.sourceWarnings)
	seen := map[string]bool{}
	checkFile := func(kind, path string) {
		if path == "" || seen[kind+"\x00"+path] {
			return
		}
		seen[kind+"\x00"+path] = true
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %s %s: %v", inv.Path, kind, path, unwrapPath(err)))
		case fi.IsDir():
			out = append(out, fmt.Sprintf("%s: %s %s is a directory", inv.Path, kind, path))
		case fi.Mode().Perm()&0o077 != 0:
			out = append(out, fmt.Sprintf("%s: %s %s is readable by group or others (mode %04o); run: chmod 600 %s",
				inv.Path, kind, path, fi.Mode().Perm(), path))
		}
	}
	for _, d := range inv.Devices {
		checkFile("password_file", d.Auth.PasswordFile)
		checkFile("private_key", d.Auth.PrivateKey)
		for _, h := range d.Jump {
			checkFile("password_file", h.Auth.PasswordFile)
			checkFile("private_key", h.Auth.PrivateKey)
		}
	}
	// A missing known_hosts makes every strict poll fail with "hostkey";
	// with accept-new it is simply created.
	checkKnownHosts := func(policy, file string) {
		if policy != HostKeyStrict || file == "" || seen["known_hosts\x00"+file] {
			return
		}
		seen["known_hosts\x00"+file] = true
		if _, err := os.Stat(file); err != nil {
			out = append(out, fmt.Sprintf("%s: known_hosts %s: %v (with host_key_policy strict, polls will fail)",
				inv.Path, file, unwrapPath(err)))
		}
	}
	for _, d := range inv.Devices {
		checkKnownHosts(d.HostKeyPolicy, d.KnownHosts)
		for _, h := range d.Jump {
			checkKnownHosts(cmp.Or(h.HostKeyPolicy, d.HostKeyPolicy), cmp.Or(h.KnownHosts, d.KnownHosts))
		}
	}
	// An ssh_config the operator asked for and that is not there fails
	// every poll of the devices that use it.
	for _, d := range inv.Devices {
		if d.SSHConfig == "" || seen["ssh_config\x00"+d.SSHConfig] {
			continue
		}
		seen["ssh_config\x00"+d.SSHConfig] = true
		if _, err := os.Stat(d.SSHConfig); err != nil {
			out = append(out, fmt.Sprintf("%s: ssh_config %s: %v (polls of the devices that use it will fail)",
				inv.Path, d.SSHConfig, unwrapPath(err)))
		}
	}
	for _, d := range inv.Devices {
		// With ssh_config, its IdentityFile may be the way in.
		if !d.Auth.Configured() && d.SSHConfig == "" {
			out = append(out, fmt.Sprintf("%s: device %s: no auth method (set auth: password_env, password_file, private_key or agent)", inv.Path, strictyaml.Show(d.Name)))
		}
		if d.HostKeyPolicy == HostKeyOff {
			out = append(out, fmt.Sprintf("%s: device %s: host_key_policy off: the router's identity is not checked", inv.Path, strictyaml.Show(d.Name)))
		}
		for _, h := range d.Jump {
			if cmp.Or(h.HostKeyPolicy, d.HostKeyPolicy) == HostKeyOff && d.HostKeyPolicy != HostKeyOff {
				out = append(out, fmt.Sprintf("%s: device %s: jump host %s: host_key_policy off: the jump host's identity is not checked", inv.Path, strictyaml.Show(d.Name), strictyaml.Show(h.Name)))
			}
		}
	}
	return out
}

// Error is one problem in an inventory file: file, line, field, what is
// wrong.
type Error = strictyaml.Error

// LoadInventory reads and parses the inventory file at path.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return ParseInventory(path, data)
}

// ParseInventory parses an inventory. path names the file in errors and
// is the base for relative paths in it. Errors are *Error: one,
// or several joined with errors.Join (at most 20 reported).
func ParseInventory(path string, data []byte) (*Inventory, error) {
	dir := filepath.Dir(path)
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		dir = abs
	}
	p := &parser{Reader: strictyaml.Reader{File: path, MergeHint: "use defaults or groups"}, dir: dir}
	inv := p.parse(data)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}
