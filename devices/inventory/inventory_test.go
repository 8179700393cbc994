package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInvalidInventories keeps one bad file per mistake, with the exact
// line the user must see: the message is the interface, so a change to it
// shows up here.
func TestInvalidInventories(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"invalid-unknown-top-key.yml",
			"testdata/invalid-unknown-top-key.yml:3: device: unknown top-level key; did you mean devices?"},
		{"invalid-unknown-defaults-key.yml",
			"testdata/invalid-unknown-defaults-key.yml:3: defaults: timout: unknown key; did you mean timeout?"},
		{"invalid-unknown-group-key.yml",
			"testdata/invalid-unknown-group-key.yml:4: groups.mx-core: colour: unknown key; allowed: username, port, auth, known_hosts, host_key_policy, timeout, site, tags, expected_res, session, jump, ssh_config, legacy_algorithms, logs, maintenance, readiness"},
		// Maintenance windows (issue 15).
		{"invalid-maintenance-bad-cron.yml",
			`testdata/invalid-maintenance-bad-cron.yml:5: devices[0] (r1): maintenance[0]: cron: cron spec "CRON_TZ=": CRON_TZ= names no time zone`},
		{"invalid-maintenance-missing-duration.yml",
			"testdata/invalid-maintenance-missing-duration.yml:3: defaults: maintenance[0]: duration: missing: a cron window needs how long it lasts, e.g. duration: 2h"},
		{"invalid-maintenance-negative-duration.yml",
			"testdata/invalid-maintenance-negative-duration.yml:5: groups.core: maintenance[0]: duration: must be positive, got -2h"},
		{"invalid-maintenance-until-before-from.yml",
			"testdata/invalid-maintenance-until-before-from.yml:6: devices[0] (r1): maintenance[0]: until: until 2026-03-01T02:00:00Z is not after from 2026-03-01T04:00:00Z"},
		{"invalid-maintenance-unknown-key.yml",
			"testdata/invalid-maintenance-unknown-key.yml:6: devices[0] (r1): maintenance[0]: duraton: unknown key; did you mean duration?"},
		{"invalid-maintenance-cron-and-from.yml",
			"testdata/invalid-maintenance-cron-and-from.yml:5: devices[0] (r1): maintenance[0]: give cron and duration, or from and until, not both"},
		{"invalid-unknown-device-key.yml",
			"testdata/invalid-unknown-device-key.yml:5: devices[1] (ams1-core-1): hots: unknown key; did you mean host?"},
		{"invalid-unknown-auth-key.yml",
			"testdata/invalid-unknown-auth-key.yml:4: defaults: auth.key_file: unknown key; allowed: password_env, password_file, private_key, passphrase_env, agent"},
		{"invalid-duplicate-name.yml",
			"testdata/invalid-duplicate-name.yml:6: devices[2] (r1): name: duplicate device name (first at line 2)"},
		{"invalid-missing-host.yml",
			"testdata/invalid-missing-host.yml:4: devices[1] (r2): host: missing"},
		{"invalid-missing-name.yml",
			"testdata/invalid-missing-name.yml:2: devices[0]: name: missing"},
		{"invalid-bad-duration.yml",
			`testdata/invalid-bad-duration.yml:12: devices[3] (ams1-core-1): timeout: invalid duration "5x" (want e.g. 30s, 2m, 1m30s)`},
		{"invalid-negative-timeout.yml",
			"testdata/invalid-negative-timeout.yml:2: defaults: timeout: must be positive, got -5s"},
		{"invalid-bad-port.yml",
			"testdata/invalid-bad-port.yml:4: devices[0] (r1): port: 70000 is out of range 1..65535"},
		{"invalid-port-string.yml",
			"testdata/invalid-port-string.yml:4: devices[0] (r1): port: want an integer, got a string"},
		{"invalid-bad-policy.yml",
			`testdata/invalid-bad-policy.yml:3: groups.lab: host_key_policy: "lenient" is not one of strict, accept-new, off`},
		{"invalid-unknown-group.yml",
			`testdata/invalid-unknown-group.yml:9: devices[0] (r1): groups[1]: unknown group "mx-edge"; defined: mx-core, srx-edge`},
		{"invalid-plaintext-password.yml",
			"testdata/invalid-plaintext-password.yml:7: devices[0] (r1): auth.password: plaintext secrets are not allowed in the inventory; use password_env (an environment variable) or password_file (a file only the agent can read)"},
		{"invalid-bad-expected-res.yml",
			"testdata/invalid-bad-expected-res.yml:4: devices[0] (r1): expected_res: must be at least 1, got 0 (leave it out to use the most REs seen)"},
		{"invalid-bad-session.yml",
			`testdata/invalid-bad-session.yml:2: defaults: session: "sticky" is not one of per-poll, persistent`},
		{"invalid-yaml-syntax.yml",
			"testdata/invalid-yaml-syntax.yml:4: YAML syntax error: did not find expected '-' indicator"},
		// netbox section (issue 18)
		{"invalid-netbox-unknown-filter.yml",
			"testdata/invalid-netbox-unknown-filter.yml:5: netbox.filters: rol: unknown key; did you mean role?"},
		{"invalid-netbox-url-userinfo.yml",
			"testdata/invalid-netbox-url-userinfo.yml:2: netbox.url: must not carry a user or password; put the API token in the variable token_env names"},
		{"invalid-netbox-token-value.yml",
			"testdata/invalid-netbox-token-value.yml:3: netbox.token_env: not an environment variable name (want the NAME of the variable holding the token, like NETBOX_TOKEN)"},
		{"invalid-netbox-missing-url.yml",
			"testdata/invalid-netbox-missing-url.yml:2: netbox.url: missing: NetBox's base URL, e.g. https://netbox.example.net"},
		{"invalid-tags-not-list.yml",
			"testdata/invalid-tags-not-list.yml:4: devices[0] (r1): tags: want a list, got a string"},
		{"invalid-duplicate-key.yml",
			"testdata/invalid-duplicate-key.yml:5: devices[0] (r1): timeout: duplicate key (first at line 4)"},
		{"invalid-password-env-and-file.yml",
			"testdata/invalid-password-env-and-file.yml:6: devices[0] (r1): auth: give password_env or password_file, not both"},
		{"invalid-password-env-value.yml",
			"testdata/invalid-password-env-value.yml:5: devices[0] (r1): auth.password_env: not an environment variable name (want the NAME of the variable, like MASTERSHIP_PASSWORD)"},
		{"invalid-auth-outside-auth.yml",
			"testdata/invalid-auth-outside-auth.yml:2: defaults: password_env: belongs under auth:"},
		{"invalid-device-key-in-group.yml",
			"testdata/invalid-device-key-in-group.yml:3: groups.mx-core: host: only allowed on a device, not in a group"},
		// The readiness: block (issue 16).
		{"invalid-readiness-bad-severity.yml",
			`testdata/invalid-readiness-bad-severity.yml:3: defaults: readiness.severity: "loud" is not one of warning, critical, off`},
		{"invalid-readiness-zero-interval.yml",
			"testdata/invalid-readiness-zero-interval.yml:5: devices[0] (r1): readiness.interval: must be positive, got 0s"},
		{"invalid-readiness-unknown-key.yml",
			"testdata/invalid-readiness-unknown-key.yml:4: groups.mx-core: readiness.min_backup_uptim: unknown key; did you mean min_backup_uptime?"},
		{"invalid-readiness-not-mapping.yml",
			"testdata/invalid-readiness-not-mapping.yml:4: devices[0] (r1): readiness: want a mapping, got a string"},
		{"invalid-host-with-port.yml",
			"testdata/invalid-host-with-port.yml:3: devices[0] (r1): host: must not include a port; use port: 830"},
		{"invalid-no-devices.yml",
			"testdata/invalid-no-devices.yml:1: devices: missing: list at least one device"},
		{"invalid-two-documents.yml",
			"testdata/invalid-two-documents.yml:4: a second YAML document (---): an inventory is one document"},
		{"invalid-jump-bad-port.yml",
			`testdata/invalid-jump-bad-port.yml:4: devices[0] (r1): jump: port "99999" is not a number in 1..65535 (want [user@]host[:port], several separated by commas, or "none")`},
		{"invalid-jump-ipv6.yml",
			`testdata/invalid-jump-ipv6.yml:2: defaults: jump: write an IPv6 address in brackets, e.g. [2001:db8::1]:22 (want [user@]host[:port], several separated by commas, or "none")`},
		{"invalid-jump-twice.yml",
			`testdata/invalid-jump-twice.yml:3: groups.lab: jump: "bastion" is listed twice`},
		{"invalid-jump-list-comma.yml",
			`testdata/invalid-jump-list-comma.yml:6: devices[0] (r1): jump[1]: one jump host per list item ("none" and commas belong in a plain string)`},
		{"invalid-jump-not-string.yml",
			"testdata/invalid-jump-not-string.yml:4: devices[0] (r1): jump: want a string or a list of jump hosts, got a mapping"},
		{"invalid-jump-hosts-unknown-key.yml",
			"testdata/invalid-jump-hosts-unknown-key.yml:4: jump_hosts.ams-bastion: usernme: unknown key; did you mean username?"},
		{"invalid-jump-hosts-no-auth-method.yml",
			"testdata/invalid-jump-hosts-no-auth-method.yml:4: jump_hosts.ams-bastion: auth: no method given (set private_key, agent, password_env or password_file; leave auth out to use the device's)"},
		{"invalid-jump-hosts-plaintext-password.yml",
			"testdata/invalid-jump-hosts-plaintext-password.yml:5: jump_hosts.ams-bastion: auth.password: plaintext secrets are not allowed in the inventory; use password_env (an environment variable) or password_file (a file only the agent can read)"},
		{"invalid-jump-hosts-bad-name.yml",
			"testdata/invalid-jump-hosts-bad-name.yml:2: jump_hosts.bastion:2222: a jump host name must not contain @ : , [ ] / * ? ! # (give the address with host: and the port with port:)"},
		{"invalid-jump-hosts-host-with-port.yml",
			"testdata/invalid-jump-hosts-host-with-port.yml:3: jump_hosts.ams-bastion: host: must not include a port; use port: 2222"},
		{"invalid-ssh-config-yes.yml",
			`testdata/invalid-ssh-config-yes.yml:2: defaults: ssh_config: want true, false or a path, got "yes"`},
	}
	files, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(tests, func(tc struct{ file, want string }) bool { return "testdata/"+tc.file == f }) {
			t.Errorf("%s has no expected error in this table", f)
		}
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/" + tc.file
			inv, err := LoadInventory(path)
			if err == nil {
				t.Fatalf("no error; devices: %+v", inv.Devices)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("%T is not an *Error", err)
			}
			if ie.File != path || ie.Line == 0 {
				t.Errorf("File, Line = %q, %d", ie.File, ie.Line)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error repeats the secret from the file: %s", err)
			}
		})
	}
}

func TestSeveralErrorsOneLineEach(t *testing.T) {
	src := `devices:
  - name: r1
    timeout: 5x
  - name: r1
    host: 192.0.2.1
    port: 0
`
	_, err := ParseInventory("inv.yaml", []byte(src))
	want := []string{
		`inv.yaml:3: devices[0] (r1): timeout: invalid duration "5x" (want e.g. 30s, 2m, 1m30s)`,
		"inv.yaml:2: devices[0] (r1): host: missing",
		"inv.yaml:6: devices[1] (r1): port: 0 is out of range 1..65535",
		"inv.yaml:4: devices[1] (r1): name: duplicate device name (first at line 2)",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error\n got: %v\nwant: %s", err, strings.Join(want, "\n"))
	}
	var ie *Error
	if !errors.As(err, &ie) || ie.Line != 3 || ie.Field != "devices[0] (r1): timeout" {
		t.Errorf("errors.As gave %+v", ie)
	}

	// A file full of mistakes reports the first 20 and a count.
	var b strings.Builder
	b.WriteString("devices:\n")
	for i := range 30 {
		fmt.Fprintf(&b, "  - {name: r%d, host: h, port: 0}\n", i)
	}
	_, err = ParseInventory("inv.yaml", []byte(b.String()))
	lines := strings.Split(fmt.Sprint(err), "\n")
	if len(lines) != 21 || lines[20] != "inv.yaml: 10 more errors not shown" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestInheritance(t *testing.T) {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	inv, err := LoadInventory("testdata/valid-inheritance.yml")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, d := range inv.Devices {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"plain", "both", "own"}) {
		t.Fatalf("devices %v, want file order", names)
	}
	knownHosts := filepath.Join(dir, "ssh/known_hosts")
	key := filepath.Join(dir, "keys/mx_ed25519")

	check := func(got, want Device) {
		t.Helper()
		if !equalDevice(got, want) {
			t.Errorf("device %s\n got: %+v\nwant: %+v", want.Name, got, want)
		}
	}
	// Only defaults, and the built-in defaults for what they leave out.
	plain, _ := inv.Device("plain")
	check(plain, Device{
		Name: "plain", Host: "192.0.2.1", Port: 830, Username: "netconf",
		Auth:       Auth{PasswordEnv: "FLEET_PASSWORD"},
		KnownHosts: knownHosts, KnownHostsSet: true, HostKeyPolicy: "strict", Timeout: 30 * time.Second,
		Tags: []string{"all"}, Session: "per-poll",
		Readiness: Readiness{MinBackupUptime: 10 * time.Minute, Interval: time.Hour, Severity: "warning"},
	})
	// Groups in order (lab after mx), device last; tags are a union;
	// password_file replaces the inherited password_env; the key stays.
	both, _ := inv.Device("both")
	check(both, Device{
		Name: "both", Host: "192.0.2.2", Port: 830, Username: "netconf",
		Auth: Auth{
			PasswordFile: filepath.Join(dir, "secrets/both.pw"),
			PrivateKey:   key, PassphraseEnv: "MX_KEY_PASSPHRASE",
		},
		KnownHosts: knownHosts, KnownHostsSet: true, HostKeyPolicy: "accept-new", Timeout: 40 * time.Second,
		Site: "lab1", Tags: []string{"all", "mx", "core", "lab", "rack-1"}, Groups: []string{"mx", "lab"},
		ExpectedREs: 2, Session: "persistent", Jump: []JumpHost{{Name: "bastion.example.net", Username: "netops"}},
		Logs:      []string{"messages"},
		Readiness: Readiness{MinBackupUptime: 10 * time.Minute, Interval: time.Hour, Severity: "critical"},
	})
	// Device scalars win; site: "" clears the group's; agent adds to the
	// inherited password and key.
	own, _ := inv.Device("own")
	check(own, Device{
		Name: "own", Host: "2001:db8::3", Port: 2830, PortSet: true, Username: "admin",
		Auth: Auth{
			PasswordEnv: "FLEET_PASSWORD", PrivateKey: key, PassphraseEnv: "MX_KEY_PASSPHRASE", Agent: true,
		},
		KnownHosts: knownHosts, KnownHostsSet: true, HostKeyPolicy: "strict", Timeout: 5 * time.Second,
		Tags: []string{"all", "mx", "core"}, Groups: []string{"mx"}, ExpectedREs: 2,
		Session: "per-poll", SSHConfig: filepath.Join(dir, "ssh/config"), LegacyAlgorithms: true,
		Readiness: Readiness{MinBackupUptime: 15 * time.Minute, Interval: 30 * time.Minute, Severity: "critical"},
		Logs:      []string{"messages", "mastership"},
	})
	if _, ok := inv.Device("nope"); ok {
		t.Error(`Device("nope") found something`)
	}
}

func TestPathExpansion(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	src := `defaults:
  auth: {private_key: ~/.ssh/id_ed25519, password_file: /etc/mastership/../mastership/pw}
devices:
  - {name: r1, host: r1.example.net}
`
	inv, err := ParseInventory("/srv/inv/devices.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := inv.Devices[0]
	if want := filepath.Join(home, ".ssh/id_ed25519"); d.Auth.PrivateKey != want {
		t.Errorf("private_key = %q, want %q", d.Auth.PrivateKey, want)
	}
	if want := "/etc/mastership/pw"; d.Auth.PasswordFile != want {
		t.Errorf("password_file = %q, want %q", d.Auth.PasswordFile, want)
	}
	if want := filepath.Join(home, ".ssh/known_hosts"); d.KnownHosts != want {
		t.Errorf("default known_hosts = %q, want %q", d.KnownHosts, want)
	}
	_, err = ParseInventory("inv.yaml", []byte("defaults:\n  known_hosts: ~netops/kh\ndevices: [{name: r1, host: h}]\n"))
	if want := "inv.yaml:2: defaults: known_hosts: only ~/ is expanded, not ~user/; write the full path"; err == nil || err.Error() != want {
		t.Errorf("~user: got %v, want %s", err, want)
	}
}

func TestExampleInventory(t *testing.T) {
	inv, err := LoadInventory("../../devices.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) == 0 {
		t.Fatal("no devices")
	}
	// The example must document every key the parser accepts.
	data, err := os.ReadFile("../../devices.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Concat(topKeys(), commonKeys(), deviceOnlyKeys(), authKeys(), jumpHostKeys(), readinessKeys(), netboxKeys(), netboxFilterKeys())
	for _, k := range keys {
		if !strings.Contains(string(data), k+":") {
			t.Errorf("devices.example.yaml does not document %s", k)
		}
	}
}

func TestPassword(t *testing.T) {
	t.Run("env", func(t *testing.T) {
		t.Setenv("MS_TEST_PW", "from-env")
		pw, err := Auth{PasswordEnv: "MS_TEST_PW"}.Password()
		if err != nil || pw.Reveal() != "from-env" {
			t.Errorf("Password() = %q, %v", pw.Reveal(), err)
		}
	})
	t.Run("env unset", func(t *testing.T) {
		_, err := Auth{PasswordEnv: "MS_TEST_PW_UNSET"}.Password()
		if err == nil || err.Error() != "password_env: environment variable MS_TEST_PW_UNSET is not set" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("env empty", func(t *testing.T) {
		t.Setenv("MS_TEST_PW", "")
		_, err := Auth{PasswordEnv: "MS_TEST_PW"}.Password()
		if err == nil || err.Error() != "password_env: environment variable MS_TEST_PW is empty" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "pw")
		// One newline goes; the inner and leading spaces are part of it.
		if err := os.WriteFile(f, []byte(" pass word \n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pw, err := Auth{PasswordFile: f}.Password()
		if err != nil || pw.Reveal() != " pass word " {
			t.Errorf("Password() = %q, %v", pw.Reveal(), err)
		}
	})
	t.Run("file CRLF", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(f, []byte("pw\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pw, err := Auth{PasswordFile: f}.Password()
		if err != nil || pw.Reveal() != "pw" {
			t.Errorf("Password() = %q, %v", pw.Reveal(), err)
		}
	})
	t.Run("file missing", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "nope")
		_, err := Auth{PasswordFile: f}.Password()
		if err == nil || err.Error() != "password_file "+f+": no such file or directory" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("file empty", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(f, []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Auth{PasswordFile: f}.Password()
		if err == nil || err.Error() != "password_file "+f+": file is empty" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		pw, err := Auth{PrivateKey: "/k"}.Password()
		if pw != "" || err != nil {
			t.Errorf("Password() = %q, %v", pw.Reveal(), err)
		}
		pp, err := Auth{}.Passphrase()
		if pp != "" || err != nil {
			t.Errorf("Passphrase() = %q, %v", pp.Reveal(), err)
		}
	})
	t.Run("passphrase", func(t *testing.T) {
		t.Setenv("MS_TEST_PP", "phrase")
		pp, err := Auth{PrivateKey: "/k", PassphraseEnv: "MS_TEST_PP"}.Passphrase()
		if err != nil || pp.Reveal() != "phrase" {
			t.Errorf("Passphrase() = %q, %v", pp.Reveal(), err)
		}
	})
}

func TestConfigured(t *testing.T) {
	for _, a := range []Auth{{PasswordEnv: "X"}, {PasswordFile: "/x"}, {PrivateKey: "/k"}, {Agent: true}} {
		if !a.Configured() {
			t.Errorf("%+v not configured", a)
		}
	}
	if (Auth{PassphraseEnv: "X"}).Configured() {
		t.Error("a passphrase alone counts as configured")
	}
}

// TestSecretsNeverLeak puts one unique value everywhere a careless user
// could put a password and checks no error or warning repeats it.
func TestSecretsNeverLeak(t *testing.T) {
	const pw = "Zq9-unique-pw-7f31"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "netconf.pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MS_LEAK_PW", pw)
	var out []string
	for _, src := range []string{
		"devices: [{name: r1, host: h, auth: {password: " + pw + "}}]",
		"devices: [{name: r1, host: h, password: " + pw + "}]",
		"devices: [{name: r1, host: h, auth: {passphrase: " + pw + "}}]",
		"devices: [{name: r1, host: h, auth: {password_env: \"" + pw + "\"}}]",
		"devices: [{name: r1, host: h, auth: {passphrase_env: \"" + pw + "\"}}]",
		"devices: [{name: r1, host: h, auth: {password_env: [" + pw + "]}}]",
		"devices: [{name: r1, host: h, auth: {agent: " + pw + "}}]",
		"devices: [{name: r1, host: h, auth: {password_env: MS_LEAK_PW}}]\n" + pw + ": [",
	} {
		_, err := ParseInventory(filepath.Join(dir, "inv.yaml"), []byte(src))
		if err == nil {
			t.Errorf("no error for %s", src)
			continue
		}
		out = append(out, err.Error())
	}
	inv, err := ParseInventory(filepath.Join(dir, "inv.yaml"), []byte(
		"devices: [{name: r1, host: h, auth: {password_file: netconf.pw}}, {name: r2, host: h, auth: {password_env: MS_LEAK_PW}}]"))
	if err != nil {
		t.Fatal(err)
	}
	pwWarnings := func() []string {
		var out []string
		for _, w := range inv.Warnings() {
			if strings.Contains(w, "password_file") {
				out = append(out, w)
			}
		}
		return out
	}
	warnings := inv.Warnings()
	out = append(out, warnings...)
	warnings = pwWarnings()
	want := "inv.yaml: password_file " + pwFile + " is readable by group or others (mode 0644); run: chmod 600 " + pwFile
	if len(warnings) != 1 || !strings.HasSuffix(warnings[0], want) {
		t.Errorf("warnings = %q, want one ending %q", warnings, want)
	}
	for _, d := range inv.Devices {
		s, err := d.Auth.Password()
		if err != nil || s.Reveal() != pw {
			t.Errorf("%s: Password() = %v", d.Name, err)
		}
		out = append(out, s.String())
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if w := pwWarnings(); len(w) != 0 {
		t.Errorf("after chmod 600: warnings %q", w)
	}
	for _, s := range out {
		if strings.Contains(s, pw) || strings.Contains(s, "Zq9") {
			t.Errorf("leaks the password: %s", s)
		}
	}
}

func TestWarnings(t *testing.T) {
	src := `devices:
  - {name: r1, host: h, auth: {private_key: missing_key}}
  - {name: r2, host: h, host_key_policy: "off", auth: {agent: true}}
  - {name: r3, host: h}
`
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	inv, err := ParseInventory(filepath.Join(dir, "inv.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "inv.yaml")
	want := []string{
		p + ": private_key " + filepath.Join(dir, "missing_key") + ": no such file or directory",
		p + ": known_hosts " + filepath.Join(dir, ".ssh/known_hosts") + ": no such file or directory (with host_key_policy strict, polls will fail)",
		p + ": device r2: host_key_policy off: the router's identity is not checked",
		p + ": device r3: no auth method (set auth: password_env, password_file, private_key or agent)",
	}
	if got := inv.Warnings(); !slices.Equal(got, want) {
		t.Errorf("warnings\n got: %q\nwant: %q", got, want)
	}
}

func TestSelect(t *testing.T) {
	src := `devices:
  - {name: a, host: h, tags: [core]}
  - {name: b, host: h, tags: [edge]}
  - {name: c, host: h, tags: [core, lab]}
  - {name: d, host: h}
`
	inv, err := ParseInventory("inv.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ds []Device) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	for _, tc := range []struct {
		names, tags, want []string
	}{
		{nil, nil, []string{"a", "b", "c", "d"}},
		{[]string{"d", "a"}, nil, []string{"a", "d"}},
		{nil, []string{"lab", "edge"}, []string{"b", "c"}},
		{[]string{"d"}, []string{"core"}, []string{"a", "c", "d"}},
		{[]string{"a"}, []string{"core"}, []string{"a", "c"}},
	} {
		got, err := inv.Select(tc.names, tc.tags)
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("Select(%v, %v) = %v, %v; want %v", tc.names, tc.tags, names(got), err, tc.want)
		}
	}
	_, err = inv.Select([]string{"a", "x", "y"}, []string{"nope"})
	if want := "inv.yaml: unknown device(s): \"x\", \"y\"\ninv.yaml: no device has tag(s): \"nope\""; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// FuzzParseInventory checks that no input panics, that errors stay one
// line each and name the file, and that what parses keeps the invariants
// the rest of the agent relies on.
func FuzzParseInventory(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	files = append(files, "../../devices.example.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("devices: [{name: a, host: b, groups: [g]}]\ngroups: {g: &x {tags: [t]}, h: *x}"))
	f.Add([]byte("devices:\n- &d {name: a, host: b}\n- *d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ParseInventory("fuzz.yaml", data)
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("%T is not an *Error: %v", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line does not name the file: %q", line)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, d := range inv.Devices {
			if d.Name == "" || d.Host == "" {
				t.Fatalf("device with empty name or host: %+v", d)
			}
			if seen[d.Name] {
				t.Fatalf("duplicate name %q", d.Name)
			}
			seen[d.Name] = true
			if d.Port < 1 || d.Port > 65535 || d.Timeout <= 0 || d.ExpectedREs < 0 {
				t.Fatalf("out of range: %+v", d)
			}
			if !oneOf(d.HostKeyPolicy, HostKeyStrict, HostKeyAcceptNew, HostKeyOff) || !oneOf(d.Session, SessionPerPoll, SessionPersistent) {
				t.Fatalf("bad enum: %+v", d)
			}
			if d.Auth.PasswordEnv != "" && d.Auth.PasswordFile != "" {
				t.Fatalf("both password sources: %+v", d)
			}
		}
		// Only a netbox: block may leave devices: empty: NetBox fills it
		// when the inventory is resolved, after parsing.
		if len(inv.Devices) == 0 && inv.NetBox == nil {
			t.Fatal("parsed with no devices")
		}
	})
}

// equalDevice compares devices treating nil and empty lists as equal.
func equalDevice(a, b Device) bool {
	for _, d := range []*Device{&a, &b} {
		for _, l := range []*[]string{&d.Tags, &d.Groups, &d.Logs} {
			if len(*l) == 0 {
				*l = nil
			}
		}
	}
	return reflect.DeepEqual(a, b)
}

func TestJumpHosts(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	src := `defaults:
  username: netconf
  auth: {password_env: FLEET_PW}
  known_hosts: kh
  jump: ams-bastion
# jump_hosts may come after the levels that use it.
jump_hosts:
  ams-bastion:
    host: 192.0.2.100
    port: 2222
    username: netops
    auth: {private_key: keys/bastion, passphrase_env: BASTION_PASSPHRASE}
    known_hosts: bastion_kh
    host_key_policy: accept-new
  bare:
groups:
  two: {jump: "ams-bastion, admin@other.example.net:22"}
  list: {jump: [bare, "ssh://u@[2001:db8::1]:2200"]}
devices:
  - {name: inherit, host: h1}
  - {name: override, host: h2, jump: "root@ams-bastion:22"}
  - {name: chain, host: h3, groups: [two]}
  - {name: listed, host: h4, groups: [list]}
  - {name: none, host: h5, jump: none}
  - {name: cleared, host: h6, jump: ""}
  - {name: sshcfg, host: h7, ssh_config: true, port: 830}
  - {name: sshcfg-path, host: h8, ssh_config: cfg/ssh_config, known_hosts: ""}
  - {name: sshcfg-off, host: h9, ssh_config: false}
`
	inv, err := ParseInventory("/srv/inv/devices.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	bastion := JumpHost{
		Name: "ams-bastion", Host: "192.0.2.100", Port: 2222, Username: "netops",
		Auth:       Auth{PrivateKey: "/srv/inv/keys/bastion", PassphraseEnv: "BASTION_PASSPHRASE"},
		KnownHosts: "/srv/inv/bastion_kh", HostKeyPolicy: HostKeyAcceptNew,
	}
	// "user@" and ":port" in jump win over the entry.
	overridden := bastion
	overridden.Username, overridden.Port = "root", 22
	tests := []struct {
		device string
		want   []JumpHost
	}{
		{"inherit", []JumpHost{bastion}},
		{"override", []JumpHost{overridden}},
		{"chain", []JumpHost{bastion, {Name: "other.example.net", Port: 22, Username: "admin"}}},
		// An entry with no settings changes nothing.
		{"listed", []JumpHost{{Name: "bare"}, {Name: "2001:db8::1", Port: 2200, Username: "u"}}},
		{"none", []JumpHost{}},
		{"cleared", nil},
	}
	for _, tt := range tests {
		d, _ := inv.Device(tt.device)
		if !reflect.DeepEqual(d.Jump, tt.want) {
			t.Errorf("%s: jump\n got: %+v\nwant: %+v", tt.device, d.Jump, tt.want)
		}
		if (d.Jump == nil) != (tt.want == nil) {
			t.Errorf("%s: jump nil = %v, want %v (nil is not set, empty is none)", tt.device, d.Jump == nil, tt.want == nil)
		}
	}
	if d, _ := inv.Device("listed"); d.Jump[1].String() != "u@[2001:db8::1]:2200" {
		t.Errorf("String() = %q", d.Jump[1].String())
	}

	ssh := []struct {
		device, config       string
		portSet, knownHostsS bool
	}{
		{"inherit", "", false, true},
		{"sshcfg", filepath.Join(home, ".ssh/config"), true, true},
		{"sshcfg-path", "/srv/inv/cfg/ssh_config", false, false},
		{"sshcfg-off", "", false, true},
	}
	for _, tt := range ssh {
		d, _ := inv.Device(tt.device)
		if d.SSHConfig != tt.config || d.PortSet != tt.portSet || d.KnownHostsSet != tt.knownHostsS {
			t.Errorf("%s: SSHConfig %q PortSet %v KnownHostsSet %v, want %q %v %v",
				tt.device, d.SSHConfig, d.PortSet, d.KnownHostsSet, tt.config, tt.portSet, tt.knownHostsS)
		}
	}
	if d, _ := inv.Device("sshcfg-path"); d.KnownHosts != filepath.Join(home, ".ssh/known_hosts") || d.Port != 830 {
		t.Errorf("defaults without ssh_config values: known_hosts %q port %d", d.KnownHosts, d.Port)
	}
	// The jump hosts ssh_config's ProxyJump names find their jump_hosts
	// settings in JumpHosts, set only for devices that use ssh_config.
	if d, _ := inv.Device("sshcfg"); !reflect.DeepEqual(d.JumpHosts, map[string]JumpHost{"ams-bastion": bastion, "bare": {Name: "bare"}}) {
		t.Errorf("sshcfg: JumpHosts = %+v", d.JumpHosts)
	}
	if d, _ := inv.Device("inherit"); d.JumpHosts != nil {
		t.Errorf("inherit: JumpHosts = %+v, want nil without ssh_config", d.JumpHosts)
	}
}

func TestJumpHostWarnings(t *testing.T) {
	src := `jump_hosts:
  b: {auth: {private_key: missing_bastion_key}, known_hosts: missing_kh}
  lab: {host_key_policy: "off"}
devices:
  - {name: r1, host: h, jump: b, known_hosts: kh, auth: {agent: true}, ssh_config: missing_config}
  - {name: r2, host: h, jump: lab, known_hosts: kh, ssh_config: missing_config}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kh"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "inv.yaml")
	inv, err := ParseInventory(p, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		p + ": private_key " + filepath.Join(dir, "missing_bastion_key") + ": no such file or directory",
		p + ": known_hosts " + filepath.Join(dir, "missing_kh") + ": no such file or directory (with host_key_policy strict, polls will fail)",
		p + ": ssh_config " + filepath.Join(dir, "missing_config") + ": no such file or directory (polls of the devices that use it will fail)",
		// No "no auth method" for r2: ssh_config may give an IdentityFile.
		p + ": device r2: jump host lab: host_key_policy off: the jump host's identity is not checked",
	}
	if got := inv.Warnings(); !slices.Equal(got, want) {
		t.Errorf("warnings\n got: %q\nwant: %q", got, want)
	}
}

// TestMaintenanceWindows: windows of defaults, groups and the device all
// apply, and each parses into a window whose times are right.
func TestMaintenanceWindows(t *testing.T) {
	data := []byte(`
defaults:
  maintenance:
    - cron: "0 2 * * 0"
      duration: 2h
groups:
  core:
    maintenance:
      - cron: "CRON_TZ=Europe/Paris 0 3 * * *"
        duration: 30m
        reason: nightly backup
devices:
  - name: r1
    host: 192.0.2.1
    groups: [core]
    maintenance:
      - from: 2026-03-04T10:00:00Z
        until: "2026-03-04T12:00:00+01:00"
        reason: CHG-1
  - name: r2
    host: 192.0.2.2
`)
	inv, err := ParseInventory("m.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := inv.Devices[0], inv.Devices[1]
	if len(r1.Maintenance) != 3 || len(r2.Maintenance) != 1 {
		t.Fatalf("windows: r1 %d, r2 %d; want 3 and 1", len(r1.Maintenance), len(r2.Maintenance))
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		w    int
		at   string
		want bool
	}{
		{0, "2026-03-01T03:00:00Z", true}, // Sunday 02:00-04:00 UTC
		{0, "2026-03-02T03:00:00Z", false},
		{1, "2026-03-03T02:15:00Z", true}, // 03:00 Paris is 02:00 UTC in March
		{1, "2026-03-03T03:15:00Z", false},
		{2, "2026-03-04T10:59:59Z", true}, // until 12:00+01:00 is 11:00 UTC
		{2, "2026-03-04T11:00:00Z", false},
	}
	for _, tt := range tests {
		if _, ok := r1.Maintenance[tt.w].Contains(at(tt.at)); ok != tt.want {
			t.Errorf("window %d (%s) at %s: %v, want %v", tt.w, r1.Maintenance[tt.w], tt.at, ok, tt.want)
		}
	}
	if r1.Maintenance[2].Reason != "CHG-1" || r1.Maintenance[1].Reason != "nightly backup" {
		t.Errorf("reasons: %q, %q", r1.Maintenance[1].Reason, r1.Maintenance[2].Reason)
	}
}
