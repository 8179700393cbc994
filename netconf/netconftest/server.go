// Package netconftest runs NETCONF-over-SSH servers on loopback for tests,
// as net/http/httptest does for HTTP: a real SSH handshake, a Junos-style
// hello, base:1.0 and base:1.1 framing, and a Handler that writes each
// reply. Faults (refused connections, silent servers, rejected logins,
// hangs, stalls, dripping, resets, malformed or huge replies, lost replies,
// latency) can be switched on per server.
//
// It is built to run thousands of servers in one process: one goroutine
// per server accepts, and each connection costs two (SSH requests, and the
// NETCONF session), besides x/crypto's own.
package netconftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/netconf"
)

// Request is one <rpc> as the server received it.
type Request struct {
	MessageID string // the <rpc message-id>, may be ""
	Operation string // local name of the first element inside <rpc>
	Body      []byte // inner XML of <rpc>
	User      string // the SSH user
}

// Handler answers RPCs. ServeNETCONF returns the whole reply message,
// "<rpc-reply …>…</rpc-reply>"; the server only adds framing. ctx ends
// when the client disconnects or the server closes; a handler that blocks
// must watch it. It is called from one goroutine per session, so
// concurrently for different sessions.
type Handler interface {
	ServeNETCONF(ctx context.Context, req *Request) []byte
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) []byte

// ServeNETCONF calls f.
func (f HandlerFunc) ServeNETCONF(ctx context.Context, req *Request) []byte { return f(ctx, req) }

// Fault makes the server misbehave the way real routers and networks do.
//
// Reply faults combine: the reply is built (HugeReply's instead of the
// handler's, with the message-id WrongMessageID picks; MalformedXML and
// InvalidUTF8 change any reply but a HugeReply), then
// Loss may drop it, Latency delays it, and it is written in one of these
// ways, the first that is set: StallMidReply, ResetMidReply, HugeReply
// (streamed), Drip, SplitDelimiter, else in one write. They apply to every
// reply, the one to <close-session/> included; the hello is never touched.
type Fault struct {
	Refuse            bool // no listener: connections are refused
	SilentAfterAccept bool // accept TCP, never speak SSH
	RejectAuth        bool // every auth attempt fails
	// StallAfterHandshake completes SSH (authentication included) and
	// accepts the netconf subsystem, then never sends a hello.
	StallAfterHandshake bool
	HangAfterHello      bool // send hello, read the client's, then never answer
	StallMidReply       bool // write the first half of each reply, then nothing until the client goes away
	// ResetMidReply writes the first half of a reply, then aborts the TCP
	// connection: SO_LINGER 0, so the kernel sends RST rather than FIN.
	ResetMidReply bool
	// Drip writes each reply one byte per Drip: a reply of a few KB takes
	// hours, as over a link that barely moves.
	Drip time.Duration
	// SplitDelimiter writes each reply in many small writes: the text in
	// pieces of at most 509 bytes, and every framing delimiter one byte
	// per write, so "]]>]]>", the chunk headers (base:1.1 replies are sent
	// in chunks of 61 bytes) and the "\n##\n" end-of-chunks are split
	// across SSH packets.
	SplitDelimiter bool
	// MalformedXML makes every reply not well-formed: an element is opened
	// right after <rpc-reply> and never closed.
	MalformedXML bool
	// InvalidUTF8 puts bytes that are not UTF-8 (a Latin-1 é, 0xE9, then
	// 0xFF) into the first text of every reply.
	InvalidUTF8 bool
	// WrongMessageID answers with another message-id than the request's:
	// the previous request's, as a late reply would, or for the first
	// request its own with "0" appended.
	WrongMessageID bool
	// HugeReply, when > 0, answers every request with a well-formed reply
	// of that many bytes (an <output> of filler lines), generated while it
	// is written: the server never holds more than 32 KiB of it, and stops
	// when the client goes away.
	HugeReply int64
	// Loss is the probability, 0 to 1, that a reply is dropped: the request
	// is handled, and nothing is ever sent for it. The draws come from a
	// generator seeded by LossSeed and the session's number, so the same
	// seed drops the same replies of the same session every run.
	Loss     float64
	LossSeed uint64
	Latency  time.Duration // added before each reply
	// RTT is a WAN link's added round-trip time: everything on the
	// connection, the SSH handshake included, is delayed by half of it in
	// each direction, in order (connections accepted after it is set).
	// Latency delays only the replies, RTT every message.
	RTT time.Duration
}

// Config configures a Server.
type Config struct {
	Addr           string            // default "127.0.0.1:0"; must be a loopback address
	HostKey        ssh.Signer        // nil: a fresh ed25519 key
	Users          map[string]string // user → password (password and keyboard-interactive auth)
	AuthorizedKeys []ssh.PublicKey   // public-key auth, accepted for any user name
	// Base11 advertises urn:ietf:params:netconf:base:1.1; the session then
	// switches to chunked framing after the hello if the client advertises
	// it too.
	Base11 bool
	// HelloComments are written as XML comments before the hello, as
	// Junos does ("No zombies were killed during the creation of this
	// user interface").
	HelloComments []string
	Capabilities  []string // extra capabilities after the Junos ones
	Handler       Handler  // nil: every RPC gets an rpc-error reply
	Fault         Fault
	Logger        *slog.Logger // nil: discard
	// Crypto lists the key exchanges, ciphers and MACs the server offers
	// (an old Junos: netconf.LegacyAlgorithms); zero: x/crypto's defaults.
	// The host key algorithms follow HostKey (restrict an RSA key to
	// ssh-rsa with ssh.NewSignerWithAlgorithms).
	Crypto ssh.Config
}

// Server is a NETCONF-over-SSH server on loopback. With neither Users nor
// AuthorizedKeys, any client is let in without authentication.
type Server struct {
	cfg    Config
	signer ssh.Signer
	log    *slog.Logger
	host   string
	port   int

	// base ends every handler's context on Close.
	base       context.Context
	cancelBase context.CancelFunc

	mu     sync.Mutex
	fault  Fault
	ln     net.Listener // nil while refusing and after Close
	conns  map[net.Conn]struct{}
	closed bool

	wg        sync.WaitGroup
	sessionID atomic.Int64

	// statsMu guards sessions: what each session was asked and sent, so
	// that tests and the bench measure a poll's cost to the router.
	statsMu  sync.Mutex
	sessions []*sessionCounter
}

// SessionStats is what one NETCONF session cost the server: the RPCs it
// answered in full (close-session not counted: it ends every session and
// costs the router nothing worth counting) and the bytes of those replies,
// framing excluded, close-session's reply included. Replies a fault cut,
// dripped or dropped are not counted.
type SessionStats struct {
	ID         int64
	RPCs       int
	ReplyBytes int64
	// Operations counts the RPCs by operation name.
	Operations map[string]int
}

type sessionCounter struct {
	mu    sync.Mutex
	stats SessionStats
}

func (c *sessionCounter) add(op string, replyBytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op != "close-session" {
		c.stats.RPCs++
		c.stats.Operations[op]++
	}
	c.stats.ReplyBytes += int64(replyBytes)
}

func (s *Server) newSessionCounter(id int64) *sessionCounter {
	c := &sessionCounter{stats: SessionStats{ID: id, Operations: map[string]int{}}}
	s.statsMu.Lock()
	s.sessions = append(s.sessions, c)
	s.statsMu.Unlock()
	return c
}

// Sessions returns every session's stats so far, oldest first, open ones
// included.
func (s *Server) Sessions() []SessionStats {
	s.statsMu.Lock()
	counters := slices.Clone(s.sessions)
	s.statsMu.Unlock()
	out := make([]SessionStats, len(counters))
	for i, c := range counters {
		c.mu.Lock()
		out[i] = c.stats
		out[i].Operations = maps.Clone(c.stats.Operations)
		c.mu.Unlock()
	}
	return out
}

// Totals sums Sessions: the server's cost since it started. ID is the
// number of sessions.
func (s *Server) Totals() SessionStats {
	t := SessionStats{Operations: map[string]int{}}
	for _, st := range s.Sessions() {
		t.ID++
		t.RPCs += st.RPCs
		t.ReplyBytes += st.ReplyBytes
		for op, n := range st.Operations {
			t.Operations[op] += n
		}
	}
	return t
}

// OpenConnections is how many TCP connections the server holds open now,
// whatever state their SSH and NETCONF sessions are in: what a client that
// forgets to close leaves behind, as a long run watches it.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// handshakeTimeout keeps a client that connects and then says nothing from
// holding a goroutine until Close.
const handshakeTimeout = time.Minute

// NewServer starts a server; it is listening (or, with Fault.Refuse, has
// reserved its port and refuses connections) when NewServer returns.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(cfg.Addr); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:   cfg,
		fault: cfg.Fault,
		conns: make(map[net.Conn]struct{}),
		log:   cfg.Logger,
	}
	// Private copies: the caller may reuse its map and slices.
	s.cfg.Users = maps.Clone(cfg.Users)
	s.cfg.AuthorizedKeys = append([]ssh.PublicKey(nil), cfg.AuthorizedKeys...)
	s.cfg.HelloComments = append([]string(nil), cfg.HelloComments...)
	s.cfg.Capabilities = append([]string(nil), cfg.Capabilities...)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.signer, err = hostSigner(cfg.HostKey, "host key"); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("netconftest: listen on %s: %w", cfg.Addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	s.host, s.port = tcp.IP.String(), tcp.Port
	s.log = s.log.With("addr", s.Addr())
	s.base, s.cancelBase = context.WithCancel(context.Background())
	if s.fault.Refuse {
		// The port stays ours in practice (the kernel does not hand out a
		// just-closed ephemeral port at once), and connecting to it is
		// refused.
		_ = ln.Close()
		return s, nil
	}
	s.ln = ln
	s.startAccepting(ln)
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("netconftest: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("netconftest: address %q is not loopback; test servers only listen on loopback", addr)
	}
	return nil
}

// Addr returns "host:port", e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Host returns the IP address the server listens on.
func (s *Server) Host() string { return s.host }

// Port returns the TCP port.
func (s *Server) Port() int { return s.port }

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.signer.PublicKey() }

// KnownHostsLine returns the known_hosts line for the server,
// "[127.0.0.1]:port ssh-ed25519 AAAA…".
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{s.Addr()}, s.HostKey())
}

// SetFault changes the faults. Connection faults (Refuse,
// SilentAfterAccept, RejectAuth, StallAfterHandshake, RTT) apply to new
// connections; reply faults (all the others) to the next request of every
// session. Turning Refuse off listens again on the same port.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.fault
	s.fault = f
	if s.closed || f.Refuse == old.Refuse {
		return
	}
	if f.Refuse {
		if s.ln != nil {
			_ = s.ln.Close()
			s.ln = nil
		}
		return
	}
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		// The port was taken while we refused; keep refusing.
		s.log.Error("netconftest: cannot listen again", "error", err)
		return
	}
	s.ln = ln
	s.startAccepting(ln)
}

func (s *Server) currentFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

// Close stops listening, closes every connection, ends handler contexts
// and waits for all of the server's goroutines. Safe to call more than
// once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	ln := s.ln
	s.ln = nil
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	if ln != nil {
		_ = ln.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	s.cancelBase()
	s.wg.Wait()
	return nil
}

// startAccepting starts the accept loop on ln and returns once it runs,
// so that a goroutine dump taken after NewServer shows it as the server's
// (a goroutine not yet scheduled shows only as a wrapper of NewServer).
func (s *Server) startAccepting(ln net.Listener) {
	s.wg.Add(1)
	running := make(chan struct{})
	go s.acceptLoop(ln, running)
	<-running
}

func (s *Server) acceptLoop(ln net.Listener, running chan<- struct{}) {
	defer s.wg.Done()
	close(running)
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: back off as net/http does
			// instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("netconftest: accept", "error", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.base.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		// Adding while this goroutine holds its own count is safe even if
		// Close is already waiting.
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn runs one TCP connection: the SSH handshake, then the SSH
// requests of the connection and of its session channel. The NETCONF
// session itself runs in its own goroutine, so a slow handler never stops
// this one from draining requests (x/crypto blocks the whole connection
// while a request is not taken).
func (s *Server) serveConn(raw net.Conn) {
	defer s.wg.Done()
	defer func() {
		_ = raw.Close()
		s.mu.Lock()
		delete(s.conns, raw)
		s.mu.Unlock()
	}()
	c := raw
	fault := s.currentFault()
	if fault.RTT > 0 {
		rc := newRTTConn(raw, fault.RTT)
		defer rc.Close() // before raw's: what is queued goes first
		c = rc
	}
	if fault.SilentAfterAccept {
		_, _ = io.Copy(io.Discard, c)
		return
	}

	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.sshConfig(fault))
	if err != nil {
		s.log.Debug("netconftest: ssh handshake", "error", err)
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sconn.Close()
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()

	var chReqs <-chan *ssh.Request // requests of the current session channel
	var ch ssh.Channel
	started := false
	for reqs != nil || chans != nil {
		select {
		case r, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			if nc.ChannelType() != "session" {
				_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
				continue
			}
			if chReqs != nil {
				_ = nc.Reject(ssh.ResourceShortage, "one session at a time")
				continue
			}
			ch, chReqs, err = nc.Accept()
			if err != nil {
				chReqs = nil
				continue
			}
			started = false
		case r, ok := <-chReqs:
			if !ok {
				// The channel is closed: a new session may be opened.
				chReqs, ch = nil, nil
				continue
			}
			var sub struct{ Name string }
			if r.Type == "subsystem" && !started && ssh.Unmarshal(r.Payload, &sub) == nil && sub.Name == "netconf" {
				_ = r.Reply(true, nil)
				started = true
				s.wg.Add(1)
				go s.serveNETCONF(ctx, c, ch, sconn.User())
				continue
			}
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}
}

func (s *Server) sshConfig(fault Fault) *ssh.ServerConfig {
	reject := errors.New("netconftest: authentication rejected")
	cfg := &ssh.ServerConfig{
		Config:       s.cfg.Crypto,
		NoClientAuth: !fault.RejectAuth && len(s.cfg.Users) == 0 && len(s.cfg.AuthorizedKeys) == 0,
		PasswordCallback: func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if fault.RejectAuth || !s.passwordOK(meta.User(), string(password)) {
				return nil, reject
			}
			return &ssh.Permissions{}, nil
		},
		// Junos asks for the password through keyboard-interactive.
		KeyboardInteractiveCallback: func(meta ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			// Ask even when rejecting, as sshd does: x/crypto's client
			// treats a failure before any question as a protocol error.
			answers, err := challenge("", "", []string{"Password:"}, []bool{false})
			if fault.RejectAuth || err != nil || len(answers) != 1 || !s.passwordOK(meta.User(), answers[0]) {
				return nil, reject
			}
			return &ssh.Permissions{}, nil
		},
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if fault.RejectAuth || !keyAuthorized(s.cfg.AuthorizedKeys, key) {
				return nil, reject
			}
			return &ssh.Permissions{}, nil
		},
	}
	cfg.AddHostKey(s.signer)
	return cfg
}

func (s *Server) passwordOK(user, password string) bool {
	return passwordOK(s.cfg.Users, user, []byte(password))
}

// serveNETCONF runs one NETCONF session on ch until the client closes it,
// sends <close-session/>, breaks the protocol, or the server closes. conn
// is the TCP connection under it, for ResetMidReply.
func (s *Server) serveNETCONF(ctx context.Context, conn net.Conn, ch ssh.Channel, user string) {
	defer s.wg.Done()
	defer ch.Close()
	id := s.sessionID.Add(1)
	log := s.log.With("user", user, "session", id)
	counter := s.newSessionCounter(id)
	if s.currentFault().StallAfterHandshake {
		drain(ch)
		return
	}
	fr := netconf.NewFrameReader(ch, netconf.FramingEOM, 0)
	fw := netconf.NewFrameWriter(ch, netconf.FramingEOM)

	if err := fw.WriteMessage(s.hello(id)); err != nil {
		log.Debug("netconftest: send hello", "error", err)
		return
	}
	msg, err := fr.ReadMessage()
	if err != nil {
		log.Debug("netconftest: read client hello", "error", err)
		return
	}
	clientBase11, err := parseClientHello(msg)
	if err != nil {
		log.Debug("netconftest: client hello", "error", err)
		return
	}
	if s.cfg.Base11 && clientBase11 {
		fr.SetFraming(netconf.FramingChunked)
		fw.SetFraming(netconf.FramingChunked)
	}

	var (
		loss   *mrand.Rand // created on the first draw
		prevID string      // message-id of the previous request
	)
	for {
		msg, err := fr.ReadMessage()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Debug("netconftest: read rpc", "error", err)
			}
			return
		}
		fault := s.currentFault()
		if fault.HangAfterHello {
			drain(ch)
			return
		}
		req, perr := parseRequest(msg, user)
		sent := req.MessageID
		if fault.WrongMessageID {
			req.MessageID = wrongMessageID(sent, prevID)
		}
		prevID = sent
		var reply []byte
		huge := int64(0)
		last := false
		switch {
		case perr != nil:
			reply = ErrorReply(req, "malformed-message", perr.Error())
		case req.Operation == "close-session":
			reply = Reply(req, "<ok/>")
			last = true
		case fault.HugeReply > 0:
			huge = fault.HugeReply
		case s.cfg.Handler == nil:
			reply = ErrorReply(req, "operation-not-supported", "syntax error, expecting <rpc> content: no handler for <"+req.Operation+">")
		default:
			reply = s.cfg.Handler.ServeNETCONF(ctx, req)
			if ctx.Err() != nil {
				return // the client left or the server is closing
			}
			if reply == nil {
				reply = ErrorReply(req, "operation-failed", "handler returned no reply for <"+req.Operation+">")
			}
		}
		if last && fault.HugeReply > 0 {
			huge, reply = fault.HugeReply, nil
		}

		fault = s.currentFault()
		if reply != nil {
			if fault.MalformedXML {
				reply = malformXML(reply)
			}
			if fault.InvalidUTF8 {
				reply = breakUTF8(reply)
			}
		}
		if fault.Loss > 0 {
			if loss == nil {
				loss = mrand.New(mrand.NewPCG(fault.LossSeed, uint64(id)))
			}
			if loss.Float64() < fault.Loss {
				// Lost on the way: the client waits for it in vain. The
				// session goes on, as the router thinks it answered.
				log.Debug("netconftest: reply dropped", "rpc", req.Operation)
				continue
			}
		}
		if fault.Latency > 0 {
			t := time.NewTimer(fault.Latency)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		if !s.writeReply(ctx, conn, ch, fw, req, reply, huge, fault, log, counter) || last {
			return
		}
	}
}

// writeReply writes one reply the way the fault says, and reports whether
// the session goes on.
func (s *Server) writeReply(ctx context.Context, conn net.Conn, ch ssh.Channel, fw *netconf.FrameWriter,
	req *Request, reply []byte, huge int64, fault Fault, log *slog.Logger, counter *sessionCounter) bool {
	framed := func() []byte {
		b, err := netconf.AppendFrame(nil, reply, fw.Framing(), 0)
		if err != nil {
			log.Debug("netconftest: frame reply", "rpc", req.Operation, "error", err)
		}
		return b
	}
	var err error
	switch {
	case fault.StallMidReply:
		if huge > 0 {
			reply = hugeHead(req)
		}
		if b := framed(); b != nil {
			_, _ = ch.Write(b[:len(b)/2])
		}
		drain(ch)
		return false
	case fault.ResetMidReply:
		if huge > 0 {
			reply = hugeHead(req)
		}
		if b := framed(); b != nil {
			_, _ = ch.Write(b[:len(b)/2])
		}
		resetConn(conn)
		return false
	case huge > 0:
		err = writeHuge(ctx, ch, req, fw.Framing(), huge)
	case fault.Drip > 0:
		b := framed()
		if b == nil {
			return false
		}
		err = drip(ctx, ch, b, fault.Drip)
	case fault.SplitDelimiter:
		err = writeSplit(ch, reply, fw.Framing())
	default:
		if err = fw.WriteMessage(reply); err == nil {
			counter.add(req.Operation, len(reply))
		}
	}
	if err != nil {
		log.Debug("netconftest: write reply", "rpc", req.Operation, "error", err)
		return false
	}
	return true
}

// drain reads and drops everything until the client goes away (or the
// server closes the connection), so the client's writes never block on
// a full window while we play dead.
func drain(ch ssh.Channel) { _, _ = io.Copy(io.Discard, ch) }
