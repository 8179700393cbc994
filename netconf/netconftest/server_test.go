package netconftest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

const (
	user     = "lab"
	password = "lab-pw-91f2"
	base10   = "urn:ietf:params:netconf:base:1.0"
	base11   = "urn:ietf:params:netconf:base:1.1"
)

// junosHello is shared/junos-samples/netconf/hello.junos-17.3R3.wire.xml,
// verbatim; the server must write exactly this, session-id aside.
const junosHello = `<!-- No zombies were killed during the creation of this user interface -->
<!-- user netinfra-mon, class j-mon -->
<nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">
   <nc:capabilities>
    <nc:capability>urn:ietf:params:netconf:base:1.0</nc:capability>
    <nc:capability>urn:ietf:params:netconf:capability:candidate:1.0</nc:capability>
    <nc:capability>urn:ietf:params:netconf:capability:confirmed-commit:1.0</nc:capability>
    <nc:capability>urn:ietf:params:netconf:capability:validate:1.0</nc:capability>
    <nc:capability>urn:ietf:params:netconf:capability:url:1.0?protocol=http,ftp,file</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:netconf:base:1.0</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:netconf:capability:candidate:1.0</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:netconf:capability:validate:1.0</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:netconf:capability:url:1.0?protocol=http,ftp,file</nc:capability>
    <nc:capability>urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring</nc:capability>
    <nc:capability>http://xml.juniper.net/netconf/junos/1.0</nc:capability>
    <nc:capability>http://xml.juniper.net/dmi/system/1.0</nc:capability>
  </nc:capabilities>
  <nc:session-id>13340</nc:session-id>
</nc:hello>
`

func newServer(t *testing.T, cfg netconftest.Config) *netconftest.Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{user: password}
	}
	srv, err := netconftest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// rawClient is a bare NETCONF client over x/crypto, so the server's bytes
// can be checked without the netconf package's interpretation.
type rawClient struct {
	client *ssh.Client
	ch     ssh.Channel
	r      *netconf.FrameReader
	w      *netconf.FrameWriter
}

func sshConnect(t *testing.T, srv *netconftest.Server, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	if auth == nil {
		auth = []ssh.AuthMethod{ssh.Password(password)}
	}
	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(conn, srv.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	client := ssh.NewClient(c, chans, reqs)
	t.Cleanup(func() { _ = client.Close() })
	return client, nil
}

func connect(t *testing.T, srv *netconftest.Server) *rawClient {
	t.Helper()
	client, err := sshConnect(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"netconf"}))
	if err != nil || !ok {
		t.Fatalf("subsystem: %v %v", ok, err)
	}
	return &rawClient{client: client, ch: ch,
		r: netconf.NewFrameReader(ch, netconf.FramingEOM, 0),
		w: netconf.NewFrameWriter(ch, netconf.FramingEOM)}
}

func (c *rawClient) read(t *testing.T) string {
	t.Helper()
	msg, err := c.r.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(msg)
}

func (c *rawClient) send(t *testing.T, msg string) {
	t.Helper()
	if err := c.w.WriteMessage([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// hello reads the server hello and sends a client hello with caps.
func (c *rawClient) hello(t *testing.T, caps ...string) string {
	t.Helper()
	h := c.read(t)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>`)
	for _, cp := range caps {
		b.WriteString("<capability>" + cp + "</capability>")
	}
	b.WriteString("</capabilities></hello>")
	c.send(t, b.String())
	return h
}

func (c *rawClient) chunked() {
	c.r.SetFraming(netconf.FramingChunked)
	c.w.SetFraming(netconf.FramingChunked)
}

var sessionIDRe = regexp.MustCompile(`<nc:session-id>\d+</nc:session-id>`)

func TestHelloIsJunos(t *testing.T) {
	srv := newServer(t, netconftest.Config{HelloComments: []string{
		"No zombies were killed during the creation of this user interface",
		"user netinfra-mon, class j-mon",
	}})
	c := connect(t, srv)
	got := c.read(t)
	if !sessionIDRe.MatchString(got) {
		t.Fatalf("no session-id in %q", got)
	}
	got = sessionIDRe.ReplaceAllString(got, "<nc:session-id>13340</nc:session-id>")
	if got != junosHello {
		t.Errorf("hello differs from Junos 17.3R3's:\n%s\nwant:\n%s", got, junosHello)
	}
	if strings.Contains(got, "<?xml") {
		t.Error("hello has an XML declaration")
	}
}

func TestHelloBase11AndExtraCapabilities(t *testing.T) {
	srv := newServer(t, netconftest.Config{Base11: true, Capabilities: []string{"urn:x:extra&more"}})
	got := connect(t, srv).read(t)
	if !strings.Contains(got, "<nc:capability>"+base10+"</nc:capability>\n    <nc:capability>"+base11+"</nc:capability>") {
		t.Errorf("base:1.1 is not after base:1.0:\n%s", got)
	}
	if !strings.Contains(got, "<nc:capability>urn:x:extra&amp;more</nc:capability>\n  </nc:capabilities>") {
		t.Errorf("extra capability not last or not escaped:\n%s", got)
	}
	if strings.HasPrefix(got, "<!--") {
		t.Error("comments without HelloComments")
	}
}

func TestRequestAndCloseSession(t *testing.T) {
	got := make(chan *netconftest.Request, 1)
	handler := func(_ context.Context, req *netconftest.Request) []byte {
		got <- req
		return netconftest.Reply(req, "<route-engine-information/>")
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	c := connect(t, srv)
	c.hello(t, base10)
	// ncclient style: XML declaration and nc: prefix.
	c.send(t, `<?xml version="1.0" encoding="UTF-8"?><nc:rpc xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="urn:uuid:4f&amp;b"><get-route-engine-information><brief/></get-route-engine-information></nc:rpc>`)
	reply := c.read(t)
	req := <-got
	if req.MessageID != "urn:uuid:4f&b" || req.Operation != "get-route-engine-information" ||
		string(req.Body) != "<get-route-engine-information><brief/></get-route-engine-information>" || req.User != user {
		t.Errorf("request = %+v (body %q)", req, req.Body)
	}
	if !strings.HasPrefix(reply, `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" message-id="urn:uuid:4f&amp;b">`) ||
		!strings.Contains(reply, "<route-engine-information/>") {
		t.Errorf("reply = %q", reply)
	}

	c.send(t, `<rpc message-id="9"><close-session/></rpc>`)
	if reply := c.read(t); !strings.Contains(reply, `message-id="9"`) || !strings.Contains(reply, "<ok/>") {
		t.Errorf("close-session reply = %q", reply)
	}
	if _, err := c.r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Errorf("after close-session: %v, want EOF", err)
	}
	select {
	case req := <-got:
		t.Errorf("handler saw %q", req.Operation)
	default:
	}
}

func TestChunkedFraming(t *testing.T) {
	handler := netconftest.HandlerFunc(func(_ context.Context, req *netconftest.Request) []byte {
		return netconftest.Reply(req, "<ok/>")
	})
	for _, tc := range []struct {
		name         string
		server       bool
		clientCaps   []string
		wantChunked  bool
		clientFrames netconf.Framing
	}{
		{"both 1.1", true, []string{base10, base11}, true, netconf.FramingChunked},
		{"client 1.0 only", true, []string{base10}, false, netconf.FramingEOM},
		{"server 1.0 only", false, []string{base10, base11}, false, netconf.FramingEOM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: tc.server, Handler: handler})
			c := connect(t, srv)
			c.hello(t, tc.clientCaps...)
			if tc.wantChunked {
				c.chunked()
			}
			for i := range 3 {
				c.send(t, `<rpc message-id="`+strconv.Itoa(i)+`"><get/></rpc>`)
				if reply := c.read(t); !strings.Contains(reply, "<ok/>") {
					t.Fatalf("reply = %q", reply)
				}
			}
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	c := connect(t, srv)
	c.hello(t, base10)
	for _, tc := range []struct{ req, want string }{
		{`<get/>`, "malformed-message"},
		{`<rpc message-id="5"></rpc>`, `message-id="5"`},
		{`<rpc message-id="6"><a></b></rpc>`, "malformed-message"},
		{`<rpc message-id="7"><get-foo/></rpc>`, "<bad-element>get-foo</bad-element>"}, // no handler
	} {
		c.send(t, tc.req)
		reply := c.read(t)
		if !strings.Contains(reply, "<rpc-error>") || !strings.Contains(reply, tc.want) {
			t.Errorf("%s → %q, want an rpc-error with %q", tc.req, reply, tc.want)
		}
	}
}

func TestBadClientHelloEndsSession(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	for _, hello := range []string{
		`<rpc message-id="1"><get/></rpc>`,
		`<hello><capabilities><capability>urn:x</capability></capabilities></hello>`,
		`<hello><capabilities><capability>` + base10 + `</capability></capabilities><session-id>4</session-id></hello>`,
	} {
		c := connect(t, srv)
		c.read(t)
		c.send(t, hello)
		if _, err := c.r.ReadMessage(); !errors.Is(err, io.EOF) {
			t.Errorf("after hello %q: %v, want EOF", hello, err)
		}
	}
}

func TestAuth(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewSignerFromKey(otherPriv)

	keys := []ssh.PublicKey{signer.PublicKey()}
	tests := []struct {
		name string
		cfg  netconftest.Config
		auth []ssh.AuthMethod
		ok   bool
	}{
		{"password", netconftest.Config{}, []ssh.AuthMethod{ssh.Password(password)}, true},
		{"keyboard-interactive", netconftest.Config{}, []ssh.AuthMethod{ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
			return []string{password}, nil
		})}, true},
		{"wrong password", netconftest.Config{}, []ssh.AuthMethod{ssh.Password("nope")}, false},
		{"public key", netconftest.Config{AuthorizedKeys: keys}, []ssh.AuthMethod{ssh.PublicKeys(signer)}, true},
		{"unknown key", netconftest.Config{AuthorizedKeys: keys}, []ssh.AuthMethod{ssh.PublicKeys(other)}, false},
		{"reject auth", netconftest.Config{Fault: netconftest.Fault{RejectAuth: true}, AuthorizedKeys: keys}, []ssh.AuthMethod{ssh.PublicKeys(signer), ssh.Password(password)}, false},
		{"open server", netconftest.Config{Users: map[string]string{}}, []ssh.AuthMethod{ssh.Password("anything")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.cfg)
			_, err := sshConnect(t, srv, tt.auth...)
			if (err == nil) != tt.ok {
				t.Errorf("connect: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestConfiguredHostKeyAndKnownHostsLine(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	srv := newServer(t, netconftest.Config{HostKey: signer})
	if string(srv.HostKey().Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("HostKey is not the configured key")
	}
	want := "[127.0.0.1]:" + strconv.Itoa(srv.Port()) + " ssh-ed25519 AAAA"
	if line := srv.KnownHostsLine(); !strings.HasPrefix(line, want) {
		t.Errorf("KnownHostsLine = %q, want prefix %q", line, want)
	}
	if srv.Addr() != net.JoinHostPort(srv.Host(), strconv.Itoa(srv.Port())) || srv.Host() != "127.0.0.1" {
		t.Errorf("Addr %q Host %q Port %d", srv.Addr(), srv.Host(), srv.Port())
	}
	if _, err := sshConnect(t, srv); err != nil {
		t.Fatal(err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if srv, err := netconftest.NewServer(netconftest.Config{Addr: addr}); err == nil {
			_ = srv.Close()
			t.Errorf("NewServer(%q) succeeded", addr)
		}
	}
	srv, err := netconftest.NewServer(netconftest.Config{Addr: "localhost:0"})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
}

func TestRefuseToggle(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{Refuse: true}})
	if _, err := sshConnect(t, srv); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect to a refusing server: %v", err)
	}
	srv.SetFault(netconftest.Fault{})
	if _, err := sshConnect(t, srv); err != nil {
		t.Fatalf("after clearing Refuse: %v", err)
	}
	srv.SetFault(netconftest.Fault{Refuse: true})
	if _, err := sshConnect(t, srv); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after setting Refuse again: %v", err)
	}
}

func TestSilentAfterAccept(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{SilentAfterAccept: true}})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := conn.Read(make([]byte, 64))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read %d bytes, %v; want silence", n, err)
	}
}

func TestStallMidReply(t *testing.T) {
	inner := strings.Repeat("<x/>", 100)
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(func(_ context.Context, req *netconftest.Request) []byte {
		return netconftest.Reply(req, inner)
	})})
	before := runtime.NumGoroutine()
	c := connect(t, srv)
	c.hello(t, base10)
	srv.SetFault(netconftest.Fault{StallMidReply: true})
	c.send(t, `<rpc message-id="1"><get/></rpc>`)
	full, err := netconf.AppendFrame(nil, netconftest.Reply(&netconftest.Request{MessageID: "1"}, inner), netconf.FramingEOM, 0)
	if err != nil {
		t.Fatal(err)
	}
	half := make([]byte, len(full)/2)
	if _, err := io.ReadFull(c.ch, half); err != nil {
		t.Fatal(err)
	}
	if string(half) != string(full[:len(half)]) {
		t.Errorf("stalled reply starts %q, want %q", half, full[:len(half)])
	}
	// The client goes away; the server's goroutines for it must end
	// without the server being closed.
	_ = c.client.Close()
	waitGoroutines(t, before)
}

// Close ends handler contexts, closes live sessions and returns.
func TestCloseWithLiveSessions(t *testing.T) {
	before := runtime.NumGoroutine()
	inHandler := make(chan struct{})
	handlerDone := make(chan struct{})
	srv, err := netconftest.NewServer(netconftest.Config{Handler: netconftest.HandlerFunc(func(ctx context.Context, req *netconftest.Request) []byte {
		close(inHandler)
		<-ctx.Done()
		close(handlerDone)
		return nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv)
	c.hello(t, base10)
	c.send(t, `<rpc message-id="1"><get/></rpc>`)
	<-inHandler
	idle := connect(t, srv) // a second session, idle before its hello
	_ = idle
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	<-handlerDone
	if _, err := c.r.ReadMessage(); err == nil {
		t.Error("session still open after Close")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_ = c.client.Close()
	_ = idle.client.Close()
	waitGoroutines(t, before)
}

// A server costs one goroutine while idle, so thousands fit in one test.
// Goroutines are counted by their function, so goroutines of earlier tests
// still winding down do not disturb the count.
func TestIdleServerCostsOneGoroutine(t *testing.T) {
	const n = 300
	// Connections of earlier tests may still be winding down after their
	// server closed; wait for them so the base does not move under us.
	deadline := time.Now().Add(5 * time.Second)
	for serverGoroutines() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // other tests' goroutines: nothing here to wait on
	}
	base := serverGoroutines()
	servers := make([]*netconftest.Server, 0, n)
	for range n {
		srv, err := netconftest.NewServer(netconftest.Config{})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, srv)
	}
	if got := serverGoroutines() - base; got != n {
		t.Errorf("%d idle servers run %d goroutines", n, got)
	}
	for _, srv := range servers {
		_ = srv.Close()
	}
	// Close waits for the server's goroutines: none may be left. A
	// goroutine has called wg.Done in its last deferred call but may not
	// have exited yet when Close returns (under -race, goroutine exit is
	// slow enough to see), so the count gets a moment to settle.
	deadline = time.Now().Add(time.Second)
	for serverGoroutines() != base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // goroutine exit: nothing to wait on
	}
	if got := serverGoroutines(); got != base {
		t.Errorf("%d server goroutines left after Close", got-base)
	}
}

// serverGoroutines counts goroutines running netconftest.Server code.
func serverGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "netconftest.(*Server).") {
			n++
		}
	}
	return n
}

// waitGoroutines waits, boundedly, for the goroutine count to come back
// down to before: x/crypto's goroutines exit shortly after their
// connection closes, not synchronously.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
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

// TestOpenConnections counts a connection from accept to close: one while
// a NETCONF session is open, none once the client has gone.
func TestOpenConnections(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	if n := srv.OpenConnections(); n != 0 {
		t.Fatalf("%d open connections before any client", n)
	}
	c := connect(t, srv)
	c.hello(t, base10)
	if n := srv.OpenConnections(); n != 1 {
		t.Errorf("%d open connections with one session open, want 1", n)
	}
	_ = c.client.Close()
	// The server sees the close when its read returns, not synchronously.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for srv.OpenConnections() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d open connections 10 s after the client closed", srv.OpenConnections())
		}
		<-tick.C
	}
}
