package inventory

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/devices/strictyaml"

	"gopkg.in/yaml.v3"
)

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
	// maintenance windows add up across levels, as tags do: a fleet-wide
	// window and a device's own both apply.
	maintenance []maintenance.Window
	// readiness: each key of the block inherits on its own, so a group
	// can set the severity and a device its interval.
	readiness readinessLayer
}

// readinessLayer is one level's readiness: block (issue 16).
type readinessLayer struct {
	minBackupUptime, interval *time.Duration
	severity                  *string
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
	l.maintenance = append(l.maintenance, o.maintenance...)
	setIf(&l.readiness.minBackupUptime, o.readiness.minBackupUptime)
	setIf(&l.readiness.interval, o.readiness.interval)
	setIf(&l.readiness.severity, o.readiness.severity)
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
func topKeys() []string { return []string{"defaults", "groups", "jump_hosts", "devices", "netbox"} }

func commonKeys() []string {
	return []string{"username", "port", "auth", "known_hosts", "host_key_policy", "timeout", "site", "tags",
		"expected_res", "session", "jump", "ssh_config", "legacy_algorithms", "logs", "maintenance",
		"readiness"}
}

// readinessKeys are the keys of the readiness: block (issue 16).
func readinessKeys() []string { return []string{"min_backup_uptime", "interval", "severity"} }

func deviceOnlyKeys() []string { return []string{"name", "host", "groups"} }

// maintenanceKeys are the keys of one maintenance window.
func maintenanceKeys() []string { return []string{"cron", "duration", "from", "until", "reason"} }

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
	strictyaml.Reader
	dir string // absolute directory of the file, base of relative paths
	// jumpHosts are the jump_hosts entries by name.
	jumpHosts map[string]*jumpHostEntry
	// jumpHostsResolved is resolvedJumpHosts' result.
	jumpHostsResolved map[string]JumpHost
}

func (p *parser) parse(data []byte) *Inventory {
	inv := &Inventory{Path: p.File}
	root, empty := p.Document(data, "an inventory")
	if empty {
		p.Errorf(1, "devices", "missing: the inventory is empty")
	}
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.Errorf(root.Line, "", "want a mapping with defaults, groups and devices, got %s", strictyaml.Kind(root))
		return nil
	}

	var defaults layer
	groups := map[string]*layer{}
	var groupNames []string
	var devicesNode *yaml.Node
	p.EachKey(root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			if m := p.Mapping(v, "defaults"); m != nil {
				p.layer(m, "defaults", "in defaults", &defaults, nil)
			}
		case "groups":
			m := p.Mapping(v, "groups")
			if m == nil {
				return
			}
			p.EachKey(m, "groups", func(name string, k, v *yaml.Node) {
				ctx := "groups." + strictyaml.Show(name)
				if strings.TrimSpace(name) == "" {
					p.Errorf(k.Line, "groups", "empty group name")
					return
				}
				g := &layer{}
				groups[name] = g
				groupNames = append(groupNames, name)
				if v := strictyaml.Resolve(v); v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
					return // an empty group is harmless
				}
				if gm := p.Mapping(v, ctx); gm != nil {
					p.layer(gm, ctx, "in a group", g, nil)
				}
			})
		case "jump_hosts":
			p.jumpHostsSection(v)
		case "devices":
			devicesNode = v
		case "netbox":
			inv.NetBox = p.netbox(v)
		default:
			p.UnknownKey(k, "", key, topKeys(), "unknown top-level key")
		}
	})

	if inv.NetBox != nil {
		// The devices NetBox lists are merged in later, by Resolve,
		// with the same defaults and groups.
		inv.base = &mergeBase{p: p, defaults: defaults, groups: groups}
	}
	if devicesNode == nil || strictyaml.IsNull(devicesNode) {
		// After another error (a misspelt "devices" key, say), this one
		// is only a consequence. With netbox, the YAML may list none.
		if len(p.Errs) == 0 && inv.NetBox == nil {
			p.Errorf(root.Line, "devices", "missing: list at least one device")
		}
		return inv
	}
	seq := p.Sequence(devicesNode, "devices")
	if seq == nil {
		return inv
	}
	if len(seq.Content) == 0 && inv.NetBox == nil {
		p.Errorf(seq.Line, "devices", "empty: list at least one device")
	}
	firstLine := map[string]int{}
	for i, item := range seq.Content {
		d, ok := p.device(i, strictyaml.Resolve(item), &defaults, groups, groupNames, firstLine)
		if ok {
			inv.Devices = append(inv.Devices, d)
		}
	}
	return inv
}

// device parses devices[i] and applies defaults and groups to it.
func (p *parser) device(i int, n *yaml.Node, defaults *layer, groups map[string]*layer, groupNames []string, firstLine map[string]int) (Device, bool) {
	ctx := fmt.Sprintf("devices[%d]", i)
	if n.Kind != yaml.MappingNode {
		p.Errorf(n.Line, ctx, "want a mapping with name and host, got %s", strictyaml.Kind(n))
		return Device{}, false
	}
	// The name goes into the context of every other error of the device,
	// so look it up before walking the keys.
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == "name" {
			if v := strictyaml.Resolve(n.Content[j+1]); v.Kind == yaml.ScalarNode && v.Value != "" && !strictyaml.IsNull(v) {
				ctx += " (" + strictyaml.Show(v.Value) + ")"
			}
			break
		}
	}
	before := len(p.Errs)
	var own layer
	var name, host *string
	var nameLine int
	var nameGiven, hostGiven bool // given but invalid: already reported
	var groupList []string
	p.layer(n, ctx, "", &own, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			name, nameLine, nameGiven = p.Str(v, ctx, "name", false), v.Line, !strictyaml.IsNull(v)
			if name != nil {
				if err := checkName(*name); err != "" {
					p.Errorf(v.Line, ctx+": name", "%s", err)
				}
			}
		case "host":
			host, hostGiven = p.Str(v, ctx, "host", false), !strictyaml.IsNull(v)
			if host != nil {
				if err := checkHost(*host); err != "" {
					p.Errorf(v.Line, ctx+": host", "%s", err)
				}
			}
		case "groups":
			seq := p.Sequence(v, ctx+": groups")
			if seq == nil {
				return true
			}
			for j, it := range seq.Content {
				f := fmt.Sprintf("%s: groups[%d]", ctx, j)
				g := p.Str(it, f, "", false)
				switch {
				case g == nil:
				case groups[*g] == nil && len(groupNames) == 0:
					p.Errorf(strictyaml.Resolve(it).Line, f, "unknown group %s: no groups are defined", strconv.Quote(*g))
				case groups[*g] == nil:
					p.Errorf(strictyaml.Resolve(it).Line, f, "unknown group %s; defined: %s", strconv.Quote(*g), strings.Join(groupNames, ", "))
				case slices.Contains(groupList, *g):
					p.Errorf(strictyaml.Resolve(it).Line, f, "group %s listed twice", strconv.Quote(*g))
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
		p.Errorf(n.Line, ctx+": name", "missing")
	}
	if host == nil && !hostGiven {
		p.Errorf(n.Line, ctx+": host", "missing")
	}
	if name != nil {
		if first, dup := firstLine[*name]; dup {
			p.Errorf(nameLine, ctx+": name", "duplicate device name (first at line %d)", first)
		} else {
			firstLine[*name] = nameLine
		}
	}
	if len(p.Errs) > before {
		return Device{}, false
	}
	return p.build(*name, *host, groupList, defaults, groups, &own), true
}

// build applies defaults, then the groups in order, then the device's own
// layer, and resolves every inherited setting. It reports no errors, so
// devices read from NetBox after parsing go through it too.
func (p *parser) build(name, host string, groupList []string, defaults *layer, groups map[string]*layer, own *layer) Device {
	var eff layer
	eff.over(defaults)
	for _, g := range groupList {
		eff.over(groups[g])
	}
	eff.over(own)
	d := Device{
		Name:     name,
		Host:     host,
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
		Maintenance:      slices.Clone(eff.maintenance),
		Readiness: Readiness{
			MinBackupUptime: deref(eff.readiness.minBackupUptime, DefaultReadinessMinBackupUptime),
			Interval:        deref(eff.readiness.interval, DefaultReadinessInterval),
			Severity:        deref(eff.readiness.severity, DefaultReadinessSeverity),
		},
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
	return d
}

// layer walks the keys of a defaults, group or device mapping into l.
// extra handles the device-only keys; it is nil elsewhere. where says
// where device-only keys were found ("in defaults", "in a group").
func (p *parser) layer(m *yaml.Node, ctx, where string, l *layer, extra func(key string, k, v *yaml.Node) bool) {
	p.EachKey(m, ctx, func(key string, k, v *yaml.Node) {
		f := ctx + ": " + key
		switch key {
		case "username":
			l.username = p.Str(v, ctx, key, true)
		case "site":
			l.site = p.Str(v, ctx, key, true)
		case "jump":
			l.jump = p.jump(v, ctx)
		case "port":
			l.port = p.port(v, v.Line, f)
		case "expected_res":
			if n, ok := p.Integer(v, f); ok {
				if n < 1 {
					p.Errorf(v.Line, f, "must be at least 1, got %d (leave it out to use the most REs seen)", n)
				} else {
					l.expectedREs = &n
				}
			}
		case "timeout":
			l.timeout = p.positiveDuration(v, ctx, key)
		case "readiness":
			p.readiness(v, ctx, &l.readiness)
		case "host_key_policy":
			l.hostKeyPolicy = p.hostKeyPolicy(v, v.Line, ctx, key)
		case "session":
			if s := p.Str(v, ctx, key, false); s != nil {
				if oneOf(*s, SessionPerPoll, SessionPersistent) {
					l.session = s
				} else {
					p.Errorf(v.Line, f, "%s is not one of per-poll, persistent", strictyaml.Quote(*s))
				}
			}
		case "known_hosts":
			l.knownHosts = p.path(v, ctx, key)
		case "ssh_config":
			l.sshConfig = p.sshConfig(v, ctx)
		case "legacy_algorithms":
			l.legacyAlgorithms = p.Boolean(v, f)
		case "tags":
			if tags := p.StrList(v, ctx, key); tags != nil {
				for _, t := range *tags {
					if !slices.Contains(l.tags, t) {
						l.tags = append(l.tags, t)
					}
				}
			}
		case "logs":
			l.logs = p.StrList(v, ctx, key)
		case "maintenance":
			l.maintenance = append(l.maintenance, p.maintenance(v, ctx)...)
		case "auth":
			p.auth(v, ctx, &l.auth)
		case "password", "passphrase":
			p.Errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use auth: {%s_env: VARIABLE} or auth: {password_file: PATH}", key)
		default:
			if extra != nil && extra(key, k, v) {
				return
			}
			switch {
			case slices.Contains(deviceOnlyKeys(), key):
				p.Errorf(k.Line, f, "only allowed on a device, not %s", where)
			case slices.Contains(authKeys(), key):
				p.Errorf(k.Line, f, "belongs under auth:")
			default:
				allowed := commonKeys()
				if extra != nil {
					allowed = append(deviceOnlyKeys(), allowed...)
				}
				p.UnknownKey(k, ctx, key, allowed, "unknown key")
			}
		}
	})
}

func (p *parser) auth(v *yaml.Node, ctx string, a *authLayer) {
	m := p.Mapping(v, ctx+": auth")
	if m == nil {
		return
	}
	var envLine, fileLine int
	p.EachKey(m, ctx+": auth", func(key string, k, v *yaml.Node) {
		f := ctx + ": auth." + key
		switch key {
		case "password_env", "passphrase_env":
			// The value is not echoed: a user who misread the key may
			// have written the secret itself here.
			s := p.Str(v, ctx, "auth."+key, true)
			if s != nil && *s != "" && !validEnvName(*s) {
				p.Errorf(v.Line, f, "not an environment variable name (want the NAME of the variable, like MASTERSHIP_PASSWORD)")
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
			a.agent = p.Boolean(v, f)
		case "password", "passphrase":
			p.Errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use %s_env (an environment variable) or password_file (a file only the agent can read)", key)
		default:
			p.UnknownKey(k, ctx, "auth."+key, authKeys(), "unknown key")
		}
	})
	if envLine > 0 && fileLine > 0 {
		p.Errorf(max(envLine, fileLine), ctx+": auth", "give password_env or password_file, not both")
	}
}

// defaultSSHConfig is the file "ssh_config: true" reads.
const defaultSSHConfig = "~/.ssh/config"

// sshConfig parses ssh_config: true (~/.ssh/config), false (none) or a
// path.
func (p *parser) sshConfig(v *yaml.Node, ctx string) *string {
	v = strictyaml.Resolve(v)
	f := strictyaml.JoinField(ctx, "ssh_config")
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		b := p.Boolean(v, f)
		if b == nil {
			return nil
		}
		if !*b {
			none := ""
			return &none
		}
		abs, err := expandPath(p.dir, defaultSSHConfig)
		if err != nil {
			p.Errorf(v.Line, f, "%v", err)
			return nil
		}
		return &abs
	}
	if v.Kind == yaml.ScalarNode && oneOf(strings.ToLower(v.Value), "yes", "no", "on", "off") {
		p.Errorf(v.Line, f, "want true, false or a path, got %s", strictyaml.Quote(v.Value))
		return nil
	}
	return p.path(v, ctx, "ssh_config")
}

func (p *parser) path(v *yaml.Node, ctx, key string) *string {
	s := p.Str(v, ctx, key, true)
	if s == nil || *s == "" {
		return s
	}
	abs, err := expandPath(p.dir, *s)
	if err != nil {
		p.Errorf(strictyaml.Resolve(v).Line, strictyaml.JoinField(ctx, key), "%v", err)
		return nil
	}
	return &abs
}

// port reads a TCP port (1..65535) of field; nil after reporting an
// error at line.
func (p *parser) port(v *yaml.Node, line int, field string) *int {
	n, ok := p.Integer(v, field)
	if !ok {
		return nil
	}
	if n < 1 || n > 65535 {
		p.Errorf(line, field, "%d is out of range 1..65535", n)
		return nil
	}
	return &n
}

// hostKeyPolicy reads a host_key_policy; nil after reporting an error at
// line.
func (p *parser) hostKeyPolicy(v *yaml.Node, line int, ctx, key string) *string {
	s := p.Str(v, ctx, key, false)
	if s == nil {
		return nil
	}
	if !oneOf(*s, HostKeyStrict, HostKeyAcceptNew, HostKeyOff) {
		p.Errorf(line, ctx+": "+key, "%s is not one of strict, accept-new, off", strictyaml.Quote(*s))
		return nil
	}
	return s
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

func oneOf(s string, allowed ...string) bool { return slices.Contains(allowed, s) }

// maintenance parses a list of maintenance windows, each
// {cron: SPEC, duration: D} or {from: RFC3339, until: RFC3339}, with an
// optional reason.
func (p *parser) maintenance(v *yaml.Node, ctx string) []maintenance.Window {
	seq := p.Sequence(v, ctx+": maintenance")
	if seq == nil {
		return nil
	}
	var out []maintenance.Window
	for i, it := range seq.Content {
		f := fmt.Sprintf("%s: maintenance[%d]", ctx, i)
		m := p.Mapping(it, f)
		if m == nil {
			continue
		}
		type value struct {
			s    string
			line int
		}
		got := map[string]value{}
		before := len(p.Errs)
		p.EachKey(m, f, func(key string, k, v *yaml.Node) {
			if !slices.Contains(maintenanceKeys(), key) {
				p.UnknownKey(k, f, key, maintenanceKeys(), "unknown key")
				return
			}
			if s := p.Str(v, f, key, key == "reason"); s != nil {
				got[key] = value{*s, strictyaml.Resolve(v).Line}
			}
		})
		if len(p.Errs) > before {
			continue
		}
		line := strictyaml.Resolve(it).Line
		cron, isCron := got["cron"]
		from, hasFrom := got["from"]
		until, hasUntil := got["until"]
		switch {
		case isCron && (hasFrom || hasUntil):
			p.Errorf(line, f, "give cron and duration, or from and until, not both")
		case isCron:
			dur, ok := got["duration"]
			if !ok {
				p.Errorf(line, strictyaml.JoinField(f, "duration"), "missing: a cron window needs how long it lasts, e.g. duration: 2h")
				continue
			}
			d, err := time.ParseDuration(dur.s)
			if err != nil {
				p.Errorf(dur.line, strictyaml.JoinField(f, "duration"), "invalid duration %s (want e.g. 30m, 2h, 1h30m)", strictyaml.Quote(dur.s))
				continue
			}
			if d <= 0 {
				p.Errorf(dur.line, strictyaml.JoinField(f, "duration"), "must be positive, got %s", dur.s)
				continue
			}
			w, err := maintenance.Recurring(cron.s, d, got["reason"].s)
			if err != nil {
				p.Errorf(cron.line, strictyaml.JoinField(f, "cron"), "%v", err)
				continue
			}
			out = append(out, w)
		case hasFrom || hasUntil:
			if _, ok := got["duration"]; ok {
				p.Errorf(got["duration"].line, strictyaml.JoinField(f, "duration"), "only with cron; a from/until window ends at until")
				continue
			}
			if !hasFrom || !hasUntil {
				missing := "from"
				if hasFrom {
					missing = "until"
				}
				p.Errorf(line, strictyaml.JoinField(f, missing), "missing: a fixed window needs both from and until (RFC 3339, e.g. 2026-03-01T02:00:00Z)")
				continue
			}
			ft, ferr := time.Parse(time.RFC3339, from.s)
			if ferr != nil {
				p.Errorf(from.line, strictyaml.JoinField(f, "from"), "invalid time %s (want RFC 3339, e.g. 2026-03-01T02:00:00Z)", strictyaml.Quote(from.s))
			}
			ut, uerr := time.Parse(time.RFC3339, until.s)
			if uerr != nil {
				p.Errorf(until.line, strictyaml.JoinField(f, "until"), "invalid time %s (want RFC 3339, e.g. 2026-03-01T04:00:00Z)", strictyaml.Quote(until.s))
			}
			if ferr != nil || uerr != nil {
				continue
			}
			w, err := maintenance.Fixed(ft, ut, got["reason"].s)
			if err != nil {
				p.Errorf(until.line, strictyaml.JoinField(f, "until"), "%v", err)
				continue
			}
			out = append(out, w)
		default:
			p.Errorf(line, f, "want {cron: SPEC, duration: D} or {from: TIME, until: TIME}")
		}
	}
	return out
}

// positiveDuration parses a duration that must be more than zero.
func (p *parser) positiveDuration(v *yaml.Node, ctx, key string) *time.Duration {
	s := p.Str(v, ctx, key, false)
	if s == nil {
		return nil
	}
	f := strictyaml.JoinField(ctx, key)
	d, err := time.ParseDuration(*s)
	switch {
	case err != nil:
		p.Errorf(v.Line, f, "invalid duration %s (want e.g. 30s, 2m, 1m30s)", strictyaml.Quote(*s))
	case d <= 0:
		p.Errorf(v.Line, f, "must be positive, got %s", *s)
	default:
		return &d
	}
	return nil
}

// readiness parses the readiness: block, the switchover readiness
// settings (issue 16).
func (p *parser) readiness(v *yaml.Node, ctx string, l *readinessLayer) {
	m := p.Mapping(v, ctx+": readiness")
	if m == nil {
		return
	}
	p.EachKey(m, ctx+": readiness", func(key string, k, v *yaml.Node) {
		switch key {
		case "min_backup_uptime":
			l.minBackupUptime = p.positiveDuration(v, ctx, "readiness."+key)
		case "interval":
			l.interval = p.positiveDuration(v, ctx, "readiness."+key)
		case "severity":
			if s := p.Str(v, ctx, "readiness."+key, false); s != nil {
				if oneOf(*s, ReadinessWarning, ReadinessCritical, ReadinessOff) {
					l.severity = s
				} else {
					p.Errorf(v.Line, ctx+": readiness.severity", "%s is not one of warning, critical, off", strictyaml.Quote(*s))
				}
			}
		default:
			p.UnknownKey(k, ctx, "readiness."+key, readinessKeys(), "unknown key")
		}
	})
}
