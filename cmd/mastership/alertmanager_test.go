package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// startAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port with a throwaway storage and a null receiver, stopped by
// the test's cleanup. It skips without the binary, unless
// MASTERSHIP_REQUIRE_ALERTMANAGER=1 (CI), where its absence fails.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("MASTERSHIP_REQUIRE_ALERTMANAGER") == "1" {
			t.Fatal("prometheus-alertmanager not found (apt-get install prometheus-alertmanager); MASTERSHIP_REQUIRE_ALERTMANAGER=1")
		}
		t.Skip("prometheus-alertmanager not found: apt-get install prometheus-alertmanager")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	waitFor(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func amAlerts(t *testing.T, base string) []amAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var as []amAlert
	if err := json.NewDecoder(resp.Body).Decode(&as); err != nil {
		t.Fatal(err)
	}
	return as
}

// TestAlertmanagerPush: the daemon posts a short alive set to the real
// Alertmanager, with the rules' name and labels, and resolves it when the
// router's RE comes back; the alert is gone from the API long before the
// endsAt it was sent with (three resend intervals), so it was resolved,
// not expired.
func TestAlertmanagerPush(t *testing.T) {
	am := startAlertmanager(t)
	start := time.Now().UTC().Truncate(time.Second)
	sc := junossim.Scenario{StartTime: start, Devices: []junossim.Device{
		{Name: "ams1-mx960-flap", Model: "mx960", Topology: junossim.TopologyDual, Site: "ams1", Events: []junossim.Event{
			{At: time.Minute, Kind: junossim.EventREDown, RE: "re1"},
			{At: 2 * time.Minute, Kind: junossim.EventREUp, RE: "re1"},
		}},
	}}
	clock := junossim.NewClock(start)
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--inventory", inv, "--db", filepath.Join(t.TempDir(), "m.db"),
		"--schedule", "@every 1s", "--listen", "127.0.0.1:0", "--timeout", "5s",
		"--alertmanager", am, "--alertmanager-resend", "1m")
	waitFor(t, 30*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
	if as := amAlerts(t, am); len(as) != 0 {
		t.Fatalf("alerts before the flap: %+v", as)
	}

	clock.Advance(90 * time.Second) // re1 is down
	var short amAlert
	waitFor(t, 30*time.Second, func() bool {
		for _, a := range amAlerts(t, am) {
			if a.Labels["alertname"] == "MastershipAliveSetShort" {
				short = a
				return true
			}
		}
		return false
	})
	want := map[string]string{"alertname": "MastershipAliveSetShort", "device": "ams1-mx960-flap", "site": "ams1", "severity": "critical"}
	for k, v := range want {
		if short.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, short.Labels[k], v, short.Labels)
		}
	}
	if s := short.Annotations["summary"]; s != "ams1-mx960-flap: 1 Routing Engine(s) alive, fewer than expected (2)" {
		t.Errorf("summary = %q", s)
	}
	if short.Status.State != "active" || short.EndsAt.Sub(short.StartsAt) < 2*time.Minute {
		t.Errorf("state %s, startsAt %v, endsAt %v: want active, ending three intervals ahead", short.Status.State, short.StartsAt, short.EndsAt)
	}

	clock.Advance(time.Minute) // re1 is back
	waitFor(t, 30*time.Second, func() bool {
		for _, a := range amAlerts(t, am) {
			if a.Labels["alertname"] == "MastershipAliveSetShort" {
				return false
			}
		}
		return true
	})
	if time.Now().After(short.EndsAt) {
		t.Errorf("the alert only expired (endsAt %v): it was not resolved", short.EndsAt)
	}
	code, body := d.get(t, "/metrics")
	if want := `mastership_alertmanager_errors_total{alertmanager="` + am + `"} 0`; code != 200 || !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if c := d.stop(t, 10*time.Second); c != 0 {
		t.Errorf("daemon exit %d\n%s", c, d.stderr)
	}
}
