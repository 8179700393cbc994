package netconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
)

// Framing is how NETCONF messages are delimited on the SSH channel
// (RFC 6242 section 4).
type Framing int

const (
	// FramingEOM is base:1.0 framing: each message ends with "]]>]]>".
	// The hello is always sent this way.
	FramingEOM Framing = iota
	// FramingChunked is base:1.1 framing: "\n#<len>\n<data>" chunks,
	// ended by "\n##\n". Used after the hello when both peers advertise
	// urn:ietf:params:netconf:base:1.1.
	FramingChunked
)

func (f Framing) String() string {
	switch f {
	case FramingEOM:
		return "base:1.0 end-of-message"
	case FramingChunked:
		return "base:1.1 chunked"
	default:
		return "Framing(" + strconv.Itoa(int(f)) + ")"
	}
}

// DefaultMaxReplyBytes is the largest message a FrameReader accepts when
// no limit is given. Junos log replies run to several MB; 64 MiB leaves
// room while keeping a runaway device from exhausting memory.
const DefaultMaxReplyBytes int64 = 64 << 20

const (
	eomDelimiter = "]]>]]>"
	endOfChunks  = "\n##\n"
	// maxChunkSize is RFC 6242's upper bound on chunk-size.
	maxChunkSize = 4294967295
	// defaultMaxChunk is the largest chunk FrameWriter emits. Small enough
	// that a receiver never needs a huge contiguous read, large enough that
	// the headers cost nothing.
	defaultMaxChunk = 1 << 20
)

// FrameReader reads NETCONF messages from a stream. It is not safe for
// concurrent use. After any error other than a clean io.EOF between
// messages, the stream position is unknown, so every later call returns
// the same error without reading.
type FrameReader struct {
	src     io.Reader
	br      *bufio.Reader // nil until the first read, and while released
	framing Framing
	limit   int64
	err     error
}

// NewFrameReader returns a reader of messages in framing f from r. limit
// is the largest message (without framing) it returns; limit <= 0 means
// DefaultMaxReplyBytes.
func NewFrameReader(r io.Reader, f Framing, limit int64) *FrameReader {
	if limit <= 0 {
		limit = DefaultMaxReplyBytes
	}
	return &FrameReader{src: r, framing: f, limit: limit}
}

// frameBuffers holds the read buffers of idle readers (see release), so
// that only sessions with an RPC in progress hold one.
var frameBuffers sync.Pool // of *bufio.Reader, frameBufferSize bytes

// acquire gives the reader a read buffer if it has none.
func (fr *FrameReader) acquire() {
	if fr.br != nil {
		return
	}
	if br, ok := frameBuffers.Get().(*bufio.Reader); ok {
		br.Reset(fr.src)
		fr.br = br
		return
	}
	fr.br = bufio.NewReaderSize(fr.src, frameBufferSize)
}

// release gives the read buffer back to the pool when it holds nothing
// unread (or the stream is dead); the next ReadMessage takes one again.
// A session calls it after each reply: an idle persistent session then
// keeps no read buffer. A peer that sent more than the reply keeps it
// until that is read.
func (fr *FrameReader) release() {
	if fr.br == nil || (fr.err == nil && fr.br.Buffered() > 0) {
		return
	}
	fr.br.Reset(nil) // drop the reference to the stream
	frameBuffers.Put(fr.br)
	fr.br = nil
}

// SetFraming switches the framing for the next message. Bytes already
// buffered are kept: they belong to the next message.
func (fr *FrameReader) SetFraming(f Framing) { fr.framing = f }

// Framing returns the current framing.
func (fr *FrameReader) Framing() Framing { return fr.framing }

// Limit returns the largest message the reader accepts.
func (fr *FrameReader) Limit() int64 { return fr.limit }

// ReadMessage reads the next message and returns it without framing. It
// returns io.EOF when the stream ends cleanly between messages, an
// *ErrReplyTooLarge when the message exceeds the limit and a
// *ProtocolError for malformed framing or a stream that ends mid-message.
// The returned slice is owned by the caller.
func (fr *FrameReader) ReadMessage() ([]byte, error) {
	var msg messageBuffer
	if _, err := fr.CopyMessage(&msg); err != nil {
		return nil, err
	}
	if msg.b == nil {
		return []byte{}, nil
	}
	return msg.b, nil
}

// messageBuffer collects a message for ReadMessage. It grows with the
// data received, never by what a chunk header announces.
type messageBuffer struct{ b []byte }

func (m *messageBuffer) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

// CopyMessage reads the next message and writes it, without framing, to
// w as it arrives, in pieces of at most one read buffer: the reader holds
// no more of a message than that, whatever its size, so a consumer that
// keeps only what it needs (a decoder that streams) bounds the memory a
// reply costs. It returns the message's size and the errors ReadMessage
// does; a message over the limit is cut at the limit, as it streams, with
// *ErrReplyTooLarge (w has then seen at most the limit). A Write error
// ends the copy and, the rest of the message being unread, the stream;
// an *ErrReplyTooLarge from w (a consumer with a limit of its own) is
// returned as it is.
func (fr *FrameReader) CopyMessage(w io.Writer) (int64, error) {
	if fr.err != nil {
		return 0, fr.err
	}
	fr.acquire()
	var n int64
	var err error
	switch fr.framing {
	case FramingEOM:
		n, err = fr.copyEOM(w)
	case FramingChunked:
		n, err = fr.copyChunked(w)
	default:
		err = &ProtocolError{Op: "read message", Err: fmt.Errorf("unknown framing %d", int(fr.framing))}
	}
	if err != nil {
		fr.err = err
		return n, err
	}
	return n, nil
}

// emit writes p, a piece of the message after n bytes of it, to w,
// refusing it when it takes the message past the limit.
func (fr *FrameReader) emit(w io.Writer, n int64, p []byte) (int64, error) {
	if n+int64(len(p)) > fr.limit {
		return n, &ErrReplyTooLarge{Limit: fr.limit}
	}
	if len(p) == 0 {
		return n, nil
	}
	k, err := w.Write(p)
	n += int64(k)
	if err == nil && k < len(p) {
		err = io.ErrShortWrite
	}
	if _, tooLarge := errors.AsType[*ErrReplyTooLarge](err); tooLarge {
		return n, err // the consumer's own limit
	}
	if err != nil {
		return n, fmt.Errorf("read message: consume: %w", err)
	}
	return n, nil
}

// copyEOM copies up to "]]>]]>", which it consumes. It searches what
// bufio holds in bulk and always leaves the last len(delimiter)-1 bytes
// unconsumed until more arrive, so a delimiter split across any number of
// underlying reads is still found.
func (fr *FrameReader) copyEOM(w io.Writer) (int64, error) {
	delim := []byte(eomDelimiter)
	var n int64
	// Only whitespace so far: a stream that ends now ended between
	// messages. A message this short cannot be over the limit, so
	// holding it back to tell costs nothing.
	blank := true
	var err error
	for {
		if fr.br.Buffered() < len(delim) {
			// Blocks until there are enough bytes to hold a delimiter, or
			// the stream ends.
			if _, perr := fr.br.Peek(len(delim)); perr != nil {
				rest, _ := fr.br.Peek(fr.br.Buffered())
				blank = blank && len(bytes.TrimSpace(rest)) == 0
				size := n + int64(len(rest))
				_, _ = fr.br.Discard(len(rest))
				switch {
				case !errors.Is(perr, io.EOF):
					return n, fmt.Errorf("read message: %w", perr)
				case blank:
					// Whitespace after the last delimiter is not a message.
					return n, io.EOF
				default:
					return n, &ProtocolError{Op: "read message", Err: fmt.Errorf("stream ended inside a message after %d bytes: %w", size, io.ErrUnexpectedEOF)}
				}
			}
		}
		buf, _ := fr.br.Peek(fr.br.Buffered())
		if i := bytes.Index(buf, delim); i >= 0 {
			if n, err = fr.emit(w, n, buf[:i]); err != nil {
				return n, err
			}
			_, _ = fr.br.Discard(i + len(delim))
			return n, nil
		}
		// The last bytes may be the start of a delimiter: keep them.
		take := buf[:len(buf)-(len(delim)-1)]
		blank = blank && len(bytes.TrimSpace(take)) == 0
		if n, err = fr.emit(w, n, take); err != nil {
			return n, err
		}
		_, _ = fr.br.Discard(len(take))
	}
}

// copyChunked copies one chunked message (RFC 6242 section 4.2):
//
//	message = 1*chunk end-of-chunks
//	chunk = LF HASH chunk-size LF chunk-data
//	end-of-chunks = LF HASH HASH LF
//	chunk-size = 1-9 digits, first not zero, at most 4294967295
func (fr *FrameReader) copyChunked(w io.Writer) (int64, error) {
	var n int64
	// Whitespace before the first chunk is tolerated: some servers put a
	// newline after the EOM delimiter of their hello, and it then precedes
	// the first chunked message. Inside a message the grammar is strict.
	first := true
	for {
		if first {
			if err := fr.skipLeadingSpace(); err != nil {
				return n, err
			}
		} else if err := fr.expect('\n'); err != nil {
			return n, err
		}
		if err := fr.expect('#'); err != nil {
			return n, err
		}
		c, err := fr.readByte()
		if err != nil {
			return n, err
		}
		if c == '#' {
			if first {
				return n, fr.malformed("end-of-chunks before any chunk")
			}
			return n, fr.expect('\n')
		}
		size, err := fr.chunkSize(c)
		if err != nil {
			return n, err
		}
		if n+size > fr.limit {
			return n, &ErrReplyTooLarge{Limit: fr.limit}
		}
		if n, err = fr.copyN(w, n, size); err != nil {
			return n, err
		}
		first = false
	}
}

// skipLeadingSpace skips blanks up to the first '\n' of a chunk header and
// leaves that '\n' consumed. io.EOF before anything but whitespace is a
// clean end of stream.
func (fr *FrameReader) skipLeadingSpace() error {
	sawLF := false
	for {
		c, err := fr.br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("read message: %w", err)
		}
		switch c {
		case '\n':
			sawLF = true
		case ' ', '\t', '\r':
		default:
			if c == '#' && sawLF {
				return fr.br.UnreadByte()
			}
			return fr.malformed(fmt.Sprintf("expected chunk header, found %q", c))
		}
	}
}

// chunkSize parses the digits after "#", starting with c, up to '\n'.
func (fr *FrameReader) chunkSize(c byte) (int64, error) {
	if c < '1' || c > '9' {
		return 0, fr.malformed(fmt.Sprintf("chunk size starts with %q", c))
	}
	size := int64(c - '0')
	for digits := 1; ; digits++ {
		c, err := fr.readByte()
		if err != nil {
			return 0, err
		}
		if c == '\n' {
			return size, nil
		}
		if c < '0' || c > '9' {
			return 0, fr.malformed(fmt.Sprintf("chunk size contains %q", c))
		}
		size = size*10 + int64(c-'0')
		if digits >= 10 || size > maxChunkSize {
			return 0, fr.malformed("chunk size exceeds 4294967295")
		}
	}
}

// copyN copies exactly size bytes of chunk data to w, a buffer at a
// time, so memory follows the data actually received rather than the
// announced size.
func (fr *FrameReader) copyN(w io.Writer, n, size int64) (int64, error) {
	for size > 0 {
		if fr.br.Buffered() == 0 {
			// Blocks until some data arrives.
			if _, err := fr.br.Peek(1); err != nil {
				return n, fr.eofIsProtocol(err)
			}
		}
		buf, _ := fr.br.Peek(int(min(size, int64(fr.br.Buffered()))))
		var err error
		if n, err = fr.emit(w, n, buf); err != nil {
			return n, err
		}
		_, _ = fr.br.Discard(len(buf))
		size -= int64(len(buf))
	}
	return n, nil
}

func (fr *FrameReader) readByte() (byte, error) {
	c, err := fr.br.ReadByte()
	if err != nil {
		return 0, fr.eofIsProtocol(err)
	}
	return c, nil
}

func (fr *FrameReader) expect(want byte) error {
	c, err := fr.readByte()
	if err != nil {
		return err
	}
	if c != want {
		return fr.malformed(fmt.Sprintf("expected %q, found %q", want, c))
	}
	return nil
}

// eofIsProtocol turns an end of stream inside a message into a protocol
// error; other read errors pass through, wrapped.
func (fr *FrameReader) eofIsProtocol(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ProtocolError{Op: "read message", Err: fmt.Errorf("stream ended inside a chunked message: %w", io.ErrUnexpectedEOF)}
	}
	return fmt.Errorf("read message: %w", err)
}

func (fr *FrameReader) malformed(what string) error {
	return &ProtocolError{Op: "read message", Err: errors.New("malformed chunked framing: " + what)}
}

// FrameWriter writes NETCONF messages to a stream. It is not safe for
// concurrent use.
type FrameWriter struct {
	w        io.Writer
	framing  Framing
	maxChunk int
}

// NewFrameWriter returns a writer of messages in framing f to w.
func NewFrameWriter(w io.Writer, f Framing) *FrameWriter {
	return &FrameWriter{w: w, framing: f, maxChunk: defaultMaxChunk}
}

// SetFraming switches the framing for the next message.
func (fw *FrameWriter) SetFraming(f Framing) { fw.framing = f }

// Framing returns the current framing.
func (fw *FrameWriter) Framing() Framing { return fw.framing }

// SetMaxChunk sets the largest chunk of chunked framing (n >= 1); a
// message longer than that is sent as several chunks. Tests use it to
// exercise multi-chunk messages.
func (fw *FrameWriter) SetMaxChunk(n int) {
	if n >= 1 {
		fw.maxChunk = n
	}
}

// WriteMessage frames msg and writes it in one Write call, so a message is
// never interleaved with a partial write of another. It refuses a message
// that cannot be framed: one containing "]]>]]>" in base:1.0 (the peer
// would cut it there) and an empty one in base:1.1 (a message has at
// least one chunk).
func (fw *FrameWriter) WriteMessage(msg []byte) error {
	buf, err := AppendFrame(nil, msg, fw.framing, fw.maxChunk)
	if err != nil {
		return err
	}
	if _, err := fw.w.Write(buf); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

// The <rpc> envelope, byte for byte as go-netconf v0.3.1's RPCMessage
// marshals it (the message-id first, then the base namespace).
const (
	rpcOpenID = `<rpc message-id="`
	rpcOpenNS = `" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">`
	rpcClose  = `</rpc>`
)

// writeRPC writes the <rpc> with message-id id around body, framed, in one
// Write call and one allocation. id must need no escaping (Session's are
// decimal counters) and body must be well-formed XML (Session.RPC checks
// it), so the envelope is too.
func (fw *FrameWriter) writeRPC(id, body string) error {
	size := len(rpcOpenID) + len(id) + len(rpcOpenNS) + len(body) + len(rpcClose)
	var buf []byte
	switch {
	case fw.framing == FramingEOM:
		buf = make([]byte, 0, size+len(eomDelimiter))
		buf = appendRPC(buf, id, body)
		// The envelope ends in "</rpc>", which no delimiter overlaps: a
		// delimiter inside it is the only way the frame can go wrong.
		if bytes.Contains(buf, []byte(eomDelimiter)) {
			return errors.New("frame message: base:1.0 message contains the ]]>]]> delimiter")
		}
		buf = append(buf, eomDelimiter...)
	case fw.framing == FramingChunked && size <= fw.maxChunk:
		buf = make([]byte, 0, size+len("\n#4294967295\n")+len(endOfChunks))
		buf = append(buf, '\n', '#')
		buf = strconv.AppendInt(buf, int64(size), 10)
		buf = append(buf, '\n')
		buf = appendRPC(buf, id, body)
		buf = append(buf, endOfChunks...)
	default:
		var err error
		if buf, err = AppendFrame(nil, appendRPC(make([]byte, 0, size), id, body), fw.framing, fw.maxChunk); err != nil {
			return err
		}
	}
	if _, err := fw.w.Write(buf); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

func appendRPC(dst []byte, id, body string) []byte {
	dst = append(dst, rpcOpenID...)
	dst = append(dst, id...)
	dst = append(dst, rpcOpenNS...)
	dst = append(dst, body...)
	return append(dst, rpcClose...)
}

// AppendFrame appends msg framed in f to dst, in chunks of at most
// maxChunk bytes for FramingChunked (maxChunk <= 0: 1 MiB).
func AppendFrame(dst, msg []byte, f Framing, maxChunk int) ([]byte, error) {
	switch f {
	case FramingEOM:
		if !eomFrameable(msg) {
			return dst, errors.New("frame message: base:1.0 message contains the ]]>]]> delimiter")
		}
		dst = append(dst, msg...)
		return append(dst, eomDelimiter...), nil
	case FramingChunked:
		if len(msg) == 0 {
			return dst, errors.New("frame message: base:1.1 cannot frame an empty message")
		}
		if maxChunk <= 0 {
			maxChunk = defaultMaxChunk
		}
		for rest := msg; len(rest) > 0; {
			n := min(len(rest), maxChunk)
			dst = append(dst, '\n', '#')
			dst = strconv.AppendInt(dst, int64(n), 10)
			dst = append(dst, '\n')
			dst = append(dst, rest[:n]...)
			rest = rest[n:]
		}
		return append(dst, endOfChunks...), nil
	default:
		return dst, fmt.Errorf("frame message: unknown framing %d", int(f))
	}
}

// eomFrameable reports whether msg followed by "]]>]]>" is read back as
// msg: it must not contain the delimiter, nor end in a way that completes
// one early ("x]]>" + "]]>]]>" would be read as "x").
func eomFrameable(msg []byte) bool {
	if bytes.Contains(msg, []byte(eomDelimiter)) {
		return false
	}
	tail := append(slices.Clone(msg[max(0, len(msg)-len(eomDelimiter)+1):]), eomDelimiter...)
	return bytes.Index(tail, []byte(eomDelimiter)) == len(tail)-len(eomDelimiter)
}

// frameBufferSize is each session's read buffer. It is small: 4 KiB holds
// a typical Junos reply header and the delimiter search; larger replies
// stream through it at a few hundred MB/s (BenchmarkFrameReader), far
// above what a router sends. At 32 KiB it was a third of an idle
// session's memory; sessions now also give it back between RPCs
// (FrameReader.release).
const frameBufferSize = 4 << 10
