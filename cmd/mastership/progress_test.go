package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

func TestProgressAutoNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newAuditProgress(&buf, progressAuto, 3)
	if p != nil {
		t.Fatal("auto made a bar on a bytes.Buffer")
	}
	for range 3 {
		p.onPoll(devices.Poll{Device: "r", Outcome: devices.OutcomeOK}) // a nil bar does nothing
	}
	p.clear()
	if buf.Len() != 0 {
		t.Errorf("auto wrote %q to a non-terminal", buf.String())
	}
	if newAuditProgress(&buf, progressNever, 3) != nil || buf.Len() != 0 {
		t.Error("never made a bar")
	}
}

func TestProgressAlways(t *testing.T) {
	var buf bytes.Buffer
	p := newAuditProgress(&buf, progressAlways, 3)
	if p == nil {
		t.Fatal("always made no bar")
	}
	p.onPoll(devices.Poll{Device: "r1", Outcome: devices.OutcomeOK})
	p.onPoll(devices.Poll{Device: "r2", Outcome: devices.OutcomeRefused})
	p.onPoll(devices.Poll{Device: "r3", Outcome: devices.OutcomePartial}) // partial is not a failure
	out := buf.String()
	for _, want := range []string{"3/3", "1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q: %q", want, out)
		}
	}
	n := buf.Len()
	p.clear()
	if buf.Len() == n {
		t.Error("clear wrote nothing")
	}
}

func TestProgressModeChecked(t *testing.T) {
	for _, m := range []string{progressAuto, progressAlways, progressNever} {
		if err := checkProgressMode(m); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	if checkProgressMode("yes") == nil {
		t.Error("--progress yes accepted")
	}
}

// The audit command: auto on a non-terminal stderr writes no bar, always
// writes one that ends at done/total and is cleared before the table.
func TestAuditProgressFlag(t *testing.T) {
	_, inv := startFleet(t, checkFleet())
	db := filepath.Join(t.TempDir(), "m.db")
	sel := []string{"--device", "healthy", "--device", "refused", "--device", "backup-gone"}

	r := runCLI(t, append([]string{"audit", "--inventory", inv, "--db", db}, sel...)...)
	if r.code != 0 {
		t.Fatalf("auto: exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "3/3") || strings.Contains(r.stderr, "failed") {
		t.Errorf("auto wrote a bar to a non-terminal stderr: %q", r.stderr)
	}

	r = runCLI(t, append([]string{"audit", "--inventory", inv, "--db", db, "--progress", "always"}, sel...)...)
	if r.code != 0 {
		t.Fatalf("always: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "3/3") || !strings.Contains(r.stderr, "1 failed") {
		t.Errorf("always: stderr lacks the bar's 3/3 and 1 failed: %q", r.stderr)
	}
	if strings.Contains(r.stdout, "3/3") || !strings.HasPrefix(r.stdout, "DEVICE") {
		t.Errorf("always: the bar leaked into the table:\n%s", r.stdout)
	}

	if r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--progress", "yes"); r.code != 2 {
		t.Errorf("--progress yes: exit %d, want 2", r.code)
	}
}
