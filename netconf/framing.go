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
	// readGrowStep bounds how much memory one chunk header can make us
	// allocate before the data arrives: a peer that announces a 60 MB chunk
	// and then stalls costs us one step, not 60 MB.
	readGrowStep = 64 << 10
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
	if fr.err != nil {
		return nil, fr.err
	}
	fr.acquire()
	var msg []byte
	var err error
	switch fr.framing {
	case FramingEOM:
		msg, err = fr.readEOM()
	case FramingChunked:
		msg, err = fr.readChunked()
	default:
		err = &ProtocolError{Op: "read message", Err: fmt.Errorf("unknown framing %d", int(fr.framing))}
	}
	if err != nil {
		fr.err = err
		return nil, err
	}
	return msg, nil
}

// readEOM reads up to and including "]]>]]>". It searches what bufio
// holds in bulk and always leaves the last len(delimiter)-1 bytes
// unconsumed until more arrive, so a delimiter split across any number of
// underlying reads is still found, and never buffers more than the limit
// plus one bufio buffer.
func (fr *FrameReader) readEOM() ([]byte, error) {
	delim := []byte(eomDelimiter)
	var msg []byte
	for {
		if fr.br.Buffered() < len(delim) {
			// Blocks until there are enough bytes to hold a delimiter, or
			// the stream ends.
			if _, err := fr.br.Peek(len(delim)); err != nil {
				rest, _ := fr.br.Peek(fr.br.Buffered())
				msg = append(msg, rest...)
				_, _ = fr.br.Discard(len(rest))
				switch {
				case !errors.Is(err, io.EOF):
					return nil, fmt.Errorf("read message: %w", err)
				case len(bytes.TrimSpace(msg)) == 0:
					// Whitespace after the last delimiter is not a message.
					return nil, io.EOF
				default:
					return nil, &ProtocolError{Op: "read message", Err: fmt.Errorf("stream ended inside a message after %d bytes: %w", len(msg), io.ErrUnexpectedEOF)}
				}
			}
		}
		buf, _ := fr.br.Peek(fr.br.Buffered())
		if i := bytes.Index(buf, delim); i >= 0 {
			if int64(len(msg)+i) > fr.limit {
				return nil, &ErrReplyTooLarge{Limit: fr.limit}
			}
			msg = append(msg, buf[:i]...)
			_, _ = fr.br.Discard(i + len(delim))
			if msg == nil {
				msg = []byte{}
			}
			return msg, nil
		}
		// The last bytes may be the start of a delimiter: keep them.
		take := len(buf) - (len(delim) - 1)
		if int64(len(msg)+take) > fr.limit {
			return nil, &ErrReplyTooLarge{Limit: fr.limit}
		}
		msg = append(msg, buf[:take]...)
		_, _ = fr.br.Discard(take)
	}
}

// readChunked reads one chunked message (RFC 6242 section 4.2):
//
//	message = 1*chunk end-of-chunks
//	chunk = LF HASH chunk-size LF chunk-data
//	end-of-chunks = LF HASH HASH LF
//	chunk-size = 1-9 digits, first not zero, at most 4294967295
func (fr *FrameReader) readChunked() ([]byte, error) {
	var msg []byte
	// Whitespace before the first chunk is tolerated: some servers put a
	// newline after the EOM delimiter of their hello, and it then precedes
	// the first chunked message. Inside a message the grammar is strict.
	first := true
	for {
		if first {
			if err := fr.skipLeadingSpace(); err != nil {
				return nil, err
			}
		} else if err := fr.expect('\n'); err != nil {
			return nil, err
		}
		if err := fr.expect('#'); err != nil {
			return nil, err
		}
		c, err := fr.readByte()
		if err != nil {
			return nil, err
		}
		if c == '#' {
			if first {
				return nil, fr.malformed("end-of-chunks before any chunk")
			}
			if err := fr.expect('\n'); err != nil {
				return nil, err
			}
			return msg, nil
		}
		size, err := fr.chunkSize(c)
		if err != nil {
			return nil, err
		}
		if int64(len(msg))+size > fr.limit {
			return nil, &ErrReplyTooLarge{Limit: fr.limit}
		}
		msg, err = fr.readN(msg, size)
		if err != nil {
			return nil, err
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

// readN appends exactly n bytes to msg, growing it step by step so memory
// follows the data actually received rather than the announced size.
func (fr *FrameReader) readN(msg []byte, n int64) ([]byte, error) {
	for n > 0 {
		step := min(n, readGrowStep)
		start := len(msg)
		msg = append(msg, make([]byte, step)...)
		if _, err := io.ReadFull(fr.br, msg[start:]); err != nil {
			return nil, fr.eofIsProtocol(err)
		}
		n -= step
	}
	return msg, nil
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
