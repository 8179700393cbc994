package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/netconf/netconftest"
)

// TestAuditThroughJumpHost audits, from the command line, routers that
// are reachable only through a jump host: their names resolve on the
// bastion alone. The inventory gives the bastion its own user, password
// and known_hosts through jump_hosts.
func TestAuditThroughJumpHost(t *testing.T) {
	sc := junossim.Scenario{Seed: 3, Devices: []junossim.Device{
		{Name: "ams1-r1", Topology: junossim.TopologyDual, Site: "ams1"},
		{Name: "ams1-r2", Topology: junossim.TopologyDual, Site: "ams1"},
	}}
	fleet, fleetInv := startFleet(t, sc)
	dir := filepath.Dir(fleetInv)
	hosts := map[string]string{}
	var kh []string
	for _, d := range fleet.Devices() {
		name := net.JoinHostPort(d.Name+".oob.internal", "830")
		hosts[name] = d.Addr
		kh = append(kh, knownhosts.Line([]string{name}, d.HostKey))
	}
	const bastionSecret = "bastion-secret-4f1d9a7c"
	b, err := netconftest.NewBastion(netconftest.BastionConfig{
		Users: map[string]string{"netops": bastionSecret},
		Hosts: hosts,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := os.WriteFile(filepath.Join(dir, "bastion.pw"), []byte(bastionSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bastion_known_hosts"), []byte(b.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oob_known_hosts"), []byte(strings.Join(kh, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "oob.yaml")
	text := fmt.Sprintf(`defaults:
  username: %s
  auth: {password_file: %s}
  known_hosts: oob_known_hosts
  timeout: %s
  jump: ams-bastion
jump_hosts:
  ams-bastion:
    host: %s
    port: %d
    username: netops
    auth: {password_file: bastion.pw}
    known_hosts: bastion_known_hosts
devices:
  - {name: ams1-r1, host: ams1-r1.oob.internal, site: ams1}
  - {name: ams1-r2, host: ams1-r2.oob.internal, site: ams1}
`, junossim.User, junossim.PasswordFile, checkTimeout, b.Host(), b.Port())
	if err := os.WriteFile(inv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(t.TempDir(), "m.db")
	r := runCLI(t, "audit", "--inventory", inv, "--db", db, "--format", "json", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var views []deviceView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 {
		t.Fatalf("%d devices in the audit, want 2", len(views))
	}
	for _, v := range views {
		if v.Outcome != devices.OutcomeOK || v.State != devices.StateOK {
			t.Errorf("%s: outcome %s, state %v: %s", v.Device, v.Outcome, v.State, v.Summary)
		}
	}
	forwards := b.Forwards()
	slices.Sort(forwards)
	if want := []string{"ams1-r1.oob.internal:830", "ams1-r2.oob.internal:830"}; !slices.Equal(forwards, want) {
		t.Errorf("bastion forwarded %q, want %q", forwards, want)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, bastionSecret) || strings.Contains(out, fleet.Password()) {
			t.Error("a password was printed")
		}
	}

	r = runCLI(t, "check", "ams1-r1", "--inventory", inv)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "MASTERSHIP OK - ams1-r1: ") {
		t.Errorf("check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The bastion's key changes: every router behind it is UNKNOWN, for
	// the bastion's host key, named in the message.
	other, err := netconftest.NewBastion(netconftest.BastionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_ = other.Close()
	changed := knownhosts.Line([]string{b.Addr()}, other.HostKey())
	if err := os.WriteFile(filepath.Join(dir, "bastion_known_hosts"), []byte(changed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "check", "ams1-r2", "--inventory", inv)
	first, _, _ := strings.Cut(r.stdout, "\n")
	want := `^MASTERSHIP UNKNOWN - ams1-r2: cannot poll ams1-r2 \(hostkey\): jump host ams-bastion \(` + regexp.QuoteMeta(b.Addr()) + `\): ssh handshake: .*has CHANGED`
	if r.code != 3 || !regexp.MustCompile(want).MatchString(first) {
		t.Errorf("check with a changed bastion key: exit %d, first line %q, want match for %q", r.code, first, want)
	}
}

// TestJumpInventoryErrorsExit2: a mistake in jump or jump_hosts is an
// inventory error with file and line, like any other.
func TestJumpInventoryErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	text := "jump_hosts:\n  b:\n    usernme: x\ndevices:\n  - name: a\n    host: 127.0.0.1\n    jump: b\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "audit", "--inventory", path, "--db", filepath.Join(dir, "m.db"))
	if r.code != 2 || !strings.Contains(r.stderr, "bad.yaml:3: jump_hosts.b: usernme: unknown key; did you mean username?") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
