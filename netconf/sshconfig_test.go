package netconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeSSHConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSSHConfigResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	touch(t, filepath.Join(home, ".ssh/id_router"))
	touch(t, filepath.Join(home, "keys/ams1-core-1.key"))
	cfgPath := writeSSHConfig(t, `# OpenSSH client config, as operators write it.
Host ams1-*
    HostName %h.mgmt.example.net
    User netops
    IdentityFile ~/.ssh/id_missing
    IdentityFile ~/.ssh/id_router
    UserKnownHostsFile ~/.ssh/known_hosts_%r ~/.ssh/known_hosts2
    ProxyJump bastion-%n

Host ams1-core-2
    Port 2830
    HostName 192.0.2.12

Host lab-*
    Port 22
    IdentityFile %d/keys/%n.key
    IdentityFile "~/keys/with space"

Host *
    User fallback
    IdentityFile ~/.ssh/id_router
`)
	f, err := loadSSHConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		alias string
		set   sshResolved
		want  sshResolved
	}{
		// The first value for a keyword wins: ams1-* before ams1-core-2.
		{"ams1-core-1", sshResolved{}, sshResolved{
			host: "ams1-core-1.mgmt.example.net", port: 830, user: "netops",
			keyFile:    filepath.Join(home, ".ssh/id_router"),
			knownHosts: filepath.Join(home, ".ssh/known_hosts_netops"),
			proxyJump:  "bastion-ams1-core-1",
		}},
		// Port only from an explicit Port line; the inventory wins.
		{"ams1-core-2", sshResolved{user: "admin", keyFile: "/inv/key", knownHosts: "/inv/kh"}, sshResolved{
			host: "ams1-core-2.mgmt.example.net", port: 2830, user: "admin", keyFile: "/inv/key", knownHosts: "/inv/kh",
			proxyJump: "bastion-ams1-core-2",
		}},
		{"ams1-core-2", sshResolved{port: 830}, sshResolved{
			host: "ams1-core-2.mgmt.example.net", port: 830, user: "netops",
			keyFile:    filepath.Join(home, ".ssh/id_router"),
			knownHosts: filepath.Join(home, ".ssh/known_hosts_netops"),
			proxyJump:  "bastion-ams1-core-2",
		}},
		// No HostName: the alias; no existing IdentityFile of lab-*: the
		// next Host block's.
		{"lab-9", sshResolved{}, sshResolved{host: "lab-9", port: 22, user: "fallback", keyFile: filepath.Join(home, ".ssh/id_router")}},
		{"lab-ams1-core-1", sshResolved{}, sshResolved{host: "lab-ams1-core-1", port: 22, user: "fallback", keyFile: filepath.Join(home, ".ssh/id_router")}},
		// Nothing matches but Host *.
		{"fra1-edge-1", sshResolved{}, sshResolved{host: "fra1-edge-1", port: 830, user: "fallback", keyFile: filepath.Join(home, ".ssh/id_router")}},
	}
	for _, tt := range tests {
		got, err := f.resolve(tt.alias, tt.set, DefaultPort)
		if err != nil {
			t.Errorf("%s: %v", tt.alias, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.alias, got, tt.want)
		}
	}
	// %d and %n in IdentityFile.
	touch(t, filepath.Join(home, "keys/lab-2.key"))
	got, err := f.resolve("lab-2", sshResolved{}, DefaultPort)
	if err != nil || got.keyFile != filepath.Join(home, "keys/lab-2.key") {
		t.Errorf("lab-2: %+v, %v", got, err)
	}
	// A jump host's default port is 22.
	got, err = f.resolve("bastion", sshResolved{}, DefaultJumpPort)
	if err != nil || got.port != 22 {
		t.Errorf("bastion: %+v, %v", got, err)
	}
}

func TestSSHConfigErrors(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		name, config, alias, want string
	}{
		{"bad port", "Host r1\n  Port ssh\n", "r1", `Host r1: invalid Port "ssh": not a port number`},
		{"known_hosts off", "Host r1\n  UserKnownHostsFile /dev/null\n", "r1", "UserKnownHostsFile /dev/null would turn host key checking off"},
		{"known_hosts none", "Host *\n  UserKnownHostsFile none\n", "r1", "UserKnownHostsFile none would turn host key checking off"},
		{"unknown token", "Host r1\n  IdentityFile ~/.ssh/%C\n", "r1", `IdentityFile "~/.ssh/%C": token %C is not supported there`},
		{"%r in User", "Host r1\n  User %r\n", "r1", `User "%r": token %r is not supported there`},
		{"lone %", "Host r1\n  HostName r1%\n", "r1", `HostName "r1%" ends with a lone %`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeSSHConfig(t, tt.config)
			f, err := loadSSHConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.resolve(tt.alias, sshResolved{}, DefaultPort)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "ssh_config "+p) {
				t.Errorf("error %v, want one naming %s and containing %q", err, p, tt.want)
			}
		})
	}
	// The inventory's known_hosts makes /dev/null irrelevant.
	f, err := loadSSHConfig(writeSSHConfig(t, "Host r1\n  UserKnownHostsFile /dev/null\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.resolve("r1", sshResolved{knownHosts: "/inv/kh"}, DefaultPort); err != nil {
		t.Errorf("with known_hosts set: %v", err)
	}

	if _, err := loadSSHConfig(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	p := writeSSHConfig(t, "Match exec \"true\"\n  User x\n")
	if _, err := loadSSHConfig(p); err == nil || !strings.Contains(err.Error(), "ssh_config "+p) {
		t.Errorf("Match exec: %v", err)
	}
}

func TestResolveRoute(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	touch(t, filepath.Join(home, ".ssh/bastion_key"))
	cfgPath := writeSSHConfig(t, `Host r1
    HostName 192.0.2.1
    ProxyJump ams-bastion,ops@10.0.0.1:2222

Host ams-bastion
    HostName bastion.ams.example.net
    User jump
    IdentityFile ~/.ssh/bastion_key
    UserKnownHostsFile ~/.ssh/bastion_known_hosts
`)
	base := Config{
		Host: "r1", User: "netconf", SSHConfigFile: cfgPath,
		Credentials:   Credentials{Password: "pw", KeyFile: "/inv/router_key"},
		HostKeyPolicy: PolicyAcceptNew, LegacyAlgorithms: true,
	}
	rt, err := resolveRoute(base)
	if err != nil {
		t.Fatal(err)
	}
	want := &route{
		target: endpoint{name: "r1", host: "192.0.2.1", port: 830, user: "netconf",
			creds:      Credentials{Password: "pw", KeyFile: "/inv/router_key"},
			knownHosts: "", policy: PolicyAcceptNew, legacy: true},
		hops: []endpoint{
			// ssh_config for the hop's name, then the router's settings:
			// its password, its key only where ssh_config has none.
			{name: "ams-bastion", host: "bastion.ams.example.net", port: 22, user: "jump",
				creds:      Credentials{Password: "pw", KeyFile: filepath.Join(home, ".ssh/bastion_key")},
				knownHosts: filepath.Join(home, ".ssh/bastion_known_hosts"), policy: PolicyAcceptNew, hop: true},
			{name: "10.0.0.1", host: "10.0.0.1", port: 2222, user: "ops",
				creds: Credentials{Password: "pw", KeyFile: "/inv/router_key"}, policy: PolicyAcceptNew, hop: true},
		},
	}
	if !reflect.DeepEqual(rt, want) {
		t.Errorf("route\n got %+v\nwant %+v", rt, want)
	}
	if got := rt.hops[0].label(); got != "ams-bastion (bastion.ams.example.net:22)" {
		t.Errorf("label %q", got)
	}

	// jump: none (an empty, non-nil Jump) wins over ProxyJump; a Jump of
	// its own replaces it.
	none := base
	none.Jump = []JumpHost{}
	if rt, err := resolveRoute(none); err != nil || len(rt.hops) != 0 {
		t.Errorf("Jump none: %+v, %v", rt, err)
	}
	own := base
	own.Jump = []JumpHost{{Name: "other", Credentials: &Credentials{Agent: true}}}
	rt, err = resolveRoute(own)
	if err != nil || len(rt.hops) != 1 || rt.hops[0].host != "other" || rt.hops[0].creds != (Credentials{Agent: true}) {
		t.Errorf("own Jump: %+v, %v", rt, err)
	}

	// The inventory's settings for a ProxyJump hop (jump_hosts) come
	// before ssh_config's for it; ProxyJump's own user@ and :port first.
	withEntry := base
	withEntry.ProxyJumpHost = func(name string) (JumpHost, bool, error) {
		if name != "10.0.0.1" {
			return JumpHost{}, false, nil
		}
		return JumpHost{User: "entry-user", Port: 22, Credentials: &Credentials{Agent: true}, KnownHostsFile: "/inv/b_kh"}, true, nil
	}
	rt, err = resolveRoute(withEntry)
	if err != nil {
		t.Fatal(err)
	}
	if h := rt.hops[1]; h.user != "ops" || h.port != 2222 || h.creds != (Credentials{Agent: true}) || h.knownHosts != "/inv/b_kh" {
		t.Errorf("ProxyJump hop with a jump_hosts entry: %+v", h)
	}
	if h := rt.hops[0]; h.user != "jump" {
		t.Errorf("ProxyJump hop without an entry: %+v", h)
	}
	failing := base
	failing.ProxyJumpHost = func(string) (JumpHost, bool, error) {
		return JumpHost{}, true, errors.New("password_env: environment variable X is not set")
	}
	if _, err := resolveRoute(failing); !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "variable X is not set") {
		t.Errorf("unreadable jump host secret: %v", err)
	}

	// Without ssh_config, nothing is read and the defaults apply.
	plain := Config{Host: "r2", User: "u", Jump: []JumpHost{{Name: "b"}}}
	rt, err = resolveRoute(plain)
	if err != nil || rt.target.port != 830 || rt.hops[0].port != 22 || rt.hops[0].user != "u" {
		t.Errorf("plain: %+v, %v", rt, err)
	}

	bad := base
	bad.SSHConfigFile = writeSSHConfig(t, "Host r1\n  ProxyJump a,,b\n")
	if _, err := resolveRoute(bad); err == nil || !strings.Contains(err.Error(), `ProxyJump "a,,b": hop 2 (""): empty jump host`) {
		t.Errorf("bad ProxyJump: %v", err)
	}
	nouser := Config{Host: "r1", SSHConfigFile: writeSSHConfig(t, "Host other\n  User x\n")}
	if _, err := resolveRoute(nouser); err == nil || !strings.Contains(err.Error(), "no user name given (set username in the inventory, or User in") {
		t.Errorf("no user: %v", err)
	}
}
