package netconf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	gonetconf "github.com/Juniper/go-netconf/netconf"
)

const (
	capBase10 = "urn:ietf:params:netconf:base:1.0"
	capBase11 = "urn:ietf:params:netconf:base:1.1"
)

// transport implements go-netconf's Transport over the SSH channel with
// correct, size-limited framing, replacing go-netconf's TransportBasicIO
// (which keeps chunk headers in base:1.1 replies, can hang on a split
// "]]>]]>" and buffers without limit).
//
// go-netconf does the session set-up through it (NewSession: the hello
// exchange and the framing); RPCs bypass go-netconf's Exec, which parses
// every reply into a struct nobody reads, and go through roundTrip.
//
// go-netconf's NewSession ignores every hello error, so the transport
// records them in helloErr for Dial to check. It also records the first
// I/O failure. It keeps no message: an idle session holds no reply.
type transport struct {
	r      *FrameReader
	w      *FrameWriter
	closer io.Closer // the SSH channel

	helloErr     error
	helloSent    bool // our hello went out (Dial sends it first; go-netconf's later call is then a no-op)
	serverBase11 bool

	ioErr error // first read or write failure: the stream is dead
}

func newTransport(rw io.ReadWriteCloser, limit int64) *transport {
	return &transport{
		r:      NewFrameReader(rw, FramingEOM, limit),
		w:      NewFrameWriter(rw, FramingEOM),
		closer: rw,
	}
}

// Send frames and writes one message (go-netconf's hello; Session's RPCs
// use roundTrip).
func (t *transport) Send(data []byte) error {
	if t.ioErr != nil {
		return t.ioErr
	}
	if err := t.w.WriteMessage(data); err != nil {
		t.ioErr = err
		return err
	}
	return nil
}

// Receive reads one message. Any error leaves the stream at an unknown
// position (or closed), so it is recorded and the session must go.
func (t *transport) Receive() ([]byte, error) {
	if t.ioErr != nil {
		return nil, t.ioErr
	}
	msg, err := t.r.ReadMessage()
	if err != nil {
		t.ioErr = receiveError(err)
		return nil, t.ioErr
	}
	return msg, nil
}

// roundTrip sends body in an <rpc> with message-id id and writes the
// next message received, unparsed, to w as it arrives (FrameReader.
// CopyMessage), returning its size. Any error is an I/O or framing
// failure (recorded: the stream is dead). Either way the read buffer goes
// back to the pool if it holds nothing more.
func (t *transport) roundTrip(id, body string, w io.Writer) (int64, error) {
	defer t.r.release()
	if t.ioErr != nil {
		return 0, t.ioErr
	}
	if err := t.w.writeRPC(id, body); err != nil {
		t.ioErr = err
		return 0, err
	}
	n, err := t.r.CopyMessage(w)
	if err != nil {
		t.ioErr = receiveError(err)
		return n, t.ioErr
	}
	return n, nil
}

// receiveError is a read failure as the session reports it.
func receiveError(err error) error {
	if errors.Is(err, io.EOF) {
		// A clean EOF between messages is still the peer hanging up
		// on a request that expects an answer.
		return &ProtocolError{Op: "read reply", Err: fmt.Errorf("session closed by peer: %w", err)}
	}
	return err
}

// Close closes the SSH channel.
func (t *transport) Close() error { return t.closer.Close() }

// ReceiveHello reads and parses the server hello. go-netconf dereferences
// the result without checking the error, so it is never nil.
func (t *transport) ReceiveHello() (*gonetconf.HelloMessage, error) {
	hello := &gonetconf.HelloMessage{}
	msg, err := t.Receive()
	if err != nil {
		t.helloErr = err
		return hello, err
	}
	hello, err = parseHello(msg)
	if err != nil {
		t.helloErr = err
		return &gonetconf.HelloMessage{}, err
	}
	for _, c := range hello.Capabilities {
		if c == capBase11 {
			t.serverBase11 = true
		}
	}
	return hello, nil
}

// SendHello sends our hello in base:1.0 framing, without an XML
// declaration (some servers are picky, none needs it). It sends nothing if
// the server hello already failed: the session is going to be discarded.
func (t *transport) SendHello(hello *gonetconf.HelloMessage) error {
	if t.helloErr != nil {
		return t.helloErr
	}
	if t.helloSent {
		return nil
	}
	t.helloSent = true
	out, err := xml.Marshal(hello)
	if err != nil {
		t.helloErr = fmt.Errorf("encode client hello: %w", err)
		return t.helloErr
	}
	if err := t.Send(out); err != nil {
		t.helloErr = fmt.Errorf("send client hello: %w", err)
		return t.helloErr
	}
	return nil
}

// SetVersion switches both directions to chunked framing for "v1.1".
// go-netconf calls it with "v1.1" when the server advertises base:1.1
// (our hello always does, go-netconf's DefaultCapabilities); it is ignored
// after a failed hello, and when the server's base:1.1 is only a
// substring match of some other capability.
func (t *transport) SetVersion(version string) {
	f := FramingEOM
	if version == "v1.1" && t.helloErr == nil && t.serverBase11 {
		f = FramingChunked
	}
	t.r.SetFraming(f)
	t.w.SetFraming(f)
}

func (t *transport) framing() Framing { return t.r.Framing() }

// parseHello parses a server hello by local names, so the nc: prefix, a
// missing namespace, XML comments before it (Junos sends two) and an XML
// declaration are all accepted.
func parseHello(msg []byte) (*gonetconf.HelloMessage, error) {
	var h struct {
		XMLName      xml.Name
		Capabilities []string `xml:"capabilities>capability"`
		SessionID    string   `xml:"session-id"`
	}
	if err := xml.Unmarshal(msg, &h); err != nil {
		return nil, &ProtocolError{Op: "parse hello", Err: err}
	}
	if h.XMLName.Local != "hello" {
		return nil, &ProtocolError{Op: "parse hello", Err: fmt.Errorf("expected <hello>, got <%s>", h.XMLName.Local)}
	}
	out := &gonetconf.HelloMessage{}
	for _, c := range h.Capabilities {
		if c = strings.TrimSpace(c); c != "" {
			out.Capabilities = append(out.Capabilities, c)
		}
	}
	if s := strings.TrimSpace(h.SessionID); s != "" {
		id, err := strconv.Atoi(s)
		if err != nil {
			return nil, &ProtocolError{Op: "parse hello", Err: fmt.Errorf("session-id %q is not a number", s)}
		}
		out.SessionID = id
	}
	hasBase := false
	for _, c := range out.Capabilities {
		if c == capBase10 || c == capBase11 {
			hasBase = true
		}
	}
	if !hasBase {
		return nil, &ProtocolError{Op: "parse hello", Err: errors.New("server advertises neither base:1.0 nor base:1.1")}
	}
	return out, nil
}
