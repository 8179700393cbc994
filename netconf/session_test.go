package netconf_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

const (
	testUser     = "netinfra-mon"
	testPassword = "s3cret-pw-7c1d"
)

// junosComments are the comments Junos 17.3R3 writes before its hello.
var junosComments = []string{
	"No zombies were killed during the creation of this user interface",
	"user netinfra-mon, class j-mon",
}

// echoHandler answers every RPC with <echo> holding the operation and
// the request body, so a caller can tell its reply from another's.
func echoHandler(_ context.Context, req *netconftest.Request) []byte {
	return netconftest.Reply(req, "<echo><op>"+req.Operation+"</op><body>"+string(req.Body)+"</body></echo>")
}

// fixedHandler answers every RPC with inner.
func fixedHandler(inner string) netconftest.HandlerFunc {
	return func(_ context.Context, req *netconftest.Request) []byte { return netconftest.Reply(req, inner) }
}

func newServer(t testing.TB, cfg netconftest.Config) *netconftest.Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{testUser: testPassword}
	}
	if cfg.Handler == nil {
		cfg.Handler = netconftest.HandlerFunc(echoHandler)
	}
	srv, err := netconftest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// clientConfig returns a Config for srv with strict host-key checking
// against a known_hosts file holding srv's key.
func clientConfig(t testing.TB, srv *netconftest.Server) netconf.Config {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return netconf.Config{
		Host:           srv.Host(),
		Port:           srv.Port(),
		User:           testUser,
		Credentials:    netconf.Credentials{Password: testPassword},
		KnownHostsFile: kh,
		HostKeyPolicy:  netconf.PolicyStrict,
	}
}

func dial(t testing.TB, cfg netconf.Config) *netconf.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := netconf.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func rpcCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantOutcome(t *testing.T, err error, want netconf.Kind) {
	t.Helper()
	if got := netconf.KindOf(err); got != want {
		t.Errorf("KindOf(%v) = %s, want %s", err, got, want)
	}
}

// wantClosedFast checks that the session refuses further RPCs at once.
func wantClosedFast(t *testing.T, s *netconf.Session) {
	t.Helper()
	start := time.Now()
	_, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-software-information/>")
	if !errors.Is(err, netconf.ErrSessionClosed) {
		t.Errorf("RPC on a broken session: %v, want ErrSessionClosed", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("RPC on a broken session took %v", d)
	}
}

func TestRPCBothFramings(t *testing.T) {
	for _, tc := range []struct {
		base11 bool
		want   netconf.Framing
	}{{false, netconf.FramingEOM}, {true, netconf.FramingChunked}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			// A reply larger than one 1 MiB chunk, so chunked replies
			// span several chunks.
			big := strings.Repeat("<line>Jan  1 00:00:00 re0 chassisd[1]: CHASSISD_FRU_OFFLINE_NOTICE</line>\n", 16000)
			handler := func(ctx context.Context, req *netconftest.Request) []byte {
				if req.Operation == "get-log" {
					return netconftest.Reply(req, "<file-content>"+big+"</file-content>")
				}
				return echoHandler(ctx, req)
			}
			srv := newServer(t, netconftest.Config{Base11: tc.base11, Handler: netconftest.HandlerFunc(handler)})
			s := dial(t, clientConfig(t, srv))

			if s.Framing() != tc.want {
				t.Errorf("Framing = %v, want %v", s.Framing(), tc.want)
			}
			if s.SessionID() <= 0 {
				t.Errorf("SessionID = %d", s.SessionID())
			}
			caps := strings.Join(s.Capabilities(), " ")
			if !strings.Contains(caps, "http://xml.juniper.net/netconf/junos/1.0") || strings.Contains(caps, "base:1.1") != tc.base11 {
				t.Errorf("Capabilities = %v", s.Capabilities())
			}
			for i := range 3 {
				body := fmt.Sprintf("<get-route-engine-information><n>%d</n></get-route-engine-information>", i)
				reply, err := s.RPC(rpcCtx(t, 5*time.Second), body)
				if err != nil {
					t.Fatal(err)
				}
				want := "<echo><op>get-route-engine-information</op><body>" + body + "</body></echo>"
				if got := strings.TrimSpace(string(reply.Data)); got != want {
					t.Errorf("Data = %q, want %q", got, want)
				}
				if reply.MessageID == "" || !bytes.Contains(reply.Raw, []byte(reply.MessageID)) {
					t.Errorf("MessageID = %q", reply.MessageID)
				}
			}
			reply, err := s.RPC(rpcCtx(t, 10*time.Second), "<get-log><filename>messages</filename></get-log>")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(reply.Data)); got != "<file-content>"+big+"</file-content>" {
				t.Errorf("big reply: %d bytes, want %d", len(got), len(big)+29)
			}
		})
	}
}

func TestJunosHelloWithComments(t *testing.T) {
	srv := newServer(t, netconftest.Config{HelloComments: junosComments, Capabilities: []string{"urn:example:extra"}})
	s := dial(t, clientConfig(t, srv))
	caps := s.Capabilities()
	if caps[0] != "urn:ietf:params:netconf:base:1.0" || caps[len(caps)-1] != "urn:example:extra" || len(caps) != 14 {
		t.Errorf("Capabilities = %q", caps)
	}
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>"); err != nil {
		t.Fatal(err)
	}
}

func TestRPCErrors(t *testing.T) {
	tests := []struct {
		name     string
		inner    string
		err      *netconf.RPCError // nil: success
		warnings int
	}{
		{
			name:  "rpc-error",
			inner: "<rpc-error><error-type>protocol</error-type><error-tag>operation-failed</error-tag><error-severity>error</error-severity><error-message>\nsyntax error\n</error-message></rpc-error>",
			err:   &netconf.RPCError{Type: "protocol", Tag: "operation-failed", Severity: "error", Message: "syntax error"},
		},
		{
			name:  "rpc-error nested in data",
			inner: "<route-engine-information><route-engine><slot>0</slot><rpc-error><error-severity>error</error-severity><error-message>re1 not responding</error-message></rpc-error></route-engine></route-engine-information>",
			err:   &netconf.RPCError{Severity: "error", Message: "re1 not responding"},
		},
		{
			name:     "warning only",
			inner:    "<rpc-error><error-severity>warning</error-severity><error-message>deprecated</error-message></rpc-error><route-engine-information/>",
			warnings: 1,
		},
		{
			name:  "xnm:error",
			inner: `<xnm:error xmlns="http://xml.juniper.net/xnm/1.1/xnm" xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><source-daemon>chassis-control</source-daemon><message>Unrecognized command (chassis-control)</message></xnm:error>`,
			err:   &netconf.RPCError{Severity: "error", DaemonSource: "chassis-control", Message: "Unrecognized command (chassis-control)"},
		},
		{
			name:  "output Aborted on backup RE",
			inner: "<output>\nAborted! This command can only be used on the master routing engine.</output>",
			err:   &netconf.RPCError{Tag: "aborted", Severity: "error", Message: "Aborted! This command can only be used on the master routing engine."},
		},
	}
	for _, base11 := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/base11=%v", tt.name, base11), func(t *testing.T) {
				srv := newServer(t, netconftest.Config{Base11: base11, Handler: fixedHandler(tt.inner)})
				s := dial(t, clientConfig(t, srv))
				for range 2 { // the session survives a device error
					reply, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-chassis-inventory/>")
					if tt.err == nil {
						if err != nil {
							t.Fatal(err)
						}
						if len(reply.Warnings) != tt.warnings {
							t.Errorf("Warnings = %v", reply.Warnings)
						}
						continue
					}
					var got *netconf.RPCError
					if !errors.As(err, &got) {
						t.Fatalf("err = %v, want *RPCError", err)
					}
					if *got != *tt.err {
						t.Errorf("RPCError = %+v, want %+v", *got, *tt.err)
					}
					if reply == nil || len(reply.Raw) == 0 {
						t.Error("no reply with the RPCError")
					}
					if !strings.Contains(err.Error(), "get-chassis-inventory") || !strings.Contains(err.Error(), srv.Addr()) {
						t.Errorf("error does not name the RPC and target: %v", err)
					}
					wantOutcome(t, err, netconf.KindRPCError)
				}
			})
		}
	}
}

func TestDefaultHandlerAnswersRPCError(t *testing.T) {
	srv, err := netconftest.NewServer(netconftest.Config{Users: map[string]string{testUser: testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := dial(t, clientConfig(t, srv))
	_, err = s.RPC(rpcCtx(t, 5*time.Second), "<get-foo/>")
	wantOutcome(t, err, netconf.KindRPCError)
}

func TestReplyTooLarge(t *testing.T) {
	for _, base11 := range []bool{false, true} {
		t.Run(fmt.Sprintf("base11=%v", base11), func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: base11, Handler: fixedHandler(strings.Repeat("<x/>", 1<<18))})
			cfg := clientConfig(t, srv)
			cfg.MaxReplyBytes = 64 << 10
			s := dial(t, cfg)
			_, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-log/>")
			var tl *netconf.ErrReplyTooLarge
			if !errors.As(err, &tl) || tl.Limit != 64<<10 {
				t.Fatalf("err = %v, want ErrReplyTooLarge{65536}", err)
			}
			wantOutcome(t, err, netconf.KindTooLarge)
			wantClosedFast(t, s)
		})
	}
}

func TestRPCDeadlineStallMidReply(t *testing.T) {
	for _, base11 := range []bool{false, true} {
		t.Run(fmt.Sprintf("base11=%v", base11), func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: base11, Handler: fixedHandler(strings.Repeat("<x/>", 1000))})
			s := dial(t, clientConfig(t, srv))
			srv.SetFault(netconftest.Fault{StallMidReply: true})

			const deadline = 300 * time.Millisecond
			start := time.Now()
			_, err := s.RPC(rpcCtx(t, deadline), "<get-route-engine-information/>")
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			wantOutcome(t, err, netconf.KindTimeout)
			if elapsed < deadline || elapsed > deadline+500*time.Millisecond {
				t.Errorf("RPC returned after %v, deadline %v", elapsed, deadline)
			}
			wantClosedFast(t, s)
		})
	}
}

func TestRPCCancel(t *testing.T) {
	started := make(chan struct{})
	handler := func(ctx context.Context, req *netconftest.Request) []byte {
		close(started)
		<-ctx.Done() // until the client goes away
		return nil
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	s := dial(t, clientConfig(t, srv))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := s.RPC(ctx, "<get-route-engine-information/>")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	wantOutcome(t, err, netconf.KindTimeout)
	wantClosedFast(t, s)
}

func TestHangAfterHello(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{HangAfterHello: true}})
	s := dial(t, clientConfig(t, srv))
	start := time.Now()
	_, err := s.RPC(rpcCtx(t, 200*time.Millisecond), "<get-route-engine-information/>")
	wantOutcome(t, err, netconf.KindTimeout)
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("RPC returned after %v", d)
	}
	wantClosedFast(t, s)
}

func TestLatency(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{Latency: 150 * time.Millisecond}})
	s := dial(t, clientConfig(t, srv))
	start := time.Now()
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("reply after %v, latency 150ms", d)
	}
	// A deadline shorter than the latency: timeout.
	_, err := s.RPC(rpcCtx(t, 50*time.Millisecond), "<get-route-engine-information/>")
	wantOutcome(t, err, netconf.KindTimeout)
}

func TestDialFailures(t *testing.T) {
	tests := []struct {
		name    string
		fault   netconftest.Fault
		timeout time.Duration
		modify  func(*netconf.Config)
		want    netconf.Kind
		msg     string // the error names the step
	}{
		{name: "refused", fault: netconftest.Fault{Refuse: true}, want: netconf.KindRefused, msg: "dial 127.0.0.1:"},
		{name: "silent after accept", fault: netconftest.Fault{SilentAfterAccept: true}, timeout: 300 * time.Millisecond, want: netconf.KindTimeout, msg: "ssh handshake with 127.0.0.1:"},
		{name: "hang after hello is not a dial failure", fault: netconftest.Fault{HangAfterHello: true}, want: netconf.KindNone},
		{name: "reject auth", fault: netconftest.Fault{RejectAuth: true}, want: netconf.KindAuth, msg: "ssh handshake with"},
		{name: "wrong password", modify: func(c *netconf.Config) { c.Credentials.Password = "wrong" }, want: netconf.KindAuth, msg: "unable to authenticate"},
		{name: "unknown user", modify: func(c *netconf.Config) { c.User = "nobody" }, want: netconf.KindAuth},
		{name: "no credentials", modify: func(c *netconf.Config) { c.Credentials = netconf.Credentials{} }, want: netconf.KindAuth, msg: "credentials for"},
		{name: "unreadable key file", modify: func(c *netconf.Config) { c.Credentials = netconf.Credentials{KeyFile: "/nonexistent/id_ed25519"} }, want: netconf.KindAuth},
		{name: "unknown host key", modify: func(c *netconf.Config) {
			c.KnownHostsFile = filepath.Join(filepath.Dir(c.KnownHostsFile), "empty_known_hosts")
		}, want: netconf.KindHostKey},
		{name: "changed host key", modify: func(c *netconf.Config) {
			// known_hosts names another key for this host and port.
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			key, err := ssh.NewPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			line := knownhosts.Line([]string{net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}, key)
			if err := os.WriteFile(c.KnownHostsFile, []byte(line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: netconf.KindHostKey, msg: "CHANGED"},
		{name: "host key checking off", modify: func(c *netconf.Config) {
			c.HostKeyPolicy = netconf.PolicyOff
			c.KnownHostsFile = ""
		}, want: netconf.KindNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Fault: tt.fault})
			cfg := clientConfig(t, srv)
			if tt.modify != nil {
				tt.modify(&cfg)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			start := time.Now()
			s, err := netconf.Dial(rpcCtx(t, timeout), cfg)
			if d := time.Since(start); d > timeout+500*time.Millisecond {
				t.Errorf("Dial took %v with a %v budget", d, timeout)
			}
			if s != nil {
				_ = s.Close(rpcCtx(t, time.Second))
			}
			wantOutcome(t, err, tt.want)
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestDialBadConfig(t *testing.T) {
	for _, cfg := range []netconf.Config{{User: "u"}, {Host: "127.0.0.1"}} {
		if _, err := netconf.Dial(t.Context(), cfg); err == nil {
			t.Errorf("Dial(%+v) succeeded", cfg)
		}
	}
}

func TestMessageIDMismatch(t *testing.T) {
	handler := func(_ context.Context, req *netconftest.Request) []byte {
		return netconftest.Reply(&netconftest.Request{MessageID: "not-" + req.MessageID}, "<ok/>")
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	s := dial(t, clientConfig(t, srv))
	_, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>")
	var pe *netconf.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "message-id") {
		t.Fatalf("err = %v, want a message-id ProtocolError", err)
	}
	wantOutcome(t, err, netconf.KindProtocol)
	wantClosedFast(t, s)
}

func TestBadReplyXML(t *testing.T) {
	handler := func(_ context.Context, req *netconftest.Request) []byte {
		return []byte(`<rpc-reply message-id="` + req.MessageID + `"><a></b></rpc-reply>`)
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	s := dial(t, clientConfig(t, srv))
	_, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>")
	wantOutcome(t, err, netconf.KindProtocol)
	wantClosedFast(t, s)
}

func TestInvalidBodyKeepsSession(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	// The last is well-formed, but base:1.0 framing cannot carry it.
	for _, body := range []string{"", "<unclosed>", "text", `<get-log filter="]]>]]>"/>`} {
		if _, err := s.RPC(rpcCtx(t, 5*time.Second), body); err == nil {
			t.Errorf("RPC(%q) succeeded", body)
		}
	}
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>"); err != nil {
		t.Fatalf("session broken by a refused body: %v", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-route-engine-information/>"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(rpcCtx(t, 5*time.Second)); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	wantClosedFast(t, s)
}

func TestCloseAfterBreakAndWithSpentContext(t *testing.T) {
	srv := newServer(t, netconftest.Config{Fault: netconftest.Fault{HangAfterHello: true}})
	s := dial(t, clientConfig(t, srv))
	_, _ = s.RPC(rpcCtx(t, 50*time.Millisecond), "<get-route-engine-information/>")
	if err := s.Close(rpcCtx(t, time.Second)); err != nil {
		t.Errorf("Close of a broken session: %v", err)
	}

	srv2 := newServer(t, netconftest.Config{})
	s2 := dial(t, clientConfig(t, srv2))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s2.Close(ctx); err != nil {
		t.Errorf("Close with a cancelled context: %v", err)
	}
	wantClosedFast(t, s2)
}

// Close of a server that hangs after close-session is bounded by ctx.
func TestCloseBounded(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	srv.SetFault(netconftest.Fault{HangAfterHello: true})
	start := time.Now()
	_ = s.Close(rpcCtx(t, 200*time.Millisecond))
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
}

// Close while an RPC waits for a reply: Close waits for its own budget,
// then closes under the RPC, which fails with ErrSessionClosed.
func TestCloseDuringRPC(t *testing.T) {
	started := make(chan struct{})
	handler := func(ctx context.Context, req *netconftest.Request) []byte {
		close(started)
		<-ctx.Done()
		return nil
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	s := dial(t, clientConfig(t, srv))
	done := make(chan error, 1)
	go func() {
		_, err := s.RPC(t.Context(), "<get-route-engine-information/>")
		done <- err
	}()
	<-started
	start := time.Now()
	if err := s.Close(rpcCtx(t, 100*time.Millisecond)); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	if err := <-done; !errors.Is(err, netconf.ErrSessionClosed) {
		t.Errorf("RPC under Close: %v, want ErrSessionClosed", err)
	}
}

// Many goroutines share one session; each must get its own reply. Run
// with -race.
func TestConcurrentRPCsSerialised(t *testing.T) {
	for _, base11 := range []bool{false, true} {
		t.Run(fmt.Sprintf("base11=%v", base11), func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Base11: base11})
			s := dial(t, clientConfig(t, srv))
			const workers, calls = 16, 20
			var wg sync.WaitGroup
			errs := make(chan error, workers*calls)
			for w := range workers {
				wg.Go(func() {
					for c := range calls {
						body := fmt.Sprintf("<get-route-engine-information><w>%d</w><c>%d</c></get-route-engine-information>", w, c)
						reply, err := s.RPC(rpcCtx(t, 10*time.Second), body)
						if err != nil {
							errs <- err
							return
						}
						if !bytes.Contains(reply.Data, []byte(body)) {
							errs <- fmt.Errorf("worker %d call %d got someone else's reply: %s", w, c, reply.Data)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// An RPC waiting for its turn gives up when its context ends, without
// breaking the session.
func TestWaitingForTurnHonoursContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	handler := func(ctx context.Context, req *netconftest.Request) []byte {
		if req.Operation == "slow" {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return echoHandler(ctx, req)
	}
	srv := newServer(t, netconftest.Config{Handler: netconftest.HandlerFunc(handler)})
	s := dial(t, clientConfig(t, srv))
	done := make(chan error, 1)
	go func() {
		_, err := s.RPC(rpcCtx(t, 10*time.Second), "<slow/>")
		done <- err
	}()
	<-started
	_, err := s.RPC(rpcCtx(t, 100*time.Millisecond), "<fast/>")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting RPC: %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("slow RPC: %v", err)
	}
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<fast/>"); err != nil {
		t.Fatalf("session broken by a caller that gave up waiting: %v", err)
	}
}

// TestNoGoroutineLeak runs every kind of session end and checks that the
// goroutine count comes back down. No test in this package runs in
// parallel, so the count is this test's own.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		// Every server and session is closed before counting.
		for _, f := range []netconftest.Fault{{}, {HangAfterHello: true}, {StallMidReply: true}, {SilentAfterAccept: true}, {RejectAuth: true}, {Refuse: true}} {
			srv, err := netconftest.NewServer(netconftest.Config{Users: map[string]string{testUser: testPassword}, Fault: f, Base11: true, Handler: netconftest.HandlerFunc(echoHandler)})
			if err != nil {
				t.Fatal(err)
			}
			cfg := clientConfig(t, srv)
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			s, err := netconf.Dial(ctx, cfg)
			if err == nil {
				_, _ = s.RPC(ctx, "<get-route-engine-information/>")
				_ = s.Close(ctx)
			}
			cancel()
			_ = srv.Close()
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

func BenchmarkRPC(b *testing.B) {
	// ~5 KB, the size of a dual-RE get-route-engine-information reply.
	inner := "<route-engine-information>" + strings.Repeat("<route-engine><slot>0</slot><mastership-state>master</mastership-state><status>OK</status><up-time junos:seconds=\"4233600\">49 days</up-time></route-engine>", 30) + "</route-engine-information>"
	for _, base11 := range []bool{false, true} {
		b.Run(fmt.Sprintf("base11=%v", base11), func(b *testing.B) {
			srv := newServer(b, netconftest.Config{Base11: base11, Handler: fixedHandler(inner)})
			s := dial(b, clientConfig(b, srv))
			ctx := b.Context()
			b.ReportAllocs()
			b.SetBytes(int64(len(inner)))
			for b.Loop() {
				if _, err := s.RPC(ctx, "<get-route-engine-information/>"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
