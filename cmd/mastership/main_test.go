package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"golang.org/x/crypto/ssh"
)

// These tests run the mastership binary's code in-process against a
// simulated fleet over real SSH on loopback, the way a user would.

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// checkFleet is one router per verdict the check command must give.
func checkFleet() junossim.Scenario {
	dual := func(name string) junossim.Device {
		return junossim.Device{Name: name, Model: "mx960", Topology: junossim.TopologyDual, Site: "lab"}
	}
	backupGone := dual("backup-gone")
	backupGone.REStates = map[string]junossim.RESpec{"re1": {Status: junossim.StatusAbsent}}
	major := dual("major-alarm")
	major.Alarms = []junossim.AlarmSpec{{Source: devices.AlarmChassis, Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered"}}
	minor := dual("minor-alarm")
	minor.Alarms = []junossim.AlarmSpec{{Source: devices.AlarmSystem, Class: "Minor", Type: "Configuration", Description: "Rescue configuration is not set"}}
	refused := dual("refused")
	refused.Faults = &junossim.Faults{Refuse: true}
	hostkey := dual("changed-key")
	hostkey.Faults = &junossim.Faults{WrongHostKey: true}
	badAuth := dual("bad-password")
	badAuth.Faults = &junossim.Faults{RejectAuth: true}
	hang := dual("hangs")
	hang.Faults = &junossim.Faults{HangAfterHello: true}
	chunked := dual("healthy-chunked")
	chunked.Framing = "1.1"
	return junossim.Scenario{Seed: 7, Devices: []junossim.Device{
		dual("healthy"), chunked, backupGone, major, minor, refused, hostkey, badAuth, hang,
	}}
}

const checkTimeout = 2 * time.Second

func startFleet(t *testing.T, sc junossim.Scenario) (*junossim.Fleet, string) {
	t.Helper()
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{InventoryTimeout: checkTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	return fleet, inv
}

func TestCheckVerdicts(t *testing.T) {
	_, inv := startFleet(t, checkFleet())
	tests := []struct {
		device string
		code   int
		line   string // a regexp the first output line must match
	}{
		{"healthy", 0, `^MASTERSHIP OK - healthy: master re0, alive set re0,re1 \(2/2\) \| alive_res=2;;2:;0 expected_res=2 major_alarms=0 minor_alarms=0 poll_time=`},
		{"healthy-chunked", 0, `^MASTERSHIP OK - `},
		{"backup-gone", 2, `^MASTERSHIP CRITICAL - backup-gone: 1 of 2 REs alive \(re0\)`},
		{"major-alarm", 2, `^MASTERSHIP CRITICAL - major-alarm: 1 Major alarm: PEM 0 Not Powered`},
		{"minor-alarm", 1, `^MASTERSHIP WARNING - minor-alarm: 1 Minor alarm: Rescue configuration is not set`},
		{"refused", 3, `^MASTERSHIP UNKNOWN - refused: cannot poll refused \(refused\): .*connection refused`},
		{"changed-key", 3, `^MASTERSHIP UNKNOWN - changed-key: cannot poll changed-key \(hostkey\): .*SHA256:.*SHA256:`},
		{"bad-password", 3, `^MASTERSHIP UNKNOWN - bad-password: cannot poll bad-password \(auth\)`},
		{"hangs", 3, `^MASTERSHIP UNKNOWN - hangs: cannot poll hangs \(timeout\)`},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := runCLI(t, "check", tt.device, "--inventory", inv)
			took := time.Since(start)
			if r.code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			first, _, _ := strings.Cut(r.stdout, "\n")
			if !regexp.MustCompile(tt.line).MatchString(first) {
				t.Errorf("status line = %q, want match for %q", first, tt.line)
			}
			// Every device, even one that hangs, answers within its
			// timeout plus a second.
			if took > checkTimeout+time.Second {
				t.Errorf("check took %v, want at most %v", took, checkTimeout+time.Second)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	_, inv := startFleet(t, checkFleet())
	r := runCLI(t, "check", "backup-gone", "--inventory", inv, "--json")
	if r.code != 2 {
		t.Fatalf("exit code = %d, want 2; stderr %s", r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"device", "state", "summary", "polled_at", "error", "master", "alive_set", "route_engines", "alarms", "transitions", "findings", "unparsed_log_lines"} {
		if _, ok := v[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	if v["state"] != "CRITICAL" || v["master"] != "re0" || v["error"] != nil {
		t.Errorf("state, master, error = %v, %v, %v", v["state"], v["master"], v["error"])
	}
	if got := v["alive_set"].([]any); len(got) != 1 || got[0] != "re0" {
		t.Errorf("alive_set = %v, want [re0]", got)
	}
	if _, err := time.Parse(time.RFC3339, v["polled_at"].(string)); err != nil || !strings.HasSuffix(v["polled_at"].(string), "Z") {
		t.Errorf("polled_at = %v, want RFC 3339 UTC", v["polled_at"])
	}
	re0 := v["route_engines"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "slot", "mastership_state", "status", "up_time_seconds", "last_reboot_reason"} {
		if _, ok := re0[k]; !ok {
			t.Errorf("route_engines[0] lacks %q", k)
		}
	}
	al := v["alarms"].([]any)
	if len(al) != 0 {
		// The simulator's backup-gone router has no alarm in this scenario.
		t.Errorf("alarms = %v", al)
	}

	r = runCLI(t, "check", "refused", "--inventory", inv, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	e, _ := v["error"].(map[string]any)
	if r.code != 3 || e["kind"] != "refused" || e["message"] == "" {
		t.Errorf("refused: code %d, error %v", r.code, v["error"])
	}
}

func TestAuditGeneratedFleetAllOK(t *testing.T) {
	_, inv := startFleet(t, junossim.Generate(50, 1))
	db := filepath.Join(t.TempDir(), "m.db")
	r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var views []deviceView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) != 50 {
		t.Fatalf("%d devices in the audit, want 50", len(views))
	}
	for _, v := range views {
		if v.Outcome != devices.OutcomeOK || v.State != devices.StateOK {
			t.Errorf("%s: outcome %s, state %v: %s", v.Device, v.Outcome, v.State, v.Summary)
		}
	}

	// The devices report has one row per device with the contract header.
	r = runCLI(t, "report", "--db", db, "--kind", "devices", "--format", "csv")
	if r.code != 0 {
		t.Fatalf("report exit %d: %s", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "device,host,site,polled_at,outcome,error,master,alive_set,res_expected,major_alarms,minor_alarms,notes" {
		t.Errorf("header = %v", rows[0])
	}
	if len(rows) != 51 {
		t.Errorf("%d rows, want 51", len(rows))
	}
}

func TestAuditTableAndSelection(t *testing.T) {
	_, inv := startFleet(t, checkFleet())
	db := filepath.Join(t.TempDir(), "m.db")
	r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--device", "healthy", "--device", "backup-gone")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The table ends at the first blank line; the switchover readiness
	// summary (issue 16) follows it.
	table, summary, _ := strings.Cut(r.stdout, "\n\n")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "DEVICE") {
		t.Fatalf("want a header and 2 rows, got:\n%s", r.stdout)
	}
	if want := "Switchover readiness: 1 of 2 dual-RE routers not ready: 1 backup down\n"; !strings.HasPrefix(summary, want) {
		t.Errorf("after the table: %q, want it to start %q", summary, want)
	}
	if !regexp.MustCompile(`^healthy\s+lab\s+ok\s+OK\s+re0\s+re0,re1 \(2/2\)`).MatchString(lines[1]) {
		t.Errorf("row 1 = %q", lines[1])
	}
	if !regexp.MustCompile(`^backup-gone\s+lab\s+ok\s+CRITICAL\s+re0\s+re0 \(1/2\)`).MatchString(lines[2]) {
		t.Errorf("row 2 = %q", lines[2])
	}
	if r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--device", "no-such-router"); r.code != 2 || !strings.Contains(r.stderr, "no-such-router") {
		t.Errorf("unknown device: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestBadInventoryExits2WithFileLine(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ yaml, want string }{
		"unknown key":    {"devices:\n  - name: a\n    host: 127.0.0.1\n    colour: red\n", `bad.yaml:4: .*colour`},
		"duplicate name": {"devices:\n  - name: a\n    host: 127.0.0.1\n  - name: a\n    host: 127.0.0.2\n", `bad.yaml:4: .*duplicate`},
		"missing host":   {"devices:\n  - name: a\n    port: 830\n", `bad.yaml:2: .*host`},
		"bad duration":   {"devices:\n  - name: a\n    host: 127.0.0.1\n    timeout: 5x\n", `bad.yaml:4: .*timeout.*5x`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "audit", "--inventory", path, "--db", filepath.Join(dir, "m.db"))
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			msgs := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(msgs) != 1 || !regexp.MustCompile(c.want).MatchString(msgs[0]) {
				t.Errorf("stderr = %q, want one line matching %q", r.stderr, c.want)
			}
			// check reports the same error as UNKNOWN, as Nagios expects.
			r = runCLI(t, "check", "a", "--inventory", path)
			if r.code != 3 || !regexp.MustCompile(c.want).MatchString(r.stdout) {
				t.Errorf("check: exit %d, stdout %q", r.code, r.stdout)
			}
		})
	}
}

// TestPasswordNeverPrinted runs every command, with debug logs, against a
// fleet whose password the test knows, and searches every output and the
// database for it.
func TestPasswordNeverPrinted(t *testing.T) {
	fleet, inv := startFleet(t, checkFleet())
	secret := fleet.Password()
	if len(secret) < 16 {
		t.Fatalf("simulator password %q is too short to search for", secret)
	}
	// Two more entries for the healthy router that log in with an
	// encrypted key: one with its passphrase (the router does not know the
	// key, so the password logs in after it), one with a passphrase that
	// does not open the key.
	passphrase, otherPassphrase := "PP-5c1e8b2d-unique-passphrase", "PP-0a9f37e4-other-passphrase"
	t.Setenv("MS_TEST_PASSPHRASE", passphrase)
	addKeyDevices(t, inv, passphrase, otherPassphrase)
	secrets := []string{secret, passphrase, otherPassphrase}

	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	var all strings.Builder
	for _, args := range [][]string{
		{"check", "key-passphrase", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"check", "key-wrong-passphrase", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"check", "sshcfg-passphrase", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"check", "sshcfg-wrong-passphrase", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"audit", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"audit", "--inventory", inv, "--db", db, "--format", "json", "--log-level", "debug"},
		{"check", "bad-password", "--inventory", inv, "--db", db, "--log-level", "debug"},
		{"check", "healthy", "--inventory", inv, "--json", "--log-level", "debug"},
		{"report", "--db", db, "--kind", "devices", "--format", "csv", "--log-level", "debug"},
		{"report", "--db", db, "--kind", "polls", "--format", "json"},
		{"report", "--db", db, "--kind", "events", "--format", "jsonl"},
		{"report", "--db", db, "--format", "html"},
		{"audit", "--help"},
	} {
		r := runCLI(t, args...)
		all.WriteString(r.stdout + r.stderr)
	}
	for i, sec := range secrets {
		if strings.Contains(all.String(), sec) {
			t.Errorf("secret %d (password, passphrase, wrong passphrase) appears in command output or logs", i)
		}
	}
	for _, f := range []string{db, db + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for i, sec := range secrets {
			if bytes.Contains(data, []byte(sec)) {
				t.Errorf("secret %d is stored in %s", i, filepath.Base(f))
			}
		}
	}
	// The searches prove something only if the commands ran: the key
	// with its passphrase logged in, the other one failed.
	for _, want := range []string{"bad-password", "MASTERSHIP OK - key-passphrase", "key-wrong-passphrase",
		"MASTERSHIP OK - sshcfg-passphrase", "sshcfg-wrong-passphrase"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("outputs lack %q; the search above proves nothing", want)
		}
	}
	if t.Failed() {
		t.Logf("outputs:\n%s", redact(all.String(), secrets))
	}
	for _, d := range []string{"key-wrong-passphrase", "sshcfg-wrong-passphrase"} {
		if strings.Contains(all.String(), "MASTERSHIP OK - "+d) {
			t.Errorf("%s: a key that its passphrase does not open logged in", d)
		}
	}
}

// redact replaces each secret in s, so that a failing test can show its
// outputs without printing what it searched for.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "<secret>")
	}
	return s
}

// addKeyDevices appends to the inventory two entries for the "healthy"
// router that authenticate with passphrase-protected keys first: one
// encrypted with passphrase (given in MS_TEST_PASSPHRASE), one with
// otherPassphrase.
func addKeyDevices(t *testing.T, inv, passphrase, otherPassphrase string) {
	t.Helper()
	loaded, err := inventory.LoadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	var healthy inventory.Device
	for _, d := range loaded.Devices {
		if d.Name == "healthy" {
			healthy = d
		}
	}
	if healthy.Port == 0 {
		t.Fatal("no healthy router in the inventory")
	}
	dir := filepath.Dir(inv)
	key := func(name, pass string) string {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(pass))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var extra strings.Builder
	for _, d := range []struct{ name, key string }{
		{"key-passphrase", key("id_right", passphrase)},
		{"key-wrong-passphrase", key("id_other", otherPassphrase)},
	} {
		// Opening the key runs bcrypt_pbkdf, seconds under the race
		// detector on a busy machine: more than the fleet's 2 s timeout.
		fmt.Fprintf(&extra, "  - name: %s\n    host: %s\n    port: %d\n    timeout: 60s\n    auth: {private_key: %s, passphrase_env: MS_TEST_PASSPHRASE, password_file: %s}\n",
			d.name, healthy.Host, healthy.Port, d.key, junossim.PasswordFile)
	}
	// The same two keys named by an ssh_config IdentityFile instead of
	// the inventory: the passphrase still comes from passphrase_env.
	sshConfig := filepath.Join(dir, "ssh_config")
	var sc strings.Builder
	for _, d := range []struct{ name, key string }{
		{"sshcfg-passphrase", filepath.Join(dir, "id_right")},
		{"sshcfg-wrong-passphrase", filepath.Join(dir, "id_other")},
	} {
		fmt.Fprintf(&sc, "Host %s\n  HostName %s\n  Port %d\n  IdentityFile %s\n", d.name, healthy.Host, healthy.Port, d.key)
		fmt.Fprintf(&extra, "  - name: %s\n    host: %s\n    ssh_config: %s\n    timeout: 60s\n    auth: {passphrase_env: MS_TEST_PASSPHRASE, password_file: %s}\n",
			d.name, d.name, sshConfig, junossim.PasswordFile)
	}
	if err := os.WriteFile(sshConfig, []byte(sc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(inv, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra.String()); err != nil {
		t.Fatal(err)
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo waits for its hanging router's deadline")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"demo", "--dir", dir}, &out, &errb)
	if code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"ams1-mx960-1", "CRITICAL", "WARNING", "UNKNOWN", "hostkey", "refused", "Database:", "CSV report:", "HTML report:",
		"Findings:", "re1: hardware, critical", "re1: network, warning", "re1: software, warning", "re1: configuration, warning", "remedy: Inspect and replace the FRU"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, f := range []string{"devices.yaml", "mastership.db", "devices.csv", "fleet.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo did not write %s: %v", f, err)
		}
	}
}

// TestFindingsReportAndCheck: a router whose backup RE flapped after a
// PEM alarm is CRITICAL with a hardware finding in check, check --json and
// the findings CSV.
func TestFindingsReportAndCheck(t *testing.T) {
	demo := junossim.DemoScenario()
	var sc junossim.Scenario
	for _, d := range demo.Devices {
		if d.Name == "lon1-mx960-3" {
			sc.Devices = append(sc.Devices, d)
		}
	}
	if len(sc.Devices) != 1 {
		t.Fatal("the demo has no lon1-mx960-3")
	}
	_, inv := startFleet(t, sc)
	db := filepath.Join(t.TempDir(), "m.db")

	r := runCLI(t, "check", "lon1-mx960-3", "--inventory", inv, "--db", db)
	if r.code != 2 || !strings.Contains(r.stdout, "re1 flapped 4 times (hardware, critical)") {
		t.Fatalf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^FINDING re1 hardware critical: 4 transitions `).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "remedy: Inspect and replace the FRU") ||
		!strings.Contains(r.stdout, "evidence: ") || !strings.Contains(r.stdout, "PEM 2 Not Powered") {
		t.Errorf("check does not show the finding with remedy and evidence:\n%s", r.stdout)
	}

	r = runCLI(t, "check", "lon1-mx960-3", "--inventory", inv, "--db", db, "--json")
	var v struct {
		Transitions []map[string]any `json:"transitions"`
		Findings    []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Transitions) < 4 || len(v.Findings) != 1 {
		t.Fatalf("check --json: %d transitions, %d findings", len(v.Transitions), len(v.Findings))
	}
	f := v.Findings[0]
	for _, k := range []string{"re", "cause", "severity", "transitions", "first", "last", "evidence", "alarms", "remedy"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q", k)
		}
	}
	for _, k := range []string{"time", "re", "from", "to", "source"} {
		if _, ok := v.Transitions[0][k]; !ok {
			t.Errorf("transition lacks %q", k)
		}
	}

	r = runCLI(t, "report", "--db", db, "--kind", "findings", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || r.code != 0 {
		t.Fatalf("report: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	if strings.Join(rows[0], ",") != "device,site,re,cause,severity,transitions,first_transition,last_transition,alarms,evidence,remedy,maintenance" {
		t.Errorf("header = %v", rows[0])
	}
	// Two checks of an unchanged router: still one finding.
	if len(rows) != 2 || rows[1][0] != "lon1-mx960-3" || rows[1][2] != "re1" || rows[1][3] != "hardware" || rows[1][4] != "critical" {
		t.Errorf("findings rows = %q", rows)
	}
	if !strings.Contains(rows[1][8], "PEM 2 Not Powered") || !strings.Contains(rows[1][9], "\n") {
		t.Errorf("alarms %q / evidence %q", rows[1][8], rows[1][9])
	}
}

func TestBadSettingsAndRulesExit2(t *testing.T) {
	_, inv := startFleet(t, junossim.Generate(1, 1))
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	if r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--flap-min", "1"); r.code != 2 || !strings.Contains(r.stderr, "flap minimum 1") {
		t.Errorf("--flap-min 1: exit %d, stderr %q", r.code, r.stderr)
	}
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("- name: broken\n  kind: commit\n  message: 'UI_COMMIT('\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--rules", rules)
	if r.code != 2 || !regexp.MustCompile(`rules\.yaml:3: .*message`).MatchString(r.stderr) {
		t.Errorf("bad rules: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStorePasswordNeverPrinted: every command that opens a store, given
// a PostgreSQL store whose password is unique and whose port is closed,
// fails without printing that password, in every form a DSN can carry it
// (URL user info, a password query parameter, libpq keywords) and through
// both the --db flag and its deprecated --store alias.
func TestStorePasswordNeverPrinted(t *testing.T) {
	_, inv := startFleet(t, junossim.Scenario{Devices: []junossim.Device{
		{Name: "healthy", Model: "mx960", Topology: junossim.TopologyDual, Site: "lab"},
	}})
	// A port nothing listens on: bound, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	const secret = "PW-7d41c9e0-unique-store-password"
	dsns := []string{
		fmt.Sprintf("postgres://mastership:%s@127.0.0.1:%d/fleet?sslmode=disable&connect_timeout=5", secret, addr.Port),
		fmt.Sprintf("postgresql://mastership@127.0.0.1:%d/fleet?password=%s&sslmode=disable", addr.Port, secret),
		fmt.Sprintf("host=127.0.0.1 port=%d user=mastership password=%s dbname=fleet sslmode=disable", addr.Port, secret),
		fmt.Sprintf("host=127.0.0.1 port=%d user=mastership password='%s' dbname=fleet", addr.Port, secret),
	}
	for i, dsn := range dsns {
		for _, flag := range []string{"--db", "--store"} {
			for _, args := range [][]string{
				{"audit", "--inventory", inv},
				{"check", "healthy", "--inventory", inv},
				{"check", "healthy", "--inventory", inv, "--json"},
				{"run", "--inventory", inv, "--schedule", "@every 1h", "--listen", "127.0.0.1:0"},
				{"report", "--kind", "devices"},
				{"report", "--kind", "runs", "--format", "json"},
				{"report", "--format", "html"},
			} {
				args := append(args, flag, dsn, "--log-level", "debug")
				r := runCLI(t, args...)
				out := r.stdout + r.stderr
				if strings.Contains(out, secret) {
					t.Errorf("DSN %d, %s %s: the password is printed:\n%s", i, args[0], flag, strings.ReplaceAll(out, secret, "<secret>"))
				}
				// The search proves something only if the command tried
				// the store: it failed, and said which store.
				if r.code == 0 || !strings.Contains(out, "127.0.0.1") || !strings.Contains(out, "fleet") {
					t.Errorf("DSN %d, %v: exit %d, want a failure naming the store; output:\n%s", i, args[:len(args)-4], r.code, strings.ReplaceAll(out, secret, "<secret>"))
				}
				if flag == "--store" && !strings.Contains(r.stderr, "--store is deprecated") {
					t.Errorf("%s --store: no deprecation warning", args[0])
				}
			}
		}
	}
}
