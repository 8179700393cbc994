package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestReportEveryKindAndFormat audits a small simulated fleet over SSH and
// exports every kind in every table format through the real command; the
// exact bytes are golden-tested in store/report, this checks the wiring.
func TestReportEveryKindAndFormat(t *testing.T) {
	demo := junossim.DemoScenario()
	var sc junossim.Scenario
	for _, d := range demo.Devices {
		switch d.Name {
		case "lon1-mx960-3", "ams1-mx960-1", "par2-mx480-1":
			sc.Devices = append(sc.Devices, d)
		}
	}
	_, inv := startFleet(t, sc)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	html := filepath.Join(dir, "audit.html")
	r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--report", html)
	if r.code != 0 {
		t.Fatalf("audit --report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatalf("audit --report wrote nothing: %v", err)
	}
	if !bytes.Contains(page, []byte(`data-device="lon1-mx960-3"`)) || bytes.Contains(page, []byte("http://")) {
		t.Errorf("audit's HTML report lacks the flapping router's timeline or fetches something")
	}

	for _, kind := range []string{"devices", "findings", "transitions", "alarms", "events", "polls", "runs"} {
		for _, format := range []string{"csv", "json", "jsonl"} {
			out := filepath.Join(dir, kind+"."+format)
			r := runCLI(t, "report", "--db", db, "--kind", kind, "--format", format, "-o", out)
			if r.code != 0 {
				t.Errorf("report %s %s: exit %d: %s", kind, format, r.code, r.stderr)
				continue
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rows := 0
			switch format {
			case "csv":
				recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
				if err != nil {
					t.Errorf("%s.csv: %v", kind, err)
				}
				rows = len(recs) - 1
			case "json":
				var objs []map[string]any
				if err := json.Unmarshal(data, &objs); err != nil {
					t.Errorf("%s.json: %v", kind, err)
				}
				rows = len(objs)
			case "jsonl":
				rows = bytes.Count(data, []byte("\n"))
			}
			if rows == 0 {
				t.Errorf("report %s %s has no rows after an audit of a flapping router", kind, format)
			}
		}
	}

	// Selection by site and a bad selection.
	r = runCLI(t, "report", "--db", db, "--kind", "devices", "--site", "lon1")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "lon1-mx960-3") {
		t.Errorf("report --site lon1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The same from the inventory's sites.
	r = runCLI(t, "report", "--db", db, "--inventory", inv, "--kind", "devices", "--site", "lon1")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "lon1-mx960-3") {
		t.Errorf("report --inventory --site lon1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"--kind", "devices", "--site", "nowhere"},
		{"--kind", "devices", "--tag", "core"},
		{"--kind", "events", "--since", "yesterday"},
		{"--kind", "devices", "--since", "24h"},
		{"--kind", "nodes"},
		{"--format", "xlsx"},
	} {
		r := runCLI(t, append([]string{"report", "--db", db}, args...)...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("report %v: exit %d, stderr %q; want 2 with a reason", args, r.code, r.stderr)
		}
	}

	// check --report writes the one device's report.
	one := filepath.Join(dir, "check.csv")
	r = runCLI(t, "check", "lon1-mx960-3", "--inventory", inv, "--report", one)
	if r.code != 2 {
		t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
	}
	data, err := os.ReadFile(one)
	if err != nil || !strings.HasPrefix(string(data), "device,host,site,") || strings.Count(string(data), "\n") != 2 {
		t.Errorf("check --report: %v\n%s", err, data)
	}
}
