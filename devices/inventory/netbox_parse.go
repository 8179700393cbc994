package inventory

import (
	"net/url"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/strictyaml"

	"gopkg.in/yaml.v3"
)

// NetBox is an inventory's netbox section: where to read more devices
// from. It holds where the token is, never the token.
type NetBox struct {
	// URL is NetBox's base URL, e.g. https://netbox.example.net; the API
	// is under URL/api/. Show it with devices.MaskDSN.
	URL string
	// TokenEnv names the environment variable holding the API token.
	TokenEnv string
	// Filters are passed to /api/dcim/devices/ as query parameters;
	// "" leaves one out.
	Filters NetBoxFilters
	// IPCustomField, when set, names a custom field holding the address
	// to poll instead of the primary IP.
	IPCustomField string
	// Cache is an absolute path for the cached copy; "" puts it in the
	// state directory (ResolveOptions.StateDir).
	Cache string
	// Line is the line of the netbox key, for messages.
	Line int
}

// NetBoxFilters select NetBox devices by slug (status by value, e.g.
// "active").
type NetBoxFilters struct {
	Role, Site, Status, Tag, Platform string
}

// mergeBase is what devices read from NetBox inherit: the parsed
// defaults and groups, and the parser that resolves paths and jump
// hosts as for the YAML's devices.
type mergeBase struct {
	p        *parser
	defaults layer
	groups   map[string]*layer
}

func netboxKeys() []string {
	return []string{"url", "token_env", "filters", "ip_custom_field", "cache"}
}

func netboxFilterKeys() []string { return []string{"role", "site", "status", "tag", "platform"} }

// netbox parses the netbox section; nil after reporting an error.
func (p *parser) netbox(v *yaml.Node) *NetBox {
	m := p.Mapping(v, "netbox")
	if m == nil {
		return nil
	}
	nb := &NetBox{Line: m.Line}
	before := len(p.Errs)
	p.EachKey(m, "netbox", func(key string, k, v *yaml.Node) {
		f := "netbox." + key
		switch key {
		case "url":
			s := p.Str(v, "netbox", key, false)
			if s == nil {
				return
			}
			u, err := url.Parse(*s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.Errorf(strictyaml.Resolve(v).Line, f, "want an http:// or https:// URL such as https://netbox.example.net, got %s", strictyaml.Quote(devices.MaskDSN(*s)))
				return
			}
			if u.User != nil {
				// A token or password in the URL would end up in the
				// cache file and in every message naming NetBox.
				p.Errorf(strictyaml.Resolve(v).Line, f, "must not carry a user or password; put the API token in the variable token_env names")
				return
			}
			nb.URL = *s
		case "token_env":
			// The value is not echoed: it may be the token itself.
			s := p.Str(v, "netbox", key, false)
			if s != nil && !validEnvName(*s) {
				p.Errorf(strictyaml.Resolve(v).Line, f, "not an environment variable name (want the NAME of the variable holding the token, like NETBOX_TOKEN)")
				return
			}
			if s != nil {
				nb.TokenEnv = *s
			}
		case "filters":
			fm := p.Mapping(v, f)
			if fm == nil {
				return
			}
			p.EachKey(fm, f, func(key string, k, v *yaml.Node) {
				s := p.Str(v, f, key, false)
				var dst *string
				switch key {
				case "role":
					dst = &nb.Filters.Role
				case "site":
					dst = &nb.Filters.Site
				case "status":
					dst = &nb.Filters.Status
				case "tag":
					dst = &nb.Filters.Tag
				case "platform":
					dst = &nb.Filters.Platform
				default:
					p.UnknownKey(k, f, key, netboxFilterKeys(), "unknown key")
					return
				}
				if s != nil {
					*dst = *s
				}
			})
		case "ip_custom_field":
			if s := p.Str(v, "netbox", key, false); s != nil {
				nb.IPCustomField = *s
			}
		case "cache":
			if s := p.path(v, "netbox", key); s != nil {
				nb.Cache = *s
			}
		default:
			p.UnknownKey(k, "netbox", key, netboxKeys(), "unknown key")
		}
	})
	if len(p.Errs) > before {
		return nil
	}
	if nb.URL == "" {
		p.Errorf(m.Line, "netbox.url", "missing: NetBox's base URL, e.g. https://netbox.example.net")
	}
	if nb.TokenEnv == "" {
		p.Errorf(m.Line, "netbox.token_env", "missing: the environment variable holding the API token")
	}
	if len(p.Errs) > before {
		return nil
	}
	return nb
}
