// Package netconftest runs NETCONF-over-SSH servers on loopback for tests,
// as net/http/httptest does for HTTP: a real SSH handshake, a Junos-style
// hello, base:1.0 and base:1.1 framing, and a Handler that writes each
// reply. Faults (refused connections, silent servers, rejected logins,
// hangs, stalls, latency) can be switched on per server.
//
// It is built to run thousands of servers in one process: one goroutine
// per server accepts, and each connection costs two (SSH requests, and the
// NETCONF session), besides x/crypto's own.
package netconftest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
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
type Fault struct {
	Refuse            bool          // no listener: connections are refused
	SilentAfterAccept bool          // accept TCP, never speak SSH
	RejectAuth        bool          // every auth attempt fails
	HangAfterHello    bool          // send hello, read the client's, then never answer
	StallMidReply     bool          // write the first half of each reply, then nothing until the client goes away
	Latency           time.Duration // added before each reply
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
	s.signer = cfg.HostKey
	if s.signer == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("netconftest: generate host key: %w", err)
		}
		if s.signer, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("netconftest: host key: %w", err)
		}
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
	s.wg.Add(1)
	go s.acceptLoop(ln)
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
// SilentAfterAccept, RejectAuth) apply to new connections; reply faults
// (HangAfterHello, StallMidReply, Latency) to the next request of every
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
	s.wg.Add(1)
	go s.acceptLoop(ln)
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

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
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
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		_ = c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	fault := s.currentFault()
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
				go s.serveNETCONF(ctx, ch, sconn.User())
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
			if fault.RejectAuth {
				return nil, reject
			}
			blob := key.Marshal()
			for _, k := range s.cfg.AuthorizedKeys {
				if bytes.Equal(k.Marshal(), blob) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, reject
		},
	}
	cfg.AddHostKey(s.signer)
	return cfg
}

func (s *Server) passwordOK(user, password string) bool {
	want, ok := s.cfg.Users[user]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

// serveNETCONF runs one NETCONF session on ch until the client closes it,
// sends <close-session/>, breaks the protocol, or the server closes.
func (s *Server) serveNETCONF(ctx context.Context, ch ssh.Channel, user string) {
	defer s.wg.Done()
	defer ch.Close()
	log := s.log.With("user", user)
	fr := netconf.NewFrameReader(ch, netconf.FramingEOM, 0)
	fw := netconf.NewFrameWriter(ch, netconf.FramingEOM)

	if err := fw.WriteMessage(s.hello(s.sessionID.Add(1))); err != nil {
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
		var reply []byte
		last := false
		switch {
		case perr != nil:
			reply = ErrorReply(req, "malformed-message", perr.Error())
		case req.Operation == "close-session":
			reply = Reply(req, "<ok/>")
			last = true
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

		fault = s.currentFault()
		if fault.Latency > 0 {
			t := time.NewTimer(fault.Latency)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		if fault.StallMidReply {
			framed, err := netconf.AppendFrame(nil, reply, fw.Framing(), 0)
			if err == nil {
				_, _ = ch.Write(framed[:len(framed)/2])
			}
			drain(ch)
			return
		}
		if err := fw.WriteMessage(reply); err != nil {
			log.Debug("netconftest: write reply", "rpc", req.Operation, "error", err)
			return
		}
		if last {
			return
		}
	}
}

// drain reads and drops everything until the client goes away (or the
// server closes the connection), so the client's writes never block on
// a full window while we play dead.
func drain(ch ssh.Channel) { _, _ = io.Copy(io.Discard, ch) }
