package netconf_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

const (
	jumpUser     = "jump"
	jumpPassword = "jump-pw-5e0b"
	// routerName resolves only on the bastions (BastionConfig.Hosts): a
	// router known by it is reachable through them and no other way.
	routerName = "router.internal"
)

func newBastion(t testing.TB, cfg netconftest.BastionConfig) *netconftest.Bastion {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{jumpUser: jumpPassword}
	}
	b, err := netconftest.NewBastion(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func writeKnownHosts(t testing.TB, lines ...string) string {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return kh
}

func hop(b *netconftest.Bastion) netconf.JumpHost {
	return netconf.JumpHost{
		Name: b.Host(), Port: b.Port(), User: jumpUser,
		Credentials: &netconf.Credentials{Password: jumpPassword},
	}
}

// routerBehind returns a router and the Config that reaches it by
// routerName through n bastions, the last of which resolves routerName;
// known_hosts holds every key.
func routerBehind(t *testing.T, n int) (netconf.Config, *netconftest.Server, []*netconftest.Bastion) {
	t.Helper()
	srv := newServer(t, netconftest.Config{})
	var bastions []*netconftest.Bastion
	for i := range n {
		cfg := netconftest.BastionConfig{}
		if i == n-1 {
			cfg.Hosts = map[string]string{net.JoinHostPort(routerName, "830"): srv.Addr()}
		}
		bastions = append(bastions, newBastion(t, cfg))
	}
	lines := []string{knownhosts.Line([]string{net.JoinHostPort(routerName, "830")}, srv.HostKey())}
	var jump []netconf.JumpHost
	for _, b := range bastions {
		lines = append(lines, b.KnownHostsLine())
		jump = append(jump, hop(b))
	}
	return netconf.Config{
		Host: routerName, Port: 830, User: testUser,
		Credentials:    netconf.Credentials{Password: testPassword},
		KnownHostsFile: writeKnownHosts(t, lines...),
		HostKeyPolicy:  netconf.PolicyStrict,
		Jump:           jump,
	}, srv, bastions
}

func wantEcho(t *testing.T, s *netconf.Session) {
	t.Helper()
	r, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>")
	if err != nil {
		t.Fatalf("RPC through the jump hosts: %v", err)
	}
	if !strings.Contains(string(r.Data), "<op>get-route-engine-information</op>") {
		t.Fatalf("reply %s", r.Data)
	}
}

func TestDialThroughJumpHost(t *testing.T) {
	cfg, _, bastions := routerBehind(t, 1)
	b := bastions[0]
	s := dial(t, cfg)
	wantEcho(t, s)
	if got, want := b.Forwards(), []string{routerName + ":830"}; !slices.Equal(got, want) {
		t.Errorf("bastion forwarded %q, want %q", got, want)
	}
	// Closing the session lets go of the whole path.
	if err := s.Close(rpcCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitIdle(rpcCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestDialThroughTwoJumpHosts(t *testing.T) {
	cfg, _, bastions := routerBehind(t, 2)
	s := dial(t, cfg)
	wantEcho(t, s)
	if got, want := bastions[0].Forwards(), []string{bastions[1].Addr()}; !slices.Equal(got, want) {
		t.Errorf("first bastion forwarded %q, want %q", got, want)
	}
	if got, want := bastions[1].Forwards(), []string{routerName + ":830"}; !slices.Equal(got, want) {
		t.Errorf("second bastion forwarded %q, want %q", got, want)
	}
	// A keepalive travels the whole path.
	if err := s.Keepalive(rpcCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(rpcCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, b := range bastions {
		if err := b.WaitIdle(rpcCtx(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDialJumpHostReusesRouterCredentials: a jump host without its own
// user and credentials gets the router's.
func TestDialJumpHostReusesRouterCredentials(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	b := newBastion(t, netconftest.BastionConfig{Users: map[string]string{testUser: testPassword}})
	cfg := clientConfig(t, srv)
	cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
	cfg.Jump = []netconf.JumpHost{{Name: b.Host(), Port: b.Port()}}
	wantEcho(t, dial(t, cfg))
	if len(b.Forwards()) != 1 {
		t.Errorf("bastion forwarded %q", b.Forwards())
	}
}

func dialErr(t *testing.T, cfg netconf.Config, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	s, err := netconf.Dial(ctx, cfg)
	if err == nil {
		_ = s.Close(ctx)
		t.Fatal("Dial succeeded")
	}
	return err
}

func TestDialJumpHostKeyChanged(t *testing.T) {
	cfg, _, bastions := routerBehind(t, 1)
	b := bastions[0]
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := ssh.NewSignerFromKey(other)
	if err != nil {
		t.Fatal(err)
	}
	// known_hosts holds another key for the bastion, the right one for the router.
	lines, err := os.ReadFile(cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownHostsFile = writeKnownHosts(t, strings.Split(strings.TrimSpace(string(lines)), "\n")[0],
		knownhosts.Line([]string{b.Addr()}, otherSigner.PublicKey()))

	err = dialErr(t, cfg, 5*time.Second)
	wantOutcome(t, err, netconf.KindHostKey)
	msg := err.Error()
	for _, want := range []string{
		"jump host " + b.Addr() + ": ssh handshake:",
		"host key for [127.0.0.1]:" + strconv.Itoa(b.Port()) + " has CHANGED",
		ssh.FingerprintSHA256(otherSigner.PublicKey()), ssh.FingerprintSHA256(b.HostKey()),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if len(b.Forwards()) != 0 {
		t.Errorf("bastion forwarded %q before its key was trusted", b.Forwards())
	}
}

func TestDialJumpHostUnknownUnderItsOwnName(t *testing.T) {
	cfg, _, bastions := routerBehind(t, 1)
	b := bastions[0]
	// Only the router's key is known: the bastion's is looked up under its
	// own [host]:port, not the router's, and found missing.
	lines, err := os.ReadFile(cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownHostsFile = writeKnownHosts(t, strings.Split(strings.TrimSpace(string(lines)), "\n")[0])
	err = dialErr(t, cfg, 5*time.Second)
	wantOutcome(t, err, netconf.KindHostKey)
	if !strings.Contains(err.Error(), "host key for [127.0.0.1]:"+strconv.Itoa(b.Port())+" is unknown") {
		t.Errorf("error %q", err)
	}
}

func TestDialJumpHostRejectsAuth(t *testing.T) {
	cfg, _, bastions := routerBehind(t, 1)
	cfg.Jump[0].Credentials = &netconf.Credentials{Password: "wrong"}
	err := dialErr(t, cfg, 5*time.Second)
	wantOutcome(t, err, netconf.KindAuth)
	if !strings.HasPrefix(err.Error(), "jump host "+bastions[0].Addr()+": ssh handshake: ") {
		t.Errorf("error %q does not name the jump host first", err)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %q contains a password", err)
	}
}

func TestDialJumpHostRefusesForwarding(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	b := newBastion(t, netconftest.BastionConfig{RefuseForwarding: true})
	cfg := clientConfig(t, srv)
	cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
	cfg.Jump = []netconf.JumpHost{hop(b)}
	err := dialErr(t, cfg, 5*time.Second)
	wantOutcome(t, err, netconf.KindProtocol)
	want := "jump host " + b.Addr() + ": cannot reach " + srv.Addr() + ": administratively prohibited (TCP forwarding is disabled); the jump host does not allow TCP forwarding"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n got: %s\nwant: %s…", err, want)
	}
}

func TestDialJumpHostCannotConnect(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{Refuse: true}})
	b := newBastion(t, netconftest.BastionConfig{})
	cfg := clientConfig(t, srv)
	cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
	cfg.Jump = []netconf.JumpHost{hop(b)}
	err := dialErr(t, cfg, 5*time.Second)
	// The router refused the jump host: refused, as without a jump host.
	wantOutcome(t, err, netconf.KindRefused)
	if !strings.Contains(err.Error(), "jump host "+b.Addr()+": cannot reach "+srv.Addr()+": connect failed") {
		t.Errorf("error %q", err)
	}
}

// TestDialJumpDeadlines: ctx bounds the whole path, whichever part of it
// hangs.
func TestDialJumpDeadlines(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) netconf.Config
		want  string
	}{
		{"bastion silent after accept", func(t *testing.T) netconf.Config {
			cfg, _, _ := routerBehind(t, 1)
			silent := newBastion(t, netconftest.BastionConfig{Silent: true})
			cfg.Jump = []netconf.JumpHost{hop(silent)}
			return cfg
		}, "jump host 127.0.0.1:"},
		{"second bastion silent", func(t *testing.T) netconf.Config {
			cfg, _, _ := routerBehind(t, 1)
			silent := newBastion(t, netconftest.BastionConfig{Silent: true})
			cfg.Jump = append(cfg.Jump, hop(silent))
			// The first bastion forwards to the silent one, which also
			// needs to be in known_hosts to be reached at all.
			return cfg
		}, "jump host 127.0.0.1:"},
		{"router silent behind the bastion", func(t *testing.T) netconf.Config {
			srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{SilentAfterAccept: true}})
			b := newBastion(t, netconftest.BastionConfig{})
			cfg := clientConfig(t, srv)
			cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
			cfg.Jump = []netconf.JumpHost{hop(b)}
			return cfg
		}, "ssh handshake with 127.0.0.1:"},
		{"router hangs after hello", func(t *testing.T) netconf.Config {
			srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{StallAfterHandshake: true}})
			b := newBastion(t, netconftest.BastionConfig{})
			cfg := clientConfig(t, srv)
			cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
			cfg.Jump = []netconf.JumpHost{hop(b)}
			return cfg
		}, "netconf hello from 127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.setup(t)
			start := time.Now()
			err := dialErr(t, cfg, 300*time.Millisecond)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Dial took %v with a 300ms deadline", d)
			}
			wantOutcome(t, err, netconf.KindTimeout)
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with %q", err, tt.want)
			}
		})
	}
}

func TestDialJumpCancelled(t *testing.T) {
	cfg, _, _ := routerBehind(t, 1)
	silent := newBastion(t, netconftest.BastionConfig{Silent: true})
	cfg.Jump = []netconf.JumpHost{hop(silent)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := netconf.Dial(ctx, cfg)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		wantOutcome(t, err, netconf.KindTimeout)
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not return after cancel")
	}
}

// TestJumpNoGoroutineLeak: every way a path through jump hosts ends lets
// go of every goroutine. No test in this package runs in parallel.
func TestJumpNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		for _, bc := range []netconftest.BastionConfig{{}, {Silent: true}, {RefuseForwarding: true}, {Users: map[string]string{"x": "y"}}} {
			for _, f := range []netconftest.Fault{{}, {HangAfterHello: true}, {SilentAfterAccept: true}} {
				srv, err := netconftest.NewServer(netconftest.Config{Users: map[string]string{testUser: testPassword}, Fault: f, Handler: netconftest.HandlerFunc(echoHandler)})
				if err != nil {
					t.Fatal(err)
				}
				b, err := netconftest.NewBastion(bc)
				if err != nil {
					t.Fatal(err)
				}
				cfg := clientConfig(t, srv)
				cfg.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine(), b.KnownHostsLine())
				cfg.Jump = []netconf.JumpHost{{Name: b.Host(), Port: b.Port(), User: "x", Credentials: &netconf.Credentials{Password: "y"}}}
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				s, err := netconf.Dial(ctx, cfg)
				if err == nil {
					_, _ = s.RPC(ctx, "<get-route-engine-information/>")
					_ = s.Close(ctx)
				}
				cancel()
				_ = b.Close()
				_ = srv.Close()
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}

// writeUserKey writes a fresh unencrypted ed25519 private key and returns
// its path and public key.
func writeUserKey(t *testing.T, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return p, signer.PublicKey()
}

// TestDialSSHConfig: the router's alias, address, port, user, key and
// known_hosts all come from ssh_config.
func TestDialSSHConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	_, pub := writeUserKey(t, home, "id_router")
	srv := newServer(t, netconftest.Config{AuthorizedKeys: []ssh.PublicKey{pub}, Users: map[string]string{}})
	kh := writeKnownHosts(t, srv.KnownHostsLine())
	conf := filepath.Join(home, "ssh_config")
	text := "Host ams1-core-1\n" +
		"  HostName " + srv.Host() + "\n" +
		"  Port " + strconv.Itoa(srv.Port()) + "\n" +
		"  User " + testUser + "\n" +
		"  IdentityFile ~/id_router\n" +
		"  UserKnownHostsFile " + kh + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := netconf.Config{Host: "ams1-core-1", SSHConfigFile: conf, HostKeyPolicy: netconf.PolicyStrict}
	wantEcho(t, dial(t, cfg))

	// The inventory wins: a wrong known_hosts given in Config is used
	// (and the key is unknown there), and so is a Port.
	other := cfg
	other.KnownHostsFile = writeKnownHosts(t, "")
	err := dialErr(t, other, 5*time.Second)
	wantOutcome(t, err, netconf.KindHostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	other = cfg
	other.Port = closedPort
	err = dialErr(t, other, 5*time.Second)
	wantOutcome(t, err, netconf.KindRefused)
	if !strings.Contains(err.Error(), "dial 127.0.0.1:"+strconv.Itoa(closedPort)) {
		t.Errorf("error %q does not name the inventory's port", err)
	}
}

// TestDialSSHConfigProxyJump: ssh_config's ProxyJump names an alias that
// ssh_config resolves too, with the jump host's own user and key; the
// router keeps the password given in Config.
func TestDialSSHConfigProxyJump(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	_, pub := writeUserKey(t, home, "id_bastion")
	srv := newServer(t, netconftest.Config{})
	b := newBastion(t, netconftest.BastionConfig{
		Users:          map[string]string{},
		AuthorizedKeys: []ssh.PublicKey{pub},
		Hosts:          map[string]string{routerName + ":830": srv.Addr()},
	})
	conf := filepath.Join(home, "ssh_config")
	text := "Host r1\n" +
		"  HostName " + routerName + "\n" +
		"  ProxyJump bastion\n" +
		"Host bastion\n" +
		"  HostName " + b.Host() + "\n" +
		"  Port " + strconv.Itoa(b.Port()) + "\n" +
		"  User " + jumpUser + "\n" +
		"  IdentityFile ~/id_bastion\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := netconf.Config{
		Host: "r1", User: testUser, SSHConfigFile: conf,
		Credentials: netconf.Credentials{Password: testPassword},
		// The router under its real name and port, the bastion under
		// its address.
		KnownHostsFile: writeKnownHosts(t, knownhosts.Line([]string{routerName + ":830"}, srv.HostKey()), b.KnownHostsLine()),
	}
	wantEcho(t, dial(t, cfg))
	if got := b.Forwards(); !slices.Equal(got, []string{routerName + ":830"}) {
		t.Errorf("bastion forwarded %q", got)
	}

	// jump: none in the inventory: direct, whatever ProxyJump says.
	none := cfg
	none.Jump = []netconf.JumpHost{}
	none.SSHConfigFile = writeSSHConfig(t, "Host r1\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(srv.Port())+"\n  ProxyJump bastion\n")
	none.KnownHostsFile = writeKnownHosts(t, srv.KnownHostsLine())
	wantEcho(t, dial(t, none))
	if got := b.Forwards(); len(got) != 1 {
		t.Errorf("bastion forwarded %q with jump: none", got)
	}
}

func writeSSHConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
