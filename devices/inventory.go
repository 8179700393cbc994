package devices

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
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

// maxErrors bounds how many errors one parse reports: past a handful, the
// rest are usually consequences of the first (a mis-indented block), and a
// wall of text hides the line the user has to fix.
const maxErrors = 20

// maxSearchedSize bounds the inventories in which a YAML syntax error's
// line is searched for (see syntaxErrorLine): about 5,000 devices.
const maxSearchedSize = 1 << 20

// maxPasswordFile bounds how much of a password_file is read: a password
// is short, and a large file means the path points at the wrong file.
const maxPasswordFile = 64 << 10

// Inventory is the fleet, as read from one inventory file.
type Inventory struct {
	// Path is the file the inventory was read from, as given.
	Path string
	// Devices are in file order, with defaults and groups applied.
	Devices []Device
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
	// Groups are the groups the device listed, in its order.
	Groups []string
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

// JumpHost is one SSH server on the way to a device (a bastion). What is
// left empty here is filled when connecting: from ssh_config for Name when
// the device uses ssh_config, else from the device itself.
type JumpHost struct {
	// Name is the hop as jump names it, without user and port: a
	// jump_hosts key or a host name. It is the name ssh_config is asked
	// about, and how messages name the hop.
	Name string
	// Host is the address to connect to, from jump_hosts' host; "" means
	// Name (or ssh_config's HostName for it).
	Host string
	// Port is the hop's SSH port, from jump (":port") or jump_hosts; 0
	// means ssh_config's Port, else 22.
	Port int
	// Username is from jump ("user@") or jump_hosts; "" means ssh_config's
	// User, else the device's username.
	Username string
	// Auth is jump_hosts' auth. When it is not Configured, the device's
	// auth is used, all of it: its password goes to the jump host too.
	Auth Auth
	// KnownHosts is jump_hosts' known_hosts, an absolute path; "" means
	// ssh_config's UserKnownHostsFile, else the device's known_hosts. The
	// hop's key is looked up under its own host and port.
	KnownHosts string
	// HostKeyPolicy is jump_hosts' host_key_policy; "" means the device's.
	HostKeyPolicy string
}

// String renders the hop as jump is written: "[user@]name[:port]".
func (h JumpHost) String() string {
	s := h.Name
	if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if h.Port != 0 {
		s += ":" + strconv.Itoa(h.Port)
	}
	if h.Username != "" {
		s = h.Username + "@" + s
	}
	return s
}

// JumpNone is the jump value (and OpenSSH ProxyJump value) that means
// "connect directly".
const JumpNone = "none"

// ParseJump parses a jump setting the way OpenSSH reads ProxyJump: "none",
// or one or more "[user@]host[:port]" separated by commas, first hop
// first. An IPv6 address is written in brackets ("[2001:db8::1]:22"), and
// an "ssh://" prefix is allowed. "none" gives an empty, non-nil chain. Only
// Name, Username and Port are set.
func ParseJump(s string) ([]JumpHost, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if s == JumpNone {
		return []JumpHost{}, nil
	}
	parts := strings.Split(s, ",")
	hops := make([]JumpHost, 0, len(parts))
	for i, part := range parts {
		h, err := parseHop(strings.TrimSpace(part))
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("hop %d (%s): %w", i+1, quote(part), err)
			}
			return nil, err
		}
		if hops, err = appendHop(hops, h); err != nil {
			return nil, err
		}
	}
	return hops, nil
}

// appendHop adds h to a chain, refusing a jump host the chain already
// goes through.
func appendHop(hops []JumpHost, h JumpHost) ([]JumpHost, error) {
	for _, prev := range hops {
		if prev.Name == h.Name && prev.Port == h.Port {
			return hops, &duplicateHopError{name: h.Name}
		}
	}
	return append(hops, h), nil
}

// duplicateHopError is a chain that goes through the same jump host twice.
type duplicateHopError struct{ name string }

func (e *duplicateHopError) Error() string { return quote(e.name) + " is listed twice" }

// parseHop parses one "[ssh://][user@]host[:port]".
func parseHop(s string) (JumpHost, error) {
	var h JumpHost
	s = strings.TrimPrefix(s, "ssh://")
	switch {
	case s == "":
		return h, errors.New("empty jump host")
	case s == JumpNone:
		return h, errors.New(`"none" cannot be part of a chain`)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return h, errors.New("must not contain spaces")
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		h.Username, s = s[:at], s[at+1:]
		if h.Username == "" {
			return h, errors.New(`empty user name before "@"`)
		}
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return h, errors.New(`"[" without "]"`)
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return h, fmt.Errorf("unexpected %s after \"]\"", quote(port))
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && strings.HasSuffix(s, ":") {
			return h, errors.New(`empty port after ":"`)
		}
	case strings.Count(s, ":") > 1:
		return h, errors.New("write an IPv6 address in brackets, e.g. [2001:db8::1]:22")
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return h, errors.New(`empty port after ":"`)
		}
	}
	switch {
	case host == "":
		return h, errors.New("empty host")
	case strings.HasPrefix(host, "-"):
		return h, errors.New("host must not start with -")
	case strings.ContainsAny(host, "/@[]*?!#,"):
		return h, fmt.Errorf("%s is not a host name or address", quote(host))
	}
	h.Name = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return h, fmt.Errorf("port %s is not a number in 1..65535", quote(port))
		}
		h.Port = n
	}
	return h, nil
}

// Password returns the password from PasswordEnv or PasswordFile, or ("",
// nil) when neither is set. Errors name the variable or file, never the
// value. It is read at each call, not at load, so a rotated password is
// picked up without a restart.
func (a Auth) Password() (Secret, error) {
	switch {
	case a.PasswordEnv != "":
		return secretFromEnv("password_env", a.PasswordEnv)
	case a.PasswordFile != "":
		return secretFromFile(a.PasswordFile)
	}
	return "", nil
}

// Passphrase returns the private key's passphrase from PassphraseEnv, or
// ("", nil) when it is not set.
func (a Auth) Passphrase() (Secret, error) {
	if a.PassphraseEnv == "" {
		return "", nil
	}
	return secretFromEnv("passphrase_env", a.PassphraseEnv)
}

func secretFromEnv(field, name string) (Secret, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("%s: environment variable %s is not set", field, name)
	}
	if v == "" {
		return "", fmt.Errorf("%s: environment variable %s is empty", field, name)
	}
	return Secret(v), nil
}

func secretFromFile(path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password_file %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	// Read one byte past the limit to tell "exactly at the limit" from
	// "too large".
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("password_file %s: %w", path, unwrapPath(err))
	}
	if len(b) > maxPasswordFile {
		return "", fmt.Errorf("password_file %s: larger than %d bytes, not a password", path, maxPasswordFile)
	}
	// Only one trailing newline goes: editors add it, but any other
	// whitespace may be part of the password.
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fmt.Errorf("password_file %s: file is empty", path)
	}
	return Secret(s), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the
// path the caller already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
	var out []string
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
			out = append(out, fmt.Sprintf("%s: device %s: no auth method (set auth: password_env, password_file, private_key or agent)", inv.Path, show(d.Name)))
		}
		if d.HostKeyPolicy == HostKeyOff {
			out = append(out, fmt.Sprintf("%s: device %s: host_key_policy off: the router's identity is not checked", inv.Path, show(d.Name)))
		}
		for _, h := range d.Jump {
			if cmp.Or(h.HostKeyPolicy, d.HostKeyPolicy) == HostKeyOff && d.HostKeyPolicy != HostKeyOff {
				out = append(out, fmt.Sprintf("%s: device %s: jump host %s: host_key_policy off: the jump host's identity is not checked", inv.Path, show(d.Name), show(h.Name)))
			}
		}
	}
	return out
}

// ConfigError is one problem in a configuration file the operator wrote
// (the inventory, an event rule file). Its message is one self-contained
// line: file, line, field, what is wrong.
type ConfigError struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // e.g. "devices[3] (ams1-core-1): timeout"; empty for a YAML syntax error
	Msg   string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// InventoryError is a ConfigError in an inventory file.
type InventoryError = ConfigError

// LoadInventory reads and parses the inventory file at path.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return ParseInventory(path, data)
}

// ParseInventory parses an inventory. path names the file in errors and
// is the base for relative paths in it. Errors are *InventoryError: one,
// or several joined with errors.Join (at most 20 reported).
func ParseInventory(path string, data []byte) (*Inventory, error) {
	dir := filepath.Dir(path)
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		dir = abs
	}
	p := &parser{file: path, dir: dir}
	inv := p.parse(data)
	if len(p.errs) == 0 {
		return inv, nil
	}
	if len(p.errs) == 1 {
		return nil, p.errs[0]
	}
	errs := p.errs
	if len(errs) > maxErrors {
		more := len(errs) - maxErrors
		errs = append(errs[:maxErrors:maxErrors], &InventoryError{File: path, Msg: fmt.Sprintf("%d more errors not shown", more)})
	}
	return nil, errors.Join(errs...)
}

// layer is what one level — defaults, a group or a device — sets. nil
// means "not set here, inherit"; a set pointer overrides what is inherited.
type layer struct {
	username, knownHosts, hostKeyPolicy, site, session, sshConfig *string

	// jump: nil is not set here; a nil chain is cleared (jump: ""); an
	// empty chain is "none".
	jump              *[]JumpHost
	port, expectedREs *int
	timeout           *time.Duration
	legacyAlgorithms  *bool
	tags              []string
	logs              *[]string
	auth              authLayer
}

type authLayer struct {
	passwordEnv, passwordFile, privateKey, passphraseEnv *string
	agent                                                *bool
}

// over applies o on top of l.
func (l *layer) over(o *layer) {
	setIf(&l.username, o.username)
	setIf(&l.knownHosts, o.knownHosts)
	setIf(&l.hostKeyPolicy, o.hostKeyPolicy)
	setIf(&l.site, o.site)
	setIf(&l.session, o.session)
	setIf(&l.jump, o.jump)
	setIf(&l.sshConfig, o.sshConfig)
	setIf(&l.port, o.port)
	setIf(&l.expectedREs, o.expectedREs)
	setIf(&l.timeout, o.timeout)
	setIf(&l.legacyAlgorithms, o.legacyAlgorithms)
	setIf(&l.logs, o.logs)
	for _, t := range o.tags {
		if !slices.Contains(l.tags, t) {
			l.tags = append(l.tags, t)
		}
	}
	// password_env and password_file are two spellings of one setting:
	// a level that gives one replaces an inherited other, so a device can
	// switch from the fleet's variable to its own file.
	if o.auth.passwordEnv != nil || o.auth.passwordFile != nil {
		l.auth.passwordEnv, l.auth.passwordFile = o.auth.passwordEnv, o.auth.passwordFile
	}
	setIf(&l.auth.privateKey, o.auth.privateKey)
	setIf(&l.auth.passphraseEnv, o.auth.passphraseEnv)
	setIf(&l.auth.agent, o.auth.agent)
}

func setIf[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// Keys allowed at each level, as functions rather than package variables
// so no caller can change them. Device-only keys are listed apart so that
// using one under defaults or a group gets a precise message.
func topKeys() []string { return []string{"defaults", "groups", "jump_hosts", "devices"} }

func jumpHostKeys() []string {
	return []string{"host", "port", "username", "auth", "known_hosts", "host_key_policy"}
}

func commonKeys() []string {
	return []string{"username", "port", "auth", "known_hosts", "host_key_policy", "timeout", "site", "tags",
		"expected_res", "session", "jump", "ssh_config", "legacy_algorithms", "logs"}
}

func deviceOnlyKeys() []string { return []string{"name", "host", "groups"} }

func authKeys() []string {
	return []string{"password_env", "password_file", "private_key", "passphrase_env", "agent"}
}

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	for i, r := range s {
		if r != '_' && !('A' <= r && r <= 'Z') && !('a' <= r && r <= 'z') && (i == 0 || !('0' <= r && r <= '9')) {
			return false
		}
	}
	return s != ""
}

type parser struct {
	file string
	dir  string // absolute directory of the file, base of relative paths
	errs []error
	// jumpHosts are the jump_hosts entries by name.
	jumpHosts map[string]*jumpHostEntry
	// jumpHostsResolved is resolvedJumpHosts' result.
	jumpHostsResolved map[string]JumpHost
}

// jumpHostEntry is one jump_hosts entry; nil fields were not given.
type jumpHostEntry struct {
	host, username, knownHosts, hostKeyPolicy *string
	port                                      *int
	auth                                      *authLayer
}

func (p *parser) errorf(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &InventoryError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) *Inventory {
	inv := &Inventory{Path: p.file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(1, "devices", "missing: the inventory is empty")
		} else {
			p.syntaxError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(extra.Line, "", "a second YAML document (---): an inventory is one document")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(data, err)
		return nil
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "want a mapping with defaults, groups and devices, got %s", YAMLKind(root))
		return nil
	}

	var defaults layer
	groups := map[string]*layer{}
	var groupNames []string
	var devicesNode *yaml.Node
	p.eachKey(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			if m := p.mapping(v, "defaults"); m != nil {
				p.layer(m, "defaults", "in defaults", &defaults, nil)
			}
		case "groups":
			m := p.mapping(v, "groups")
			if m == nil {
				return
			}
			p.eachKey(m, "groups", func(name string, k, v *yaml.Node) {
				ctx := "groups." + show(name)
				if strings.TrimSpace(name) == "" {
					p.errorf(k.Line, "groups", "empty group name")
					return
				}
				g := &layer{}
				groups[name] = g
				groupNames = append(groupNames, name)
				if v := resolve(v); v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
					return // an empty group is harmless
				}
				if gm := p.mapping(v, ctx); gm != nil {
					p.layer(gm, ctx, "in a group", g, nil)
				}
			})
		case "jump_hosts":
			p.jumpHostsSection(v)
		case "devices":
			devicesNode = v
		default:
			p.unknownKey(k, "", key, topKeys(), "unknown top-level key")
		}
	})

	if devicesNode == nil || isNull(devicesNode) {
		// After another error (a misspelt "devices" key, say), this one
		// is only a consequence.
		if len(p.errs) == 0 {
			p.errorf(root.Line, "devices", "missing: list at least one device")
		}
		return inv
	}
	seq := p.sequence(devicesNode, "devices")
	if seq == nil {
		return inv
	}
	if len(seq.Content) == 0 {
		p.errorf(seq.Line, "devices", "empty: list at least one device")
	}
	firstLine := map[string]int{}
	for i, item := range seq.Content {
		d, ok := p.device(i, resolve(item), &defaults, groups, groupNames, firstLine)
		if ok {
			inv.Devices = append(inv.Devices, d)
		}
	}
	return inv
}

// syntaxError turns a yaml.v3 error into an InventoryError.
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1 // yaml.v3 leaves the line out when its 0-based mark is 0
	if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	// The search costs about twenty parses: past a size no hand-written
	// inventory reaches, yaml.v3's own line number has to do.
	if len(data) <= maxSearchedSize {
		line = syntaxErrorLine(data, err.Error())
	}
	p.errorf(line, "", "YAML syntax error: %s", oneLine(msg))
}

// syntaxErrorLine finds the line of a YAML syntax error. yaml.v3's own
// "line N" is often wrong for parser errors: it is the 0-based line where
// the enclosing block starts, and it is left out when that is 0. The
// parser stops at the first bad token, so the shortest prefix of whole
// lines that fails with the same message ends on the offending line, and
// prefixes fail from there on: a binary search finds it.
func syntaxErrorLine(data []byte, want string) int {
	var ends []int // ends[i] is the offset just past line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	lo, hi := 0, len(ends)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if err := decodeAll(data[:ends[mid]]); err != nil && err.Error() == want {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo + 1
}

// decodeAll decodes the way parse does, for syntaxErrorLine.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	for range 2 {
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// device parses devices[i] and applies defaults and groups to it.
func (p *parser) device(i int, n *yaml.Node, defaults *layer, groups map[string]*layer, groupNames []string, firstLine map[string]int) (Device, bool) {
	ctx := fmt.Sprintf("devices[%d]", i)
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, ctx, "want a mapping with name and host, got %s", YAMLKind(n))
		return Device{}, false
	}
	// The name goes into the context of every other error of the device,
	// so look it up before walking the keys.
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == "name" {
			if v := resolve(n.Content[j+1]); v.Kind == yaml.ScalarNode && v.Value != "" && !isNull(v) {
				ctx += " (" + show(v.Value) + ")"
			}
			break
		}
	}
	before := len(p.errs)
	var own layer
	var name, host *string
	var nameLine int
	var nameGiven, hostGiven bool // given but invalid: already reported
	var groupList []string
	p.layer(n, ctx, "", &own, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			name, nameLine, nameGiven = p.str(v, ctx, "name", false), v.Line, !isNull(v)
			if name != nil {
				if err := checkName(*name); err != "" {
					p.errorf(v.Line, ctx+": name", "%s", err)
				}
			}
		case "host":
			host, hostGiven = p.str(v, ctx, "host", false), !isNull(v)
			if host != nil {
				if err := checkHost(*host); err != "" {
					p.errorf(v.Line, ctx+": host", "%s", err)
				}
			}
		case "groups":
			seq := p.sequence(v, ctx+": groups")
			if seq == nil {
				return true
			}
			for j, it := range seq.Content {
				f := fmt.Sprintf("%s: groups[%d]", ctx, j)
				g := p.str(it, f, "", false)
				switch {
				case g == nil:
				case groups[*g] == nil && len(groupNames) == 0:
					p.errorf(resolve(it).Line, f, "unknown group %s: no groups are defined", strconv.Quote(*g))
				case groups[*g] == nil:
					p.errorf(resolve(it).Line, f, "unknown group %s; defined: %s", strconv.Quote(*g), strings.Join(groupNames, ", "))
				case slices.Contains(groupList, *g):
					p.errorf(resolve(it).Line, f, "group %s listed twice", strconv.Quote(*g))
				default:
					groupList = append(groupList, *g)
				}
			}
		default:
			return false
		}
		return true
	})
	if name == nil && !nameGiven {
		p.errorf(n.Line, ctx+": name", "missing")
	}
	if host == nil && !hostGiven {
		p.errorf(n.Line, ctx+": host", "missing")
	}
	if name != nil {
		if first, dup := firstLine[*name]; dup {
			p.errorf(nameLine, ctx+": name", "duplicate device name (first at line %d)", first)
		} else {
			firstLine[*name] = nameLine
		}
	}
	if len(p.errs) > before {
		return Device{}, false
	}

	var eff layer
	eff.over(defaults)
	for _, g := range groupList {
		eff.over(groups[g])
	}
	eff.over(&own)
	d := Device{
		Name:     *name,
		Host:     *host,
		Port:     deref(eff.port, DefaultPort),
		Username: deref(eff.username, ""),
		Auth: Auth{
			PasswordEnv:   deref(eff.auth.passwordEnv, ""),
			PasswordFile:  deref(eff.auth.passwordFile, ""),
			PrivateKey:    deref(eff.auth.privateKey, ""),
			PassphraseEnv: deref(eff.auth.passphraseEnv, ""),
			Agent:         deref(eff.auth.agent, false),
		},
		KnownHosts:       deref(eff.knownHosts, ""),
		PortSet:          eff.port != nil,
		HostKeyPolicy:    deref(eff.hostKeyPolicy, DefaultHostKeyPolicy),
		Timeout:          deref(eff.timeout, DefaultTimeout),
		Site:             deref(eff.site, ""),
		Tags:             eff.tags,
		Groups:           groupList,
		ExpectedREs:      deref(eff.expectedREs, 0),
		Session:          deref(eff.session, DefaultSession),
		SSHConfig:        deref(eff.sshConfig, ""),
		LegacyAlgorithms: deref(eff.legacyAlgorithms, false),
		Logs:             slices.Clone(deref(eff.logs, nil)),
	}
	d.KnownHostsSet = d.KnownHosts != ""
	if d.SSHConfig != "" {
		d.JumpHosts = p.resolvedJumpHosts()
	}
	if eff.jump != nil && *eff.jump != nil {
		d.Jump = make([]JumpHost, 0, len(*eff.jump))
		for _, h := range *eff.jump {
			d.Jump = append(d.Jump, p.resolveHop(h))
		}
	}
	if d.KnownHosts == "" {
		// An unknown home directory (no $HOME, as under some service
		// managers) leaves "~" in place: the dialer then reports the
		// missing file, which matters only if the policy checks keys.
		if kh, err := expandPath(p.dir, DefaultKnownHosts); err == nil {
			d.KnownHosts = kh
		} else {
			d.KnownHosts = DefaultKnownHosts
		}
	}
	return d, true
}

// layer walks the keys of a defaults, group or device mapping into l.
// extra handles the device-only keys; it is nil elsewhere. where says
// where device-only keys were found ("in defaults", "in a group").
func (p *parser) layer(m *yaml.Node, ctx, where string, l *layer, extra func(key string, k, v *yaml.Node) bool) {
	p.eachKey(m, ctx, func(key string, k, v *yaml.Node) {
		f := ctx + ": " + key
		switch key {
		case "username":
			l.username = p.str(v, ctx, key, true)
		case "site":
			l.site = p.str(v, ctx, key, true)
		case "jump":
			l.jump = p.jump(v, ctx)
		case "port":
			l.port = p.port(v, v.Line, f)
		case "expected_res":
			if n, ok := p.integer(v, f); ok {
				if n < 1 {
					p.errorf(v.Line, f, "must be at least 1, got %d (leave it out to use the most REs seen)", n)
				} else {
					l.expectedREs = &n
				}
			}
		case "timeout":
			if s := p.str(v, ctx, key, false); s != nil {
				d, err := time.ParseDuration(*s)
				switch {
				case err != nil:
					p.errorf(v.Line, f, "invalid duration %s (want e.g. 30s, 2m, 1m30s)", quote(*s))
				case d <= 0:
					p.errorf(v.Line, f, "must be positive, got %s", *s)
				default:
					l.timeout = &d
				}
			}
		case "host_key_policy":
			l.hostKeyPolicy = p.hostKeyPolicy(v, v.Line, ctx, key)
		case "session":
			if s := p.str(v, ctx, key, false); s != nil {
				if oneOf(*s, SessionPerPoll, SessionPersistent) {
					l.session = s
				} else {
					p.errorf(v.Line, f, "%s is not one of per-poll, persistent", quote(*s))
				}
			}
		case "known_hosts":
			l.knownHosts = p.path(v, ctx, key)
		case "ssh_config":
			l.sshConfig = p.sshConfig(v, ctx)
		case "legacy_algorithms":
			l.legacyAlgorithms = p.boolean(v, f)
		case "tags":
			if tags := p.strList(v, ctx, key); tags != nil {
				for _, t := range *tags {
					if !slices.Contains(l.tags, t) {
						l.tags = append(l.tags, t)
					}
				}
			}
		case "logs":
			l.logs = p.strList(v, ctx, key)
		case "auth":
			p.auth(v, ctx, &l.auth)
		case "password", "passphrase":
			p.errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use auth: {%s_env: VARIABLE} or auth: {password_file: PATH}", key)
		default:
			if extra != nil && extra(key, k, v) {
				return
			}
			switch {
			case slices.Contains(deviceOnlyKeys(), key):
				p.errorf(k.Line, f, "only allowed on a device, not %s", where)
			case slices.Contains(authKeys(), key):
				p.errorf(k.Line, f, "belongs under auth:")
			default:
				allowed := commonKeys()
				if extra != nil {
					allowed = append(deviceOnlyKeys(), allowed...)
				}
				p.unknownKey(k, ctx, key, allowed, "unknown key")
			}
		}
	})
}

func (p *parser) auth(v *yaml.Node, ctx string, a *authLayer) {
	m := p.mapping(v, ctx+": auth")
	if m == nil {
		return
	}
	var envLine, fileLine int
	p.eachKey(m, ctx+": auth", func(key string, k, v *yaml.Node) {
		f := ctx + ": auth." + key
		switch key {
		case "password_env", "passphrase_env":
			// The value is not echoed: a user who misread the key may
			// have written the secret itself here.
			s := p.str(v, ctx, "auth."+key, true)
			if s != nil && *s != "" && !validEnvName(*s) {
				p.errorf(v.Line, f, "not an environment variable name (want the NAME of the variable, like MASTERSHIP_PASSWORD)")
				return
			}
			if key == "password_env" {
				a.passwordEnv, envLine = s, v.Line
			} else {
				a.passphraseEnv = s
			}
		case "password_file":
			a.passwordFile, fileLine = p.path(v, ctx, "auth."+key), v.Line
		case "private_key":
			a.privateKey = p.path(v, ctx, "auth."+key)
		case "agent":
			a.agent = p.boolean(v, f)
		case "password", "passphrase":
			p.errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use %s_env (an environment variable) or password_file (a file only the agent can read)", key)
		default:
			p.unknownKey(k, ctx, "auth."+key, authKeys(), "unknown key")
		}
	})
	if envLine > 0 && fileLine > 0 {
		p.errorf(max(envLine, fileLine), ctx+": auth", "give password_env or password_file, not both")
	}
}

// jump parses a jump value: a string as OpenSSH's ProxyJump ("a,b",
// "none"), or a list with one hop per item.
func (p *parser) jump(v *yaml.Node, ctx string) *[]JumpHost {
	v = resolve(v)
	f := joinField(ctx, "jump")
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.SequenceNode:
		hops := []JumpHost{}
		for i, it := range v.Content {
			itf := fmt.Sprintf("%s[%d]", f, i)
			s := p.str(it, ctx, fmt.Sprintf("jump[%d]", i), false)
			if s == nil {
				return nil
			}
			line := resolve(it).Line
			if *s == JumpNone || strings.Contains(*s, ",") {
				p.errorf(line, itf, "one jump host per list item (%s and commas belong in a plain string)", quote(JumpNone))
				return nil
			}
			h, err := parseHop(strings.TrimSpace(*s))
			if err != nil {
				p.errorf(line, itf, "%v", err)
				return nil
			}
			if hops, err = appendHop(hops, h); err != nil {
				p.errorf(line, itf, "%v", err)
				return nil
			}
		}
		if len(hops) == 0 {
			p.errorf(v.Line, f, "empty list (write %s to connect directly)", quote(JumpNone))
			return nil
		}
		return &hops
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		s := p.str(v, ctx, "jump", true)
		if s == nil {
			return nil
		}
		if *s == "" {
			var cleared []JumpHost
			return &cleared
		}
		hops, err := ParseJump(*s)
		var dup *duplicateHopError
		switch {
		case errors.As(err, &dup):
			p.errorf(v.Line, f, "%v", err)
			return nil
		case err != nil:
			p.errorf(v.Line, f, "%v (want [user@]host[:port], several separated by commas, or %s)", err, quote(JumpNone))
			return nil
		}
		return &hops
	default:
		p.errorf(v.Line, f, "want a string or a list of jump hosts, got %s", YAMLKind(v))
		return nil
	}
}

// defaultSSHConfig is the file "ssh_config: true" reads.
const defaultSSHConfig = "~/.ssh/config"

// sshConfig parses ssh_config: true (~/.ssh/config), false (none) or a
// path.
func (p *parser) sshConfig(v *yaml.Node, ctx string) *string {
	v = resolve(v)
	f := joinField(ctx, "ssh_config")
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		b := p.boolean(v, f)
		if b == nil {
			return nil
		}
		if !*b {
			none := ""
			return &none
		}
		abs, err := expandPath(p.dir, defaultSSHConfig)
		if err != nil {
			p.errorf(v.Line, f, "%v", err)
			return nil
		}
		return &abs
	}
	if v.Kind == yaml.ScalarNode && oneOf(strings.ToLower(v.Value), "yes", "no", "on", "off") {
		p.errorf(v.Line, f, "want true, false or a path, got %s", quote(v.Value))
		return nil
	}
	return p.path(v, ctx, "ssh_config")
}

// jumpHostsSection parses the top-level jump_hosts mapping.
func (p *parser) jumpHostsSection(v *yaml.Node) {
	m := p.mapping(v, "jump_hosts")
	if m == nil {
		return
	}
	p.jumpHosts = map[string]*jumpHostEntry{}
	p.eachKey(m, "jump_hosts", func(name string, k, v *yaml.Node) {
		ctx := "jump_hosts." + show(name)
		if msg := checkJumpName(name); msg != "" {
			p.errorf(k.Line, ctx, "%s", msg)
			return
		}
		e := &jumpHostEntry{}
		p.jumpHosts[name] = e
		if isNull(resolve(v)) {
			return // the name alone: the host itself, with the device's settings
		}
		em := p.mapping(v, ctx)
		if em == nil {
			return
		}
		p.eachKey(em, ctx, func(key string, k, v *yaml.Node) {
			f := ctx + ": " + key
			switch key {
			case "host":
				if s := p.str(v, ctx, key, false); s != nil {
					if msg := checkHost(*s); msg != "" {
						p.errorf(resolve(v).Line, f, "%s", msg)
					} else {
						e.host = s
					}
				}
			case "port":
				e.port = p.port(v, resolve(v).Line, f)
			case "username":
				e.username = p.str(v, ctx, key, false)
			case "known_hosts":
				if s := p.path(v, ctx, key); s != nil && *s != "" {
					e.knownHosts = s
				}
			case "host_key_policy":
				e.hostKeyPolicy = p.hostKeyPolicy(v, resolve(v).Line, ctx, key)
			case "auth":
				var a authLayer
				before := len(p.errs)
				p.auth(v, ctx, &a)
				if len(p.errs) > before {
					return
				}
				if a.passwordEnv == nil && a.passwordFile == nil && a.privateKey == nil && (a.agent == nil || !*a.agent) {
					p.errorf(resolve(v).Line, ctx+": auth", "no method given (set private_key, agent, password_env or password_file; leave auth out to use the device's)")
					return
				}
				e.auth = &a
			case "password", "passphrase":
				p.errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use auth: {%s_env: VARIABLE} or auth: {password_file: PATH}", key)
			default:
				if slices.Contains(authKeys(), key) {
					p.errorf(k.Line, f, "belongs under auth:")
					return
				}
				p.unknownKey(k, ctx, key, jumpHostKeys(), "unknown key")
			}
		})
	})
}

// resolvedJumpHosts returns every jump_hosts entry as a JumpHost, built
// once and shared by the devices that use ssh_config.
func (p *parser) resolvedJumpHosts() map[string]JumpHost {
	if p.jumpHostsResolved == nil && len(p.jumpHosts) > 0 {
		p.jumpHostsResolved = make(map[string]JumpHost, len(p.jumpHosts))
		for name := range p.jumpHosts {
			p.jumpHostsResolved[name] = p.resolveHop(JumpHost{Name: name})
		}
	}
	return p.jumpHostsResolved
}

// checkJumpName keeps jump_hosts names writable in a jump string.
func checkJumpName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "empty jump host name"
	case s == JumpNone:
		return fmt.Sprintf("%s is reserved: jump: %s means no jump host", quote(s), s)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "a jump host name must not contain spaces"
	case strings.ContainsAny(s, "@:,[]/*?!#"):
		return "a jump host name must not contain @ : , [ ] / * ? ! # (give the address with host: and the port with port:)"
	case strings.HasPrefix(s, "-"):
		return "a jump host name must not start with -"
	}
	return ""
}

// resolveHop fills a hop parsed from jump with its jump_hosts entry, if
// any. What jump itself says (user@, :port) wins over the entry.
func (p *parser) resolveHop(h JumpHost) JumpHost {
	e := p.jumpHosts[h.Name]
	if e == nil {
		return h
	}
	h.Host = deref(e.host, "")
	if h.Port == 0 {
		h.Port = deref(e.port, 0)
	}
	if h.Username == "" {
		h.Username = deref(e.username, "")
	}
	if e.auth != nil {
		h.Auth = Auth{
			PasswordEnv:   deref(e.auth.passwordEnv, ""),
			PasswordFile:  deref(e.auth.passwordFile, ""),
			PrivateKey:    deref(e.auth.privateKey, ""),
			PassphraseEnv: deref(e.auth.passphraseEnv, ""),
			Agent:         deref(e.auth.agent, false),
		}
	}
	h.KnownHosts = deref(e.knownHosts, "")
	h.HostKeyPolicy = deref(e.hostKeyPolicy, "")
	return h
}

// eachKey calls fn for each key of mapping m, in order, after checking
// that keys are plain strings and not repeated. yaml.v3 keeps duplicates
// in a Node, and silently taking the last would hide a mistake.
func (p *parser) eachKey(m *yaml.Node, ctx string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		f := joinField(ctx, show(k.Value))
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, ctx, "a key must be a plain word, got %s", YAMLKind(k))
			continue
		}
		if k.Value == "<<" {
			p.errorf(k.Line, f, "YAML merge keys are not supported; use defaults or groups")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, f, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

func (p *parser) unknownKey(k *yaml.Node, ctx, key string, allowed []string, msg string) {
	f := joinField(ctx, show(key))
	base := key[strings.LastIndex(key, ".")+1:]
	best, bestD := "", 3
	for _, a := range allowed {
		if d := levenshtein.ComputeDistance(base, a); d < bestD {
			best, bestD = a, d
		}
	}
	if best != "" {
		p.errorf(k.Line, f, "%s; did you mean %s?", msg, best)
		return
	}
	p.errorf(k.Line, f, "%s; allowed: %s", msg, strings.Join(allowed, ", "))
}

func (p *parser) mapping(v *yaml.Node, field string) *yaml.Node {
	v = resolve(v)
	if v.Kind != yaml.MappingNode {
		p.errorf(v.Line, field, "want a mapping, got %s", YAMLKind(v))
		return nil
	}
	return v
}

func (p *parser) sequence(v *yaml.Node, field string) *yaml.Node {
	v = resolve(v)
	if v.Kind != yaml.SequenceNode {
		p.errorf(v.Line, field, "want a list, got %s", YAMLKind(v))
		return nil
	}
	return v
}

// str reads a string. A null value (key with nothing after it) counts as
// not set. canBeEmpty allows "" to clear an inherited value.
func (p *parser) str(v *yaml.Node, ctx, key string, canBeEmpty bool) *string {
	v = resolve(v)
	f := joinField(ctx, key)
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.ShortTag(), "!!") {
		p.errorf(v.Line, f, "want a string, got %s", YAMLKind(v))
		return nil
	}
	s := v.Value
	if s == "" && !canBeEmpty {
		p.errorf(v.Line, f, "empty")
		return nil
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		p.errorf(v.Line, f, "contains control characters")
		return nil
	}
	return &s
}

func (p *parser) path(v *yaml.Node, ctx, key string) *string {
	s := p.str(v, ctx, key, true)
	if s == nil || *s == "" {
		return s
	}
	abs, err := expandPath(p.dir, *s)
	if err != nil {
		p.errorf(resolve(v).Line, joinField(ctx, key), "%v", err)
		return nil
	}
	return &abs
}

func (p *parser) strList(v *yaml.Node, ctx, key string) *[]string {
	f := joinField(ctx, key)
	if isNull(resolve(v)) {
		return nil
	}
	seq := p.sequence(v, f)
	if seq == nil {
		return nil
	}
	out := []string{}
	for i, it := range seq.Content {
		if s := p.str(it, ctx, fmt.Sprintf("%s[%d]", key, i), false); s != nil {
			out = append(out, *s)
		}
	}
	return &out
}

// port reads a TCP port (1..65535) of field; nil after reporting an
// error at line.
func (p *parser) port(v *yaml.Node, line int, field string) *int {
	n, ok := p.integer(v, field)
	if !ok {
		return nil
	}
	if n < 1 || n > 65535 {
		p.errorf(line, field, "%d is out of range 1..65535", n)
		return nil
	}
	return &n
}

// hostKeyPolicy reads a host_key_policy; nil after reporting an error at
// line.
func (p *parser) hostKeyPolicy(v *yaml.Node, line int, ctx, key string) *string {
	s := p.str(v, ctx, key, false)
	if s == nil {
		return nil
	}
	if !oneOf(*s, HostKeyStrict, HostKeyAcceptNew, HostKeyOff) {
		p.errorf(line, ctx+": "+key, "%s is not one of strict, accept-new, off", quote(*s))
		return nil
	}
	return s
}

func (p *parser) integer(v *yaml.Node, field string) (int, bool) {
	v = resolve(v)
	var n int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		p.errorf(v.Line, field, "want an integer, got %s", YAMLKind(v))
		return 0, false
	}
	return n, true
}

func (p *parser) boolean(v *yaml.Node, field string) *bool {
	v = resolve(v)
	var b bool
	if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
		p.errorf(v.Line, field, "want true or false, got %s", YAMLKind(v))
		return nil
	}
	return &b
}

// expandPath expands "~/" and makes a relative path absolute against dir,
// so that the agent finds the same files whatever its working directory.
func expandPath(dir, s string) (string, error) {
	switch {
	case s == "~" || strings.HasPrefix(s, "~/"):
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~: %v", err)
		}
		return filepath.Join(home, s[1:]), nil
	case strings.HasPrefix(s, "~"):
		return "", fmt.Errorf("only ~/ is expanded, not ~user/; write the full path")
	case filepath.IsAbs(s):
		return filepath.Clean(s), nil
	}
	return filepath.Join(dir, s), nil
}

// checkName keeps names usable as command-line arguments and report keys.
func checkName(s string) string {
	switch {
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "must not contain spaces (it is used on the command line and in reports)"
	case strings.HasPrefix(s, "-"):
		return "must not start with - (it would read as a command-line option)"
	}
	return ""
}

func checkHost(s string) string {
	switch {
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "must not contain spaces"
	case strings.Contains(s, "://"):
		return "want a host name or address, not a URL"
	case strings.HasPrefix(s, "["):
		return "write an IPv6 address without brackets"
	case strings.HasPrefix(s, "-"):
		// Guards any tool that passes the host to a command (ssh-keyscan).
		return "must not start with -"
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		return fmt.Sprintf("must not include a port; use port: %s", port)
	}
	return ""
}

// resolve follows YAML aliases (*name) to the anchored node. Aliases never
// point at aliases, but the bound keeps a malformed tree from looping.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// YAMLKind describes a YAML node for "want X, got Y" messages without
// echoing its value, which may be long or a secret. The inventory and the
// event rule loader both use it.
func YAMLKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!str":
			return "a string"
		}
		return "a value tagged " + show(n.Tag)
	}
	return "an empty value"
}

func joinField(ctx, key string) string {
	if ctx == "" {
		return key
	}
	if key == "" {
		return ctx
	}
	return ctx + ": " + key
}

func oneOf(s string, allowed ...string) bool { return slices.Contains(allowed, s) }

// show returns s as is when it is a plain word, quoted otherwise, so that
// an odd name cannot break the one-line error format; long values are cut.
func show(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == '"' }) {
		return s
	}
	return strconv.Quote(s)
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
