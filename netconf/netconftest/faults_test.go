package netconftest_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

// fixedReply answers every RPC with inner.
func fixedReply(inner string) netconftest.Handler {
	return netconftest.HandlerFunc(func(_ context.Context, req *netconftest.Request) []byte {
		return netconftest.Reply(req, inner)
	})
}

// recordingConn remembers the first read error of the TCP connection
// under an SSH client, which x/crypto does not pass on.
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	readErr error
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// connectRecording is connect over a recordingConn.
func connectRecording(t *testing.T, srv *netconftest.Server) (*rawClient, *recordingConn) {
	t.Helper()
	tcp, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rc := &recordingConn{Conn: tcp}
	c, chans, reqs, err := ssh.NewClientConn(rc, srv.Addr(), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.Password(password)}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	client := ssh.NewClient(c, chans, reqs)
	t.Cleanup(func() { _ = client.Close() })
	ch, chReqs, err := client.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(chReqs)
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"netconf"})); err != nil || !ok {
		t.Fatalf("subsystem: %v %v", ok, err)
	}
	return &rawClient{client: client, ch: ch,
		r: netconf.NewFrameReader(ch, netconf.FramingEOM, 0),
		w: netconf.NewFrameWriter(ch, netconf.FramingEOM)}, rc
}

// silence checks that nothing arrives on ch for a while, then closes the
// client and waits for the server's goroutines to end.
func silence(t *testing.T, c *rawClient, before int) {
	t.Helper()
	got := make(chan int, 1)
	go func() {
		n, _ := c.ch.Read(make([]byte, 1))
		got <- n
	}()
	select {
	case n := <-got:
		t.Errorf("the server said %d bytes", n)
	case <-time.After(200 * time.Millisecond): // waiting for nothing to happen
	}
	_ = c.client.Close()
	waitGoroutines(t, before)
}

func TestStallAfterHandshake(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{StallAfterHandshake: true}})
	before := runtime.NumGoroutine()
	// SSH, authentication and the subsystem request succeed (connect
	// checks them); then no hello.
	silence(t, connect(t, srv), before)
}

func TestResetMidReply(t *testing.T) {
	inner := strings.Repeat("<route-engine/>", 200)
	srv := newServer(t, netconftest.Config{Handler: fixedReply(inner), Fault: netconftest.Fault{ResetMidReply: true}})
	before := runtime.NumGoroutine()
	c, rc := connectRecording(t, srv)
	c.hello(t, base10)
	c.send(t, `<rpc message-id="1"><get/></rpc>`)
	full, err := netconf.AppendFrame(nil, netconftest.Reply(&netconftest.Request{MessageID: "1"}, inner), netconf.FramingEOM, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c.ch)
	if !bytes.HasPrefix(full, got) || len(got) > len(full)/2 {
		t.Errorf("got %d bytes of a %d-byte reply, want at most its first half", len(got), len(full))
	}
	if err := rc.err(); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("TCP read error %v, want ECONNRESET: the server must reset, not close", err)
	}
	_ = c.client.Close()
	waitGoroutines(t, before)
}

func TestDrip(t *testing.T) {
	const every = 2 * time.Millisecond
	inner := "<software-information><host-name>r1</host-name></software-information>"
	srv := newServer(t, netconftest.Config{Handler: fixedReply(inner), Fault: netconftest.Fault{Drip: every}})
	c := connect(t, srv)
	c.hello(t, base10)
	start := time.Now()
	c.send(t, `<rpc message-id="1"><get/></rpc>`)
	want := string(netconftest.Reply(&netconftest.Request{MessageID: "1"}, inner))
	if got := c.read(t); got != want {
		t.Errorf("dripped reply = %q, want %q", got, want)
	}
	if d, least := time.Since(start), time.Duration(len(want))*every; d < least {
		t.Errorf("a %d-byte reply at one byte per %v took %v", len(want)+6, every, d)
	}

	// A client that gives up mid-drip ends the session's goroutines.
	before := runtime.NumGoroutine()
	srv.SetFault(netconftest.Fault{Drip: time.Hour})
	c2 := connect(t, srv)
	c2.hello(t, base10)
	c2.send(t, `<rpc message-id="2"><get/></rpc>`)
	if _, err := io.ReadFull(c2.ch, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	_ = c2.client.Close()
	_ = c.client.Close()
	waitGoroutines(t, before)
}

// TestRTT: with an added round-trip time, the SSH handshake and every
// RPC pay it, unlike Latency, which delays only the replies.
func TestRTT(t *testing.T) {
	const rtt = 200 * time.Millisecond
	inner := "<software-information><host-name>r1</host-name></software-information>"
	srv := newServer(t, netconftest.Config{Handler: fixedReply(inner), Fault: netconftest.Fault{RTT: rtt}})
	start := time.Now()
	c := connect(t, srv)
	// Version, key exchange, service request, two authentication
	// attempts (none, then password), channel open, subsystem: each
	// waits for the server's answer.
	if d := time.Since(start); d < 4*rtt {
		t.Errorf("SSH handshake to the netconf subsystem took %v, want at least 4 round trips (%v)", d, 4*rtt)
	}
	c.hello(t, base10)
	sent := time.Now()
	c.send(t, `<rpc message-id="1"><get/></rpc>`)
	want := string(netconftest.Reply(&netconftest.Request{MessageID: "1"}, inner))
	if got := c.read(t); got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	if d := time.Since(sent); d < rtt {
		t.Errorf("an RPC took %v, want at least the round trip %v", d, rtt)
	}
	if got := srv.Totals(); got.RPCs != 1 {
		t.Errorf("server answered %d RPCs, want 1", got.RPCs)
	}
}

func TestSplitDelimiter(t *testing.T) {
	// Long enough for many base:1.1 chunks and base:1.0 pieces.
	inner := strings.Repeat("<log-line>Mar 19 10:40:00 r1 chassisd[3498]: alive set</log-line>\n", 100)
	for _, base11 := range []bool{false, true} {
		t.Run("base11="+strconv.FormatBool(base11), func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: base11, Handler: fixedReply(inner), Fault: netconftest.Fault{SplitDelimiter: true}})
			c := connect(t, srv)
			c.hello(t, base10, base11Cap(base11))
			if base11 {
				c.chunked()
			}
			for i := range 3 {
				id := strconv.Itoa(i)
				c.send(t, `<rpc message-id="`+id+`"><get/></rpc>`)
				if got, want := c.read(t), string(netconftest.Reply(&netconftest.Request{MessageID: id}, inner)); got != want {
					t.Fatalf("reply %d differs:\n%q\nwant\n%q", i, got, want)
				}
			}
		})
	}
}

func base11Cap(on bool) string {
	if on {
		return base11
	}
	return base10
}

// xmlError returns the error an XML parser finds in msg, nil if none.
func xmlError(msg string) error {
	d := xml.NewDecoder(strings.NewReader(msg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestMalformedXMLAndInvalidUTF8(t *testing.T) {
	inner := "<software-information>\n<host-name>r1</host-name>\n</software-information>"
	for _, tc := range []struct {
		fault netconftest.Fault
		want  string // in the parse error
	}{
		{netconftest.Fault{MalformedXML: true}, "unclosed-element"},
		{netconftest.Fault{InvalidUTF8: true}, "invalid UTF-8"},
	} {
		srv := newServer(t, netconftest.Config{Handler: fixedReply(inner), Fault: tc.fault})
		c := connect(t, srv)
		c.hello(t, base10)
		c.send(t, `<rpc message-id="7"><get/></rpc>`)
		got := c.read(t)
		if err := xmlError(got); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: reply %q parses with %v, want an error about %q", tc.fault, got, err, tc.want)
		}
		if !strings.Contains(got, `message-id="7"`) {
			t.Errorf("%+v: reply lost its message-id: %q", tc.fault, got)
		}
		if tc.fault.InvalidUTF8 && !strings.Contains(got, "<host-name>\xe9\xffr1</host-name>") {
			t.Errorf("invalid bytes not at the start of the first text: %q", got)
		}
	}
}

func TestWrongMessageID(t *testing.T) {
	srv := newServer(t, netconftest.Config{Handler: fixedReply("<ok/>"), Fault: netconftest.Fault{WrongMessageID: true}})
	c := connect(t, srv)
	c.hello(t, base10)
	for _, tc := range []struct{ sent, want string }{{"101", "1010"}, {"102", "101"}, {"103", "102"}} {
		c.send(t, `<rpc message-id="`+tc.sent+`"><get/></rpc>`)
		if got := c.read(t); !strings.Contains(got, `message-id="`+tc.want+`"`) {
			t.Errorf("request %s: reply %q, want message-id %s", tc.sent, got, tc.want)
		}
	}
}

func TestHugeReply(t *testing.T) {
	const size = 2_000_000
	for _, base11 := range []bool{false, true} {
		t.Run("base11="+strconv.FormatBool(base11), func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: base11, Fault: netconftest.Fault{HugeReply: size}})
			c := connect(t, srv)
			c.hello(t, base10, base11Cap(base11))
			framing := netconf.FramingEOM
			if base11 {
				c.chunked()
				framing = netconf.FramingChunked
			}
			c.r = netconf.NewFrameReader(c.ch, framing, 2*size)
			c.send(t, `<rpc message-id="5"><get-log/></rpc>`)
			got := c.read(t)
			if len(got) != size {
				t.Errorf("reply of %d bytes, want %d", len(got), size)
			}
			if err := xmlError(got); err != nil {
				t.Errorf("huge reply is not well-formed: %v", err)
			}
			if !strings.HasPrefix(got, `<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/17.3R3/junos" message-id="5">`) {
				t.Errorf("huge reply starts %q", got[:200])
			}

			// A client that stops at its limit and leaves stops the
			// server's generator.
			before := runtime.NumGoroutine()
			srv.SetFault(netconftest.Fault{HugeReply: 1 << 40})
			c2 := connect(t, srv)
			c2.hello(t, base10)
			c2.r = netconf.NewFrameReader(c2.ch, netconf.FramingEOM, 1<<20)
			c2.send(t, `<rpc message-id="6"><get/></rpc>`)
			if _, err := c2.r.ReadMessage(); !errors.Is(err, &netconf.ErrReplyTooLarge{}) {
				t.Fatalf("read: %v, want too large", err)
			}
			_ = c2.client.Close()
			_ = c.client.Close()
			waitGoroutines(t, before)
		})
	}
}

// answered sends n RPCs, ends its side of the session and returns the
// message-ids of the replies that came back.
func answered(t *testing.T, srv *netconftest.Server, n int) []string {
	t.Helper()
	c := connect(t, srv)
	c.hello(t, base10)
	for i := range n {
		c.send(t, `<rpc message-id="`+strconv.Itoa(i)+`"><get/></rpc>`)
	}
	// The server answers (or drops) each request before it reads the
	// next: when it reads EOF, it has handled them all, and it ends the
	// session.
	if err := c.ch.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		msg, err := c.r.ReadMessage()
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(msg), `message-id="`)
		id, _, _ := strings.Cut(rest, `"`)
		ids = append(ids, id)
	}
}

func TestLossIsSeeded(t *testing.T) {
	const n = 40
	run := func(f netconftest.Fault) []string {
		srv := newServer(t, netconftest.Config{Handler: fixedReply("<ok/>"), Fault: f})
		return answered(t, srv, n)
	}
	a := run(netconftest.Fault{Loss: 0.5, LossSeed: 42})
	b := run(netconftest.Fault{Loss: 0.5, LossSeed: 42})
	other := run(netconftest.Fault{Loss: 0.5, LossSeed: 43})
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different replies lost:\n%v\n%v", a, b)
	}
	if slices.Equal(a, other) {
		t.Errorf("seeds 42 and 43 lose the same replies: %v", a)
	}
	if len(a) < n/4 || len(a) > n*3/4 {
		t.Errorf("%d of %d replies came back with loss 0.5", len(a), n)
	}
	if got := run(netconftest.Fault{Loss: 1}); len(got) != 0 {
		t.Errorf("replies %v came back with loss 1", got)
	}
	if got := run(netconftest.Fault{}); len(got) != n {
		t.Errorf("%d of %d replies came back without loss", len(got), n)
	}
}
