package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIcingaCheckCommand: the shipped Icinga 2 CheckCommand
// (deploy/icinga2/mastership.conf) passes the real icinga2's config
// validation with a host and a service using it, a broken copy does not
// (so the validation is real), and every flag it passes is one that
// `mastership check` takes. The file holds two: "mastership" polls the
// router, "mastership-via" asks the daemon (check --via). Skipped without icinga2 unless
// MASTERSHIP_REQUIRE_ICINGA=1 (CI).
func TestIcingaCheckCommand(t *testing.T) {
	icinga, err := exec.LookPath("icinga2")
	if err != nil {
		if os.Getenv("MASTERSHIP_REQUIRE_ICINGA") == "1" {
			t.Fatal("icinga2 not found (apt-get install icinga2); MASTERSHIP_REQUIRE_ICINGA=1")
		}
		t.Skip("icinga2 not found: apt-get install icinga2")
	}
	shipped, err := os.ReadFile(filepath.Join("..", "..", "deploy", "icinga2", "mastership.conf"))
	if err != nil {
		t.Fatal(err)
	}
	validate := func(conf string) (string, error) {
		// icinga2 run as root drops to its own user (nagios) before it
		// reads the configuration: the files must be readable to it.
		dir := t.TempDir()
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "mastership.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		main := `const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
include "mastership.conf"
object Host "ams1-mx960-1" {
  check_command = "hostalive"
  address = "192.0.2.10"
  vars.mastership_inventory = "/etc/mastership/devices.yaml"
}
apply Service "routing-engines" {
  check_command = "mastership"
  vars.mastership_db = "/var/lib/mastership/mastership.db"
  assign where host.vars.mastership_inventory
}
apply Service "routing-engines-via-daemon" {
  check_command = "mastership-via"
  vars.mastership_via = "https://127.0.0.1:9728"
  vars.mastership_via_token_file = "/etc/icinga2/mastership.token"
  vars.mastership_max_age = "3m"
  assign where host.vars.mastership_inventory
}
`
		if err := os.WriteFile(filepath.Join(dir, "icinga2.conf"), []byte(main), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(icinga, "daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf")).CombinedOutput()
		return string(out), err
	}
	if out, err := validate(string(shipped)); err != nil {
		t.Fatalf("icinga2 daemon -C: %v\n%s", err, out)
	}
	if out, err := validate(strings.Replace(string(shipped), "skip_key = true", "skip_kye = true", 1)); err == nil {
		t.Fatalf("icinga2 accepted a misspelt attribute; the validation proves nothing:\n%s", out)
	}
	if out, err := validate(strings.Replace(string(shipped), `object CheckCommand "mastership-via"`, `object CheckCommand "mastership-via-renamed"`, 1)); err == nil {
		t.Fatalf("icinga2 accepted a service using an undefined CheckCommand; the validation proves nothing:\n%s", out)
	}

	r := runCLI(t, "check", "--help")
	for _, m := range regexp.MustCompile(`"(--[a-z-]+)" = \{`).FindAllStringSubmatch(string(shipped), -1) {
		if !strings.Contains(r.stdout, m[1]+" ") {
			t.Errorf("the CheckCommand passes %s, which mastership check does not take", m[1])
		}
	}
}
