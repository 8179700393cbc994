package netconftest

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/mastership/mastership/netconf"
)

// wrongMessageID is the message-id a WrongMessageID server answers with:
// the previous request's, as a reply that arrives late would carry, or,
// for the first request (or one that reuses the previous id), its own
// with "0" appended.
func wrongMessageID(id, prev string) string {
	if prev != "" && prev != id {
		return prev
	}
	return id + "0"
}

// rootStartEnd returns the offset just past the '>' of the first start
// tag in msg, skipping an XML declaration, comments and whitespace; -1 if
// there is none.
func rootStartEnd(msg []byte) int {
	i := 0
	for i < len(msg) {
		j := bytes.IndexByte(msg[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		rest := msg[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			k := bytes.Index(rest, []byte("?>"))
			if k < 0 {
				return -1
			}
			i += k + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest, []byte("-->"))
			if k < 0 {
				return -1
			}
			i += k + 3
		default:
			k := bytes.IndexByte(rest, '>')
			if k < 0 {
				return -1
			}
			return i + k + 1
		}
	}
	return -1
}

// malformedElement is what MalformedXML opens and never closes: the
// reply's own end tag then closes the wrong element.
const malformedElement = "<unclosed-element>"

// malformXML returns msg with an element opened just inside its root
// element and never closed, so that no XML parser accepts it.
func malformXML(msg []byte) []byte {
	at := rootStartEnd(msg)
	if at < 0 {
		at = 0
	}
	out := make([]byte, 0, len(msg)+len(malformedElement))
	out = append(out, msg[:at]...)
	out = append(out, malformedElement...)
	return append(out, msg[at:]...)
}

// badUTF8 is what InvalidUTF8 inserts: a Latin-1 "é" (as a router might
// copy from a description typed on a Latin-1 terminal) and 0xFF, which
// is never valid in UTF-8.
const badUTF8 = "\xe9\xff"

// breakUTF8 returns msg with badUTF8 inserted at the start of its first
// non-blank text inside the root element, or just inside the root element
// if there is no such text.
func breakUTF8(msg []byte) []byte {
	root := rootStartEnd(msg)
	if root < 0 {
		root = 0
	}
	at := root
	for i := root; i < len(msg); i++ {
		if msg[i] != '>' || i+1 >= len(msg) {
			continue
		}
		if c := msg[i+1]; c != '<' && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			at = i + 1
			break
		}
	}
	out := make([]byte, 0, len(msg)+len(badUTF8))
	out = append(out, msg[:at]...)
	out = append(out, badUTF8...)
	return append(out, msg[at:]...)
}

// A huge reply is <rpc-reply><output>, filler lines, </output></rpc-reply>.
const (
	hugeLine  = "junossim huge reply: filler standing in for a runaway output.\n"
	hugeTail  = "</output>\n</rpc-reply>\n"
	hugeBlock = 32 << 10
)

// hugeHead is the start of a huge reply to req.
func hugeHead(req *Request) []byte {
	var b bytes.Buffer
	writeReplyStart(&b, req)
	b.WriteString("<output>\n")
	return b.Bytes()
}

// writeHuge writes a well-formed reply of size bytes (at least its head
// and tail) framed in f, generating the filler block by block: memory
// stays at one block whatever the size. It stops at the first failed
// write (the client went away) or when ctx ends.
func writeHuge(ctx context.Context, w io.Writer, req *Request, f netconf.Framing, size int64) error {
	head, tail := hugeHead(req), []byte(hugeTail)
	fill := size - int64(len(head)+len(tail))
	block := bytes.Repeat([]byte(hugeLine), hugeBlock/len(hugeLine))
	buf := make([]byte, 0, len(block)+16)
	emit := func(data []byte) error {
		buf = buf[:0]
		if f == netconf.FramingChunked {
			buf = append(buf, '\n', '#')
			buf = strconv.AppendInt(buf, int64(len(data)), 10)
			buf = append(buf, '\n')
		}
		buf = append(buf, data...)
		_, err := w.Write(buf)
		return err
	}
	if err := emit(head); err != nil {
		return err
	}
	for fill > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(fill, int64(len(block)))
		if err := emit(block[:n]); err != nil {
			return err
		}
		fill -= n
	}
	if err := emit(tail); err != nil {
		return err
	}
	end := "]]>]]>"
	if f == netconf.FramingChunked {
		end = "\n##\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

// drip writes b one byte per interval, the first at once.
func drip(ctx context.Context, w io.Writer, b []byte, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := range b {
		if i > 0 {
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if _, err := w.Write(b[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// SplitDelimiter's shape: the message is written in pieces of at most
// splitPiece bytes, and every framing delimiter one byte per write: the
// "]]>]]>" of base:1.0, and in base:1.1 each chunk header ("\n#61\n";
// chunks are splitChunk bytes, so a reply has many) and the "\n##\n"
// end-of-chunks. Splitting only the delimiters keeps the write count low
// enough for replies of hundreds of KB.
const (
	splitChunk = 61
	splitPiece = 509
)

// writeSplit frames msg in f and writes it in many small writes.
func writeSplit(w io.Writer, msg []byte, f netconf.Framing) error {
	bytewise := func(delim string) error {
		for i := range len(delim) {
			if _, err := io.WriteString(w, delim[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	pieces := func(data []byte) error {
		for len(data) > 0 {
			n := min(splitPiece, len(data))
			if _, err := w.Write(data[:n]); err != nil {
				return err
			}
			data = data[n:]
		}
		return nil
	}
	if f != netconf.FramingChunked {
		if _, err := netconf.AppendFrame(nil, msg, f, 0); err != nil {
			return err // not frameable: the same refusal as WriteMessage's
		}
		if err := pieces(msg); err != nil {
			return err
		}
		return bytewise("]]>]]>")
	}
	if len(msg) == 0 {
		_, err := netconf.AppendFrame(nil, msg, f, 0)
		return err
	}
	for rest := msg; len(rest) > 0; {
		n := min(splitChunk, len(rest))
		if err := bytewise("\n#" + strconv.Itoa(n) + "\n"); err != nil {
			return err
		}
		if err := pieces(rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return bytewise("\n##\n")
}

// resetConn aborts a TCP connection: with SO_LINGER 0, close sends RST
// and drops whatever was not yet sent.
func resetConn(c net.Conn) {
	if rc, ok := c.(*rttConn); ok {
		c = rc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
