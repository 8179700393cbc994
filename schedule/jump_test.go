package schedule

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

const (
	jumpTestPassword    = "router-pw-2b7e"
	jumpTestBastionUser = "netops"
	jumpTestBastionPW   = "bastion-pw-88c1"
)

// junosServer is a simulated dual-RE Junos router on loopback, served by
// netconftest so the test controls its SSH side.
func junosServer(t *testing.T, name string, cfg netconftest.Config) *netconftest.Server {
	t.Helper()
	r, err := junossim.NewRouter(junossim.Device{Name: name, Topology: junossim.TopologyDual}, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Handler = r
	cfg.Users = map[string]string{junossim.User: jumpTestPassword}
	srv, err := netconftest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func jumpBastion(t *testing.T, cfg netconftest.BastionConfig) *netconftest.Bastion {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{jumpTestBastionUser: jumpTestBastionPW}
	}
	b, err := netconftest.NewBastion(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// loadTestInventory writes files into a new directory, then the
// inventory, and loads it. The routers' password is in $ROUTER_PW, the
// bastions' in $BASTION_PW.
func loadTestInventory(t *testing.T, text string, files map[string]string) []inventory.Device {
	t.Helper()
	t.Setenv("ROUTER_PW", jumpTestPassword)
	t.Setenv("BASTION_PW", jumpTestBastionPW)
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "devices.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	return inv.Devices
}

func byName(devs []inventory.Device, name string) inventory.Device {
	i := slices.IndexFunc(devs, func(d inventory.Device) bool { return d.Name == name })
	return devs[i]
}

// knownHostsLine is the line for key under name:port.
func knownHostsLine(name string, port int, key ssh.PublicKey) string {
	return knownhosts.Line([]string{net.JoinHostPort(name, strconv.Itoa(port))}, key)
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// TestPollThroughJumpHosts: routers known by names that only the bastions
// resolve are polled in full through one jump host, and through two.
func TestPollThroughJumpHosts(t *testing.T) {
	r1 := junosServer(t, "ams1-r1", netconftest.Config{})
	r2 := junosServer(t, "ams1-r2", netconftest.Config{})
	inner := jumpBastion(t, netconftest.BastionConfig{
		Users: map[string]string{"inner-user": "inner-pw"},
		Hosts: map[string]string{"r2.internal:830": r2.Addr()},
	})
	outer := jumpBastion(t, netconftest.BastionConfig{Hosts: map[string]string{"r1.internal:830": r1.Addr()}})
	t.Setenv("INNER_PW", "inner-pw")
	inv := fmt.Sprintf(`defaults:
  username: %s
  auth: {password_env: ROUTER_PW}
  known_hosts: known_hosts
  timeout: 5s
jump_hosts:
  ams-bastion:
    host: 127.0.0.1
    port: %d
    username: %s
    auth: {password_env: BASTION_PW}
  inner:
    host: 127.0.0.1
    port: %d
    auth: {password_env: INNER_PW}
    known_hosts: inner_known_hosts
devices:
  - {name: ams1-r1, host: r1.internal, jump: ams-bastion}
  - {name: ams1-r2, host: r2.internal, jump: "ams-bastion,inner-user@inner"}
`, junossim.User, outer.Port(), jumpTestBastionUser, inner.Port())
	devs := loadTestInventory(t, inv, map[string]string{
		"known_hosts": lines(
			knownHostsLine("r1.internal", 830, r1.HostKey()),
			knownHostsLine("r2.internal", 830, r2.HostKey()),
			outer.KnownHostsLine()),
		"inner_known_hosts": lines(inner.KnownHostsLine()),
	})
	p := &Poller{Now: time.Now}
	for _, name := range []string{"ams1-r1", "ams1-r2"} {
		poll := p.Poll(t.Context(), byName(devs, name))
		wantOutcome(t, poll, devices.OutcomeOK, "")
		wantFull(t, poll)
	}
	if got, want := outer.Forwards(), []string{"r1.internal:830", inner.Addr()}; !slices.Equal(got, want) {
		t.Errorf("outer bastion forwarded %q, want %q", got, want)
	}
	if got, want := inner.Forwards(), []string{"r2.internal:830"}; !slices.Equal(got, want) {
		t.Errorf("inner bastion forwarded %q, want %q", got, want)
	}
	for _, b := range []*netconftest.Bastion{outer, inner} {
		if err := b.WaitIdle(t.Context()); err != nil {
			t.Errorf("polls left a connection open: %v", err)
		}
	}
}

// TestPollJumpHostFailures: each way a jump host fails is its own
// outcome, and the error names the jump host.
func TestPollJumpHostFailures(t *testing.T) {
	r := junosServer(t, "ams1-r1", netconftest.Config{})
	good := jumpBastion(t, netconftest.BastionConfig{Hosts: map[string]string{"r1.internal:830": r.Addr()}})
	refusing := jumpBastion(t, netconftest.BastionConfig{RefuseForwarding: true})
	silent := jumpBastion(t, netconftest.BastionConfig{Silent: true})
	otherKey, err := ssh.NewSignerFromKey(mustRSA(t))
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 500 * time.Millisecond
	inv := fmt.Sprintf(`defaults:
  username: %s
  auth: {password_env: ROUTER_PW}
  known_hosts: known_hosts
  timeout: %s
jump_hosts:
  good: {host: 127.0.0.1, port: %d, username: %s, auth: {password_env: BASTION_PW}}
  wrong-key: {host: 127.0.0.1, port: %d, username: %s, auth: {password_env: BASTION_PW}, known_hosts: wrong_known_hosts}
  wrong-password: {host: 127.0.0.1, port: %d, username: %s, auth: {password_env: ROUTER_PW}}
  refusing: {host: 127.0.0.1, port: %d, username: %s, auth: {password_env: BASTION_PW}}
  silent: {host: 127.0.0.1, port: %d}
devices:
  - {name: key-changed, host: r1.internal, jump: wrong-key}
  - {name: auth-rejected, host: r1.internal, jump: wrong-password}
  - {name: forwarding-refused, host: r1.internal, jump: refusing}
  - {name: bastion-hangs, host: r1.internal, jump: silent}
  - {name: chain-hangs, host: r1.internal, jump: "good,silent"}
`, junossim.User, timeout, good.Port(), jumpTestBastionUser, good.Port(), jumpTestBastionUser,
		good.Port(), jumpTestBastionUser, refusing.Port(), jumpTestBastionUser, silent.Port())
	devs := loadTestInventory(t, inv, map[string]string{
		"known_hosts": lines(knownHostsLine("r1.internal", 830, r.HostKey()),
			good.KnownHostsLine(), refusing.KnownHostsLine(), silent.KnownHostsLine()),
		"wrong_known_hosts": lines(knownHostsLine(good.Host(), good.Port(), otherKey.PublicKey())),
	})
	// jump_hosts names are how errors name the jump hosts, with their
	// addresses.
	label := func(name string, b *netconftest.Bastion) string { return "jump host " + name + " (" + b.Addr() + "): " }
	tests := []struct {
		device  string
		outcome devices.Outcome
		words   []string
	}{
		{"key-changed", devices.OutcomeHostKey, []string{label("wrong-key", good) + "ssh handshake: ", "has CHANGED", ssh.FingerprintSHA256(good.HostKey())}},
		{"auth-rejected", devices.OutcomeAuth, []string{label("wrong-password", good) + "ssh handshake: ", "unable to authenticate"}},
		{"forwarding-refused", devices.OutcomeProtocol, []string{label("refusing", refusing) + "cannot reach r1.internal:830: administratively prohibited"}},
		{"bastion-hangs", devices.OutcomeTimeout, []string{label("silent", silent) + "ssh handshake: context deadline exceeded"}},
		{"chain-hangs", devices.OutcomeTimeout, []string{label("silent", silent) + "ssh handshake: context deadline exceeded"}},
	}
	p := &Poller{Now: time.Now}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			poll := p.Poll(t.Context(), byName(devs, tt.device))
			wantOutcome(t, poll, tt.outcome, tt.outcome, tt.words...)
			if d := took(poll); d > timeout+time.Second {
				t.Errorf("poll took %v with a %v timeout", d, timeout)
			}
			for _, secret := range []string{jumpTestPassword, jumpTestBastionPW} {
				if strings.Contains(poll.Error, secret) {
					t.Errorf("error %q contains a password", poll.Error)
				}
			}
		})
	}
	if len(good.Forwards()) != 1 { // chain-hangs only
		t.Errorf("good bastion forwarded %q", good.Forwards())
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPollLegacyAlgorithms: a router that offers only what old Junos
// releases offer is refused with a message naming legacy_algorithms, and
// polled in full with it.
func TestPollLegacyAlgorithms(t *testing.T) {
	rsaKey, err := ssh.NewSignerFromKey(mustRSA(t))
	if err != nil {
		t.Fatal(err)
	}
	sha1Only, err := ssh.NewSignerWithAlgorithms(rsaKey.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	old := netconf.LegacyAlgorithms()
	r := junosServer(t, "old-junos", netconftest.Config{
		HostKey: sha1Only,
		Crypto:  ssh.Config{KeyExchanges: old.KeyExchanges, Ciphers: old.Ciphers, MACs: []string{ssh.HMACSHA1}},
	})
	inv := fmt.Sprintf(`defaults:
  username: %s
  auth: {password_env: ROUTER_PW}
  known_hosts: known_hosts
  timeout: 5s
devices:
  - {name: modern-settings, host: 127.0.0.1, port: %d}
  - {name: legacy, host: 127.0.0.1, port: %d, legacy_algorithms: true}
`, junossim.User, r.Port(), r.Port())
	devs := loadTestInventory(t, inv, map[string]string{"known_hosts": lines(r.KnownHostsLine())})
	p := &Poller{Now: time.Now}
	poll := p.Poll(t.Context(), byName(devs, "modern-settings"))
	wantOutcome(t, poll, devices.OutcomeProtocol, devices.OutcomeProtocol,
		"no common key exchange algorithm", "set legacy_algorithms: true")
	poll = p.Poll(t.Context(), byName(devs, "legacy"))
	wantOutcome(t, poll, devices.OutcomeOK, "")
	wantFull(t, poll)
}

// TestPollSSHConfig: the inventory names the router by its ssh_config
// alias and gives no port; ssh_config's HostName, Port, User and ProxyJump
// apply, and the jump host's own block too.
func TestPollSSHConfig(t *testing.T) {
	r := junosServer(t, "ams1-r1", netconftest.Config{})
	b := jumpBastion(t, netconftest.BastionConfig{Hosts: map[string]string{"r1.internal:" + strconv.Itoa(r.Port()): r.Addr()}})
	inv := `defaults:
  auth: {password_env: ROUTER_PW}
  known_hosts: known_hosts
  timeout: 5s
jump_hosts:
  # The jump host's own password; where it is comes from ssh_config.
  bastion: {auth: {password_env: BASTION_PW}}
devices:
  - {name: direct, host: ams1-r1, ssh_config: ssh_config}
  - {name: jumped, host: ams1-r1-oob, ssh_config: ssh_config}
  - {name: inventory-wins, host: ams1-r1, ssh_config: ssh_config, port: 1, username: nobody}
`
	config := fmt.Sprintf(`Host ams1-r1
    HostName 127.0.0.1
    Port %d
    User %s

Host ams1-r1-oob
    HostName r1.internal
    Port %d
    User %s
    ProxyJump bastion

Host bastion
    HostName 127.0.0.1
    Port %d
    User %s
`, r.Port(), junossim.User, r.Port(), junossim.User, b.Port(), jumpTestBastionUser)
	devs := loadTestInventory(t, inv, map[string]string{
		"ssh_config": config,
		"known_hosts": lines(r.KnownHostsLine(), knownHostsLine("r1.internal", r.Port(), r.HostKey()),
			b.KnownHostsLine()),
	})
	p := &Poller{Now: time.Now}
	for _, name := range []string{"direct", "jumped"} {
		poll := p.Poll(t.Context(), byName(devs, name))
		wantOutcome(t, poll, devices.OutcomeOK, "")
		wantFull(t, poll)
	}
	if got := b.Forwards(); !slices.Equal(got, []string{"r1.internal:" + strconv.Itoa(r.Port())}) {
		t.Errorf("bastion forwarded %q", got)
	}
	// port: 1 from the inventory, not ssh_config's.
	poll := p.Poll(t.Context(), byName(devs, "inventory-wins"))
	wantOutcome(t, poll, devices.OutcomeRefused, devices.OutcomeRefused, "dial 127.0.0.1:1:")
}

// TestPollJumpHostCredentialsUnreadable: a jump host's own password that
// cannot be read is an auth failure of the device, naming the jump host.
func TestPollJumpHostCredentialsUnreadable(t *testing.T) {
	d := inventory.Device{Name: "r", Host: "127.0.0.1", Port: 1, Username: "u", Timeout: time.Second,
		Auth: inventory.Auth{Agent: true},
		Jump: []inventory.JumpHost{{Name: "b", Auth: inventory.Auth{PasswordEnv: "MASTERSHIP_TEST_UNSET_VARIABLE"}}}}
	p := (&Poller{Now: time.Now}).Poll(t.Context(), d)
	if p.Outcome != devices.OutcomeAuth || !strings.Contains(p.Error, "credentials of jump host b for r: ") ||
		!strings.Contains(p.Error, "MASTERSHIP_TEST_UNSET_VARIABLE") {
		t.Errorf("outcome %s error %q", p.Outcome, p.Error)
	}
}
