package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices/junos/rules"
)

func TestJunosConfigCommand(t *testing.T) {
	r := runCLI(t, "junos-config")
	if r.code != 0 || !strings.Contains(r.stdout, `set system syslog file mastership-events match "`+rules.JunosFilterPattern()+`"`) ||
		!strings.Contains(r.stdout, "logs: [mastership-events, mastership]") {
		t.Fatalf("junos-config: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := os.WriteFile(inv, []byte("devices:\n  - {name: mx1, host: 192.0.2.1, username: u, auth: {password_env: X}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "junos-config", "--device", "mx1", "--inventory", inv); r.code != 0 || !strings.HasPrefix(r.stdout, "# mx1 (192.0.2.1)") {
		t.Errorf("junos-config --device: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "junos-config", "--device", "nope", "--inventory", inv); r.code != 2 || !strings.Contains(r.stderr, `no device "nope"`) {
		t.Errorf("unknown device: code %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, "junos-config", "--file", "a/b"); r.code != 2 {
		t.Errorf("a path as --file: code %d", r.code)
	}
}
