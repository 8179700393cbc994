package netconf

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// The helpers below carry an "hk" prefix so they cannot collide with test
// helpers other files of package netconf define.

// hkAuth configures which client authentication the test server accepts.
// With every field empty the server needs no authentication.
type hkAuth struct {
	password string          // accepted by "password"
	kbd      string          // accepted by "keyboard-interactive"
	keys     []ssh.PublicKey // accepted by "publickey"
}

// hkServer is a real x/crypto/ssh server on 127.0.0.1. It records every
// authentication attempt in order and reports each successful method.
type hkServer struct {
	t    *testing.T
	ln   net.Listener
	host string
	port int
	auth hkAuth

	mu        sync.Mutex
	hostKeys  []ssh.Signer
	attempts  []string
	conns     map[net.Conn]struct{}
	kbdAnswer [][]string

	successes chan string
	wg        sync.WaitGroup
}

func newHKServer(t *testing.T, auth hkAuth, hostKeys ...ssh.Signer) *hkServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &hkServer{
		t: t, ln: ln, host: "127.0.0.1", port: ln.Addr().(*net.TCPAddr).Port, auth: auth,
		hostKeys: hostKeys, conns: map[net.Conn]struct{}{}, successes: make(chan string, 100),
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *hkServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// setHostKeys replaces the host keys for later connections, as a router
// whose keys were regenerated.
func (s *hkServer) setHostKeys(keys ...ssh.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostKeys = keys
}

func (s *hkServer) recordAttempt(a string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, a)
}

func (s *hkServer) attemptLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// success waits for the server to report the method of the next successful
// login; a channel, not a sleep, since the server finishes after the client.
func (s *hkServer) success() string {
	s.t.Helper()
	select {
	case m := <-s.successes:
		return m
	case <-time.After(10 * time.Second):
		s.t.Fatal("server reported no successful login")
		return ""
	}
}

func (s *hkServer) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{}
	a := s.auth
	if a.password == "" && a.kbd == "" && len(a.keys) == 0 {
		cfg.NoClientAuth = true
	}
	perm := func(method string) *ssh.Permissions {
		return &ssh.Permissions{Extensions: map[string]string{"method": method}}
	}
	if a.password != "" {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			s.recordAttempt("password")
			if string(pw) != a.password {
				return nil, errors.New("wrong password")
			}
			return perm("password"), nil
		}
	}
	if a.kbd != "" {
		cfg.KeyboardInteractiveCallback = func(_ ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			s.recordAttempt("keyboard-interactive")
			// An echoed question first, then Junos' "Password:".
			answers, err := ch("", "", []string{"Account: ", "Password: "}, []bool{true, false})
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			s.kbdAnswer = append(s.kbdAnswer, answers)
			s.mu.Unlock()
			if len(answers) != 2 || answers[0] != "" || answers[1] != a.kbd {
				return nil, errors.New("wrong answers")
			}
			return perm("keyboard-interactive"), nil
		}
	}
	if len(a.keys) > 0 {
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			fp := ssh.FingerprintSHA256(key)
			s.recordAttempt("publickey:" + fp)
			for _, k := range a.keys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return perm("publickey:" + fp), nil
				}
			}
			return nil, errors.New("unknown key")
		}
	}
	s.mu.Lock()
	for _, k := range s.hostKeys {
		cfg.AddHostKey(k)
	}
	s.mu.Unlock()
	return cfg
}

func (s *hkServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				_ = c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			sc, chans, reqs, err := ssh.NewServerConn(c, s.config())
			if err != nil {
				return
			}
			method := "none"
			if sc.Permissions != nil && sc.Permissions.Extensions["method"] != "" {
				method = sc.Permissions.Extensions["method"]
			}
			s.successes <- method
			go ssh.DiscardRequests(reqs)
			for ch := range chans {
				_ = ch.Reject(ssh.Prohibited, "test server")
			}
			_ = sc.Wait()
		}()
	}
}

// hkDial performs a full SSH handshake and login with cfg, then closes.
func hkDial(t *testing.T, addr string, cfg *ssh.ClientConfig) error {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		// Returned, not t.Fatal: callers run this in goroutines.
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer func() { _ = c.Close() }()
	// Bounds the test if something hangs; the library has no handshake timeout.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if cfg.User == "" {
		cfg.User = "netconf"
	}
	sc, chans, reqs, err := ssh.NewClientConn(c, addr, cfg)
	if err != nil {
		return err
	}
	return ssh.NewClient(sc, chans, reqs).Close()
}

// hkCheckAndDial runs hostKeyCheck for the server, then dials with the
// returned callback and algorithms.
func hkCheckAndDial(t *testing.T, s *hkServer, file string, policy HostKeyPolicy, log *slog.Logger) error {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cb, algos, err := hostKeyCheck(s.host, s.port, file, policy, log)
	if err != nil {
		t.Fatalf("hostKeyCheck: %v", err)
	}
	return hkDial(t, s.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos})
}

// hkSyncBuffer is a bytes.Buffer safe for the concurrent writes of a
// logger shared by goroutines.
type hkSyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *hkSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *hkSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func hkEd25519(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hkECDSA(t *testing.T) ssh.Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hkRSA(t *testing.T) ssh.Signer {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hkWriteFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hkReadLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func hkHostKeyError(t *testing.T, err error) *HostKeyError {
	t.Helper()
	var herr *HostKeyError
	if !errors.As(err, &herr) {
		t.Fatalf("want a *HostKeyError, got %v", err)
	}
	return herr
}

func hkContainsAll(t *testing.T, msg string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not contain %q", msg, w)
		}
	}
}

func TestParseHostKeyPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    HostKeyPolicy
		wantErr bool
	}{
		{"", PolicyStrict, false},
		{"strict", PolicyStrict, false},
		{"accept-new", PolicyAcceptNew, false},
		{"off", PolicyOff, false},
		{" Accept-New ", PolicyAcceptNew, false},
		{"OFF", PolicyOff, false},
		{"yes", "", true},
		{"no", "", true},
		{"false", "", true},
		{"accept_new", "", true},
		{"strictly", "", true},
	}
	for _, tt := range tests {
		got, err := ParseHostKeyPolicy(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseHostKeyPolicy(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "accept-new") {
			t.Errorf("ParseHostKeyPolicy(%q) error %q does not list the valid values", tt.in, err)
		}
	}
}

func TestHostKeyCheckStrictUnknown(t *testing.T) {
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	label := "[127.0.0.1]:" + strconv.Itoa(srv.port)
	fp := ssh.FingerprintSHA256(key.PublicKey())

	t.Run("empty file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "known_hosts")
		other := hkEd25519(t)
		// Known for port 22 and for another port: neither applies to srv.port.
		hkWriteFile(t, file,
			knownhosts.Line([]string{"127.0.0.1"}, other.PublicKey()),
			knownhosts.Line([]string{"127.0.0.1:1"}, other.PublicKey()))
		cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyStrict, nil)
		if err != nil {
			t.Fatal(err)
		}
		if algos != nil {
			t.Errorf("algorithms for an unknown host = %v, want nil", algos)
		}
		err = hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos})
		herr := hkHostKeyError(t, err)
		if !herr.Unknown || herr.Host != label || len(herr.Expected) != 0 || herr.Offered != "ssh-ed25519 "+fp {
			t.Errorf("HostKeyError = %+v", herr)
		}
		hkContainsAll(t, herr.Error(), label, fp, "unknown", file, "accept-new",
			"ssh-keyscan -p "+strconv.Itoa(srv.port)+" 127.0.0.1")
		if got := hkReadLines(t, file); len(got) != 2 {
			t.Errorf("strict modified known_hosts: %q", got)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "nope", "known_hosts")
		err := hkCheckAndDial(t, srv, file, "", nil) // "" is strict
		herr := hkHostKeyError(t, err)
		if !herr.Unknown {
			t.Errorf("HostKeyError = %+v, want Unknown", herr)
		}
		hkContainsAll(t, herr.Error(), file, "does not exist", fp)
		if _, err := os.Stat(filepath.Dir(file)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("strict created %s: %v", filepath.Dir(file), err)
		}
	})
}

func TestHostKeyCheckStrictKnown(t *testing.T) {
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	line := knownhosts.Line([]string{srv.addr()}, key.PublicKey())
	if want := "[127.0.0.1]:" + strconv.Itoa(srv.port) + " ssh-ed25519 "; !strings.HasPrefix(line, want) {
		t.Fatalf("known_hosts line %q does not start with %q", line, want)
	}

	tests := map[string]string{
		"bracketed port": line,
		"hashed":         knownhosts.HashHostname(knownhosts.Normalize(srv.addr())) + " " + strings.SplitN(line, " ", 2)[1],
		"pattern list":   "router9,[127.0.0.1]:" + strconv.Itoa(srv.port) + " " + strings.SplitN(line, " ", 2)[1],
	}
	for name, entry := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "known_hosts")
			hkWriteFile(t, file, "# comment", knownhosts.Line([]string{"10.0.0.1:830"}, hkEd25519(t).PublicKey()), entry)
			cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyStrict, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(algos, []string{ssh.KeyAlgoED25519}) {
				t.Errorf("algorithms = %v, want [ssh-ed25519]", algos)
			}
			if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos}); err != nil {
				t.Fatalf("dial with a known key: %v", err)
			}
		})
	}
}

func TestHostKeyCheckChanged(t *testing.T) {
	key, old := hkEd25519(t), hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hkWriteFile(t, file, knownhosts.Line([]string{srv.addr()}, old.PublicKey()))
	label := "[127.0.0.1]:" + strconv.Itoa(srv.port)
	oldFP, newFP := ssh.FingerprintSHA256(old.PublicKey()), ssh.FingerprintSHA256(key.PublicKey())

	for _, policy := range []HostKeyPolicy{PolicyStrict, PolicyAcceptNew} {
		t.Run(string(policy), func(t *testing.T) {
			herr := hkHostKeyError(t, hkCheckAndDial(t, srv, file, policy, nil))
			if herr.Unknown || herr.Host != label ||
				!slices.Equal(herr.Expected, []string{"ssh-ed25519 " + oldFP}) || herr.Offered != "ssh-ed25519 "+newFP {
				t.Errorf("HostKeyError = %+v", herr)
			}
			hkContainsAll(t, herr.Error(), label, oldFP, newFP, "CHANGED", "ssh-keygen -R '"+label+"'", file)
			if got := hkReadLines(t, file); len(got) != 1 {
				t.Errorf("known_hosts was modified: %q", got)
			}
		})
	}
}

func TestHostKeyCheckRevoked(t *testing.T) {
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hkWriteFile(t, file,
		knownhosts.Line([]string{srv.addr()}, key.PublicKey()),
		"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key.PublicKey()))))
	for _, policy := range []HostKeyPolicy{PolicyStrict, PolicyAcceptNew} {
		t.Run(string(policy), func(t *testing.T) {
			err := hkCheckAndDial(t, srv, file, policy, nil)
			herr := hkHostKeyError(t, err)
			hkContainsAll(t, herr.Error(), "revoked", ssh.FingerprintSHA256(key.PublicKey()), file)
		})
	}
}

// TestHostKeyCheckAcceptNewConcurrent has 20 connections meet the same new
// host at once. They use separate file descriptors, so only flock keeps them
// apart, exactly as it does between processes.
func TestHostKeyCheckAcceptNewConcurrent(t *testing.T) {
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	file := filepath.Join(t.TempDir(), "known_hosts")
	// A hand-edited file whose last line has no newline.
	unrelated := knownhosts.Line([]string{"router1"}, hkEd25519(t).PublicKey())
	if err := os.WriteFile(file, []byte(unrelated), 0o600); err != nil {
		t.Fatal(err)
	}

	var logBuf hkSyncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	const n = 20
	type check struct {
		cb    ssh.HostKeyCallback
		algos []string
	}
	// Every checker reads the file before anyone writes, so all 20 see an
	// unknown host and all 20 reach the locked path.
	checks := make([]check, n)
	for i := range checks {
		cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyAcceptNew, log)
		if err != nil {
			t.Fatal(err)
		}
		if algos != nil {
			t.Fatalf("algorithms for a new host = %v, want nil", algos)
		}
		checks[i] = check{cb, algos}
	}
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: c.cb, HostKeyAlgorithms: c.algos})
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("accept-new dial: %v", err)
		}
	}

	lines := hkReadLines(t, file)
	want := []string{unrelated, knownhosts.Line([]string{srv.addr()}, key.PublicKey())}
	if !slices.Equal(lines, want) {
		t.Fatalf("known_hosts =\n%s\nwant exactly one new line:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got := strings.Count(logBuf.String(), "added new host key"); got != 1 {
		t.Errorf("%d \"added\" log lines, want 1:\n%s", got, logBuf.String())
	}

	// The accepted key is now enforced: strict connects, and a new key
	// on the same host is refused under accept-new too.
	if err := hkCheckAndDial(t, srv, file, PolicyStrict, nil); err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
	srv.setHostKeys(hkEd25519(t))
	herr := hkHostKeyError(t, hkCheckAndDial(t, srv, file, PolicyAcceptNew, nil))
	if herr.Unknown {
		t.Errorf("changed key reported as unknown: %v", herr)
	}
	if got := hkReadLines(t, file); !slices.Equal(got, want) {
		t.Errorf("a changed key modified known_hosts: %q", got)
	}
}

// TestHostKeyCheckAcceptNewProcesses: several processes (this test binary,
// re-executed) meet the same new host at once; flock keeps it to one line.
func TestHostKeyCheckAcceptNewProcesses(t *testing.T) {
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	file := filepath.Join(t.TempDir(), "known_hosts")

	const procs = 4
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	children := make([]child, procs)
	for i := range children {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHostKeyAcceptNewChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HK_CHILD_ADDR="+srv.addr(), "HK_CHILD_FILE="+file)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = child{cmd, stdin, bufio.NewReader(stdout)}
	}
	// Barrier: every child has read the (missing) file and reports ready;
	// closing their stdin releases them together.
	for i, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("child %d: %q, %v", i, line, err)
		}
	}
	for _, c := range children {
		_ = c.stdin.Close()
	}
	for i, c := range children {
		rest, _ := io.ReadAll(c.out)
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, rest)
		}
	}
	want := []string{knownhosts.Line([]string{srv.addr()}, key.PublicKey())}
	if got := hkReadLines(t, file); !slices.Equal(got, want) {
		t.Errorf("known_hosts = %q, want exactly %q", got, want)
	}
}

// TestHostKeyAcceptNewChild is the child side of
// TestHostKeyCheckAcceptNewProcesses; it does nothing on its own.
func TestHostKeyAcceptNewChild(t *testing.T) {
	addr, file := os.Getenv("HK_CHILD_ADDR"), os.Getenv("HK_CHILD_FILE")
	if addr == "" || file == "" {
		t.Skip("child process of TestHostKeyCheckAcceptNewProcesses")
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines = 5
	cbs := make([]ssh.HostKeyCallback, goroutines)
	for i := range cbs {
		if cbs[i], _, err = hostKeyCheck(host, port, file, PolicyAcceptNew, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	var wg sync.WaitGroup
	for _, cb := range cbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hkDial(t, addr, &ssh.ClientConfig{HostKeyCallback: cb}); err != nil {
				t.Errorf("dial: %v", err)
			}
		}()
	}
	wg.Wait()
}

// TestHostKeyCheckAcceptNewOtherWriter: another process adds a different
// key between our read and our write; the re-read under the lock must
// see it and refuse.
func TestHostKeyCheckAcceptNewOtherWriter(t *testing.T) {
	key, theirs := hkEd25519(t), hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)
	file := filepath.Join(t.TempDir(), "known_hosts")
	cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyAcceptNew, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hkWriteFile(t, file, knownhosts.Line([]string{srv.addr()}, theirs.PublicKey()))
	err = hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos})
	herr := hkHostKeyError(t, err)
	if herr.Unknown || !slices.Equal(herr.Expected, []string{describeKey(theirs.PublicKey())}) {
		t.Errorf("HostKeyError = %+v, want changed", herr)
	}
	if got := hkReadLines(t, file); len(got) != 1 {
		t.Errorf("known_hosts = %q, want the other writer's line only", got)
	}

	// The other writer added the very key we were offered (and the file
	// did not even exist when we read it): accepted, nothing appended.
	file = filepath.Join(t.TempDir(), "known_hosts")
	cb, algos, err = hostKeyCheck(srv.host, srv.port, file, PolicyAcceptNew, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hkWriteFile(t, file, knownhosts.Line([]string{srv.addr()}, key.PublicKey()))
	if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos}); err != nil {
		t.Fatalf("key added by another writer: %v", err)
	}
	if got := hkReadLines(t, file); len(got) != 1 {
		t.Errorf("known_hosts = %q, want one line", got)
	}
}

func TestHostKeyCheckAcceptNewCreatesFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	key := hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, key)

	if err := hkCheckAndDial(t, srv, "", PolicyAcceptNew, nil); err != nil {
		t.Fatalf("accept-new with no known_hosts: %v", err)
	}
	file := filepath.Join(home, ".ssh", "known_hosts")
	for path, want := range map[string]os.FileMode{filepath.Dir(file): 0o700, file: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", path, got, want)
		}
	}
	// "~/" names the same file.
	cb, algos, err := hostKeyCheck(srv.host, srv.port, "~/.ssh/known_hosts", PolicyStrict, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(algos, []string{ssh.KeyAlgoED25519}) {
		t.Errorf("algorithms = %v", algos)
	}
	if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos}); err != nil {
		t.Fatalf("strict after accept-new created the file: %v", err)
	}
}

func TestHostKeyCheckOff(t *testing.T) {
	srv := newHKServer(t, hkAuth{}, hkEd25519(t))
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	file := filepath.Join(t.TempDir(), "known_hosts")

	cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyOff, log)
	if err != nil {
		t.Fatal(err)
	}
	if algos != nil {
		t.Errorf("algorithms = %v, want nil", algos)
	}
	for range 2 {
		if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb}); err != nil {
			t.Fatalf("dial with checking off: %v", err)
		}
	}
	out := buf.String()
	if got := strings.Count(out, "host key checking is off"); got != 2 {
		t.Errorf("%d warnings, want one per connection:\n%s", got, out)
	}
	hkContainsAll(t, out, "level=WARN", "host=[127.0.0.1]:"+strconv.Itoa(srv.port), "SHA256:")
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("policy off touched known_hosts: %v", err)
	}
}

// TestHostKeyAlgorithmsPreferKnownType: the router has ECDSA and Ed25519
// host keys, known_hosts only the Ed25519 one. x/crypto prefers ECDSA, so
// only the returned algorithms avoid a false "changed key".
func TestHostKeyAlgorithmsPreferKnownType(t *testing.T) {
	ec, ed := hkECDSA(t), hkEd25519(t)
	srv := newHKServer(t, hkAuth{}, ec, ed)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hkWriteFile(t, file, knownhosts.Line([]string{srv.addr()}, ed.PublicKey()))

	cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyStrict, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(algos, []string{ssh.KeyAlgoED25519}) {
		t.Fatalf("algorithms = %v, want [ssh-ed25519]", algos)
	}
	if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos}); err != nil {
		t.Fatalf("dial with the known algorithms: %v", err)
	}

	err = hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb})
	herr := hkHostKeyError(t, err)
	if herr.Unknown || !strings.HasPrefix(herr.Offered, ssh.KeyAlgoECDSA256+" ") {
		t.Errorf("without the algorithms: %+v, want a changed-key error for the ECDSA key", herr)
	}
}

func TestHostKeyAlgorithmsRSA(t *testing.T) {
	rsaKey, ec := hkRSA(t), hkECDSA(t)
	srv := newHKServer(t, hkAuth{}, ec, rsaKey)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hkWriteFile(t, file, knownhosts.Line([]string{srv.addr()}, rsaKey.PublicKey()))

	cb, algos, err := hostKeyCheck(srv.host, srv.port, file, PolicyStrict, nil)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-1 signatures (ssh-rsa) only with legacy_algorithms: see
	// clientAlgorithms.
	want := []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	if !slices.Equal(algos, want) {
		t.Fatalf("algorithms = %v, want %v", algos, want)
	}
	if err := hkDial(t, srv.addr(), &ssh.ClientConfig{HostKeyCallback: cb, HostKeyAlgorithms: algos}); err != nil {
		t.Fatalf("dial with an RSA known key: %v", err)
	}
}

// TestHostKeyCheckLabels covers entries a loopback server cannot: IPv6,
// port 22 (no brackets) and several key types for one host, by calling the
// callback directly.
func TestHostKeyCheckLabels(t *testing.T) {
	ed, ec, other := hkEd25519(t), hkECDSA(t), hkEd25519(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	hkWriteFile(t, file,
		knownhosts.Line([]string{"[2001:db8::1]:830"}, ed.PublicKey()),
		knownhosts.Line([]string{"[2001:db8::1]:830"}, ec.PublicKey()),
		knownhosts.Line([]string{"[2001:db8::1]:830"}, ed.PublicKey()), // duplicates happen
		knownhosts.Line([]string{"router1"}, ed.PublicKey()))

	tests := []struct {
		host      string
		port      int
		wantLabel string
		wantAlgos []string
	}{
		{"2001:db8::1", 830, "[2001:db8::1]:830", []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256}},
		{"[2001:db8::1]", 830, "[2001:db8::1]:830", []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256}},
		{"router1", 22, "router1", []string{ssh.KeyAlgoED25519}},
		{"router1", 830, "[router1]:830", nil},
	}
	for _, tt := range tests {
		cb, algos, err := hostKeyCheck(tt.host, tt.port, file, PolicyStrict, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(algos, tt.wantAlgos) {
			t.Errorf("%s port %d: algorithms = %v, want %v", tt.host, tt.port, algos, tt.wantAlgos)
		}
		// The address the library passes is ignored: host and port given
		// to hostKeyCheck decide.
		if tt.wantAlgos != nil {
			if err := cb("elsewhere:22", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}, ed.PublicKey()); err != nil {
				t.Errorf("%s port %d: known key refused: %v", tt.host, tt.port, err)
			}
		}
		herr := hkHostKeyError(t, cb("", nil, other.PublicKey()))
		if herr.Host != tt.wantLabel {
			t.Errorf("%s port %d: Host = %q, want %q", tt.host, tt.port, herr.Host, tt.wantLabel)
		}
		if tt.wantAlgos != nil && (herr.Unknown || len(herr.Expected) == 0) {
			t.Errorf("%s port %d: %+v, want changed", tt.host, tt.port, herr)
		}
	}
}

func TestHostKeyCheckInvalid(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	hkWriteFile(t, garbage, "this is not a known_hosts line")
	tests := []struct {
		name   string
		host   string
		port   int
		file   string
		policy HostKeyPolicy
		want   string
	}{
		{"bad policy", "r1", 830, "", "yes", "host_key_policy"},
		{"empty host", "", 830, "", PolicyStrict, "empty host"},
		{"wildcard host", "r*", 830, "", PolicyAcceptNew, "invalid host name"},
		{"host list", "r1,r2", 830, "", PolicyAcceptNew, "invalid host name"},
		{"port zero", "r1", 0, "", PolicyStrict, "invalid port 0"},
		{"port too big", "r1", 70000, "", PolicyStrict, "invalid port"},
		{"directory", "r1", 830, dir, PolicyStrict, dir},
		{"garbage", "r1", 830, garbage, PolicyAcceptNew, garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, _, err := hostKeyCheck(tt.host, tt.port, tt.file, tt.policy, nil)
			if err == nil || cb != nil {
				t.Fatalf("hostKeyCheck = %v, want an error", err)
			}
			hkContainsAll(t, err.Error(), tt.want)
		})
	}
}

func TestHostKeyErrorMessage(t *testing.T) {
	tests := []struct {
		err  *HostKeyError
		want []string
	}{
		{&HostKeyError{Host: "router1", Unknown: true, Offered: "ssh-ed25519 SHA256:abc"},
			[]string{"router1", "unknown", "SHA256:abc", "ssh-keyscan router1", "accept-new"}},
		{&HostKeyError{Host: "[10.1.1.1]:830", Expected: []string{"ssh-ed25519 SHA256:old", "ecdsa-sha2-nistp256 SHA256:old2"}, Offered: "ssh-ed25519 SHA256:new"},
			[]string{"[10.1.1.1]:830", "SHA256:old", "SHA256:old2", "SHA256:new", "ssh-keygen -R '[10.1.1.1]:830'"}},
	}
	for _, tt := range tests {
		hkContainsAll(t, tt.err.Error(), tt.want...)
	}
}
