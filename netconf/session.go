package netconf

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Session is one NETCONF session over its own SSH connection. RPCs are
// serialised: NETCONF allows pipelining, but a reply is read as the answer
// to the request that came last, so calls wait their turn.
//
// A session whose RPC timed out, was cancelled or failed in transport is
// closed at once: its stream may still carry the old reply, and a later
// RPC would read it as its own.
//
// Between RPCs a session keeps only what the next one needs: no reply, no
// hello, no read buffer (see FrameReader.release). Thousands of them idle
// in a persistent-session pool.
type Session struct {
	addr      string
	conn      net.Conn
	client    *ssh.Client
	tr        *transport
	log       *slog.Logger
	caps      []string // the server's, from its hello
	sessionID int

	// turn is a one-slot semaphore rather than a sync.Mutex so a caller
	// waiting behind a slow RPC can give up when its context ends.
	turn      chan struct{}
	lastID    uint64 // message-id of the last <rpc> sent; guarded by turn
	broken    atomic.Bool
	closing   atomic.Bool
	closeConn sync.Once
}

// Reply is a successful reply (or the reply that carried an *RPCError).
type Reply struct {
	MessageID string
	// Data is the inner XML of <rpc-reply>, a subslice of Raw. Namespace
	// prefixes declared on <rpc-reply> (junos:) are not declared inside
	// it; match by local name, or parse Raw.
	Data []byte
	// Raw is the whole reply message without framing.
	Raw []byte
	// Warnings are <rpc-error>s of severity warning (and <xnm:warning>s):
	// the RPC succeeded, but the device had something to say.
	Warnings []*RPCError
}

// Capabilities returns the server's capabilities from its hello.
func (s *Session) Capabilities() []string { return slices.Clone(s.caps) }

// SessionID returns the session-id from the server's hello.
func (s *Session) SessionID() int { return s.sessionID }

// Framing returns the framing in use after the hello.
func (s *Session) Framing() Framing { return s.tr.framing() }

// RPC sends one <rpc> whose content is body, such as
// "<get-route-engine-information/>", and waits for the reply, bounded by
// ctx. A device-reported error is returned as *RPCError together with the
// reply; any other failure closes the session, and later calls return
// ErrSessionClosed. The reply is held whole, so it may be at most
// MaxHeldReplyBytes or the session's limit, whichever is lower: a longer
// one is cut as it streams with *ErrReplyTooLarge.
func (s *Session) RPC(ctx context.Context, body string) (*Reply, error) {
	return s.rpc(ctx, body, nil)
}

// StreamHeadBytes is how much of a streamed reply RPCStream keeps: a
// reply up to this size is judged whole, as RPC judges it.
const StreamHeadBytes = 64 << 10

// MaxHeldReplyBytes caps the replies RPC holds whole, below the
// session's limit (Config.MaxReplyBytes) when that is higher: a reply
// held costs its size, and --concurrency of them at 64 MiB would be
// 2 GiB. The replies RPC reads (RE table, alarms, software, the
// redundancy configuration) are tens of KB on the largest routers; a
// log, which is bigger, goes through RPCStream, which holds none of it.
const MaxHeldReplyBytes = 4 << 20

// RPCStream is RPC for a reply that may be big (a log file): the reply's
// bytes, the whole message without framing as Reply.Raw would hold it,
// are written to sink as they arrive, and the session keeps only the
// first StreamHeadBytes. So a consumer that keeps only what it needs (a
// streaming decoder, such as junos.LogTaker) bounds what the reply
// costs, and a reply over the size limit is cut, with *ErrReplyTooLarge,
// after at most the limit has streamed through.
//
// A reply that fits in StreamHeadBytes is judged as RPC judges it: its
// rpc-errors, its message-id, Raw and Data. A longer one is judged by its
// start tag only (the message-id; a mismatch is a *ProtocolError that
// closes the session), and its Raw and Data are nil: what is inside it,
// device errors nested in the data included, is the sink's to read. When
// RPCStream returns an error, what the sink was given is not a reply to
// keep. sink's Write should not fail: an error from it closes the
// session, the rest of the reply being unread.
func (s *Session) RPCStream(ctx context.Context, body string, sink io.Writer) (*Reply, error) {
	if sink == nil {
		return nil, fmt.Errorf("rpc to %s: RPCStream needs a sink", s.addr)
	}
	return s.rpc(ctx, body, sink)
}

// rpc is RPC, or RPCStream when sink is not nil.
func (s *Session) rpc(ctx context.Context, body string, sink io.Writer) (*Reply, error) {
	op, err := operation(body)
	if err == nil && s.tr.w.Framing() == FramingEOM && strings.Contains(body, eomDelimiter) {
		// Well-formed (inside an attribute value), but the device would
		// cut the message there.
		err = &ProtocolError{Op: "check rpc body", Err: errors.New("body contains the base:1.0 delimiter ]]>]]>")}
	}
	if err != nil {
		return nil, fmt.Errorf("rpc to %s: %w", s.addr, err)
	}
	fail := func(err error) error { return fmt.Errorf("rpc %s on %s: %w", op, s.addr, err) }
	if s.broken.Load() {
		return nil, fail(ErrSessionClosed)
	}
	select {
	case s.turn <- struct{}{}:
		defer func() { <-s.turn }()
	case <-ctx.Done():
		// Nothing was sent, so the session is still good.
		return nil, fail(ctx.Err())
	}
	if s.broken.Load() {
		return nil, fail(ErrSessionClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}

	debug := s.log.Enabled(ctx, slog.LevelDebug)
	start := time.Now()
	head := &replyHead{keep: -1, limit: min(s.tr.r.Limit(), MaxHeldReplyBytes)}
	var w io.Writer = head
	if sink != nil {
		head.keep = StreamHeadBytes
		w = io.MultiWriter(head, sink)
	}
	size, id, err := s.exec(ctx, body, w)
	if err != nil {
		if debug {
			s.log.Debug("netconf rpc failed", "rpc", op, "duration", time.Since(start), "error", err)
		}
		return nil, fail(err)
	}
	raw := head.b
	if raw == nil {
		raw = []byte{}
	}
	var (
		reply *Reply
		rerr  error
	)
	switch {
	case size > int64(len(raw)):
		// Streamed past the head: the sink judges the content.
		reply, rerr = streamedReply(raw)
	default:
		if reply = parseReplyFast(raw, id); reply == nil {
			reply, rerr = parseReply(raw)
		}
	}
	if reply != nil && reply.MessageID != id {
		// A mismatch means the stream is out of step (a late reply to an
		// abandoned request, or a broken server); even an rpc-error in it
		// is not ours.
		rerr = &ProtocolError{Op: "parse reply", Err: fmt.Errorf("reply has message-id %q, request had %q", reply.MessageID, id)}
	}
	var rpcErr *RPCError
	if errors.As(rerr, &rpcErr) {
		// The device answered; the session is fine.
		if debug {
			s.log.Debug("netconf rpc error", "rpc", op, "duration", time.Since(start), "bytes", size, "error", rerr)
		}
		return reply, fail(rerr)
	}
	if rerr != nil {
		// A reply we cannot read, or one meant for another request: the
		// stream is out of step, nothing later on it can be trusted.
		s.abort()
		if debug {
			s.log.Debug("netconf rpc failed", "rpc", op, "duration", time.Since(start), "error", rerr)
		}
		return nil, fail(rerr)
	}
	if debug {
		s.log.Debug("netconf rpc", "rpc", op, "duration", time.Since(start), "bytes", size, "warnings", len(reply.Warnings))
	}
	return reply, nil
}

// replyHead keeps the first keep bytes of a reply, or, when keep is
// negative, all of it up to limit.
type replyHead struct {
	b     []byte
	keep  int
	limit int64
}

func (h *replyHead) Write(p []byte) (int, error) {
	if h.keep < 0 {
		if int64(len(h.b)+len(p)) > h.limit {
			return 0, &ErrReplyTooLarge{Limit: h.limit}
		}
		h.b = append(h.b, p...)
	} else if room := h.keep - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// streamedReply reads what the start of a streamed reply says: that it
// is an <rpc-reply>, and its message-id.
func streamedReply(head []byte) (*Reply, error) {
	d := xml.NewDecoder(bytes.NewReader(head))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, &ProtocolError{Op: "parse reply", Err: fmt.Errorf("no <rpc-reply> start tag in the first %d bytes: %w", len(head), err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "rpc-reply" {
				return nil, &ProtocolError{Op: "parse reply", Err: fmt.Errorf("expected <rpc-reply>, got <%s>", t.Name.Local)}
			}
			reply := &Reply{}
			for _, a := range t.Attr {
				if a.Name.Local == "message-id" {
					reply.MessageID = a.Value
				}
			}
			return reply, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, &ProtocolError{Op: "parse reply", Err: errors.New("text outside <rpc-reply>")}
			}
		}
	}
}

// exec sends body in an <rpc> with the next message-id, bounded by ctx,
// writes the raw reply, unparsed, to w and returns its size and the
// message-id. Any error closes the session. The caller holds the turn.
//
// go-netconf's Exec is not used: it would parse every reply into a struct
// (its whole inner XML copied into a string) only for parseReply to read
// the same bytes again, it cannot be bounded by ctx, and it cannot
// stream.
func (s *Session) exec(ctx context.Context, body string, w io.Writer) (size int64, id string, err error) {
	s.lastID++
	id = strconv.FormatUint(s.lastID, 10)
	// x/crypto has no per-call deadline: put ctx's deadline on the TCP
	// connection, and close the connection when ctx ends early. Either
	// kills the whole SSH connection, which is what a timed-out RPC
	// deserves.
	if dl, ok := ctx.Deadline(); ok {
		_ = s.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, s.abort)

	size, err = s.tr.roundTrip(id, body, w)

	if !stop() {
		// ctx ended while we waited; abort has run or is running.
		s.abort()
		return size, id, ctxError(ctx, err)
	}
	_ = s.conn.SetDeadline(time.Time{})
	switch {
	case err != nil && s.closing.Load():
		// Close gave up waiting for this RPC and closed under it.
		s.abort()
		return size, id, fmt.Errorf("%w: %w", ErrSessionClosed, ctxError(ctx, err))
	case err != nil:
		s.abort()
		return size, id, ctxError(ctx, err)
	}
	return size, id, nil
}

// abort marks the session broken and closes its TCP connection, which
// unblocks any read or write in progress. Safe to call from any goroutine,
// any number of times.
func (s *Session) abort() {
	s.broken.Store(true)
	s.closeConn.Do(func() {
		_ = s.client.Close()
	})
}

// Close ends the session politely with <close-session/>, bounded by ctx,
// and closes the SSH connection whatever the answer. It waits for an RPC
// in progress until ctx ends, then closes under it. Safe to call more than
// once; later calls return nil.
func (s *Session) Close(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	defer s.abort()
	if s.broken.Load() {
		return nil
	}
	select {
	case s.turn <- struct{}{}:
		defer func() { <-s.turn }()
	case <-ctx.Done():
		return nil // abort tears down the RPC still running
	}
	if s.broken.Load() || ctx.Err() != nil {
		return nil
	}
	_, _, err := s.exec(ctx, "<close-session/>", io.Discard)
	s.broken.Store(true)
	if err == nil {
		err = s.tr.Close()
	}
	if err == nil || closeErrorIsBenign(err) {
		return nil
	}
	return fmt.Errorf("close session with %s: %w", s.addr, err)
}

// closeErrorIsBenign reports errors that only mean the server hung up
// first, which servers may do right after answering close-session.
// "No connection to close" is go-netconf's TransportSSH wording, kept
// here in case a go-netconf transport is ever swapped in.
func closeErrorIsBenign(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, ErrSessionClosed) ||
		strings.Contains(err.Error(), "No connection to close")
}

// ctxError reports a failure caused by ctx ending as ctx's error, keeping
// the underlying one for the message. Closing the connection under a
// blocked read surfaces as EOF, which would otherwise look like a protocol
// failure.
func ctxError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		// The connection's own deadline (the same instant) fired before
		// ctx's timer did: it is the same deadline.
		cerr = context.DeadlineExceeded
	}
	switch {
	case cerr == nil:
		return err
	case err == nil || errors.Is(err, cerr):
		return cerr
	default:
		return fmt.Errorf("%w: %w", cerr, err)
	}
}

// operation checks that body is well-formed XML with at least one element
// and returns the first element's local name, which names the RPC in
// errors and logs. Sending a malformed body would desynchronise the
// device's parser, so it is refused before anything is written.
func operation(body string) (string, error) {
	if op, ok := operationFast(body); ok {
		return op, nil
	}
	d := xml.NewDecoder(strings.NewReader(body))
	op := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", &ProtocolError{Op: "check rpc body", Err: err}
		}
		if se, ok := tok.(xml.StartElement); ok && op == "" {
			op = se.Name.Local
		}
	}
	if op == "" {
		return "", &ProtocolError{Op: "check rpc body", Err: errors.New("no element in rpc body")}
	}
	return op, nil
}

// rpcErrorXML is <rpc-error> (RFC 6241 section 4.3) plus the source-daemon
// element Junos adds, directly or inside error-info.
type rpcErrorXML struct {
	Type         string `xml:"error-type"`
	Tag          string `xml:"error-tag"`
	Severity     string `xml:"error-severity"`
	Path         string `xml:"error-path"`
	Message      string `xml:"error-message"`
	Daemon       string `xml:"source-daemon"`
	InfoDaemon   string `xml:"error-info>source-daemon"`
	Text         string `xml:",chardata"`
	XnmMessage   string `xml:"message"` // <xnm:error><message>
	XnmStatement string `xml:"statement"`
}

// parseReply parses an <rpc-reply> and finds the errors in it, at any
// depth: Junos nests <rpc-error> and <xnm:error> inside the data element
// when one part of an RPC fails. It returns the reply even with an
// *RPCError, which is the first error of severity error.
func parseReply(raw []byte) (*Reply, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	reply := &Reply{Raw: raw}
	var (
		firstErr   *RPCError
		depth      int   // element depth, root = 1
		dataStart  int64 // offset just after <rpc-reply ...>
		dataEnd    int64 = -1
		children   int   // direct children of rpc-reply
		aborted    *RPCError
		sawContent bool // non-whitespace text directly under rpc-reply
	)
	record := func(e *RPCError) {
		if strings.EqualFold(e.Severity, "warning") {
			reply.Warnings = append(reply.Warnings, e)
		} else if firstErr == nil {
			firstErr = e
		}
	}
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ProtocolError{Op: "parse reply", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if dataEnd >= 0 {
					return nil, &ProtocolError{Op: "parse reply", Err: errors.New("content after </rpc-reply>")}
				}
				if t.Name.Local != "rpc-reply" {
					return nil, &ProtocolError{Op: "parse reply", Err: fmt.Errorf("expected <rpc-reply>, got <%s>", t.Name.Local)}
				}
				for _, a := range t.Attr {
					if a.Name.Local == "message-id" {
						reply.MessageID = a.Value
					}
				}
				dataStart = d.InputOffset()
				continue
			case depth == 2:
				children++
			}
			if e, ok, err := decodeErrorElement(d, t, depth == 2); err != nil {
				return nil, &ProtocolError{Op: "parse reply", Err: err}
			} else if ok {
				depth--
				record(e)
				continue
			}
			if depth == 2 && t.Name.Local == "output" {
				var out struct {
					Text string `xml:",chardata"`
				}
				if err := d.DecodeElement(&out, &t); err != nil {
					return nil, &ProtocolError{Op: "parse reply", Err: err}
				}
				depth--
				if msg := strings.TrimSpace(out.Text); strings.HasPrefix(msg, "Aborted!") {
					aborted = &RPCError{Tag: "aborted", Severity: "error", Message: msg}
				}
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				dataEnd = before
			}
		case xml.CharData:
			if depth == 1 && len(bytes.TrimSpace(t)) > 0 {
				sawContent = true
			}
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, &ProtocolError{Op: "parse reply", Err: errors.New("text outside <rpc-reply>")}
			}
		}
	}
	if dataEnd < 0 {
		return nil, &ProtocolError{Op: "parse reply", Err: errors.New("no complete <rpc-reply> element")}
	}
	reply.Data = raw[dataStart:dataEnd]
	if aborted != nil && children == 1 && !sawContent && firstErr == nil {
		firstErr = aborted
	}
	if firstErr != nil {
		return reply, firstErr
	}
	return reply, nil
}

// decodeErrorElement decodes t if it is an error element: <rpc-error>
// anywhere, <xnm:error>/<xnm:warning> anywhere, and a plain <error>
// directly under <rpc-reply> (some Junos releases). ok is false, and
// nothing is consumed, for any other element.
func decodeErrorElement(d *xml.Decoder, t xml.StartElement, topLevel bool) (e *RPCError, ok bool, err error) {
	local := t.Name.Local
	isXnm := t.Name.Space == "xnm" || strings.Contains(t.Name.Space, "xml.juniper.net/xnm/")
	switch {
	case local == "rpc-error":
	case (local == "error" || local == "warning") && isXnm:
	case local == "error" && topLevel:
	default:
		return nil, false, nil
	}
	var x rpcErrorXML
	if err := d.DecodeElement(&x, &t); err != nil {
		return nil, false, err
	}
	e = &RPCError{
		Type:         strings.TrimSpace(x.Type),
		Tag:          strings.TrimSpace(x.Tag),
		Severity:     strings.ToLower(strings.TrimSpace(x.Severity)),
		Path:         strings.TrimSpace(x.Path),
		Message:      strings.TrimSpace(x.Message),
		DaemonSource: strings.TrimSpace(x.Daemon),
	}
	if e.DaemonSource == "" {
		e.DaemonSource = strings.TrimSpace(x.InfoDaemon)
	}
	if local != "rpc-error" {
		// Junos' own error elements: <message>, or plain text.
		e.Severity = "error"
		if local == "warning" {
			e.Severity = "warning"
		}
		e.Message = strings.TrimSpace(x.XnmMessage)
		if e.Message == "" {
			e.Message = strings.TrimSpace(x.Text)
		}
		if st := strings.TrimSpace(x.XnmStatement); st != "" && e.Message != "" {
			e.Message += " (statement: " + st + ")"
		}
	}
	if e.Severity == "" {
		// RFC 6241 makes error-severity mandatory; a device that omits it
		// did not mean "everything is fine".
		e.Severity = "error"
	}
	return e, true, nil
}
