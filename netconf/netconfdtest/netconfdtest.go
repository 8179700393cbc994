// Package netconfdtest runs a real third-party NETCONF server for
// interoperability tests: yuma123's netconfd (Debian package netconfd)
// behind OpenSSH's sshd (openssh-server), both as child processes of the
// test, on loopback, with every file they use in a temporary directory.
//
// One Server is one netconfd, listening on its own unix socket, and one
// sshd whose "netconf" subsystem is yuma123's netconf-subsystem pointed at
// that socket. The SSH login is the current user (sshd needs a real unix
// account) with an ed25519 key generated for the test; the host key is
// generated too and written to a known_hosts file, so clients can use a
// strict host-key policy.
//
// When a binary is missing the test is skipped, naming it, unless
// MASTERSHIP_REQUIRE_INTEROP=1, when it fails instead (CI sets it after
// .ci/interop/install.sh).
package netconfdtest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Paths of the binaries, as Debian 12 installs them.
const (
	NetconfdPath  = "/usr/sbin/netconfd"
	SubsystemPath = "/usr/sbin/netconf-subsystem"
	SSHDPath      = "/usr/sbin/sshd"
)

// RequireEnv is the environment variable that turns a skip for missing
// software into a failure.
const RequireEnv = "MASTERSHIP_REQUIRE_INTEROP"

// privsepDir is the directory sshd insists on (compiled in; Debian's init
// script creates it at boot, and /run is a tmpfs, so a container may lack
// it).
const privsepDir = "/run/sshd"

// startTimeout bounds the wait for each child process to be ready.
const startTimeout = 10 * time.Second

// Options configure a Server.
type Options struct {
	// Base10Only makes netconfd advertise urn:ietf:params:netconf:base:1.0
	// alone (--protocols=netconf1.0), so the session uses end-of-message
	// framing whatever the client offers. Default: both base:1.0 and
	// base:1.1, so a client offering base:1.1 gets chunked framing.
	Base10Only bool
}

// Server is a running netconfd behind sshd.
type Server struct {
	Host           string        // 127.0.0.1
	Port           int           // sshd's port
	User           string        // the SSH login: the current user
	KeyFile        string        // the client's private key (OpenSSH format, no passphrase)
	KnownHostsFile string        // known_hosts with the server's key for [Host]:Port
	HostKey        ssh.PublicKey // the key sshd presents
	Dir            string        // the directory with every file below

	// Command lines, for reports and failure messages.
	NetconfdArgs []string
	SSHDArgs     []string
	SSHDConfig   string

	netconfdLog string
	sshdLog     string
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Logs returns what netconfd and sshd wrote so far, for failure messages.
func (s *Server) Logs() string {
	var b strings.Builder
	for _, f := range []struct{ name, path string }{{"netconfd", s.netconfdLog}, {"sshd", s.sshdLog}} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			fmt.Fprintf(&b, "--- %s log: %v\n", f.name, err)
			continue
		}
		fmt.Fprintf(&b, "--- %s log (%s):\n%s\n", f.name, f.path, data)
	}
	return b.String()
}

// Available reports which required binary is missing, or "" when all are
// installed.
func Available() (missing string) {
	for _, p := range []string{NetconfdPath, SubsystemPath, SSHDPath} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return p
		}
	}
	return ""
}

// skip skips t, or fails it when RequireEnv is set.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1 requires the interop tests to run)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// Start starts netconfd and sshd for t and stops both when t ends. It
// skips t when the software is missing (see RequireEnv) and fails it when
// they do not come up.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if p := Available(); p != "" {
		skip(t, "interop: %s is not installed (Debian: apt-get install netconfd openssh-server, or run .ci/interop/install.sh)", p)
	}
	if err := ensurePrivsepDir(); err != nil {
		skip(t, "interop: sshd needs %s: %v", privsepDir, err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("interop: current user: %v", err)
	}

	dir := t.TempDir()
	// A unix socket path is limited to 108 bytes; t.TempDir's can be
	// long (it includes the test name), so the socket gets a short one.
	sockDir, err := os.MkdirTemp("", "ncxd")
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })

	s := &Server{
		Host:           "127.0.0.1",
		User:           u.Username,
		KeyFile:        filepath.Join(dir, "client_ed25519"),
		KnownHostsFile: filepath.Join(dir, "known_hosts"),
		Dir:            dir,
		netconfdLog:    filepath.Join(dir, "netconfd.log"),
		sshdLog:        filepath.Join(dir, "sshd.log"),
	}
	hostKeyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	if s.HostKey, err = writeKey(hostKeyFile); err != nil {
		t.Fatalf("interop: host key: %v", err)
	}
	clientKey, err := writeKey(s.KeyFile)
	if err != nil {
		t.Fatalf("interop: client key: %v", err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientKey), 0o600); err != nil {
		t.Fatalf("interop: %v", err)
	}
	netconfdConf := filepath.Join(dir, "netconfd.conf")
	// An explicit, empty configuration, so /etc/yuma/netconfd.conf (if
	// someone has one) does not change the server under test.
	if err := os.WriteFile(netconfdConf, []byte("netconfd {\n}\n"), 0o644); err != nil {
		t.Fatalf("interop: %v", err)
	}

	// The port is picked before either process starts because netconfd
	// must be told it too (it refuses sessions that arrive through any
	// other sshd port). Another process may take it in between; then sshd
	// fails to bind and both start again on a new port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("interop: pick a port: %v", err)
		}
		sock := filepath.Join(sockDir, fmt.Sprintf("ncx-%d.sock", port))
		protocols := "netconf1.0 netconf1.1"
		if opts.Base10Only {
			protocols = "netconf1.0"
		}
		s.Port = port
		s.NetconfdArgs = []string{
			NetconfdPath,
			"--config=" + netconfdConf,
			"--no-startup",
			"--superuser=" + u.Username,
			"--port=" + strconv.Itoa(port),
			"--ncxserver-sockname=" + sock,
			"--protocols=" + protocols,
			"--log=" + s.netconfdLog,
			"--log-level=" + logLevel(),
		}
		s.SSHDConfig = filepath.Join(dir, "sshd_config")
		s.SSHDArgs = []string{SSHDPath, "-D", "-e", "-f", s.SSHDConfig}
		cfg := sshdConfig(port, hostKeyFile, filepath.Join(dir, "sshd.pid"), authorized, u.Username,
			fmt.Sprintf("%s --ncxserver-sockname=%d@%s", SubsystemPath, port, sock))
		if err := os.WriteFile(s.SSHDConfig, []byte(cfg), 0o600); err != nil {
			t.Fatalf("interop: %v", err)
		}

		nd, err := startNetconfd(t, s, dir, sock)
		if err != nil {
			t.Fatalf("interop: %v\n%s", err, s.Logs())
		}
		sd, err := startSSHD(t, s)
		if err == nil {
			break
		}
		lastErr = err
		nd.stop()
		if sd != nil {
			sd.stop()
		}
		if !errors.Is(err, errAddrInUse) {
			t.Fatalf("interop: %v\n%s", err, s.Logs())
		}
		s.Port = 0
	}
	if s.Port == 0 {
		t.Fatalf("interop: %v\n%s", lastErr, s.Logs())
	}

	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey) + "\n"
	if err := os.WriteFile(s.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatalf("interop: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("interop server %s:\nnetconfd: %s\nsshd: %s\n%s",
				s.Addr(), strings.Join(s.NetconfdArgs, " "), strings.Join(s.SSHDArgs, " "), s.Logs())
		}
	})
	return s
}

func sshdConfig(port int, hostKey, pidFile, authorized, userName, subsystem string) string {
	lines := []string{
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(port),
		"HostKey " + quote(hostKey),
		"PidFile " + quote(pidFile),
		"UsePAM no",
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AuthorizedKeysFile " + quote(authorized),
		"StrictModes no",
		"AllowUsers " + userName,
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"AllowTcpForwarding no",
		"AllowAgentForwarding no",
		"PermitTunnel no",
		"LogLevel VERBOSE",
		"Subsystem netconf " + subsystem,
	}
	return strings.Join(lines, "\n") + "\n"
}

// quote quotes a path for sshd_config when it needs it.
func quote(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// writeKey generates an ed25519 key, writes the private half in OpenSSH
// format (mode 0600, as sshd and ssh insist) and returns the public half.
func writeKey(path string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sp), 0o644); err != nil {
		return nil, err
	}
	return sp, nil
}

func ensurePrivsepDir() error {
	fi, err := os.Stat(privsepDir)
	if err == nil {
		if !fi.IsDir() {
			return errors.New("exists and is not a directory")
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("missing, and only root can create it (mkdir -m 755 /run/sshd)")
	}
	return os.Mkdir(privsepDir, 0o755)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var errAddrInUse = errors.New("sshd could not bind its port")

// child is a started process and its exit.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returns
	err  error         // Wait's result, valid after done
	once sync.Once
}

func startChild(t testing.TB, name string, args []string, env []string, logPath string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group, so stop reaches whatever it forked (sshd's
	// per-connection processes).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	t.Cleanup(c.stop)
	return c, nil
}

// stop ends the process group with SIGTERM, then SIGKILL if it lingers,
// and waits for the process.
func (c *child) stop() {
	c.once.Do(func() {
		pgid := c.cmd.Process.Pid
		select {
		case <-c.done:
		default:
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(3 * time.Second):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-c.done
			}
		}
		// Children left in the group (an sshd serving a connection)
		// get no second chance.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitReady polls ready every few milliseconds until it succeeds, the
// child exits or the deadline passes.
func waitReady(c *child, ready func() error) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready: %v", c.name, c.err)
		case <-deadline.C:
			return fmt.Errorf("%s not ready after %v: %v", c.name, startTimeout, last)
		case <-tick.C:
		}
	}
}

func startNetconfd(t testing.TB, s *Server, home, sock string) (*child, error) {
	// netconfd looks for $HOME/.yuma; keep it in the test's directory.
	env := []string{"HOME=" + home, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	c, err := startChild(t, "netconfd", s.NetconfdArgs, env, s.netconfdLog+".stdout")
	if err != nil {
		return nil, err
	}
	err = waitReady(c, func() error {
		conn, err := net.DialTimeout("unix", sock, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func startSSHD(t testing.TB, s *Server) (*child, error) {
	_ = os.Remove(s.sshdLog)
	c, err := startChild(t, "sshd", s.SSHDArgs, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, s.sshdLog)
	if err != nil {
		return nil, err
	}
	err = waitReady(c, func() error {
		// Ready means sshd answers with its version banner, not merely
		// that something accepted the connection.
		conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "SSH-2.0-") {
			return fmt.Errorf("unexpected banner %q", line)
		}
		return nil
	})
	if err != nil {
		if c.exited() {
			if data, rerr := os.ReadFile(s.sshdLog); rerr == nil && strings.Contains(string(data), "Address already in use") {
				return c, fmt.Errorf("%w: %v", errAddrInUse, err)
			}
		}
		c.stop()
		return c, err
	}
	return c, nil
}

// NetconfdLog returns netconfd's log so far.
func (s *Server) NetconfdLog() string {
	data, _ := os.ReadFile(s.netconfdLog)
	return string(data)
}

// logLevel is netconfd's --log-level: info, or $NETCONFD_LOG_LEVEL (debug4
// traces every buffer) when investigating.
func logLevel() string {
	if l := os.Getenv("NETCONFD_LOG_LEVEL"); l != "" {
		return l
	}
	return "info"
}

// WaitActive waits until netconfd has logged that session id finished its
// hello ("Session 3 for root@127.0.0.1 now active (base:1.1)") and
// returns the base it logged, "base:1.0" or "base:1.1".
//
// Tests call it between Dial and the first RPC to step around a netconfd
// 2.13 bug: in base:1.1 mode, input that arrives in the same read as the
// client's <hello> is deferred "until the preceding message is handled"
// and then never processed, so an RPC sent right after the hello gets no
// reply until the client sends something else. A client that sends its
// hello only after the server's and its first RPC at once (netconf.Dial
// does) loses that RPC whenever the two are coalesced on the way.
func (s *Server) WaitActive(ctx context.Context, id int) (string, error) {
	re := regexp.MustCompile(`(?m)^Session ` + strconv.Itoa(id) + ` for \S+ now active \((base:1\.[01])\)`)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(s.NetconfdLog()); m != nil {
			return m[1], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("netconfd never logged session %d as active: %w", id, ctx.Err())
		case <-tick.C:
		}
	}
}
