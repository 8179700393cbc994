package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/devices/readiness"
)

// readinessFleet is one router per switchover readiness condition, a
// ready one, and the two kinds of device where it does not apply.
func readinessFleet() junossim.Scenario {
	off := false
	dual := func(name string) junossim.Device {
		return junossim.Device{Name: name, Model: "mx960", Version: "22.2R3.15", Topology: junossim.TopologyDual, Site: "lab"}
	}
	mismatch := dual("mismatch")
	mismatch.REVersions = map[string]string{"re1": "21.4R3-S5.4"}
	gresOff := dual("gres-off")
	gresOff.Redundancy = &junossim.RedundancySpec{GracefulSwitchover: &off}
	nsrOff := dual("nsr-off")
	nsrOff.Redundancy = &junossim.RedundancySpec{NonstopRouting: &off}
	incomplete := dual("replication-incomplete")
	incomplete.Replication = &junossim.ReplicationSpec{Incomplete: []string{"BGP"}}
	fresh := dual("fresh-backup")
	fresh.REStates = map[string]junossim.RESpec{"re1": {Status: "OK", MastershipState: "backup", UpTime: 2 * time.Minute}}
	noSync := dual("no-commit-sync")
	noSync.Redundancy = &junossim.RedundancySpec{CommitSynchronize: &off}
	return junossim.Scenario{Devices: []junossim.Device{
		dual("ready"), mismatch, gresOff, nsrOff, incomplete, fresh, noSync,
		{Name: "single", Model: "mx204", Topology: junossim.TopologySingle, Site: "lab"},
		{Name: "srx", Model: "srx4600", Topology: junossim.TopologySRXCluster, Site: "lab"},
	}}
}

// TestCheckReadiness checks each router of readinessFleet over SSH and
// compares the exact reasons of check --json, the exit code and the
// status line.
func TestCheckReadiness(t *testing.T) {
	_, inv := startFleet(t, readinessFleet())
	tests := []struct {
		device  string
		verdict readiness.State
		code    string
		text    string // exact, or a prefix when it ends in "…"
	}{
		{"ready", readiness.Ready, "", ""},
		{"mismatch", readiness.NotReady, readiness.CodeReleaseMismatch, "backup runs 21.4R3-S5.4, master 22.2R3.15"},
		{"gres-off", readiness.NotReady, readiness.CodeGRESOff, "GRES is not configured (chassis redundancy graceful-switchover)"},
		{"nsr-off", readiness.NotReady, readiness.CodeNSROff, "nonstop-routing is not configured (routing-options nonstop-routing)"},
		{"replication-incomplete", readiness.NotReady, readiness.CodeReplicationIncomplete, "replication to the backup incomplete: BGP InProgress"},
		{"fresh-backup", readiness.NotReady, readiness.CodeBackupFresh, "backup re1 up 2m…"},
		{"no-commit-sync", readiness.NotReady, readiness.CodeCommitSyncOff, "commit synchronize is not configured: the backup's configuration can drift"},
		{"single", readiness.NotApplicable, "", ""},
		{"srx", readiness.NotApplicable, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, "check", tt.device, "--inventory", inv, "--json")
			var v struct {
				State     string
				Summary   string
				Readiness *struct {
					Verdict   readiness.State    `json:"verdict"`
					Reasons   []readiness.Reason `json:"reasons"`
					CheckedAt time.Time          `json:"checked_at"`
				} `json:"readiness"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
			}
			wantCode := map[readiness.State]int{readiness.Ready: 0, readiness.NotReady: 1, readiness.NotApplicable: 0}[tt.verdict]
			if r.code != wantCode {
				t.Errorf("exit code %d, want %d: %s", r.code, wantCode, v.Summary)
			}
			if tt.verdict == readiness.NotApplicable {
				if v.Readiness != nil || strings.Contains(v.Summary, "switchover") {
					t.Errorf("not applicable, yet shown: %+v, summary %q", v.Readiness, v.Summary)
				}
				return
			}
			if v.Readiness == nil {
				t.Fatalf("no readiness in %s", r.stdout)
			}
			if v.Readiness.Verdict != tt.verdict || v.Readiness.CheckedAt.IsZero() {
				t.Errorf("verdict %s at %v, want %s", v.Readiness.Verdict, v.Readiness.CheckedAt, tt.verdict)
			}
			if tt.code == "" {
				if len(v.Readiness.Reasons) != 0 || strings.Contains(v.Summary, "switchover") {
					t.Errorf("ready, yet reasons %+v, summary %q", v.Readiness.Reasons, v.Summary)
				}
				return
			}
			if len(v.Readiness.Reasons) != 1 || v.Readiness.Reasons[0].Code != tt.code {
				t.Fatalf("reasons %+v, want exactly one %s", v.Readiness.Reasons, tt.code)
			}
			got := v.Readiness.Reasons[0].Text
			if prefix, ok := strings.CutSuffix(tt.text, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("reason %q, want it to start %q", got, prefix)
				}
			} else if got != tt.text {
				t.Errorf("reason %q, want %q", got, tt.text)
			}
			if !strings.HasSuffix(v.Summary, "; switchover not ready: "+got) || v.State != "WARNING" {
				t.Errorf("state %s, summary %q: want WARNING ending in the reason", v.State, v.Summary)
			}
		})
	}
	// The plugin line says it too.
	r := runCLI(t, "check", "mismatch", "--inventory", inv)
	if first, _, _ := strings.Cut(r.stdout, "\n"); !strings.Contains(first, "MASTERSHIP WARNING - mismatch: ") ||
		!strings.Contains(first, "; switchover not ready: backup runs 21.4R3-S5.4, master 22.2R3.15 |") {
		t.Errorf("status line %q", first)
	}
}

// TestCheckReadinessSeverity: readiness.severity per device: critical
// makes a not-ready router CRITICAL, off shows and raises nothing, and
// the default (warning) is WARNING, all against the same router.
func TestCheckReadinessSeverity(t *testing.T) {
	_, inv := startFleet(t, readinessFleet())
	loaded, err := inventory.LoadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := loaded.Device("mismatch")
	if !ok {
		t.Fatal("no mismatch router in the fleet")
	}
	var extra strings.Builder
	for _, sev := range []string{"critical", "off"} {
		fmt.Fprintf(&extra, "  - {name: mismatch-%s, host: %s, port: %d, readiness: {severity: %s}}\n", sev, d.Host, d.Port, sev)
	}
	f, err := os.OpenFile(inv, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(extra.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, tt := range []struct {
		device   string
		code     int
		shown    bool
		stateWas string
	}{
		{"mismatch", 1, true, "WARNING"},
		{"mismatch-critical", 2, true, "CRITICAL"},
		{"mismatch-off", 0, false, "OK"},
	} {
		r := runCLI(t, "check", tt.device, "--inventory", inv)
		line, _, _ := strings.Cut(r.stdout, "\n")
		if r.code != tt.code || !strings.HasPrefix(line, "MASTERSHIP "+tt.stateWas+" - ") ||
			strings.Contains(line, "switchover not ready") != tt.shown {
			t.Errorf("%s: exit %d, %q; want exit %d, %s, readiness shown %v", tt.device, r.code, line, tt.code, tt.stateWas, tt.shown)
		}
	}
}
