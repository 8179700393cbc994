package netconf_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

// patternReader yields a framed message of size bytes of filler, without
// holding it: "]]>]]>"-ended for base:1.0, in chunks of chunk bytes for
// base:1.1.
type patternReader struct {
	parts [][]byte // what is left to read, in order
	fill  int64    // filler bytes left in the current chunk
	chunk int64
	left  int64 // filler bytes left in the message
	f     netconf.Framing
}

var filler = bytes.Repeat([]byte("Dec  8 03:48:25  re0 sshd[4242]: Accepted publickey for lab\n"), 64)

func newPatternReader(f netconf.Framing, size, chunk int64) *patternReader {
	r := &patternReader{left: size, chunk: chunk, f: f}
	if f == netconf.FramingEOM {
		r.parts = [][]byte{[]byte(`<rpc-reply message-id="1"><output>`)}
	}
	return r
}

func (r *patternReader) Read(p []byte) (int, error) {
	for len(r.parts) == 0 {
		switch {
		case r.fill > 0:
			n := min(int64(len(p)), r.fill, int64(len(filler)))
			copy(p, filler[:n])
			r.fill -= n
			return int(n), nil
		case r.left > 0 && r.f == netconf.FramingChunked:
			r.fill = min(r.chunk, r.left)
			r.left -= r.fill
			r.parts = append(r.parts, []byte("\n#"+strconv.FormatInt(r.fill, 10)+"\n"))
		case r.left > 0:
			r.fill, r.left = r.left, 0
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, r.parts[0])
	if r.parts[0] = r.parts[0][n:]; len(r.parts[0]) == 0 {
		r.parts = r.parts[1:]
	}
	return n, nil
}

// countingSink counts what it is given and keeps nothing.
type countingSink struct{ n int64 }

func (c *countingSink) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestCopyMessageCutsOversizedWhileStreaming: a 48 MiB message over an
// 8 MiB limit is cut when the limit is crossed, and streaming it costs a
// read buffer, not the reply: the heap allocated during the copy stays far
// below the limit, let alone the message (ReadMessage, which buffers,
// allocates at least the limit before it can refuse).
func TestCopyMessageCutsOversizedWhileStreaming(t *testing.T) {
	const size, limit = 48 << 20, 8 << 20
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		t.Run(f.String(), func(t *testing.T) {
			fr := netconf.NewFrameReader(newPatternReader(f, size, 1<<20), f, limit)
			var sink countingSink
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n, err := fr.CopyMessage(&sink)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, &netconf.ErrReplyTooLarge{}) {
				t.Fatalf("CopyMessage = %d, %v; want netconf.ErrReplyTooLarge", n, err)
			}
			if sink.n > limit || sink.n < limit/2 || n != sink.n {
				t.Errorf("the sink got %d bytes (CopyMessage says %d), want at most the limit, %d, and most of it", sink.n, n, limit)
			}
			// Generous: the frame reader's buffer is 4 KiB.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("streaming an oversized message allocated %d bytes, want under 1 MiB", alloc)
			}
			if _, err := fr.ReadMessage(); !errors.Is(err, &netconf.ErrReplyTooLarge{}) {
				t.Errorf("after the cut, ReadMessage = %v, want the same error", err)
			}

			// The buffering reader, for contrast (and to show the test can
			// fail): it holds the limit before refusing.
			fr = netconf.NewFrameReader(newPatternReader(f, size, 1<<20), f, limit)
			runtime.ReadMemStats(&before)
			_, err = fr.ReadMessage()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, &netconf.ErrReplyTooLarge{}) {
				t.Fatalf("ReadMessage = %v, want netconf.ErrReplyTooLarge", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc < limit/2 {
				t.Errorf("ReadMessage of an oversized message allocated only %d bytes", alloc)
			}
		})
	}
}

// TestCopyMessageWholeAndInPieces: a message under the limit reaches the
// sink whole and in order, in either framing, and the next one follows.
func TestCopyMessageWholeAndInPieces(t *testing.T) {
	msg := bytes.Repeat([]byte("<x>a]]>]]</x>"), 5000)
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		t.Run(f.String(), func(t *testing.T) {
			one, err := netconf.AppendFrame(nil, bytes.ReplaceAll(msg, []byte("]]>]]"), []byte("]]&gt;]]")), f, 777)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.ReplaceAll(msg, []byte("]]>]]"), []byte("]]&gt;]]"))
			fr := netconf.NewFrameReader(io.MultiReader(bytes.NewReader(one), bytes.NewReader(one)), f, 0)
			for i := range 2 {
				var got bytes.Buffer
				n, err := fr.CopyMessage(&got)
				if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("message %d: %d bytes, %v; same bytes %v", i, n, err, bytes.Equal(got.Bytes(), want))
				}
			}
			if _, err := fr.CopyMessage(io.Discard); !errors.Is(err, io.EOF) {
				t.Errorf("after the last message: %v, want io.EOF", err)
			}
		})
	}
}

// TestRPCStreamOverSSH: RPCStream hands the sink the reply as RPC's Raw
// would hold it, judges a small reply as RPC does (an rpc-error is
// returned), and cuts an oversized one at the limit with the typed error.
func TestRPCStreamOverSSH(t *testing.T) {
	big := strings.Repeat("<line>Dec  8 03:48:25 re0 cron[1]: (root) CMD (newsyslog)</line>\n", 4000) // about 280 KB
	srv, err := netconftest.NewServer(netconftest.Config{
		Users: map[string]string{"lab": "lab123"},
		Handler: netconftest.HandlerFunc(func(_ context.Context, req *netconftest.Request) []byte {
			switch req.Operation {
			case "get-big":
				return netconftest.Reply(req, big)
			case "get-small":
				return netconftest.Reply(req, "<ok/>")
			}
			return netconftest.ErrorReply(req, "operation-failed", "no such thing")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := streamClientConfig(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := netconf.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close(ctx) }()

	whole, err := s.RPC(ctx, "<get-big/>")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	reply, err := s.RPCStream(ctx, "<get-big/>", &got)
	if err != nil {
		t.Fatalf("RPCStream: %v", err)
	}
	// The same bytes but the message-id.
	if want := strings.Replace(string(whole.Raw), `message-id="1"`, `message-id="2"`, 1); got.String() != want {
		t.Errorf("the sink got %d bytes, RPC's Raw has %d", got.Len(), len(whole.Raw))
	}
	if reply.MessageID != "2" || reply.Raw != nil {
		t.Errorf("streamed reply: message-id %q, Raw %d bytes; want 2 and nil", reply.MessageID, len(reply.Raw))
	}

	got.Reset()
	reply, err = s.RPCStream(ctx, "<get-small/>", &got)
	if err != nil || string(reply.Raw) != got.String() || !strings.Contains(got.String(), "<ok/>") {
		t.Errorf("small reply: %v; Raw %q, sink %q", err, reply.Raw, got.String())
	}
	_, err = s.RPCStream(ctx, "<get-other/>", io.Discard)
	var rpcErr *netconf.RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Message != "no such thing" {
		t.Errorf("an rpc-error reply: %v, want the netconf.RPCError", err)
	}

	// Oversized: cut at the limit as it streams.
	srv.SetFault(netconftest.Fault{HugeReply: 20 << 20})
	var sink countingSink
	_, err = s.RPCStream(ctx, "<get-log/>", &sink)
	if netconf.KindOf(err) != netconf.KindTooLarge {
		t.Fatalf("oversized reply: %v, want too-large", err)
	}
	if sink.n > cfg.MaxReplyBytes {
		t.Errorf("the sink got %d bytes, over the %d-byte limit", sink.n, cfg.MaxReplyBytes)
	}
	if _, err := s.RPC(ctx, "<get-small/>"); !errors.Is(err, netconf.ErrSessionClosed) {
		t.Errorf("after an oversized reply the session answered: %v", err)
	}
}

func streamClientConfig(t *testing.T, srv *netconftest.Server) netconf.Config {
	t.Helper()
	kh := t.TempDir() + "/known_hosts"
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return netconf.Config{
		Host: srv.Host(), Port: srv.Port(), User: "lab",
		Credentials:    netconf.Credentials{Password: "lab123"},
		KnownHostsFile: kh, HostKeyPolicy: netconf.PolicyStrict,
		MaxReplyBytes: 2 << 20,
	}
}
