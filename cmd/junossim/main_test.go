package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// runUntilReady runs the command and stops it as soon as the fleet is up
// and the inventory written.
func runUntilReady(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb, cancel)
	return code, out.String(), errb.String()
}

func TestRunWritesInventoryAndStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "devices.yaml")
	code, out, errs := runUntilReady(t, "--devices", "3", "--seed", "9", "--write-inventory", inv)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if strings.Count(out, "127.0.0.1:") != 3 || !strings.Contains(out, "inventory written to "+inv) {
		t.Errorf("stdout:\n%s", out)
	}
	raw, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Devices []struct {
			Name string `yaml:"name"`
			Port int    `yaml:"port"`
		} `yaml:"devices"`
	}
	if err := yaml.Unmarshal(raw, &parsed); err != nil || len(parsed.Devices) != 3 {
		t.Errorf("inventory: %v\n%s", err, raw)
	}
	st, err := os.Stat(filepath.Join(dir, "junossim.password"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v %v", err, st)
	}
	if _, err := os.Stat(filepath.Join(dir, "junossim.known_hosts")); err != nil {
		t.Error(err)
	}
}

func TestRunDemoAndScenario(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runUntilReady(t, "--demo", "--write-inventory", filepath.Join(dir, "demo.yaml"))
	if code != 0 || !strings.Contains(out, "ams1-mx960-1") || !strings.Contains(out, "refuse") {
		t.Errorf("demo: exit %d\n%s\n%s", code, out, errs)
	}

	sc := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(sc, []byte("devices:\n  - {name: lab-mx1, topology: mx-vc}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runUntilReady(t, "--scenario", sc, "--write-inventory", filepath.Join(dir, "s-inv.yaml"))
	if code != 0 || !strings.Contains(out, "lab-mx1") || !strings.Contains(out, "mx-vc") {
		t.Errorf("scenario: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestRunLargeFleetPrintsSummary(t *testing.T) {
	code, out, errs := runUntilReady(t, "--devices", "60", "--write-inventory", filepath.Join(t.TempDir(), "i.yaml"))
	if code != 0 || !strings.HasPrefix(out, "60 routers on 127.0.0.1 ports ") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("devices:\n  - name: r1\n    faultz: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "i.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "exactly one of"},
		{[]string{"--devices", "3"}, "--write-inventory is required"},
		{[]string{"--devices", "3", "--demo", "--write-inventory", inv}, "exactly one of"},
		{[]string{"--devices", "-1", "--write-inventory", inv}, "must be positive"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--devices", "3", "--write-inventory", inv, "extra"}, "unexpected argument"},
		{[]string{"--scenario", bad, "--write-inventory", inv}, bad + `:3:5: unknown key "faultz"`},
		{[]string{"--devices", "2", "--write-inventory", inv, "--log-level", "loud"}, "--log-level"},
	} {
		var out, errb bytes.Buffer
		code := run(t.Context(), tc.args, &out, &errb, func() { t.Errorf("%v: started", tc.args) })
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, &out, &errb, nil); code != 0 {
		t.Errorf("--help exit %d", code)
	}
	if !strings.Contains(errb.String(), "--write-inventory FILE") || !strings.Contains(errb.String(), "-scenario FILE") {
		t.Errorf("help:\n%s", errb.String())
	}
}

func TestStartFailureExits1(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"--devices", "2", "--host", "192.0.2.1", "--write-inventory", filepath.Join(t.TempDir(), "i.yaml")},
		&out, &errb, nil)
	if code != 1 || !strings.Contains(errb.String(), "loopback") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

// TestRunScenarioFiles starts the fleet of a scenario file the agent's
// tests use, with its redundancy defaults and expectations.
func TestRunScenarioFiles(t *testing.T) {
	for _, name := range []string{"configuration-fleet-redundancy-differs.yaml", "network-mx-vc-member.yaml"} {
		path := filepath.Join("..", "..", "devices", "junos", "junossim", "testdata", "scenarios", name)
		code, out, errs := runUntilReady(t, "--scenario", path, "--write-inventory", filepath.Join(t.TempDir(), "i.yaml"))
		if code != 0 || !strings.Contains(out, "inventory written to") {
			t.Errorf("%s: exit %d\n%s\n%s", name, code, out, errs)
		}
	}
}
