package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestDaemonAPIAndCheckVia runs the daemon against the simulator and
// reads its API, then asks it as Nagios would with check --via: the same
// verdict as check, and no session with the router.
func TestDaemonAPIAndCheckVia(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a daemon audit")
	}
	dual := func(name, site string) junossim.Device {
		return junossim.Device{Name: name, Model: "mx960", Topology: junossim.TopologyDual, Site: site}
	}
	gone := dual("backup-gone", "lab")
	gone.REStates = map[string]junossim.RESpec{"re1": {Status: junossim.StatusAbsent}}
	fleet, inv := startFleet(t, junossim.Scenario{Devices: []junossim.Device{dual("healthy", "lab"), gone, dual("elsewhere", "ams")}})
	db := t.TempDir() + "/m.db"
	d := startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 10s", "--listen", "127.0.0.1:0", "--spread", "0")
	if !within(30*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 }) {
		t.Fatalf("no audit in 30 s; stderr:\n%s", lastLines(d.stderr.String(), 20))
	}

	var status apiStatus
	getJSON(t, d, "/api/v1/status", 200, &status)
	if status.IntervalSeconds != 10 || len(status.NextAudits) != 2 || status.Schedule != "@every 10s" || !status.Ready {
		t.Errorf("/api/v1/status = %+v", status)
	}
	var views []deviceView
	getJSON(t, d, "/api/v1/devices", 200, &views)
	if len(views) != 3 {
		t.Fatalf("/api/v1/devices: %d devices, want 3", len(views))
	}
	getJSON(t, d, "/api/v1/devices?site=lab&since=1h", 200, &views)
	if len(views) != 2 || views[0].Device != "backup-gone" || views[1].Device != "healthy" {
		t.Errorf("?site=lab: %+v", views)
	}
	getJSON(t, d, "/api/v1/devices?since=2000-01-01T00:00:00Z&site=nowhere", 200, &views)
	if len(views) != 0 {
		t.Errorf("?site=nowhere: %d devices", len(views))
	}
	var one deviceView
	getJSON(t, d, "/api/v1/devices/backup-gone", 200, &one)
	if one.State.String() != "CRITICAL" || len(one.AliveSet) != 1 || one.ExpectedREs != 2 {
		t.Errorf("/api/v1/devices/backup-gone = %+v", one)
	}
	var runs []map[string]any
	getJSON(t, d, "/api/v1/runs?since=24h", 200, &runs)
	if len(runs) == 0 {
		t.Error("/api/v1/runs: none")
	}
	for _, path := range []string{"/api/v1/findings", "/api/v1/switchovers?tag=core"} {
		var list []map[string]any
		getJSON(t, d, path, 200, &list)
	}
	// Bad parameters are 400s that name the parameter.
	for path, param := range map[string]string{
		"/api/v1/devices?since=yesterday": "since",
		"/api/v1/findings?stie=lab":       "stie",
		"/api/v1/runs?limit=0":            "limit",
		"/api/v1/switchovers?site=":       "site",
		"/api/v1/runs?site=lab":           "site",
	} {
		var e apiError
		getJSON(t, d, path, 400, &e)
		if e.Parameter != param || !strings.Contains(e.Error, param) {
			t.Errorf("%s: %+v, want parameter %q named", path, e, param)
		}
	}
	var e apiError
	getJSON(t, d, "/api/v1/devices/nope", 404, &e)

	// The live page: the fleet report, built now, reloading itself.
	resp, err := http.Get("http://" + d.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Refresh") != "10" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET / = %d, Refresh %q, Content-Type %q", resp.StatusCode, resp.Header.Get("Refresh"), resp.Header.Get("Content-Type"))
	}
	for _, name := range []string{"backup-gone", "healthy", "elsewhere"} {
		if !strings.Contains(string(page), name) {
			t.Errorf("the live page does not show %s", name)
		}
	}
	if code, _ := d.get(t, "/nope"); code != 404 {
		t.Errorf("GET /nope = %d, want 404", code)
	}

	// check --via: the verdict check gives, and no session with the
	// router. An audit between the two counts would open one: then the
	// comparison proves nothing and is taken again.
	url := "http://" + d.addr
	lineRE := regexp.MustCompile(`^MASTERSHIP CRITICAL - backup-gone: 1 of 2 REs alive \(re0\).* \| alive_res=1;;2:;0 expected_res=2 major_alarms=0 minor_alarms=0 poll_time=\d+\.\d{3}s$`)
	proved := false
	for range 3 {
		runsBefore := countRuns(t, d)
		sessions := len(fleet.Sessions("backup-gone"))
		for range 2 {
			r := runCLI(t, "check", "backup-gone", "--via", url)
			if first, _, _ := strings.Cut(r.stdout, "\n"); r.code != 2 || !lineRE.MatchString(first) {
				t.Fatalf("check --via: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		}
		if countRuns(t, d) != runsBefore {
			continue
		}
		if n := len(fleet.Sessions("backup-gone")); n != sessions {
			t.Fatalf("check --via opened %d NETCONF sessions with the router", n-sessions)
		}
		proved = true
		break
	}
	if !proved {
		t.Fatal("an audit ran during every attempt to count sessions")
	}
	// --via --json is the document check --json gives polling the router.
	for _, name := range []string{"healthy", "backup-gone"} {
		via, direct := runCLI(t, "check", name, "--via", url, "--json"), runCLI(t, "check", name, "--inventory", inv, "--json")
		var vv, dv deviceView
		if err := json.Unmarshal([]byte(via.stdout), &vv); err != nil {
			t.Fatalf("check %s --via --json: %v\n%s", name, err, via.stdout)
		}
		if err := json.Unmarshal([]byte(direct.stdout), &dv); err != nil {
			t.Fatalf("check %s --json: %v\n%s", name, err, direct.stdout)
		}
		if via.code != direct.code || vv.State != dv.State || vv.Summary != dv.Summary || (vv.Readiness == nil) != (dv.Readiness == nil) ||
			(vv.Readiness != nil && vv.Readiness.Verdict != dv.Readiness.Verdict) {
			t.Errorf("%s: --via says exit %d %s %q (readiness %+v), check says exit %d %s %q (readiness %+v)", name,
				via.code, vv.State, vv.Summary, vv.Readiness, direct.code, dv.State, dv.Summary, dv.Readiness)
		}
	}
	// Data older than --max-age is UNKNOWN, as is a device the daemon
	// never polled.
	if r := runCLI(t, "check", "healthy", "--via", url, "--max-age", "1ms"); r.code != 3 || !strings.Contains(r.stdout, "MASTERSHIP UNKNOWN - the daemon's data for healthy is") {
		t.Errorf("stale --via: exit %d\n%s", r.code, r.stdout)
	}
	if r := runCLI(t, "check", "nope", "--via", url); r.code != 3 || !strings.Contains(r.stdout, "no poll of it") {
		t.Errorf("unknown device --via: exit %d\n%s", r.code, r.stdout)
	}
	if r := runCLI(t, "check", "healthy", "--via", "127.0.0.1:9"); r.code != 3 || !strings.Contains(r.stdout, "--via") {
		t.Errorf("bad --via URL: exit %d\n%s", r.code, r.stdout)
	}
}

func getJSON(t *testing.T, d *daemon, path string, wantCode int, out any) {
	t.Helper()
	code, body := d.get(t, path)
	if code != wantCode {
		t.Fatalf("GET %s = %d, want %d: %s", path, code, wantCode, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("GET %s: not the expected JSON: %v\n%s", path, err, body)
	}
}

func countRuns(t *testing.T, d *daemon) int {
	t.Helper()
	var runs []map[string]any
	getJSON(t, d, "/api/v1/runs", 200, &runs)
	return len(runs)
}

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9728": true, "127.0.0.2:0": true, "[::1]:9728": true, "localhost:9728": true,
		"0.0.0.0:9728": false, ":9728": false, "[::]:9728": false, "192.0.2.1:9728": false,
		"metrics.example.net:9728": false, "garbage": false,
	} {
		if got := loopbackOnly(addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}
