package netconf_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mastership/mastership/netconf"
)

// readAll reads messages until an error and returns them and the error.
func readAll(fr *netconf.FrameReader) ([]string, error) {
	var msgs []string
	for {
		m, err := fr.ReadMessage()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(m))
	}
}

type readerKind struct {
	name string
	wrap func(io.Reader) io.Reader
}

// readerKinds deliver the same bytes in different read sizes, so every
// delimiter and header ends up split across reads.
var readerKinds = []readerKind{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one-byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data-err", iotest.DataErrReader},
}

func TestFrameReader(t *testing.T) {
	tests := []struct {
		name    string
		framing netconf.Framing
		limit   int64
		in      string
		want    []string
		err     string // "eof", "protocol", "too-large"
	}{
		{name: "eom one", in: "<a/>]]>]]>", want: []string{"<a/>"}, err: "eof"},
		{name: "eom two and trailing newline", in: "<a/>]]>]]>\n<b/>]]>]]>\n", want: []string{"<a/>", "\n<b/>"}, err: "eof"},
		{name: "eom partial delimiters inside", in: "]]>]]]>]]x]]>]]>", want: []string{"]]>]]]>]]x"}, err: "eof"},
		{name: "eom empty message", in: "]]>]]>", want: []string{""}, err: "eof"},
		{name: "eom junos hello with comments", in: "<!-- c -->\n<nc:hello/>\n]]>]]>", want: []string{"<!-- c -->\n<nc:hello/>\n"}, err: "eof"},
		{name: "eom eof mid message", in: "<a/>]]>]]><b>", want: []string{"<a/>"}, err: "protocol"},
		{name: "eom eof mid delimiter", in: "<a/>]]>]]", err: "protocol"},
		{name: "eom empty stream", in: "", err: "eof"},
		{name: "eom at limit", limit: 4, in: "1234]]>]]>", want: []string{"1234"}, err: "eof"},
		{name: "eom over limit", limit: 4, in: "12345]]>]]>", err: "too-large"},
		{name: "eom over limit without delimiter", limit: 4, in: strings.Repeat("x", 100), err: "too-large"},

		{name: "chunked one", framing: netconf.FramingChunked, in: "\n#4\n<a/>\n##\n", want: []string{"<a/>"}, err: "eof"},
		{name: "chunked many chunks", framing: netconf.FramingChunked, in: "\n#2\n<a\n#1\n/\n#1\n>\n##\n\n#1\nb\n##\n", want: []string{"<a/>", "b"}, err: "eof"},
		{name: "chunked rfc 6242 example", framing: netconf.FramingChunked,
			in:   "\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>\n##\n",
			want: []string{"<rpc message-id=\"102\"\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>"}, err: "eof"},
		{name: "chunked data contains framing bytes", framing: netconf.FramingChunked, in: "\n#10\n\n##\n]]>]]>\n##\n", want: []string{"\n##\n]]>]]>"}, err: "eof"},
		{name: "chunked newline after hello tolerated", framing: netconf.FramingChunked, in: "\r\n\n#1\nx\n##\n", want: []string{"x"}, err: "eof"},
		{name: "chunked max size digits", framing: netconf.FramingChunked, limit: 10, in: "\n#4294967295\n", err: "too-large"},
		{name: "chunked size zero", framing: netconf.FramingChunked, in: "\n#0\n\n##\n", err: "protocol"},
		{name: "chunked leading zero", framing: netconf.FramingChunked, in: "\n#01\nx\n##\n", err: "protocol"},
		{name: "chunked size too big", framing: netconf.FramingChunked, in: "\n#4294967296\n", err: "protocol"},
		{name: "chunked size too many digits", framing: netconf.FramingChunked, in: "\n#10000000000\n", err: "protocol"},
		{name: "chunked non-digit", framing: netconf.FramingChunked, in: "\n#1a\nx\n##\n", err: "protocol"},
		{name: "chunked negative", framing: netconf.FramingChunked, in: "\n#-1\nx\n##\n", err: "protocol"},
		{name: "chunked no hash", framing: netconf.FramingChunked, in: "\n4\n<a/>\n##\n", err: "protocol"},
		{name: "chunked hash without newline", framing: netconf.FramingChunked, in: "#4\n<a/>\n##\n", err: "protocol"},
		{name: "chunked end without chunks", framing: netconf.FramingChunked, in: "\n##\n", err: "protocol"},
		{name: "chunked data longer than size", framing: netconf.FramingChunked, in: "\n#3\n<a/>\n##\n", err: "protocol"},
		{name: "chunked bad end", framing: netconf.FramingChunked, in: "\n#1\nx\n##x", err: "protocol"},
		{name: "chunked eom message", framing: netconf.FramingChunked, in: "<a/>]]>]]>", err: "protocol"},
		{name: "chunked eof in data", framing: netconf.FramingChunked, in: "\n#10\nabc", err: "protocol"},
		{name: "chunked eof in header", framing: netconf.FramingChunked, in: "\n#1", err: "protocol"},
		{name: "chunked eof before end", framing: netconf.FramingChunked, in: "\n#1\nx", err: "protocol"},
		{name: "chunked at limit", framing: netconf.FramingChunked, limit: 4, in: "\n#2\nab\n#2\ncd\n##\n", want: []string{"abcd"}, err: "eof"},
		{name: "chunked over limit across chunks", framing: netconf.FramingChunked, limit: 4, in: "\n#2\nab\n#3\ncde\n##\n", err: "too-large"},
	}
	for _, tt := range tests {
		for _, rk := range readerKinds {
			t.Run(tt.name+"/"+rk.name, func(t *testing.T) {
				fr := netconf.NewFrameReader(rk.wrap(strings.NewReader(tt.in)), tt.framing, tt.limit)
				got, err := readAll(fr)
				if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
					t.Errorf("messages = %q, want %q", got, tt.want)
				}
				checkErrKind(t, err, tt.err, tt.limit)
				// Errors are sticky: the stream position is lost.
				if _, err2 := fr.ReadMessage(); err2 != err {
					t.Errorf("second ReadMessage error = %v, want the same %v", err2, err)
				}
			})
		}
	}
}

func checkErrKind(t *testing.T, err error, kind string, limit int64) {
	t.Helper()
	switch kind {
	case "eof":
		if err != io.EOF {
			t.Errorf("err = %v, want io.EOF", err)
		}
	case "protocol":
		var pe *netconf.ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("err = %v, want *ProtocolError", err)
		}
		if got := netconf.KindOf(err); got != netconf.KindProtocol {
			t.Errorf("Classify = %s, want protocol", got)
		}
	case "too-large":
		var tl *netconf.ErrReplyTooLarge
		if !errors.As(err, &tl) {
			t.Fatalf("err = %v, want *ErrReplyTooLarge", err)
		}
		if tl.Limit != limit {
			t.Errorf("Limit = %d, want %d", tl.Limit, limit)
		}
	default:
		t.Fatalf("bad test kind %q", kind)
	}
}

// countingReader counts the bytes read from an endless source.
type countingReader struct {
	n    int64
	fill byte
}

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.fill
	}
	r.n += int64(len(p))
	return len(p), nil
}

// A peer that never ends its message must not make the reader buffer
// more than the limit plus its read buffer, and after the error the
// reader must not read again.
func TestFrameReaderTooLargeStopsReading(t *testing.T) {
	const limit = 1 << 20
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		t.Run(f.String(), func(t *testing.T) {
			var src io.Reader
			cr := &countingReader{fill: 'x'}
			src = cr
			if f == netconf.FramingChunked {
				// One chunk announced as 3 MiB, its data endless.
				src = io.MultiReader(strings.NewReader("\n#3145728\n"), cr)
			}
			fr := netconf.NewFrameReader(src, f, limit)
			_, err := fr.ReadMessage()
			if !errors.Is(err, &netconf.ErrReplyTooLarge{}) {
				t.Fatalf("err = %v, want ErrReplyTooLarge", err)
			}
			if got := netconf.KindOf(err); got != netconf.KindTooLarge {
				t.Errorf("Classify = %s", got)
			}
			read := cr.n
			if read > limit+64<<10 {
				t.Errorf("read %d bytes for a %d limit", read, limit)
			}
			_, _ = fr.ReadMessage()
			if cr.n != read {
				t.Errorf("reader kept reading after the error: %d → %d", read, cr.n)
			}
		})
	}
}

func TestFrameReaderSwitchKeepsBufferedBytes(t *testing.T) {
	// The server hello and the first chunked reply arrive in one read.
	in := "<hello/>]]>]]>\n#5\n<ok/>\n##\n"
	fr := netconf.NewFrameReader(strings.NewReader(in), netconf.FramingEOM, 0)
	hello, err := fr.ReadMessage()
	if err != nil || string(hello) != "<hello/>" {
		t.Fatalf("hello = %q, %v", hello, err)
	}
	fr.SetFraming(netconf.FramingChunked)
	msg, err := fr.ReadMessage()
	if err != nil || string(msg) != "<ok/>" {
		t.Fatalf("msg = %q, %v", msg, err)
	}
	if fr.Limit() != netconf.DefaultMaxReplyBytes {
		t.Errorf("default limit = %d", fr.Limit())
	}
}

func TestFrameWriter(t *testing.T) {
	tests := []struct {
		name     string
		framing  netconf.Framing
		maxChunk int
		msg      string
		want     string
		bad      bool
	}{
		{name: "eom", msg: "<a/>", want: "<a/>]]>]]>"},
		{name: "eom empty", msg: "", want: "]]>]]>"},
		{name: "eom refuses delimiter", msg: "a]]>]]>b", bad: true},
		{name: "chunked", framing: netconf.FramingChunked, msg: "<a/>", want: "\n#4\n<a/>\n##\n"},
		{name: "chunked split", framing: netconf.FramingChunked, maxChunk: 3, msg: "abcdefg", want: "\n#3\nabc\n#3\ndef\n#1\ng\n##\n"},
		{name: "chunked refuses empty", framing: netconf.FramingChunked, bad: true},
		{name: "unknown framing", framing: netconf.Framing(7), msg: "x", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			fw := netconf.NewFrameWriter(&buf, tt.framing)
			fw.SetMaxChunk(tt.maxChunk)
			err := fw.WriteMessage([]byte(tt.msg))
			if tt.bad {
				if err == nil {
					t.Fatalf("no error; wrote %q", buf.String())
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %q despite the error", buf.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("wrote %q, want %q", buf.String(), tt.want)
			}
			got, err := netconf.NewFrameReader(&buf, tt.framing, 0).ReadMessage()
			if err != nil || string(got) != tt.msg {
				t.Errorf("read back %q, %v", got, err)
			}
		})
	}
}

func TestFrameWriterWriteError(t *testing.T) {
	fw := netconf.NewFrameWriter(errWriter{}, netconf.FramingEOM)
	if err := fw.WriteMessage([]byte("<a/>")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("err = %v", err)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// FuzzFrameReader checks that arbitrary input never panics and never
// yields a message over the limit, and that whatever the writer frames
// the reader reads back, however the bytes are split.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("<a/>]]>]]>"), uint8(0), uint16(16))
	f.Add([]byte("\n#4\n<a/>\n##\n"), uint8(1), uint16(16))
	f.Add([]byte("\n#4294967295\n"), uint8(1), uint16(3))
	f.Add([]byte("]]>]]]>]]>"), uint8(2), uint16(1))
	f.Add([]byte("\n#1\n#\n##\n\n##\n"), uint8(3), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, limit16 uint16) {
		framing := netconf.Framing(mode & 1)
		limit := int64(limit16%4096) + 1
		var src io.Reader = bytes.NewReader(data)
		if mode&2 != 0 {
			src = iotest.OneByteReader(src)
		}

		// Arbitrary input as a stream.
		fr := netconf.NewFrameReader(src, framing, limit)
		for range len(data) + 1 {
			msg, err := fr.ReadMessage()
			if err != nil {
				break
			}
			if int64(len(msg)) > limit {
				t.Fatalf("message of %d bytes over the %d limit", len(msg), limit)
			}
		}

		// Round trip: data as a message.
		var buf bytes.Buffer
		fw := netconf.NewFrameWriter(&buf, framing)
		fw.SetMaxChunk(int(mode>>2) + 1)
		if err := fw.WriteMessage(data); err != nil {
			return // not frameable: contains ]]>]]> or is empty in base:1.1
		}
		fw.SetMaxChunk(int(limit16) + 1)
		if err := fw.WriteMessage(data); err != nil {
			t.Fatalf("second write: %v", err)
		}
		var rd io.Reader = &buf
		if mode&2 != 0 {
			rd = iotest.OneByteReader(rd)
		}
		fr = netconf.NewFrameReader(rd, framing, int64(len(data))+1)
		for i := range 2 {
			got, err := fr.ReadMessage()
			if err != nil {
				t.Fatalf("read back message %d: %v", i, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %q, wrote %q", got, data)
			}
		}
		if _, err := fr.ReadMessage(); err != io.EOF {
			t.Fatalf("after the messages: %v, want io.EOF", err)
		}
	})
}

func BenchmarkFrameReader(b *testing.B) {
	// A Junos-like reply: many short elements, 1 MiB.
	var body bytes.Buffer
	for i := 0; body.Len() < 1<<20; i++ {
		fmt.Fprintf(&body, "<log-line><time>Jan  1 00:00:%02d</time><text>re0 chassisd[1234]: CHASSISD_SNMP_TRAP7 line %d</text></log-line>\n", i%60, i)
	}
	msg := body.Bytes()
	for _, f := range []netconf.Framing{netconf.FramingEOM, netconf.FramingChunked} {
		b.Run(f.String(), func(b *testing.B) {
			framed, err := netconf.AppendFrame(nil, msg, f, 16<<10)
			if err != nil {
				b.Fatal(err)
			}
			r := bytes.NewReader(framed)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(framed)
				got, err := netconf.NewFrameReader(r, f, 0).ReadMessage()
				if err != nil || len(got) != len(msg) {
					b.Fatalf("%d bytes, %v", len(got), err)
				}
			}
		})
	}
}
