package junossim_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// ncSession is a bare NETCONF client: x/crypto/ssh plus the framing, so the
// test does not depend on the project's netconf package.
type ncSession struct {
	client *ssh.Client
	sess   *ssh.Session
	in     io.WriteCloser
	out    *bufio.Reader
	hello  string
	chunks bool
}

// dial opens a NETCONF session. Every read and write is bounded by a
// deadline on the TCP connection, so a broken server fails the test
// instead of hanging it.
func dial(t *testing.T, addr, password string, hostKeys ssh.HostKeyCallback) (*ncSession, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		conn.Close()
		return nil, err
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:              junossim.User,
		Auth:              []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &ncSession{client: ssh.NewClient(cc, chans, reqs)}
	t.Cleanup(func() { s.client.Close() })
	if s.sess, err = s.client.NewSession(); err != nil {
		return nil, err
	}
	if s.in, err = s.sess.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := s.sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.out = bufio.NewReader(out)
	if err := s.sess.RequestSubsystem("netconf"); err != nil {
		return nil, err
	}
	hello, err := s.readEOM()
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	s.hello = hello
	s.chunks = strings.Contains(hello, "urn:ietf:params:netconf:base:1.1")
	_, err = io.WriteString(s.in, `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>`+
		`<capability>urn:ietf:params:netconf:base:1.0</capability>`+
		`<capability>urn:ietf:params:netconf:base:1.1</capability>`+
		`</capabilities></hello>]]>]]>`)
	return s, err
}

func (s *ncSession) readEOM() (string, error) {
	var b []byte
	for !bytes.HasSuffix(b, []byte("]]>]]>")) {
		c, err := s.out.ReadByte()
		if err != nil {
			return string(b), err
		}
		b = append(b, c)
	}
	return string(b[:len(b)-6]), nil
}

// readChunked reads one RFC 6242 chunked message.
func (s *ncSession) readChunked() (string, error) {
	var msg []byte
	for {
		if err := s.expect("\n#"); err != nil {
			return "", err
		}
		hdr, err := s.out.ReadString('\n')
		if err != nil {
			return "", err
		}
		hdr = strings.TrimSuffix(hdr, "\n")
		if hdr == "#" {
			return string(msg), nil
		}
		n, err := strconv.Atoi(hdr)
		if err != nil || n <= 0 {
			return "", fmt.Errorf("bad chunk header %q", hdr)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(s.out, buf); err != nil {
			return "", err
		}
		msg = append(msg, buf...)
	}
}

func (s *ncSession) expect(want string) error {
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(s.out, buf); err != nil {
		return err
	}
	if string(buf) != want {
		return fmt.Errorf("framing: got %q, want %q", buf, want)
	}
	return nil
}

func (s *ncSession) rpc(id, op string) (string, error) {
	return s.rpcBody(id, `<`+op+`/>`)
}

// rpcBody sends an RPC whose inner XML is body.
func (s *ncSession) rpcBody(id, body string) (string, error) {
	msg := `<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="` + id + `">` + body + `</rpc>`
	if s.chunks {
		msg = fmt.Sprintf("\n#%d\n%s\n##\n", len(msg), msg)
		if _, err := io.WriteString(s.in, msg); err != nil {
			return "", err
		}
		return s.readChunked()
	}
	if _, err := io.WriteString(s.in, msg+"]]>]]>"); err != nil {
		return "", err
	}
	return s.readEOM()
}

func testScenario() junossim.Scenario {
	return junossim.Scenario{
		Defaults: junossim.Defaults{Site: "sim", Tags: []string{"sim"}},
		Devices: []junossim.Device{
			{Name: "mx-dual-1", Model: "mx960", Tags: []string{"sim", "mx960"}},
			{Name: "mx-chunked-1", Model: "mx480", Framing: "1.1"},
			{Name: "mx-newkey-1", Faults: &junossim.Faults{WrongHostKey: true}},
			{Name: "mx-down-1", Faults: &junossim.Faults{Refuse: true}},
			{Name: "vc-1", Topology: junossim.TopologyMXVC, Faults: &junossim.Faults{RejectAuth: true}},
		},
	}
}

func startFleet(t *testing.T, sc junossim.Scenario) *junossim.Fleet {
	t.Helper()
	f, err := junossim.Start(t.Context(), sc, junossim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return f
}

func TestFleetInventoryAndSessions(t *testing.T) {
	f := startFleet(t, testScenario())
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := f.WriteInventory(invPath); err != nil {
		t.Fatal(err)
	}

	// The inventory reads back in the agent's format.
	var inv struct {
		Defaults struct {
			Username string `yaml:"username"`
			Auth     struct {
				PasswordFile string `yaml:"password_file"`
			} `yaml:"auth"`
			KnownHosts    string `yaml:"known_hosts"`
			HostKeyPolicy string `yaml:"host_key_policy"`
			Timeout       string `yaml:"timeout"`
		} `yaml:"defaults"`
		Devices []struct {
			Name        string   `yaml:"name"`
			Host        string   `yaml:"host"`
			Port        int      `yaml:"port"`
			Site        string   `yaml:"site"`
			Tags        []string `yaml:"tags"`
			ExpectedREs int      `yaml:"expected_res"`
		} `yaml:"devices"`
	}
	raw, err := os.ReadFile(invPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&inv); err != nil {
		t.Fatalf("inventory does not parse: %v\n%s", err, raw)
	}
	d := inv.Defaults
	if d.Username != "netconf" || d.Auth.PasswordFile != junossim.PasswordFile || d.KnownHosts != junossim.KnownHostsFile ||
		d.HostKeyPolicy != "strict" || d.Timeout != "10s" {
		t.Errorf("defaults = %+v", d)
	}
	if len(inv.Devices) != 5 {
		t.Fatalf("inventory has %d devices", len(inv.Devices))
	}
	info := f.Devices()
	for i, dev := range inv.Devices {
		if dev.Name != info[i].Name || dev.Host != "127.0.0.1" || dev.Port != info[i].Port || dev.Port == 0 || dev.Site != "sim" {
			t.Errorf("device %d = %+v, fleet says %+v", i, dev, info[i])
		}
	}
	if inv.Devices[0].ExpectedREs != 2 || inv.Devices[4].ExpectedREs != 4 || strings.Join(inv.Devices[0].Tags, ",") != "sim,mx960" {
		t.Errorf("devices = %+v", inv.Devices)
	}

	pwPath := filepath.Join(dir, junossim.PasswordFile)
	st, err := os.Stat(pwPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode = %v, want 0600", st.Mode().Perm())
	}
	pw, err := os.ReadFile(pwPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(pw) != f.Password() || len(pw) < 20 {
		t.Errorf("password file holds %d bytes; want the fleet's password of at least 20", len(pw))
	}
	hostKeys, err := knownhosts.New(filepath.Join(dir, junossim.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}

	// Healthy, 1.0 framing: hello with the Junos comments, then an RPC.
	s, err := dial(t, info[0].Addr, f.Password(), hostKeys)
	if err != nil {
		t.Fatalf("healthy device: %v", err)
	}
	for _, want := range []string{"No zombies were killed during the creation of this user interface", "user netconf, class super-user",
		"http://xml.juniper.net/netconf/junos/1.0"} {
		if !strings.Contains(s.hello, want) {
			t.Errorf("hello lacks %q:\n%s", want, s.hello)
		}
	}
	reply, err := s.rpc("101", "get-route-engine-information")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reply, "<nc:rpc-reply ") || !strings.Contains(reply, `message-id="101"`) ||
		strings.Count(reply, "<route-engine>") != 2 {
		t.Errorf("reply:\n%s", reply)
	}

	// State changed at run time shows in the next reply.
	r := f.Router("mx-dual-1")
	re1, _ := r.RE("re1")
	re1.Status = junossim.StatusAbsent
	if err := r.SetREState("re1", re1); err != nil {
		t.Fatal(err)
	}
	reply, err = s.rpc("102", "get-route-engine-information")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(reply, "<route-engine>") != 1 {
		t.Errorf("absent re1 still in the reply:\n%s", reply)
	}
	reply, err = s.rpc("103", "get-chassis-inventory")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply, "<bad-element>get-chassis-inventory</bad-element>") {
		t.Errorf("unknown RPC reply:\n%s", reply)
	}

	// Chunked framing.
	s, err = dial(t, info[1].Addr, f.Password(), hostKeys)
	if err != nil {
		t.Fatalf("chunked device: %v", err)
	}
	if !s.chunks {
		t.Fatalf("1.1 device hello lacks base:1.1:\n%s", s.hello)
	}
	reply, err = s.rpc("7", "get-software-information")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply, "<host-name>mx-chunked-1</host-name>") {
		t.Errorf("chunked reply:\n%s", reply)
	}

	// Changed host key: known_hosts has another key for this host.
	_, err = dial(t, info[2].Addr, f.Password(), hostKeys)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) || len(keyErr.Want) == 0 {
		t.Errorf("wrong_host_key: want a knownhosts key mismatch, got %v", err)
	}

	// Refuse: nothing listens.
	_, err = net.DialTimeout("tcp", info[3].Addr, 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refuse: want ECONNREFUSED, got %v", err)
	}
	if info[3].Port == 0 || info[3].HostKey != nil {
		t.Errorf("refusing device info = %+v", info[3])
	}

	// Reject auth.
	_, err = dial(t, info[4].Addr, f.Password(), hostKeys)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("reject_auth: got %v", err)
	}
	// And a wrong password on a healthy device is rejected too.
	_, err = dial(t, info[0].Addr, f.Password()+"x", hostKeys)
	if err == nil {
		t.Error("wrong password accepted")
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "192.0.2.1", "example.com"} {
		if f, err := junossim.Start(t.Context(), testScenario(), junossim.Options{Host: host}); err == nil {
			f.Close()
			t.Errorf("host %s accepted", host)
		}
	}
}

func TestStartRejectsInvalidScenario(t *testing.T) {
	_, err := junossim.Start(t.Context(), junossim.Scenario{Devices: []junossim.Device{{Name: "a", Topology: "ring"}}}, junossim.Options{})
	if err == nil || !strings.Contains(err.Error(), "ring") {
		t.Errorf("got %v", err)
	}
}

func TestStartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if f, err := junossim.Start(ctx, junossim.Generate(50, 1), junossim.Options{}); !errors.Is(err, context.Canceled) {
		if f != nil {
			f.Close()
		}
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestLargeFleet(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	began := time.Now()
	f := startFleet(t, junossim.Generate(n, 7))
	t.Logf("%d devices started in %v", n, time.Since(began))
	devs := f.Devices()
	if len(devs) != n {
		t.Fatalf("%d devices", len(devs))
	}
	seen := map[int]bool{}
	for _, d := range devs {
		if seen[d.Port] {
			t.Fatalf("port %d used twice", d.Port)
		}
		seen[d.Port] = true
	}
	path := filepath.Join(t.TempDir(), "inv.yaml")
	if err := f.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(filepath.Join(filepath.Dir(path), junossim.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []junossim.DeviceInfo{devs[0], devs[n/2], devs[n-1]} {
		s, err := dial(t, d.Addr, f.Password(), hostKeys)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if reply, err := s.rpc("1", "get-alarm-information"); err != nil || !strings.Contains(reply, "<no-active-alarms/>") {
			t.Errorf("%s: %v\n%s", d.Name, err, reply)
		}
	}
}

func TestSetFaults(t *testing.T) {
	f := startFleet(t, testScenario())
	if err := f.SetFaults("mx-dual-1", junossim.Faults{RejectAuth: true}); err != nil {
		t.Fatal(err)
	}
	hostKeys := ssh.FixedHostKey(f.Devices()[0].HostKey)
	if _, err := dial(t, f.Devices()[0].Addr, f.Password(), hostKeys); err == nil {
		t.Error("auth not rejected after SetFaults")
	}
	if err := f.SetFaults("mx-dual-1", junossim.Faults{Refuse: true}); err == nil {
		t.Error("refuse cannot change at run time")
	}
	if err := f.SetFaults("nope", junossim.Faults{}); err == nil {
		t.Error("unknown device accepted")
	}
}

func TestCloseReleasesEverything(t *testing.T) {
	sc := junossim.Generate(50, 3)
	sc.Devices[0].Faults = &junossim.Faults{Refuse: true}
	f, err := junossim.Start(t.Context(), sc, junossim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Other tests of this package run servers too, so the count is a
	// floor; netconftest's own tests pin one goroutine per idle server and
	// none after Close.
	if n := serverGoroutines(); n < 49 {
		t.Errorf("%d server goroutines with 49 servers running", n)
	}
	devs := f.Devices()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Close has released every port, the refused device's included.
	for _, d := range []junossim.DeviceInfo{devs[0], devs[1]} {
		ln, err := net.Listen("tcp", d.Addr)
		if err != nil {
			t.Errorf("%s: port not released: %v", d.Name, err)
			continue
		}
		ln.Close()
	}
}

// TestLogsAndConfigurationOverNETCONF reads a router's log and
// configuration through a real session, on a fake clock: the RPC's
// arguments travel in the request body.
func TestLogsAndConfigurationOverNETCONF(t *testing.T) {
	sc, err := junossim.LoadScenario(filepath.Join("testdata", "scenarios", "network-em0-flaps-keepalive-loss.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clock := junossim.NewClock(sc.ClockStart())
	f, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info := f.Devices()[0]
	s, err := dial(t, info.Addr, f.Password(), ssh.FixedHostKey(info.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(sc.ClockStart().Add(50 * time.Minute))
	reply, err := s.rpcBody("1", "<get-log><filename>messages</filename></get-log>")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<file-content filename="/var/log/messages" junos:seconds="`, `encoding="text">`,
		"lon1-mx480-em0 /kernel: em0: Link is Down",
		"mcontrol_ore_alive_set: re1 removed from alive set (keepalive timeout)",
		"mcontrol_ore_alive_set: re1 added to alive set"} {
		if !strings.Contains(reply, want) {
			t.Errorf("get-log reply lacks %q:\n%s", want, reply)
		}
	}
	reply, err = s.rpcBody("2", "<file-show><filename>/var/log/mastership</filename></file-show>")
	if err != nil || !strings.Contains(reply, "failed to receive keepalives from other RE for the last 60 sec") {
		t.Errorf("file-show: %v\n%s", err, reply)
	}
	reply, err = s.rpcBody("3", "<get-configuration><configuration><chassis><redundancy/></chassis></configuration></get-configuration>")
	if err != nil || !strings.Contains(reply, "<keepalive-time>300</keepalive-time>") || strings.Contains(reply, "<nonstop-routing/>") {
		t.Errorf("get-configuration: %v\n%s", err, reply)
	}
	reply, err = s.rpcBody("4", "<get-log><filename>nosuch</filename></get-log>")
	if err != nil || !strings.Contains(reply, "could not resolve file: nosuch") {
		t.Errorf("unknown file: %v\n%s", err, reply)
	}
}

// serverGoroutines counts goroutines running netconftest server code.
func serverGoroutines() int {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "netconftest.(*Server).") {
			n++
		}
	}
	return n
}

// TestFleetOpenConnections sums the routers' open connections: two
// sessions to two routers count two, and none once both clients have gone.
func TestFleetOpenConnections(t *testing.T) {
	f := startFleet(t, junossim.Generate(3, 5))
	dir := t.TempDir()
	if err := f.WriteInventory(filepath.Join(dir, "inventory.yaml")); err != nil {
		t.Fatal(err)
	}
	known, err := knownhosts.New(filepath.Join(dir, junossim.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	var open []*ncSession
	for _, d := range f.Devices()[:2] {
		s, err := dial(t, d.Addr, f.Password(), known)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		open = append(open, s)
	}
	if n := f.OpenConnections(); n != 2 {
		t.Errorf("%d open connections with two sessions open, want 2", n)
	}
	for _, s := range open {
		s.client.Close()
	}
	// The servers see the closes when their reads return.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for f.OpenConnections() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d open connections 10 s after both clients closed", f.OpenConnections())
		}
		<-tick.C
	}
}
