package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/strictyaml"
)

// NetBox API shapes, as documented by NetBox's REST API (netboxlabs.com/
// docs/netbox/integrations/rest-api/ and the OpenAPI schema at
// /api/schema/): list endpoints answer {count, next, previous, results},
// next being the absolute URL of the following page or null; a device's
// role is "role" since NetBox 3.6 and "device_role" before (netbox
// issue #6391, #15099); related objects are nested {id, url, display,
// name, slug}; primary_ip/primary_ip4/primary_ip6 are {id, family,
// address} with address in CIDR form ("192.0.2.10/24").
type netboxPage struct {
	Count    int             `json:"count"`
	Next     *string         `json:"next"`
	Previous *string         `json:"previous"`
	Results  []netboxAPIItem `json:"results"`
}

type netboxAPIItem struct {
	ID           int            `json:"id"`
	Name         *string        `json:"name"`
	Role         *netboxRef     `json:"role"`
	DeviceRole   *netboxRef     `json:"device_role"`
	Site         *netboxRef     `json:"site"`
	Platform     *netboxRef     `json:"platform"`
	Tags         []netboxRef    `json:"tags"`
	PrimaryIP    *netboxIP      `json:"primary_ip"`
	PrimaryIP4   *netboxIP      `json:"primary_ip4"`
	PrimaryIP6   *netboxIP      `json:"primary_ip6"`
	CustomFields map[string]any `json:"custom_fields"`
}

type netboxRef struct {
	Slug string `json:"slug"`
}

type netboxIP struct {
	Address string `json:"address"`
}

// netboxDevice is one NetBox device as the inventory uses it, and as the
// cache keeps it.
type netboxDevice struct {
	Name     string   `json:"name"`
	Host     string   `json:"host"`
	Site     string   `json:"site,omitempty"`
	Role     string   `json:"role,omitempty"`
	Platform string   `json:"platform,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

type netboxCache struct {
	// URL is the masked NetBox URL and query the copy came from: a cache
	// of other filters is not used.
	URL     string         `json:"url"`
	Devices []netboxDevice `json:"devices"`
}

// Limits on one NetBox read: a page is at most netboxPageSize devices, and
// a response larger than maxNetboxBody or more than maxNetboxPages pages
// mean something is wrong, not a big fleet.
const (
	netboxPageSize       = 500
	maxNetboxPages       = 1000
	maxNetboxBody        = 32 << 20
	DefaultNetBoxTimeout = 30 * time.Second
)

// ResolveOptions are what Resolve needs from the program around it.
type ResolveOptions struct {
	// Client makes the requests; nil uses a client of its own.
	Client *http.Client
	// StateDir is where the NetBox cache lives when the inventory names
	// no cache path; "" keeps no cache then.
	StateDir string
	// Timeout bounds the whole NetBox read; 0 is DefaultNetBoxTimeout.
	Timeout time.Duration
	// LookupEnv reads the token variable; nil is os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Load reads the inventory file at path and the devices of its NetBox
// source, if it has one.
func Load(ctx context.Context, path string, opts ResolveOptions) (*Inventory, error) {
	inv, err := LoadInventory(path)
	if err != nil {
		return nil, err
	}
	if err := inv.Resolve(ctx, opts); err != nil {
		return nil, err
	}
	return inv, nil
}

// Resolve adds the devices of the inventory's NetBox source, merged with
// its defaults and groups: a NetBox device joins the groups named like its
// role slug and its tag slugs, in that order, where such groups exist.
// When NetBox cannot be reached (or answers 5xx), the cached copy of the
// last good read is used and a warning says so. Without a netbox section
// it does nothing.
func (inv *Inventory) Resolve(ctx context.Context, opts ResolveOptions) error {
	nb := inv.NetBox
	if nb == nil || inv.base == nil {
		return nil
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	token, ok := lookup(nb.TokenEnv)
	if !ok || token == "" {
		return fmt.Errorf("%s: netbox.token_env: environment variable %s is not set or empty", inv.Path, nb.TokenEnv)
	}
	secret := devices.Secret(token)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultNetBoxTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := nb.devicesURL()
	shown := devices.MaskDSN(start)
	cachePath := nb.Cache
	if cachePath == "" && opts.StateDir != "" {
		sum := sha256.Sum256([]byte(shown))
		cachePath = filepath.Join(opts.StateDir, "netbox-"+hex.EncodeToString(sum[:6])+".json")
	}
	devs, warns, err := fetchNetbox(ctx, opts.Client, start, secret, nb.IPCustomField)
	var unreachable *netboxUnreachable
	switch {
	case errors.As(err, &unreachable) && cachePath != "":
		cached, cerr := readNetboxCache(cachePath, shown)
		if cerr != nil {
			return fmt.Errorf("%s: %w; and no usable cache: %v", inv.Path, err, cerr)
		}
		inv.sourceWarnings = append(inv.sourceWarnings, fmt.Sprintf("%s: %v; using the cached copy %s (%d devices)", inv.Path, err, cachePath, len(cached)))
		devs = cached
	case err != nil:
		return fmt.Errorf("%s: %w", inv.Path, err)
	default:
		for _, w := range warns {
			inv.sourceWarnings = append(inv.sourceWarnings, inv.Path+": "+w)
		}
		if cachePath != "" {
			if err := writeNetboxCache(cachePath, netboxCache{URL: shown, Devices: devs}); err != nil {
				inv.sourceWarnings = append(inv.sourceWarnings, fmt.Sprintf("%s: netbox cache %s not written: %v", inv.Path, cachePath, err))
			}
		}
	}
	return inv.mergeNetbox(devs, shown)
}

// devicesURL is the first page's URL, with the filters.
func (nb *NetBox) devicesURL() string {
	q := url.Values{}
	q.Set("limit", fmt.Sprint(netboxPageSize))
	for _, f := range []struct{ key, val string }{
		{"role", nb.Filters.Role}, {"site", nb.Filters.Site}, {"status", nb.Filters.Status},
		{"tag", nb.Filters.Tag}, {"platform", nb.Filters.Platform},
	} {
		if f.val != "" {
			q.Set(f.key, f.val)
		}
	}
	return strings.TrimRight(nb.URL, "/") + "/api/dcim/devices/?" + q.Encode()
}

// mergeNetbox turns NetBox's devices into Devices through the YAML's
// defaults and groups.
func (inv *Inventory) mergeNetbox(devs []netboxDevice, shown string) error {
	b := inv.base
	var errs []error
	for _, nd := range devs {
		if msg := checkName(nd.Name); msg != "" {
			inv.sourceWarnings = append(inv.sourceWarnings, fmt.Sprintf("%s: netbox device %s skipped: name %s", inv.Path, strictyaml.Show(nd.Name), msg))
			continue
		}
		if _, dup := inv.Device(nd.Name); dup {
			errs = append(errs, fmt.Errorf("%s: netbox device %s (from %s): a device of that name is already in the inventory", inv.Path, strictyaml.Show(nd.Name), shown))
			continue
		}
		var groupList []string
		for _, g := range append([]string{nd.Role}, nd.Tags...) {
			if g != "" && b.groups[g] != nil && !slices.Contains(groupList, g) {
				groupList = append(groupList, g)
			}
		}
		own := layer{tags: slices.Clone(nd.Tags)}
		if nd.Site != "" {
			site := nd.Site
			own.site = &site
		}
		d := b.p.build(nd.Name, nd.Host, groupList, &b.defaults, b.groups, &own)
		d.Platform, d.Role = nd.Platform, nd.Role
		inv.Devices = append(inv.Devices, d)
	}
	return errors.Join(errs...)
}

// netboxUnreachable is a failure that the cache may stand in for: NetBox
// did not answer, or answered with a server error.
type netboxUnreachable struct{ err error }

func (e *netboxUnreachable) Error() string { return e.err.Error() }
func (e *netboxUnreachable) Unwrap() error { return e.err }

// fetchNetbox reads every page from start on. Errors name the masked URL
// and the HTTP status, never the token.
func fetchNetbox(ctx context.Context, client *http.Client, start string, token devices.Secret, ipField string) ([]netboxDevice, []string, error) {
	if client == nil {
		client = &http.Client{}
	}
	base, err := url.Parse(start)
	if err != nil {
		return nil, nil, fmt.Errorf("netbox %s: %v", devices.MaskDSN(start), err)
	}
	var out []netboxDevice
	var warns []string
	next := start
	for page := 1; next != ""; page++ {
		if page > maxNetboxPages {
			return nil, nil, fmt.Errorf("netbox %s: more than %d pages; narrow netbox.filters", devices.MaskDSN(start), maxNetboxPages)
		}
		// The token goes only to the NetBox named in the inventory, even
		// if a page's next link points elsewhere.
		nu, err := url.Parse(next)
		if err != nil || nu.Scheme != base.Scheme || nu.Host != base.Host {
			return nil, nil, fmt.Errorf("netbox %s: page %d: next link %s is not on %s; not following it", devices.MaskDSN(start), page, strictyaml.Quote(devices.MaskDSN(next)), base.Host)
		}
		p, err := fetchNetboxPage(ctx, client, next, token)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range p.Results {
			d, warn := it.device(ipField)
			if warn != "" {
				warns = append(warns, warn)
				continue
			}
			out = append(out, d)
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
		}
	}
	return out, warns, nil
}

func fetchNetboxPage(ctx context.Context, client *http.Client, u string, token devices.Secret) (*netboxPage, error) {
	shown := devices.MaskDSN(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("netbox %s: %v", shown, err)
	}
	req.Header.Set("Authorization", "Token "+token.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL unmasked
		}
		return nil, &netboxUnreachable{fmt.Errorf("netbox %s: unreachable: %v", shown, redactToken(err.Error(), token))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxNetboxBody+1))
	if err != nil {
		return nil, &netboxUnreachable{fmt.Errorf("netbox %s: HTTP %s: reading the answer: %v", shown, resp.Status, err)}
	}
	if len(body) > maxNetboxBody {
		return nil, fmt.Errorf("netbox %s: HTTP %s: answer larger than %d bytes", shown, resp.Status, maxNetboxBody)
	}
	if resp.StatusCode != http.StatusOK {
		detail := ""
		var d struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(body, &d) == nil && d.Detail != "" {
			detail = ": " + strictyaml.Quote(redactToken(d.Detail, token))
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("netbox %s: HTTP %s%s: NetBox refused the token (check netbox.token_env's variable holds a valid token allowed to view dcim devices)", shown, resp.Status, detail)
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			return nil, &netboxUnreachable{fmt.Errorf("netbox %s: HTTP %s%s", shown, resp.Status, detail)}
		}
		return nil, fmt.Errorf("netbox %s: HTTP %s%s", shown, resp.Status, detail)
	}
	var p netboxPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("netbox %s: not a NetBox device list: %v", shown, err)
	}
	return &p, nil
}

// device maps one API item, or says why it is skipped.
func (it *netboxAPIItem) device(ipField string) (netboxDevice, string) {
	if it.Name == nil || *it.Name == "" {
		return netboxDevice{}, fmt.Sprintf("netbox device id %d has no name; skipped", it.ID)
	}
	name := *it.Name
	d := netboxDevice{Name: name}
	if ipField != "" {
		v, _ := it.CustomFields[ipField].(string)
		if v == "" {
			return netboxDevice{}, fmt.Sprintf("netbox device %s: custom field %s is empty; skipped", strictyaml.Show(name), strictyaml.Quote(ipField))
		}
		d.Host = hostOf(v)
	} else {
		for _, ip := range []*netboxIP{it.PrimaryIP, it.PrimaryIP4, it.PrimaryIP6} {
			if ip != nil && ip.Address != "" {
				d.Host = hostOf(ip.Address)
				break
			}
		}
		if d.Host == "" {
			return netboxDevice{}, fmt.Sprintf("netbox device %s has no primary IP; skipped", strictyaml.Show(name))
		}
	}
	if msg := checkHost(d.Host); msg != "" {
		return netboxDevice{}, fmt.Sprintf("netbox device %s: address %s %s; skipped", strictyaml.Show(name), strictyaml.Quote(d.Host), msg)
	}
	if it.Site != nil {
		d.Site = it.Site.Slug
	}
	if it.Platform != nil {
		d.Platform = it.Platform.Slug
	}
	switch {
	case it.Role != nil:
		d.Role = it.Role.Slug
	case it.DeviceRole != nil:
		d.Role = it.DeviceRole.Slug
	}
	for _, t := range it.Tags {
		if t.Slug != "" && !slices.Contains(d.Tags, t.Slug) {
			d.Tags = append(d.Tags, t.Slug)
		}
	}
	return d, ""
}

// hostOf drops the prefix length of a NetBox address ("192.0.2.10/24").
func hostOf(addr string) string {
	if ip, _, err := net.ParseCIDR(addr); err == nil {
		return ip.String()
	}
	return addr
}

func redactToken(s string, token devices.Secret) string {
	if t := token.Reveal(); t != "" {
		s = strings.ReplaceAll(s, t, devices.Masked)
	}
	return s
}

func readNetboxCache(path, shown string) ([]netboxDevice, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	var c netboxCache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("cache %s: %v", path, err)
	}
	if c.URL != shown {
		return nil, fmt.Errorf("cache %s is of %s, not %s", path, c.URL, shown)
	}
	return c.Devices, nil
}

// writeNetboxCache replaces the cache atomically: a reader (or a crash)
// sees the old copy or the new one, never half of one.
func writeNetboxCache(path string, c netboxCache) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".netbox-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
	}
	return werr
}
