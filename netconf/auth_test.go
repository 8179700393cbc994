package netconf

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// hkUserKey is a client key: the raw private key (for the agent), its
// signer and its public key.
type hkUserKey struct {
	priv   ed25519.PrivateKey
	signer ssh.Signer
}

func (k hkUserKey) pub() ssh.PublicKey { return k.signer.PublicKey() }
func (k hkUserKey) fp() string         { return ssh.FingerprintSHA256(k.pub()) }

func hkNewUserKey(t *testing.T) hkUserKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return hkUserKey{priv: priv, signer: s}
}

// hkWriteKey writes k, unencrypted, in OpenSSH format.
func hkWriteKey(t *testing.T, k hkUserKey) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(k.priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return hkWritePEM(t, pem.EncodeToMemory(block))
}

func hkWritePEM(t *testing.T, pemBytes []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Encrypted keys made with "ssh-keygen -t ed25519 -a 1 -N <passphrase>":
// one bcrypt round, because x/crypto's MarshalPrivateKeyWithPassphrase
// always uses 16, which takes over ten seconds per key under -race.
const (
	hkFixturePassA = "fixture-pass"
	hkFixtureKeyA  = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDhDwsAZ3
9LK22Dp+vq+cMNAAAAAQAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIDc7XLsapilROemM
8MLa4b26TzaTINrZ9YUZ/c9A+HaLAAAAkPkypUduX3KNTmgZt6gJaX0BO7YvGKfnB9BTPI
lSWvm6XFunjgIUFGjEWTQ8H5d1ywEyBd1cbFxt+oJyHwvM23kk50MdNXOdVnI7LXkWgxyl
jzCBLycv43Oqa0KQ8L34nvBePEAUmHZS5QOA+deQ9oikKg8o34+tgw1RWue475wn5wAHVH
w+bcPCWS9BwyKWAA==
-----END OPENSSH PRIVATE KEY-----
`
	// hkFixturePassB is the unique passphrase of TestAuthSecretsNeverLeak.
	hkFixturePassB = "PP-b81e42-unique"
	hkFixtureKeyB  = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBulvF1Me
qlFpzUgv5nH3XVAAAAAQAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIBHxITse06ZP9Afa
qDh7hBrmP4Q7x58vnOTToztxw3MXAAAAkBp9mU9JBYtY/AoOjqD8ANMtnUiicbFP3nvSXs
NimwYM97jp/jgiFXjGL0ghZTyZIjQl8EHjIRR0xUhFDPDoAWIaV4mIM3ZTE8n0d6lj7ec3
mBqot5myNh5brOCecLzozEfDomW3G49ms+9K4HBqbsBq4Rxtpze6hk4gwAqQSgnuOlDt2B
BL2Td59caUOFXTLQ==
-----END OPENSSH PRIVATE KEY-----
`
)

// hkFixturePub decrypts a fixture to learn its public key.
func hkFixturePub(t *testing.T, pemText, passphrase string) ssh.PublicKey {
	t.Helper()
	s, err := ssh.ParsePrivateKeyWithPassphrase([]byte(pemText), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

// hkStartAgent serves an ssh-agent keyring holding keys on a unix socket.
func hkStartAgent(t *testing.T, keys ...hkUserKey) string {
	t.Helper()
	// os.MkdirTemp, not t.TempDir: subtest names make paths longer than
	// a unix socket address may be.
	dir, err := os.MkdirTemp("", "hkagent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k.priv}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = agent.ServeAgent(keyring, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock
}

// hkLogin connects to srv with creds (host key checking off: these tests
// are about authentication) and returns the dial error.
func hkLogin(t *testing.T, srv *hkServer, creds Credentials) error {
	t.Helper()
	methods, closeAuth, err := creds.authMethods()
	if err != nil {
		t.Fatalf("authMethods: %v", err)
	}
	defer closeAuth()
	return hkDial(t, srv.addr(), &ssh.ClientConfig{
		Auth:            methods,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
}

func TestAuthPassword(t *testing.T) {
	srv := newHKServer(t, hkAuth{password: "s3cret-pw"}, hkEd25519(t))
	if err := hkLogin(t, srv, Credentials{Password: "s3cret-pw"}); err != nil {
		t.Fatalf("password login: %v", err)
	}
	if got := srv.success(); got != "password" {
		t.Errorf("succeeded with %q, want password", got)
	}
	if err := hkLogin(t, srv, Credentials{Password: "wrong"}); err == nil {
		t.Error("wrong password accepted")
	}
}

// TestAuthKeyboardInteractive: a Junos-like server that offers only
// keyboard-interactive gets the password for the echo-off prompt.
func TestAuthKeyboardInteractive(t *testing.T) {
	srv := newHKServer(t, hkAuth{kbd: "kbd-pw"}, hkEd25519(t))
	if err := hkLogin(t, srv, Credentials{Password: "kbd-pw"}); err != nil {
		t.Fatalf("keyboard-interactive login: %v", err)
	}
	if got := srv.success(); got != "keyboard-interactive" {
		t.Errorf("succeeded with %q, want keyboard-interactive", got)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.kbdAnswer) != 1 || !slices.Equal(srv.kbdAnswer[0], []string{"", "kbd-pw"}) {
		t.Errorf("answers = %q, want the password only for the echo-off question", srv.kbdAnswer)
	}
}

func TestAuthKeyFile(t *testing.T) {
	key := hkNewUserKey(t)
	encPub := hkFixturePub(t, hkFixtureKeyA, hkFixturePassA)
	srv := newHKServer(t, hkAuth{keys: []ssh.PublicKey{key.pub(), encPub}}, hkEd25519(t))

	t.Run("unencrypted", func(t *testing.T) {
		if err := hkLogin(t, srv, Credentials{KeyFile: hkWriteKey(t, key)}); err != nil {
			t.Fatalf("key login: %v", err)
		}
		if got := srv.success(); got != "publickey:"+key.fp() {
			t.Errorf("succeeded with %q", got)
		}
	})
	t.Run("encrypted with passphrase", func(t *testing.T) {
		creds := Credentials{KeyFile: hkWritePEM(t, []byte(hkFixtureKeyA)), Passphrase: hkFixturePassA}
		if err := hkLogin(t, srv, creds); err != nil {
			t.Fatalf("encrypted key login: %v", err)
		}
		if got := srv.success(); got != "publickey:"+ssh.FingerprintSHA256(encPub) {
			t.Errorf("succeeded with %q", got)
		}
	})
	t.Run("tilde path", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("HOME", home)
		path := hkWriteKey(t, key)
		if err := os.Rename(path, filepath.Join(home, "id")); err != nil {
			t.Fatal(err)
		}
		if err := hkLogin(t, srv, Credentials{KeyFile: "~/id"}); err != nil {
			t.Fatalf("key login via ~/: %v", err)
		}
		srv.success()
	})
}

func TestAuthKeyFileErrors(t *testing.T) {
	encrypted := hkWritePEM(t, []byte(hkFixtureKeyA))
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")

	tests := []struct {
		name  string
		creds Credentials
		want  []string
	}{
		{"encrypted without passphrase", Credentials{KeyFile: encrypted}, []string{"key file " + encrypted + " is encrypted: set passphrase_env"}},
		{"wrong passphrase", Credentials{KeyFile: encrypted, Passphrase: "wrong"}, []string{encrypted, "wrong passphrase"}},
		{"garbage", Credentials{KeyFile: garbage}, []string{garbage}},
		{"missing", Credentials{KeyFile: missing}, []string{missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			methods, closeAuth, err := tt.creds.authMethods()
			if err == nil || methods != nil {
				t.Fatalf("authMethods = %d methods, %v; want an error", len(methods), err)
			}
			closeAuth() // never nil
			hkContainsAll(t, err.Error(), tt.want...)
		})
	}
}

func TestAuthAgent(t *testing.T) {
	key := hkNewUserKey(t)
	srv := newHKServer(t, hkAuth{keys: []ssh.PublicKey{key.pub()}}, hkEd25519(t))
	sock := hkStartAgent(t, key)

	t.Run("socket", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", "")
		if err := hkLogin(t, srv, Credentials{Agent: true, AgentSocket: sock}); err != nil {
			t.Fatalf("agent login: %v", err)
		}
		if got := srv.success(); got != "publickey:"+key.fp() {
			t.Errorf("succeeded with %q", got)
		}
	})
	t.Run("SSH_AUTH_SOCK", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", sock)
		if err := hkLogin(t, srv, Credentials{Agent: true}); err != nil {
			t.Fatalf("agent login: %v", err)
		}
		srv.success()
	})
	t.Run("no socket", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", "")
		_, closeAuth, err := Credentials{Agent: true, Password: "pw"}.authMethods()
		closeAuth()
		if err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
			t.Errorf("err = %v, want one naming SSH_AUTH_SOCK", err)
		}
	})
	t.Run("dead socket", func(t *testing.T) {
		dead := filepath.Join(t.TempDir(), "dead.sock")
		_, closeAuth, err := Credentials{Agent: true, AgentSocket: dead}.authMethods()
		closeAuth()
		if err == nil || !strings.Contains(err.Error(), dead) {
			t.Errorf("err = %v, want one naming %s", err, dead)
		}
	})
}

// TestAuthOrder: with key, agent and password all configured, the server
// sees them in that order, and each is reached when the ones before it are
// refused. The agent case matters: x/crypto tries each method name once, so
// an agent offered as a second "publickey" method would never be asked.
func TestAuthOrder(t *testing.T) {
	fileKey, agentKey := hkNewUserKey(t), hkNewUserKey(t)
	sock := hkStartAgent(t, agentKey)
	creds := Credentials{KeyFile: hkWriteKey(t, fileKey), Agent: true, AgentSocket: sock, Password: "pw"}

	tests := []struct {
		name         string
		auth         hkAuth
		wantAttempts []string
		wantSuccess  string
	}{
		{"key first",
			hkAuth{keys: []ssh.PublicKey{fileKey.pub(), agentKey.pub()}, password: "pw"},
			[]string{"publickey:" + fileKey.fp()}, "publickey:" + fileKey.fp()},
		{"agent after a refused key",
			hkAuth{keys: []ssh.PublicKey{agentKey.pub()}, password: "pw"},
			[]string{"publickey:" + fileKey.fp(), "publickey:" + agentKey.fp()}, "publickey:" + agentKey.fp()},
		{"password last",
			hkAuth{keys: []ssh.PublicKey{hkNewUserKey(t).pub()}, password: "pw"},
			[]string{"publickey:" + fileKey.fp(), "publickey:" + agentKey.fp(), "password"}, "password"},
		{"keyboard-interactive after password",
			hkAuth{keys: []ssh.PublicKey{hkNewUserKey(t).pub()}, password: "not-this", kbd: "pw"},
			[]string{"publickey:" + fileKey.fp(), "publickey:" + agentKey.fp(), "password", "keyboard-interactive"}, "keyboard-interactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHKServer(t, tt.auth, hkEd25519(t))
			if err := hkLogin(t, srv, creds); err != nil {
				t.Fatalf("login: %v", err)
			}
			if got := srv.success(); got != tt.wantSuccess {
				t.Errorf("succeeded with %q, want %q", got, tt.wantSuccess)
			}
			if got := srv.attemptLog(); !slices.Equal(got, tt.wantAttempts) {
				t.Errorf("attempts = %q, want %q", got, tt.wantAttempts)
			}
		})
	}
}

func TestAuthNothingConfigured(t *testing.T) {
	methods, closeAuth, err := Credentials{AgentSocket: "/ignored/without/agent"}.authMethods()
	if err == nil || methods != nil || closeAuth == nil {
		t.Fatalf("authMethods = %v, %v; want an error and a non-nil close", methods, err)
	}
	closeAuth()
	hkContainsAll(t, err.Error(), "no SSH authentication configured")
}

// TestAuthSecretsNeverLeak drives every error path with unique secret
// values and checks no error, log line or printed form contains them.
func TestAuthSecretsNeverLeak(t *testing.T) {
	// Untyped constants become devices.Secret in Credentials.
	const (
		password   = "PW-7f3a9c-unique"
		passphrase = hkFixturePassB
	)
	right := hkWritePEM(t, []byte(hkFixtureKeyA))         // passphrase is wrong for it
	ownPassphrase := hkWritePEM(t, []byte(hkFixtureKeyB)) // encrypted with passphrase
	garbage := filepath.Join(t.TempDir(), "garbage")
	// A "key" whose content is the secret: parse errors must not quote it.
	if err := os.WriteFile(garbage, []byte(passphrase+"\n"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")

	var msgs []string
	record := func(what string, err error) {
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		msgs = append(msgs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}

	configErrors := []Credentials{
		{KeyFile: right, Passphrase: passphrase, Password: password},                           // wrong passphrase
		{KeyFile: ownPassphrase, Password: password},                                           // passphrase missing
		{KeyFile: garbage, Passphrase: passphrase, Password: password},                         // unparsable
		{KeyFile: filepath.Join(t.TempDir(), "x"), Passphrase: passphrase, Password: password}, // missing file
		{Agent: true, Passphrase: passphrase, Password: password},                              // no socket
		{Agent: true, AgentSocket: filepath.Join(t.TempDir(), "s"), Password: password},        // dead socket
		{Passphrase: passphrase}, // nothing usable
	}
	for i, c := range configErrors {
		_, closeAuth, err := c.authMethods()
		closeAuth()
		record(fmt.Sprintf("config %d", i), err)
	}

	// Refused at the server: wrong password over password and
	// keyboard-interactive, and a key the server does not know.
	srv := newHKServer(t, hkAuth{password: "other", kbd: "other", keys: []ssh.PublicKey{hkNewUserKey(t).pub()}}, hkEd25519(t))
	record("refused login", hkLogin(t, srv, Credentials{KeyFile: ownPassphrase, Passphrase: passphrase, Password: password}))

	// Host key errors with credentials around.
	file := filepath.Join(t.TempDir(), "known_hosts")
	record("unknown host key", hkCheckAndDial(t, srv, file, PolicyStrict, nil))

	// Printed and logged forms of the credentials.
	creds := Credentials{KeyFile: ownPassphrase, Passphrase: passphrase, Password: password}
	msgs = append(msgs, fmt.Sprintf("%v %+v %#v", creds, creds, creds), fmt.Sprint(creds), fmt.Sprintln(creds))
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("creds", "creds", creds, "pw", creds.Password)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("creds", "creds", creds, "pw", creds.Password)
	msgs = append(msgs, logBuf.String())

	for _, m := range msgs {
		if strings.Contains(m, password) || strings.Contains(m, passphrase) {
			t.Errorf("secret leaked: %s", m)
		}
	}
	if len(msgs) < 10 {
		t.Fatalf("only %d messages checked", len(msgs))
	}
}
