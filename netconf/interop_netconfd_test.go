package netconf_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconfdtest"
)

// These tests run the netconf package against a NETCONF server it was not
// written with: yuma123's netconfd behind OpenSSH's sshd (Debian packages
// netconfd and openssh-server; .ci/interop/install.sh installs them). They
// skip when the software is missing, unless MASTERSHIP_REQUIRE_INTEROP=1.

const (
	capBase10 = "urn:ietf:params:netconf:base:1.0"
	capBase11 = "urn:ietf:params:netconf:base:1.1"
)

func dialNetconfd(t *testing.T, ctx context.Context, srv *netconfdtest.Server) *netconf.Session {
	t.Helper()
	sess, err := netconf.Dial(ctx, netconf.Config{
		Host:           srv.Host,
		Port:           srv.Port,
		User:           srv.User,
		Credentials:    netconf.Credentials{KeyFile: srv.KeyFile},
		KnownHostsFile: srv.KnownHostsFile,
		HostKeyPolicy:  netconf.PolicyStrict,
	})
	if err != nil {
		t.Fatalf("Dial %s: %v (outcome %s)", srv.Addr(), err, netconf.KindOf(err))
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sess.Close(cctx)
	})
	return sess
}

// firstChild returns the local name and namespace of the first element in
// data (a reply's inner XML).
func firstChild(t *testing.T, data []byte) xml.Name {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			t.Fatalf("reply has no element: %q", data)
		}
		if err != nil {
			// Data is a fragment whose prefixes may be declared on
			// <rpc-reply>; the first start tag is all that is needed.
			t.Fatalf("reply does not parse: %v: %q", err, data)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name
		}
	}
}

func TestNetconfdInterop(t *testing.T) {
	for _, tc := range []struct {
		name       string
		base10Only bool
		want       netconf.Framing
	}{
		{"base1.0", true, netconf.FramingEOM},
		{"base1.1", false, netconf.FramingChunked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := netconfdtest.Start(t, netconfdtest.Options{Base10Only: tc.base10Only})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			sess := dialNetconfd(t, ctx, srv)
			// Step around netconfd's hello bug (see WaitActive and
			// TestNetconfdInteropRPCRightAfterHello): the first RPC waits
			// until netconfd has taken our hello. A client that sends its
			// hello before reading the server's may find it deferred in
			// turn, until the first RPC arrives; the wait is bounded for
			// that case and checked again after the first RPC.
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
			base, werr := srv.WaitActive(wctx, sess.SessionID())
			wcancel()
			if werr != nil {
				t.Logf("%v; sending the first RPC anyway", werr)
			}

			caps := sess.Capabilities()
			if !slices.Contains(caps, capBase10) {
				t.Errorf("netconfd hello lacks %s: %q", capBase10, caps)
			}
			if got, want := slices.Contains(caps, capBase11), !tc.base10Only; got != want {
				t.Errorf("netconfd advertises base:1.1 = %v, want %v", got, want)
			}
			if got := sess.Framing(); got != tc.want {
				t.Errorf("Framing() = %v, want %v", got, tc.want)
			}
			if sess.SessionID() <= 0 {
				t.Errorf("SessionID() = %d, want the positive session-id of netconfd's hello", sess.SessionID())
			}

			// get-config of running: an <rpc-reply> with <data>.
			reply, err := sess.RPC(ctx, "<get-config><source><running/></source></get-config>")
			if err != nil {
				t.Fatalf("get-config: %v", err)
			}
			if name := firstChild(t, reply.Data); name.Local != "data" {
				t.Errorf("get-config reply starts with <%s>, want <data>: %s", name.Local, reply.Raw)
			}
			if reply.MessageID == "" {
				t.Errorf("get-config reply has no message-id: %s", reply.Raw)
			}
			// netconfd's own view of the framing.
			if base == "" {
				if base, err = srv.WaitActive(ctx, sess.SessionID()); err != nil {
					t.Fatal(err)
				}
			}
			if want := map[bool]string{true: "base:1.0", false: "base:1.1"}[tc.base10Only]; base != want {
				t.Errorf("netconfd runs the session on %s, want %s", base, want)
			}

			// get: state data too. netconfd always has
			// ietf-netconf-monitoring's netconf-state, with this session
			// in it.
			reply, err = sess.RPC(ctx, "<get/>")
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if name := firstChild(t, reply.Data); name.Local != "data" {
				t.Errorf("get reply starts with <%s>, want <data>", name.Local)
			}
			if !bytes.Contains(reply.Data, []byte("netconf-state")) {
				t.Errorf("get reply lacks netconf-state (%d bytes): %.500s", len(reply.Raw), reply.Raw)
			}

			// A Junos RPC netconfd does not know: a typed *RPCError,
			// classified as the device's error, with the session intact.
			reply, err = sess.RPC(ctx, "<get-route-engine-information/>")
			var rpcErr *netconf.RPCError
			if !errors.As(err, &rpcErr) {
				t.Fatalf("get-route-engine-information: err = %v (%T), want *netconf.RPCError", err, err)
			}
			if got := netconf.KindOf(err); got != netconf.KindRPCError {
				t.Errorf("Classify = %s, want %s", got, netconf.KindRPCError)
			}
			if rpcErr.Severity != "error" || rpcErr.Tag == "" {
				t.Errorf("RPCError = %+v, want severity error and a tag", *rpcErr)
			}
			if reply == nil || !bytes.Contains(reply.Raw, []byte("rpc-error")) {
				t.Errorf("the reply carrying the rpc-error is not returned: %v", reply)
			}
			t.Logf("netconfd answers an unknown RPC with: %v", rpcErr)

			// Junos' own bodies are not special either.
			if _, err := sess.RPC(ctx, "<get-system-uptime-information/>"); !errors.As(err, &rpcErr) {
				t.Errorf("get-system-uptime-information: err = %v, want *netconf.RPCError", err)
			}

			// The session survives the errors.
			if _, err := sess.RPC(ctx, "<get-config><source><running/></source></get-config>"); err != nil {
				t.Fatalf("get-config after rpc-error: %v", err)
			}
			if sess.Closed() {
				t.Fatal("session closed after an rpc-error")
			}
			if err := sess.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := sess.RPC(ctx, "<get/>"); !errors.Is(err, netconf.ErrSessionClosed) {
				t.Errorf("RPC after Close: %v, want ErrSessionClosed", err)
			}
		})
	}
}

// TestNetconfdInteropHostKey checks the strict policy against sshd's real
// host key: a known_hosts entry with another key for the same [host]:port
// is a *HostKeyError classified as a host-key failure, before any login.
func TestNetconfdInteropHostKey(t *testing.T) {
	t.Parallel()
	srv := netconfdtest.Start(t, netconfdtest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	// The client's public key stands in for a wrong host key.
	wrong, err := os.ReadFile(srv.KeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	kh := t.TempDir() + "/known_hosts"
	line := "[" + srv.Host + "]:" + strings.TrimPrefix(srv.Addr(), srv.Host+":") + " " + string(wrong)
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	sess, err := netconf.Dial(ctx, netconf.Config{
		Host: srv.Host, Port: srv.Port, User: srv.User,
		Credentials:    netconf.Credentials{KeyFile: srv.KeyFile},
		KnownHostsFile: kh,
		HostKeyPolicy:  netconf.PolicyStrict,
	})
	if err == nil {
		_ = sess.Close(ctx)
		t.Fatal("Dial succeeded with a wrong known_hosts entry")
	}
	var hkErr *netconf.HostKeyError
	if !errors.As(err, &hkErr) || hkErr.Unknown {
		t.Fatalf("Dial: %v, want a changed-key *netconf.HostKeyError", err)
	}
	if got := netconf.KindOf(err); got != netconf.KindHostKey {
		t.Errorf("Classify = %s, want %s", got, netconf.KindHostKey)
	}
}

// TestNetconfdInteropRPCRightAfterHello guards against a netconfd 2.13
// bug: in base:1.1 mode, netconfd defers whatever arrives in the same read
// as the client's <hello> "until the preceding message is handled", and
// then leaves it until more input arrives. When Dial sent its hello only
// after reading the server's, an RPC sent at once after Dial often shared
// that read and got no reply (the poll ended at the device's timeout, 18
// runs in 20). Dial now sends its hello as soon as the channel opens (RFC
// 6241 section 8.1: both peers send their hello "simultaneously"; ncclient
// does), which moves it into an earlier read — most of the time: netconfd
// can still be slow enough to read the early hello together with the RPC,
// and then the same bug hangs it (1 in 5 sessions in one CI run). So this
// test measures a third-party bug rather than guarding our code, and runs
// only with MASTERSHIP_NETCONFD_HELLO_RACE=1; the interop tests above wait
// for netconfd to take the hello first (WaitActive).
func TestNetconfdInteropRPCRightAfterHello(t *testing.T) {
	if os.Getenv("MASTERSHIP_NETCONFD_HELLO_RACE") != "1" {
		t.Skip("measures netconfd 2.13's base:1.1 hello-deferral bug; set MASTERSHIP_NETCONFD_HELLO_RACE=1 to run")
	}
	srv := netconfdtest.Start(t, netconfdtest.Options{})
	const sessions = 5
	hung := 0
	for i := range sessions {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		sess := dialNetconfd(t, ctx, srv)
		_, err := sess.RPC(ctx, "<get-config><source><running/></source></get-config>")
		cancel()
		if err != nil {
			hung++
			t.Logf("session %d (id %d): first RPC right after the hello: %v", i, sess.SessionID(), err)
		}
	}
	if hung > 0 {
		t.Errorf("%d of %d first RPCs sent right after the hello got no reply from netconfd", hung, sessions)
	}
}
