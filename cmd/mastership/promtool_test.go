package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestMetricsPassPromtool: the live /metrics of a running daemon, after
// an audit, passes Prometheus' own linter (promtool check metrics, from
// Debian's prometheus package), and carries the store error counters and
// the build info. Skipped without promtool, unless
// MASTERSHIP_REQUIRE_PROMTOOL=1 (CI), where its absence fails.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("MASTERSHIP_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found (apt-get install prometheus); MASTERSHIP_REQUIRE_PROMTOOL=1")
		}
		t.Skip("promtool not found: apt-get install prometheus")
	}
	_, inv := startFleet(t, junossim.Generate(6, 7))
	d := startDaemon(t, "--inventory", inv, "--db", filepath.Join(t.TempDir(), "m.db"),
		"--schedule", "@every 1s", "--listen", "127.0.0.1:0", "--timeout", "5s")
	waitFor(t, 30*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
	code, body := d.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{`mastership_store_errors_total{op="save_poll"} 0`, `mastership_build_info{`, `mastership_alive_res{`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
	if c := d.stop(t, 10*time.Second); c != 0 {
		t.Errorf("daemon exit %d", c)
	}
}

// TestAlertRules: the shipped Prometheus rules load, and their unit tests
// (deploy/prometheus/mastership.rules.test.yml) pass, in promtool. Without
// promtool the test skips, unless MASTERSHIP_REQUIRE_PROMTOOL=1 (CI).
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("MASTERSHIP_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool not found (apt-get install prometheus); MASTERSHIP_REQUIRE_PROMTOOL=1")
		}
		t.Skip("promtool not found: apt-get install prometheus")
	}
	dir := filepath.Join("..", "..", "deploy", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "mastership.rules.yml"},
		{"test", "rules", "mastership.rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
