package netconftest

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/mastership/mastership/netconf"
)

// writeLog records each Write as its own piece.
type writeLog struct{ writes [][]byte }

func (w *writeLog) Write(b []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *writeLog) joined() []byte { return bytes.Join(w.writes, nil) }

func TestWriteSplitSplitsEveryDelimiter(t *testing.T) {
	msg := []byte(strings.Repeat("<x>some text</x>\n", 200))
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		var w writeLog
		if err := writeSplit(&w, msg, f); err != nil {
			t.Fatal(err)
		}
		got, err := netconf.NewFrameReader(bytes.NewReader(w.joined()), f, 0).ReadMessage()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%v: read back %d bytes, %v", f, len(got), err)
		}
		for i, b := range w.writes {
			if len(b) > splitPiece {
				t.Errorf("%v: write %d has %d bytes", f, i, len(b))
			}
			if bytes.ContainsAny(b, "]#") && len(b) > 1 && !bytes.Contains(msg, b) {
				t.Errorf("%v: write %d (%q) holds more than one byte of a delimiter", f, i, b)
			}
		}
		if f == netconf.FramingChunked && len(w.writes) < 2*len(msg)/splitChunk {
			t.Errorf("%d writes for %d chunks", len(w.writes), len(msg)/splitChunk)
		}
	}
}

func TestWriteHugeHoldsOneBlock(t *testing.T) {
	const size = 200_000_000
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		var n countingWriter
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := writeHuge(context.Background(), &n, &Request{MessageID: "1"}, f, size); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if n < size {
			t.Errorf("%v: %d bytes written, want %d and framing", f, n, size)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%v: generating %d bytes allocated %d", f, size, alloc)
		}
	}
}

type countingWriter int64

func (c *countingWriter) Write(b []byte) (int, error) {
	*c += countingWriter(len(b))
	return len(b), nil
}

func TestReplyMutations(t *testing.T) {
	reply := Reply(&Request{MessageID: "3"}, "<a>\n<b>text</b>\n</a>")
	if got := string(malformXML(reply)); !strings.Contains(got, `message-id="3">`+malformedElement+"\n<a>") {
		t.Errorf("malformed = %q", got)
	}
	if got := string(breakUTF8(reply)); !strings.Contains(got, "<b>"+badUTF8+"text</b>") {
		t.Errorf("broken UTF-8 = %q", got)
	}
	// A reply with comments and a declaration before the root, and no text.
	odd := []byte("<?xml version=\"1.0\"?>\n<!-- a > b -->\n<rpc-reply><ok/></rpc-reply>")
	if got := string(malformXML(odd)); !strings.Contains(got, "<rpc-reply>"+malformedElement+"<ok/>") {
		t.Errorf("malformed = %q", got)
	}
	if got := string(breakUTF8(odd)); !strings.Contains(got, "<rpc-reply>"+badUTF8+"<ok/>") {
		t.Errorf("broken UTF-8 = %q", got)
	}
	for _, tc := range []struct{ id, prev, want string }{{"1", "", "10"}, {"2", "1", "1"}, {"2", "2", "20"}, {"", "", "0"}} {
		if got := wrongMessageID(tc.id, tc.prev); got != tc.want {
			t.Errorf("wrongMessageID(%q, %q) = %q, want %q", tc.id, tc.prev, got, tc.want)
		}
	}
}
