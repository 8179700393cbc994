package inventory

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testToken = "0123456789abcdef0123456789abcdef01234567"

// netboxServer replays device lists shaped like NetBox's documented REST
// API: Token authentication (the "Authorization: Token <key>" header of
// NetBox's REST API docs, netboxlabs.com/docs/netbox/integrations/rest-api/),
// {count, next, previous, results} pagination with absolute next/previous
// URLs, nested {id, url, display, name, slug} objects, primary_ip with
// the address in CIDR form, "role" (NetBox >= 3.6) and "device_role"
// (older; renamed under netbox-community/netbox#6391, see #15099), as in
// NetBox's OpenAPI schema (the netbox-openapi bindings' Device model).
func netboxServer(t *testing.T, status int) (*httptest.Server, *[]string) {
	t.Helper()
	var queries []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, `{"detail": "Invalid token"}`)
			return
		}
		if r.Header.Get("Authorization") != "Token "+testToken {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"detail": "Invalid token"}`)
			return
		}
		if r.URL.Path != "/api/dcim/devices/" {
			http.NotFound(w, r)
			return
		}
		queries = append(queries, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("offset") == "" {
			fmt.Fprintf(w, page1, srv.URL)
			return
		}
		fmt.Fprintf(w, page2, srv.URL)
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

const page1 = `{
  "count": 4,
  "next": "%s/api/dcim/devices/?limit=2&offset=2&role=core-router",
  "previous": null,
  "results": [
    {"id": 1, "url": "http://netbox/api/dcim/devices/1/", "display": "ams1-mx-1", "name": "ams1-mx-1",
     "role": {"id": 3, "url": "http://netbox/api/dcim/device-roles/3/", "display": "Core router", "name": "Core router", "slug": "core-router"},
     "platform": {"id": 2, "url": "http://netbox/api/dcim/platforms/2/", "display": "Junos", "name": "Junos", "slug": "junos"},
     "site": {"id": 7, "url": "http://netbox/api/dcim/sites/7/", "display": "AMS1", "name": "AMS1", "slug": "ams1"},
     "status": {"value": "active", "label": "Active"},
     "primary_ip": {"id": 11, "url": "http://netbox/api/ipam/ip-addresses/11/", "display": "192.0.2.10/24", "family": 4, "address": "192.0.2.10/24"},
     "primary_ip4": {"id": 11, "url": "http://netbox/api/ipam/ip-addresses/11/", "display": "192.0.2.10/24", "family": 4, "address": "192.0.2.10/24"},
     "primary_ip6": null,
     "tags": [{"id": 5, "url": "http://netbox/api/extras/tags/5/", "display": "mastership", "name": "mastership", "slug": "mastership", "color": "9e9e9e"}],
     "custom_fields": {"mgmt_ip": "198.51.100.1"}},
    {"id": 2, "url": "http://netbox/api/dcim/devices/2/", "display": "Unnamed device (2)", "name": null,
     "role": {"id": 3, "url": "http://netbox/api/dcim/device-roles/3/", "display": "Core router", "name": "Core router", "slug": "core-router"},
     "site": {"id": 7, "url": "http://netbox/api/dcim/sites/7/", "display": "AMS1", "name": "AMS1", "slug": "ams1"},
     "primary_ip": null, "primary_ip4": null, "primary_ip6": null, "tags": [], "custom_fields": {}}
  ]
}`

const page2 = `{
  "count": 4,
  "next": null,
  "previous": "%s/api/dcim/devices/?limit=2&role=core-router",
  "results": [
    {"id": 3, "url": "http://netbox/api/dcim/devices/3/", "display": "fra1-mx-1", "name": "fra1-mx-1",
     "device_role": {"id": 4, "url": "http://netbox/api/dcim/device-roles/4/", "display": "Edge", "name": "Edge", "slug": "edge"},
     "platform": null,
     "site": {"id": 8, "url": "http://netbox/api/dcim/sites/8/", "display": "FRA1", "name": "FRA1", "slug": "fra1"},
     "primary_ip": {"id": 12, "url": "http://netbox/api/ipam/ip-addresses/12/", "display": "2001:db8::1/64", "family": 6, "address": "2001:db8::1/64"},
     "primary_ip4": null,
     "primary_ip6": {"id": 12, "url": "http://netbox/api/ipam/ip-addresses/12/", "display": "2001:db8::1/64", "family": 6, "address": "2001:db8::1/64"},
     "tags": [], "custom_fields": {"mgmt_ip": null}},
    {"id": 4, "url": "http://netbox/api/dcim/devices/4/", "display": "fra1-mx-2", "name": "fra1-mx-2",
     "device_role": {"id": 4, "url": "http://netbox/api/dcim/device-roles/4/", "display": "Edge", "name": "Edge", "slug": "edge"},
     "site": {"id": 8, "url": "http://netbox/api/dcim/sites/8/", "display": "FRA1", "name": "FRA1", "slug": "fra1"},
     "primary_ip": null,
     "primary_ip4": {"id": 13, "url": "http://netbox/api/ipam/ip-addresses/13/", "display": "192.0.2.20/26", "family": 4, "address": "192.0.2.20/26"},
     "primary_ip6": null, "tags": [], "custom_fields": {}}
  ]
}`

func netboxInventory(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "devices.yaml")
	src := fmt.Sprintf(`defaults:
  username: netconf
  auth: {agent: true}
groups:
  core-router:
    auth: {password_env: CORE_PW}
    timeout: 10s
  mastership:
    tags: [polled]
netbox:
  url: %s
  token_env: MS_TEST_NETBOX_TOKEN
  filters: {role: core-router}
devices: []
`, url)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(token string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if name == "MS_TEST_NETBOX_TOKEN" {
			return token, true
		}
		return "", false
	}
}

func noToken(t *testing.T, inv *Inventory, err error) {
	t.Helper()
	text := fmt.Sprint(err)
	if inv != nil {
		text += strings.Join(inv.Warnings(), "\n") + fmt.Sprintf("%+v", inv.Devices)
	}
	if strings.Contains(text, testToken) {
		t.Errorf("the token appears in the output: %s", text)
	}
}

func TestNetBoxDevices(t *testing.T) {
	srv, queries := netboxServer(t, 0)
	path := netboxInventory(t, srv.URL)
	state := t.TempDir()
	inv, err := Load(context.Background(), path, ResolveOptions{StateDir: state, LookupEnv: env(testToken)})
	noToken(t, inv, err)
	if err != nil {
		t.Fatal(err)
	}
	if len(*queries) != 2 || !strings.Contains((*queries)[0], "role=core-router") {
		t.Errorf("queries = %q, want two pages filtered by role", *queries)
	}
	var got []string
	for _, d := range inv.Devices {
		got = append(got, fmt.Sprintf("%s %s site=%s role=%s platform=%s tags=%v groups=%v pw=%s timeout=%s",
			d.Name, d.Host, d.Site, d.Role, d.Platform, d.Tags, d.Groups, d.Auth.PasswordEnv, d.Timeout))
	}
	want := []string{
		"ams1-mx-1 192.0.2.10 site=ams1 role=core-router platform=junos tags=[polled mastership] groups=[core-router mastership] pw=CORE_PW timeout=10s",
		"fra1-mx-1 2001:db8::1 site=fra1 role=edge platform= tags=[] groups=[] pw= timeout=30s",
		"fra1-mx-2 192.0.2.20 site=fra1 role=edge platform= tags=[] groups=[] pw= timeout=30s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("devices\n got: %q\nwant: %q", got, want)
	}
	warns := strings.Join(inv.Warnings(), "\n")
	if !strings.Contains(warns, "netbox device id 2 has no name; skipped") {
		t.Errorf("no warning for the unnamed device: %s", warns)
	}

	// NetBox down: the cached copy stands in, with a warning.
	srv.Close()
	inv, err = Load(context.Background(), path, ResolveOptions{StateDir: state, LookupEnv: env(testToken)})
	noToken(t, inv, err)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 3 {
		t.Errorf("from the cache: %d devices, want 3", len(inv.Devices))
	}
	if w := strings.Join(inv.Warnings(), "\n"); !strings.Contains(w, "unreachable") || !strings.Contains(w, "using the cached copy") {
		t.Errorf("warnings do not say the cache was used: %s", w)
	}

	// Down and no cache: an error naming NetBox.
	_, err = Load(context.Background(), path, ResolveOptions{StateDir: t.TempDir(), LookupEnv: env(testToken)})
	noToken(t, nil, err)
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "no usable cache") {
		t.Errorf("err = %v", err)
	}
}

func TestNetBoxIPCustomField(t *testing.T) {
	srv, _ := netboxServer(t, 0)
	path := netboxInventory(t, srv.URL)
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), "  filters:", "  ip_custom_field: mgmt_ip\n  filters:", 1))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(context.Background(), path, ResolveOptions{LookupEnv: env(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 1 || inv.Devices[0].Host != "198.51.100.1" {
		t.Errorf("devices = %+v, want ams1-mx-1 at 198.51.100.1 only", inv.Devices)
	}
	if w := strings.Join(inv.Warnings(), "\n"); !strings.Contains(w, `netbox device fra1-mx-1: custom field "mgmt_ip" is empty; skipped`) {
		t.Errorf("warnings: %s", w)
	}
}

func TestNetBoxErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		token  string
		want   string
		cached bool // the cache stands in
	}{
		{"wrong token", 0, "wrong-" + testToken, "HTTP 403 Forbidden: \"Invalid token\": NetBox refused the token", false},
		{"401", http.StatusUnauthorized, testToken, "HTTP 401 Unauthorized: \"Invalid token\": NetBox refused the token", false},
		{"500", http.StatusInternalServerError, testToken, "HTTP 500 Internal Server Error", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := netboxServer(t, tc.status)
			path := netboxInventory(t, srv.URL)
			inv, err := Load(context.Background(), path, ResolveOptions{LookupEnv: env(tc.token)})
			noToken(t, inv, err)
			if strings.Contains(fmt.Sprint(err), "wrong-") {
				t.Errorf("the wrong token appears: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), srv.URL+"/api/dcim/devices/") {
				t.Fatalf("err = %v, want one naming %s and %q", err, srv.URL, tc.want)
			}
			// With a cache in place, only a server error falls back to it.
			cache := filepath.Join(t.TempDir(), "nb.json")
			shown := (&NetBox{URL: srv.URL, Filters: NetBoxFilters{Role: "core-router"}}).devicesURL()
			if err := writeNetboxCache(cache, netboxCache{URL: shown, Devices: []netboxDevice{{Name: "r1", Host: "192.0.2.1"}}}); err != nil {
				t.Fatal(err)
			}
			inv, err = loadWithCache(t, path, cache, tc.token)
			noToken(t, inv, err)
			if (err == nil) != tc.cached {
				t.Errorf("cached=%v, err = %v", tc.cached, err)
			}
		})
	}
}

// loadWithCache loads path with its netbox cache set to cache.
func loadWithCache(t *testing.T, path, cache, token string) (*Inventory, error) {
	t.Helper()
	inv, err := LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	inv.NetBox.Cache = cache
	return inv, inv.Resolve(context.Background(), ResolveOptions{LookupEnv: env(token)})
}

func TestNetBoxTokenUnset(t *testing.T) {
	path := netboxInventory(t, "http://127.0.0.1:1")
	_, err := Load(context.Background(), path, ResolveOptions{LookupEnv: env("")})
	if err == nil || !strings.Contains(err.Error(), "netbox.token_env: environment variable MS_TEST_NETBOX_TOKEN is not set or empty") {
		t.Errorf("err = %v", err)
	}
}
