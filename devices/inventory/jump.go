package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mastership/mastership/devices/strictyaml"
	"github.com/mastership/mastership/netconf"

	"gopkg.in/yaml.v3"
)

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
const JumpNone = netconf.JumpNone

// hopOf is a hop parsed by netconf, which owns the ProxyJump syntax, in
// the inventory's terms.
func hopOf(h netconf.JumpHost) JumpHost {
	return JumpHost{Name: h.Name, Port: h.Port, Username: h.User}
}

// hopsOf is hopOf over a chain, keeping nil and empty apart.
func hopsOf(hs []netconf.JumpHost) []JumpHost {
	if hs == nil {
		return nil
	}
	out := make([]JumpHost, len(hs))
	for i, h := range hs {
		out[i] = hopOf(h)
	}
	return out
}

func jumpHostKeys() []string {
	return []string{"host", "port", "username", "auth", "known_hosts", "host_key_policy"}
}

// jumpHostEntry is one jump_hosts entry; nil fields were not given.
type jumpHostEntry struct {
	host, username, knownHosts, hostKeyPolicy *string
	port                                      *int
	auth                                      *authLayer
}

// jump parses a jump value: a string as OpenSSH's ProxyJump ("a,b",
// "none"), or a list with one hop per item.
func (p *parser) jump(v *yaml.Node, ctx string) *[]JumpHost {
	v = strictyaml.Resolve(v)
	f := strictyaml.JoinField(ctx, "jump")
	switch {
	case strictyaml.IsNull(v):
		return nil
	case v.Kind == yaml.SequenceNode:
		hops := []netconf.JumpHost{}
		for i, it := range v.Content {
			itf := fmt.Sprintf("%s[%d]", f, i)
			s := p.Str(it, ctx, fmt.Sprintf("jump[%d]", i), false)
			if s == nil {
				return nil
			}
			line := strictyaml.Resolve(it).Line
			if *s == JumpNone || strings.Contains(*s, ",") {
				p.Errorf(line, itf, "one jump host per list item (%s and commas belong in a plain string)", strictyaml.Quote(JumpNone))
				return nil
			}
			h, err := netconf.ParseHop(strings.TrimSpace(*s))
			if err != nil {
				p.Errorf(line, itf, "%v", err)
				return nil
			}
			if hops, err = netconf.AppendHop(hops, h); err != nil {
				p.Errorf(line, itf, "%v", err)
				return nil
			}
		}
		if len(hops) == 0 {
			p.Errorf(v.Line, f, "empty list (write %s to connect directly)", strictyaml.Quote(JumpNone))
			return nil
		}
		out := hopsOf(hops)
		return &out
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		s := p.Str(v, ctx, "jump", true)
		if s == nil {
			return nil
		}
		if *s == "" {
			var cleared []JumpHost
			return &cleared
		}
		parsed, err := netconf.ParseJump(*s)
		var dup *netconf.DuplicateHopError
		switch {
		case errors.As(err, &dup):
			p.Errorf(v.Line, f, "%v", err)
			return nil
		case err != nil:
			p.Errorf(v.Line, f, "%v (want [user@]host[:port], several separated by commas, or %s)", err, strictyaml.Quote(JumpNone))
			return nil
		}
		hops := hopsOf(parsed)
		return &hops
	default:
		p.Errorf(v.Line, f, "want a string or a list of jump hosts, got %s", strictyaml.Kind(v))
		return nil
	}
}

// jumpHostsSection parses the top-level jump_hosts mapping.
func (p *parser) jumpHostsSection(v *yaml.Node) {
	m := p.Mapping(v, "jump_hosts")
	if m == nil {
		return
	}
	p.jumpHosts = map[string]*jumpHostEntry{}
	p.EachKey(m, "jump_hosts", func(name string, k, v *yaml.Node) {
		ctx := "jump_hosts." + strictyaml.Show(name)
		if msg := checkJumpName(name); msg != "" {
			p.Errorf(k.Line, ctx, "%s", msg)
			return
		}
		e := &jumpHostEntry{}
		p.jumpHosts[name] = e
		if strictyaml.IsNull(strictyaml.Resolve(v)) {
			return // the name alone: the host itself, with the device's settings
		}
		em := p.Mapping(v, ctx)
		if em == nil {
			return
		}
		p.EachKey(em, ctx, func(key string, k, v *yaml.Node) {
			f := ctx + ": " + key
			switch key {
			case "host":
				if s := p.Str(v, ctx, key, false); s != nil {
					if msg := checkHost(*s); msg != "" {
						p.Errorf(strictyaml.Resolve(v).Line, f, "%s", msg)
					} else {
						e.host = s
					}
				}
			case "port":
				e.port = p.port(v, strictyaml.Resolve(v).Line, f)
			case "username":
				e.username = p.Str(v, ctx, key, false)
			case "known_hosts":
				if s := p.path(v, ctx, key); s != nil && *s != "" {
					e.knownHosts = s
				}
			case "host_key_policy":
				e.hostKeyPolicy = p.hostKeyPolicy(v, strictyaml.Resolve(v).Line, ctx, key)
			case "auth":
				var a authLayer
				before := len(p.Errs)
				p.auth(v, ctx, &a)
				if len(p.Errs) > before {
					return
				}
				if a.passwordEnv == nil && a.passwordFile == nil && a.privateKey == nil && (a.agent == nil || !*a.agent) {
					p.Errorf(strictyaml.Resolve(v).Line, ctx+": auth", "no method given (set private_key, agent, password_env or password_file; leave auth out to use the device's)")
					return
				}
				e.auth = &a
			case "password", "passphrase":
				p.Errorf(k.Line, f, "plaintext secrets are not allowed in the inventory; use auth: {%s_env: VARIABLE} or auth: {password_file: PATH}", key)
			default:
				if slices.Contains(authKeys(), key) {
					p.Errorf(k.Line, f, "belongs under auth:")
					return
				}
				p.UnknownKey(k, ctx, key, jumpHostKeys(), "unknown key")
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
		return fmt.Sprintf("%s is reserved: jump: %s means no jump host", strictyaml.Quote(s), s)
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
