package netconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	gonetconf "github.com/Juniper/go-netconf/netconf"
)

// pipeRWC feeds a transport canned server bytes and records what it writes.
type pipeRWC struct {
	io.Reader
	out    bytes.Buffer
	closed bool
}

func (p *pipeRWC) Write(b []byte) (int, error) { return p.out.Write(b) }
func (p *pipeRWC) Close() error                { p.closed = true; return nil }

func helloWith(caps ...string) string {
	var b strings.Builder
	b.WriteString("<!-- No zombies were killed during the creation of this user interface -->\n<nc:hello xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><nc:capabilities>")
	for _, c := range caps {
		b.WriteString("<nc:capability>" + c + "</nc:capability>")
	}
	b.WriteString("</nc:capabilities><nc:session-id>42</nc:session-id></nc:hello>\n]]>]]>")
	return b.String()
}

// The transport under go-netconf's NewSession: hello errors are kept,
// framing follows both hellos, and bytes after the hello are not lost.
func TestTransportHello(t *testing.T) {
	tests := []struct {
		name      string
		server    string
		framing   Framing
		helloErr  bool
		sentHello bool
	}{
		{name: "junos base 1.0", server: helloWith(capBase10, "http://xml.juniper.net/netconf/junos/1.0"), framing: FramingEOM, sentHello: true},
		{name: "base 1.1", server: helloWith(capBase10, capBase11), framing: FramingChunked, sentHello: true},
		{name: "base 1.1 only", server: helloWith(capBase11), framing: FramingChunked, sentHello: true},
		{name: "base 1.1 lookalike", server: helloWith(capBase10, capBase11+"#x"), framing: FramingEOM, sentHello: true},
		{name: "no base", server: helloWith("urn:x"), helloErr: true},
		{name: "not a hello", server: "<rpc-reply/>]]>]]>", helloErr: true},
		{name: "bad xml", server: "<hello>]]>]]>", helloErr: true},
		{name: "eof", server: "", helloErr: true},
		{name: "eof mid hello", server: "<hello>", helloErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rwc := &pipeRWC{Reader: strings.NewReader(tt.server)}
			tr := newTransport(rwc, 0)
			s := gonetconf.NewSession(tr)
			if (tr.helloErr != nil) != tt.helloErr {
				t.Fatalf("helloErr = %v, want error %v", tr.helloErr, tt.helloErr)
			}
			if tt.helloErr {
				var pe *ProtocolError
				if !errors.As(tr.helloErr, &pe) {
					t.Errorf("helloErr = %v, want *ProtocolError", tr.helloErr)
				}
				if rwc.out.Len() != 0 {
					t.Errorf("sent %q after a failed hello", rwc.out.String())
				}
				if tr.framing() != FramingEOM {
					t.Errorf("framing switched after a failed hello")
				}
				return
			}
			if s.SessionID != 42 {
				t.Errorf("SessionID = %d", s.SessionID)
			}
			if tr.framing() != tt.framing {
				t.Errorf("framing = %v, want %v", tr.framing(), tt.framing)
			}
			sent := rwc.out.String()
			if !strings.HasSuffix(sent, "]]>]]>") || strings.HasPrefix(sent, "<?xml") ||
				!strings.Contains(sent, capBase10) || !strings.Contains(sent, capBase11) {
				t.Errorf("client hello = %q", sent)
			}
		})
	}
}

func TestTransportSendReceive(t *testing.T) {
	// Hello and the first chunked reply arrive together.
	in := helloWith(capBase10, capBase11) + "\n#44\n<rpc-reply message-id=\"m1\"><ok/></rpc-reply>\n##\n"
	rwc := &pipeRWC{Reader: strings.NewReader(in)}
	tr := newTransport(rwc, 0)
	gonetconf.NewSession(tr)
	rwc.out.Reset()

	var msg strings.Builder
	n, err := tr.roundTrip("m1", "<get/>", &msg)
	if err != nil || msg.String() != `<rpc-reply message-id="m1"><ok/></rpc-reply>` || n != int64(msg.Len()) {
		t.Fatalf("roundTrip = %q (%d bytes), %v", msg.String(), n, err)
	}
	const rpc = `<rpc message-id="m1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>`
	if want := "\n#" + strconv.Itoa(len(rpc)) + "\n" + rpc + "\n##\n"; rwc.out.String() != want {
		t.Errorf("sent %q, want %q", rwc.out.String(), want)
	}
	if tr.r.br != nil {
		t.Error("the read buffer is kept after the reply")
	}
	// The peer hangs up: a protocol error, kept, and the transport is dead.
	if _, err := tr.Receive(); !errors.Is(err, io.EOF) || tr.ioErr == nil {
		t.Errorf("Receive at EOF = %v (ioErr %v)", err, tr.ioErr)
	}
	if err := tr.Send([]byte("<rpc/>")); err == nil {
		t.Error("Send on a dead transport succeeded")
	}
	if err := tr.Close(); err != nil || !rwc.closed {
		t.Errorf("Close = %v, closed %v", err, rwc.closed)
	}
}

// The <rpc> Session sends is what go-netconf's Exec would have sent, in
// both framings, one chunk or several.
func TestWriteRPCMatchesGoNetconf(t *testing.T) {
	for _, body := range []string{"<get-route-engine-information/>", `<get-log><filename>messages &amp; more</filename></get-log>`, strings.Repeat("<x/>", 300)} {
		want, err := xml.Marshal(&gonetconf.RPCMessage{MessageID: "42", Methods: []gonetconf.RPCMethod{gonetconf.RawMethod(body)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []Framing{FramingEOM, FramingChunked} {
			for _, maxChunk := range []int{defaultMaxChunk, 100} {
				var got, ref bytes.Buffer
				w := NewFrameWriter(&got, f)
				w.SetMaxChunk(maxChunk)
				if err := w.writeRPC("42", body); err != nil {
					t.Fatal(err)
				}
				rw := NewFrameWriter(&ref, f)
				rw.SetMaxChunk(maxChunk)
				if err := rw.WriteMessage(want); err != nil {
					t.Fatal(err)
				}
				if got.String() != ref.String() {
					t.Errorf("%v, chunks of %d: sent %q, go-netconf %q", f, maxChunk, got.String(), ref.String())
				}
			}
		}
	}
	var out bytes.Buffer
	if err := NewFrameWriter(&out, FramingEOM).writeRPC("1", `<a b="]]>]]>"/>`); err == nil || out.Len() > 0 {
		t.Errorf("wrote an rpc holding the delimiter: %v, %q", err, out.String())
	}
}

// An idle reader holds no buffer; one with unread bytes keeps it.
func TestFrameReaderRelease(t *testing.T) {
	fr := NewFrameReader(strings.NewReader("<a/>]]>]]><b/>]]>]]>"), FramingEOM, 0)
	if msg, err := fr.ReadMessage(); err != nil || string(msg) != "<a/>" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
	fr.release()
	if fr.br == nil {
		t.Fatal("released a buffer holding the next message")
	}
	if msg, err := fr.ReadMessage(); err != nil || string(msg) != "<b/>" {
		t.Fatalf("ReadMessage = %q, %v", msg, err)
	}
	fr.release()
	if fr.br != nil {
		t.Fatal("kept an empty buffer")
	}
	if _, err := fr.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadMessage at the end = %v", err)
	}
	fr.release()
	if fr.br != nil {
		t.Fatal("kept the buffer of a finished stream")
	}
}
