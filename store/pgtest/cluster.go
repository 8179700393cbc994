package pgtest

import (
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Server is a private PostgreSQL cluster of one test, for the tests that
// stop and start the server (a store outage): the shared server of
// MASTERSHIP_TEST_POSTGRES must never be stopped, other tests use it.
type Server struct {
	// DSN reaches the cluster's "postgres" database as its superuser over
	// TCP on loopback (trust authentication: the cluster listens on
	// 127.0.0.1 only and lives as long as the test).
	DSN string

	bin, dir, data string
	port           int
	owner          string // run as this user (root cannot run postgres), "" for the caller
}

// Cluster creates and starts a cluster for tb (initdb and pg_ctl from the
// newest /usr/lib/postgresql/*/bin) on a free loopback port, stopped and
// removed when tb ends. As root, the cluster is owned by and run as the
// postgres user, as .ci/postgres/setup.sh does. Without server binaries,
// or when the server does not start, tb skips, or fails when
// MASTERSHIP_REQUIRE_POSTGRES=1.
func Cluster(tb testing.TB) *Server {
	tb.Helper()
	unavailable := func(format string, args ...any) {
		tb.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("pgtest: %s and %s=1", msg, EnvRequire)
		}
		tb.Skipf("pgtest: private PostgreSQL cluster skipped: %s", msg)
	}
	bin := serverBin()
	if bin == "" {
		unavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
		return nil
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			unavailable("running as root and no postgres user to run the server as")
			return nil
		}
		s.owner = "postgres"
	}
	// Not t.TempDir: its parent is mode 0700 and root's, and the server
	// may run as postgres.
	dir, err := os.MkdirTemp("", "mastership-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	s.dir, s.data = dir, filepath.Join(dir, "data")
	if s.owner != "" {
		if out, err := osexec.Command("chown", s.owner+":", dir).CombinedOutput(); err != nil {
			unavailable("chown %s to %s: %v: %s", dir, s.owner, err, out)
			return nil
		}
	}
	if out, err := s.run("initdb", "-D", s.data, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust"); err != nil {
		unavailable("initdb: %v: %s", err, lastLine(out))
		return nil
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n", dir)
	if err := appendFile(filepath.Join(s.data, "postgresql.conf"), conf); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	if err := s.start(); err != nil {
		unavailable("%v", err)
		return nil
	}
	tb.Cleanup(func() { _, _ = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop") })
	return s
}

// Stop stops the server (fast shutdown: connections are cut, as in an
// outage) and waits until it is down.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := s.run("pg_ctl", "-D", s.data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		tb.Fatalf("pgtest: stop the server: %v: %s", err, lastLine(out))
	}
}

// Start starts the stopped server again, on the same port, and waits
// until it accepts connections.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if err := s.start(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

func (s *Server) start() error {
	logFile := filepath.Join(s.dir, "server.log")
	if out, err := s.run("pg_ctl", "-D", s.data, "-l", logFile, "-w", "-t", "60", "-o", "-p "+strconv.Itoa(s.port), "start"); err != nil {
		tail, _ := os.ReadFile(logFile)
		return fmt.Errorf("start the server on 127.0.0.1:%d: %v: %s %s", s.port, err, lastLine(out), lastLine(tail))
	}
	return nil
}

// run runs one of the server's programs as the cluster's owner.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *osexec.Cmd
	if s.owner != "" {
		cmd = osexec.Command("runuser", append([]string{"-u", s.owner, "--", path}, args...)...)
	} else {
		cmd = osexec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// serverBin is the newest installed server's bin directory, "" if none.
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		ok := true
		for _, p := range []string{"postgres", "initdb", "pg_ctl"} {
			if st, err := os.Stat(filepath.Join(d, p)); err != nil || st.Mode()&0o111 == 0 {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	return ""
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
