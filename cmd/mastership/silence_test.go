package main

import (
	"encoding/csv"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// addToDevice inserts YAML lines (indented as the device's keys) into
// the inventory entry of device.
func addToDevice(t *testing.T, inv, device string, lines ...string) {
	t.Helper()
	data, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(\s*)- name: "?` + regexp.QuoteMeta(device) + `"?\n`).FindSubmatchIndex(data)
	if m == nil {
		t.Fatalf("no device %s in the inventory:\n%s", device, data)
	}
	indent := string(data[m[2]:m[3]]) + "  "
	var add strings.Builder
	for _, l := range lines {
		add.WriteString(indent + l + "\n")
	}
	out := string(data[:m[1]]) + add.String() + string(data[m[1]:])
	if err := os.WriteFile(inv, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceEndToEnd: three copies of a router whose backup RE
// flapped after a PEM alarm (critical, hardware). One is inside an
// inventory maintenance window, one is silenced with mastership silence,
// the third has only a window long past: the first two are OK with the
// finding shown and marked maintenance, the third is still CRITICAL.
func TestMaintenanceEndToEnd(t *testing.T) {
	var flapping junossim.Device
	for _, d := range junossim.DemoScenario().Devices {
		if d.Name == "lon1-mx960-3" {
			flapping = d
		}
	}
	if flapping.Name == "" {
		t.Fatal("the demo has no lon1-mx960-3")
	}
	var sc junossim.Scenario
	for _, name := range []string{"in-window", "silenced", "outside"} {
		d := flapping
		d.Name = name
		sc.Devices = append(sc.Devices, d)
	}
	_, inv := startFleet(t, sc)
	now := time.Now().UTC()
	addToDevice(t, inv, "in-window",
		"maintenance:",
		"  - from: "+now.Add(-30*24*time.Hour).Format(time.RFC3339),
		"    until: "+now.Add(24*time.Hour).Format(time.RFC3339),
		"    reason: CHG-1234 PEM swap")
	addToDevice(t, inv, "outside",
		"maintenance:",
		"  - from: 2020-01-01T00:00:00Z",
		"    until: 2020-01-02T00:00:00Z")
	db := "sqlite:" + t.TempDir() + "/m.db"

	t.Setenv("USER", "alice")
	// The simulated flap happened before the test began: the window opens
	// earlier, as an operator silencing a flap under way would.
	r := runCLI(t, "silence", "silenced", "--from", now.Add(-2*time.Hour).Format(time.RFC3339), "--for", "4h",
		"--reason", "RE0 replacement", "--inventory", inv, "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "silenced in maintenance until ") {
		t.Fatalf("silence: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "silence", "--list", "--db", db)
	if r.code != 0 || !regexp.MustCompile(`(?m)^silenced\s+\S+\s+\S+\s+alice\s+RE0 replacement$`).MatchString(r.stdout) {
		t.Errorf("silence --list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	tests := []struct {
		device, note string
		code         int
		maintenance  bool
	}{
		{"in-window", "(in maintenance: CHG-1234 PEM swap, until " + now.Add(24*time.Hour).Format(time.RFC3339) + ")", 0, true},
		{"silenced", "(in maintenance: RE0 replacement (by alice), until ", 0, true},
		{"outside", "", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			r := runCLI(t, "check", tt.device, "--inventory", inv, "--db", db)
			first, _, _ := strings.Cut(r.stdout, "\n")
			if r.code != tt.code || !strings.Contains(first, "re1 flapped 4 times (hardware, critical)") {
				t.Fatalf("check: exit %d, want %d, with the finding named\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.maintenance && (!strings.HasPrefix(first, "MASTERSHIP OK - ") || !strings.Contains(first, tt.note)) {
				t.Errorf("status line %q lacks OK or %q", first, tt.note)
			}
			if !tt.maintenance && (!strings.HasPrefix(first, "MASTERSHIP CRITICAL - ") || strings.Contains(first, "maintenance")) {
				t.Errorf("status line %q: want CRITICAL and no maintenance", first)
			}

			r = runCLI(t, "check", tt.device, "--inventory", inv, "--db", db, "--json")
			var v struct {
				State    string `json:"state"`
				Findings []struct {
					Severity    string `json:"severity"`
					Maintenance *bool  `json:"maintenance"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("check --json: %v\n%s", err, r.stdout)
			}
			if r.code != tt.code || len(v.Findings) != 1 || v.Findings[0].Maintenance == nil ||
				*v.Findings[0].Maintenance != tt.maintenance || v.Findings[0].Severity != "critical" {
				t.Errorf("check --json: exit %d, state %s, findings %+v", r.code, v.State, v.Findings)
			}
		})
	}

	// The findings report carries the mark as stored.
	r = runCLI(t, "report", "--db", db, "--kind", "findings", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][len(rows[0])-1] != "maintenance" {
		t.Fatalf("findings report: %v\n%s", err, r.stdout)
	}
	marks := map[string]string{}
	for _, row := range rows[1:] {
		marks[row[0]] = row[len(row)-1]
	}
	if want := map[string]string{"in-window": "true", "silenced": "true", "outside": "false"}; !maps.Equal(marks, want) {
		t.Errorf("maintenance column = %v, want %v", marks, want)
	}

	// --tag needs the inventory; a tag nobody has is an error.
	if r := runCLI(t, "silence", "--tag", "x", "--for", "1h", "--reason", "r", "--db", db); r.code != 2 || !strings.Contains(r.stderr, "--tag needs --inventory") {
		t.Errorf("--tag without --inventory: exit %d, %s", r.code, r.stderr)
	}
	if r := runCLI(t, "silence", "--tag", "nobody", "--for", "1h", "--reason", "r", "--inventory", inv, "--db", db); r.code != 2 || !strings.Contains(r.stderr, "no device has tag") {
		t.Errorf("unknown tag: exit %d, %s", r.code, r.stderr)
	}
	if r := runCLI(t, "silence", "silenced", "--reason", "r", "--db", db); r.code != 2 || !strings.Contains(r.stderr, "--for") {
		t.Errorf("no --for: exit %d, %s", r.code, r.stderr)
	}
}
