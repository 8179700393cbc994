package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/schedule/metrics"
)

// TestVersionCommand: `mastership --version` and `mastership version`
// print the same thing.
func TestVersionCommand(t *testing.T) {
	a, b := runCLI(t, "--version"), runCLI(t, "version")
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "mastership ") {
		t.Errorf("--version: %d %q; version: %d %q", a.code, a.stdout, b.code, b.stdout)
	}
}

// TestPrintVersion: what the build recorded is printed; what it did not
// is said to be unknown, never left blank.
func TestPrintVersion(t *testing.T) {
	for _, tt := range []struct {
		b    metrics.BuildInfo
		want []string
	}{
		{metrics.BuildInfo{Version: "v1.4.0", Revision: "0123abcd", Time: "2026-12-01T10:00:00Z", Modified: "false"},
			[]string{"mastership v1.4.0\n", "commit:   0123abcd\n", "time:     2026-12-01T10:00:00Z\n", "modified: no\n"}},
		{metrics.BuildInfo{Version: "(devel)", Revision: "0123abcd", Modified: "true"},
			[]string{"mastership (devel)\n", "time:     unknown\n", "modified: yes: the tree had uncommitted changes\n"}},
		{metrics.BuildInfo{Version: "(devel)"},
			[]string{"mastership (devel)\n", "commit:   unknown (built without VCS information"}},
		{metrics.BuildInfo{}, []string{"mastership unknown (no build information in the binary)\n"}},
	} {
		var b bytes.Buffer
		printVersion(&b, tt.b)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("printVersion(%+v) =\n%s\nwant it to contain %q", tt.b, b.String(), w)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if strings.HasSuffix(line, ":") || strings.HasSuffix(line, " ") {
				t.Errorf("printVersion(%+v): blank value in %q", tt.b, line)
			}
		}
	}
}

// TestCheckPluginBasics: the Nagios plugin conventions on check: -V
// prints the version without a device, -t takes seconds or a duration
// and bounds the poll, and a bad flag or a missing device is UNKNOWN (3)
// with a plugin line, never 2 (which Nagios reads as CRITICAL).
func TestCheckPluginBasics(t *testing.T) {
	if r, v := runCLI(t, "check", "-V"), runCLI(t, "version"); r.code != 0 || r.stdout != v.stdout {
		t.Errorf("check -V: exit %d %q, want the version's %q", r.code, r.stdout, v.stdout)
	}
	for _, args := range [][]string{
		{"check", "-t", "0", "r1", "--inventory", "x.yaml"},
		{"check", "--timeout", "soon", "r1", "--inventory", "x.yaml"},
		{"check", "--bogus"},
		{"check", "--inventory", "x.yaml"},
	} {
		r := runCLI(t, args...)
		if r.code != 3 || !strings.HasPrefix(r.stdout, "MASTERSHIP UNKNOWN - ") {
			t.Errorf("%v: exit %d, stdout %q; want 3 and a plugin line", args, r.code, r.stdout)
		}
	}
	// -t bounds the poll: a router that hangs after the hello is cut off
	// at the 1 s it gives, not at the inventory's 60 s (the poll_time
	// perfdata says which deadline ended the poll).
	fleet, err := junossim.Start(t.Context(), checkFleet(), junossim.Options{InventoryTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []string{"1", "1s"} {
		r := runCLI(t, "check", "hangs", "--inventory", inv, "-t", tt)
		m := regexp.MustCompile(`poll_time=([0-9.]+)s`).FindStringSubmatch(r.stdout)
		if r.code != 3 || !strings.Contains(r.stdout, "timeout") || m == nil {
			t.Fatalf("check hangs -t %s: exit %d, %q; want UNKNOWN, timeout, poll_time", tt, r.code, r.stdout)
		}
		if secs, _ := strconv.ParseFloat(m[1], 64); secs < 0.5 || secs >= 30 { // the clock may read just under 1 s
			t.Errorf("check hangs -t %s: poll_time %ss, want the 1 s deadline, not the inventory's 60 s", tt, m[1])
		}
	}
}
