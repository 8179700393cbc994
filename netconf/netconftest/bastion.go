package netconftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// BastionConfig configures a Bastion.
type BastionConfig struct {
	Addr           string            // default "127.0.0.1:0"; must be a loopback address
	HostKey        ssh.Signer        // nil: a fresh ed25519 key
	Users          map[string]string // user → password (password auth)
	AuthorizedKeys []ssh.PublicKey   // public-key auth, accepted for any user name
	// Hosts are names the bastion resolves itself, "name:port" → a
	// loopback "host:port", as a bastion's own DNS knows routers the
	// client cannot resolve. A router known by such a name is reachable
	// only through the bastion.
	Hosts map[string]string
	// RefuseForwarding rejects every forwarding request as
	// administratively prohibited, as sshd with AllowTcpForwarding no.
	RefuseForwarding bool
	// Silent accepts TCP connections and never speaks SSH.
	Silent bool
	Logger *slog.Logger // nil: discard
}

// Bastion is an SSH jump host on loopback, as OpenSSH's sshd serves
// "ssh -J": it authenticates its own users, with its own host key, and
// forwards "direct-tcpip" channels, to loopback addresses only. Other
// channel types (shells) are refused. With neither Users nor
// AuthorizedKeys, any client is let in without authentication.
type Bastion struct {
	cfg    BastionConfig
	signer ssh.Signer
	log    *slog.Logger
	ln     net.Listener
	host   string
	port   int

	// base ends outgoing dials on Close.
	base       context.Context
	cancelBase context.CancelFunc

	mu       sync.Mutex
	conns    map[net.Conn]struct{} // client connections and forwarded ones
	clients  int                   // client connections open
	changed  chan struct{}         // closed and replaced when clients drops
	forwards []string              // targets of the channels forwarded
	closed   bool

	wg sync.WaitGroup
}

// NewBastion starts a bastion; it is listening when NewBastion returns.
func NewBastion(cfg BastionConfig) (*Bastion, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(cfg.Addr); err != nil {
		return nil, err
	}
	b := &Bastion{cfg: cfg, conns: make(map[net.Conn]struct{}), changed: make(chan struct{}), log: cfg.Logger}
	b.cfg.Users = maps.Clone(cfg.Users)
	b.cfg.Hosts = maps.Clone(cfg.Hosts)
	b.cfg.AuthorizedKeys = append([]ssh.PublicKey(nil), cfg.AuthorizedKeys...)
	for name, addr := range b.cfg.Hosts {
		if err := checkLoopback(addr); err != nil {
			return nil, fmt.Errorf("netconftest: bastion host %s: %w", name, err)
		}
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if b.signer, err = hostSigner(cfg.HostKey, "bastion host key"); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("netconftest: bastion listen on %s: %w", cfg.Addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	b.ln, b.host, b.port = ln, tcp.IP.String(), tcp.Port
	b.log = b.log.With("bastion", b.Addr())
	b.base, b.cancelBase = context.WithCancel(context.Background())
	b.wg.Add(1)
	running := make(chan struct{})
	go b.acceptLoop(running)
	<-running
	return b, nil
}

// Addr returns "host:port", e.g. "127.0.0.1:40124".
func (b *Bastion) Addr() string { return net.JoinHostPort(b.host, strconv.Itoa(b.port)) }

// Host returns the IP address the bastion listens on.
func (b *Bastion) Host() string { return b.host }

// Port returns the TCP port.
func (b *Bastion) Port() int { return b.port }

// HostKey returns the bastion's public host key.
func (b *Bastion) HostKey() ssh.PublicKey { return b.signer.PublicKey() }

// KnownHostsLine returns the known_hosts line for the bastion.
func (b *Bastion) KnownHostsLine() string {
	return knownhosts.Line([]string{b.Addr()}, b.HostKey())
}

// Forwards returns the targets ("host:port" as the client asked, before
// Hosts) of the channels the bastion forwarded, in order: proof that a
// connection went through it.
func (b *Bastion) Forwards() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.forwards...)
}

// WaitIdle waits until no client is connected, or ctx ends: a client
// that closed its session has let go of the bastion too.
func (b *Bastion) WaitIdle(ctx context.Context) error {
	for {
		b.mu.Lock()
		n, changed := b.clients, b.changed
		b.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("netconftest: bastion still has %d client(s): %w", n, ctx.Err())
		}
	}
}

// Close stops listening, closes every connection and waits for all of the
// bastion's goroutines. Safe to call more than once.
func (b *Bastion) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wg.Wait()
		return nil
	}
	b.closed = true
	conns := make([]net.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	_ = b.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	b.cancelBase()
	b.wg.Wait()
	return nil
}

// track registers c so that Close closes it; it reports false (and closes
// c) when the bastion is already closed.
func (b *Bastion) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = c.Close()
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Bastion) untrack(c net.Conn) {
	_ = c.Close()
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

func (b *Bastion) acceptLoop(running chan<- struct{}) {
	defer b.wg.Done()
	close(running)
	for {
		c, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			b.log.Warn("netconftest: bastion accept", "error", err)
			t := time.NewTimer(10 * time.Millisecond)
			select {
			case <-t.C:
			case <-b.base.Done():
				t.Stop()
				return
			}
			continue
		}
		if !b.track(c) {
			continue
		}
		b.mu.Lock()
		b.clients++
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serveConn(c)
	}
}

// serveConn runs one client connection: the SSH handshake, then a
// forwarding goroutine per channel.
func (b *Bastion) serveConn(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		b.untrack(c)
		b.mu.Lock()
		b.clients--
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
	}()
	if b.cfg.Silent {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, b.sshConfig())
	if err != nil {
		b.log.Debug("netconftest: bastion ssh handshake", "error", err)
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sconn.Close()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nc := range chans {
		if nc.ChannelType() != "direct-tcpip" {
			_ = nc.Reject(ssh.UnknownChannelType, "this bastion only forwards (direct-tcpip)")
			continue
		}
		// RFC 4254 §7.2: host to connect, port to connect, originator
		// address, originator port.
		var msg struct {
			Host     string
			Port     uint32
			OrigHost string
			OrigPort uint32
		}
		if err := ssh.Unmarshal(nc.ExtraData(), &msg); err != nil {
			_ = nc.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
			continue
		}
		asked := net.JoinHostPort(msg.Host, strconv.FormatUint(uint64(msg.Port), 10))
		if b.cfg.RefuseForwarding {
			_ = nc.Reject(ssh.Prohibited, "TCP forwarding is disabled")
			continue
		}
		target := asked
		if mapped, ok := b.cfg.Hosts[asked]; ok {
			target = mapped
		}
		if checkLoopback(target) != nil {
			_ = nc.Reject(ssh.Prohibited, "this test bastion forwards to loopback addresses only")
			continue
		}
		b.wg.Add(1)
		go b.forward(nc, asked, target)
	}
}

// forward connects to target and copies between it and the channel until
// either side ends, then closes both.
func (b *Bastion) forward(nc ssh.NewChannel, asked, target string) {
	defer b.wg.Done()
	d := net.Dialer{Timeout: 10 * time.Second}
	tc, err := d.DialContext(b.base, "tcp", target)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	if !b.track(tc) {
		_ = nc.Reject(ssh.ConnectionFailed, "bastion closing")
		return
	}
	defer b.untrack(tc)
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	b.mu.Lock()
	b.forwards = append(b.forwards, asked)
	b.mu.Unlock()
	b.log.Debug("netconftest: bastion forwarding", "to", asked)

	b.wg.Add(3)
	go func() {
		defer b.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	done := make(chan struct{}, 2)
	copyAndSignal := func(dst io.Writer, src io.Reader) {
		defer b.wg.Done()
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go copyAndSignal(ch, tc)
	go copyAndSignal(tc, ch)
	<-done
	// One side ended: end the other, which ends the second copy.
	_ = ch.Close()
	_ = tc.Close()
	<-done
}

func (b *Bastion) sshConfig() *ssh.ServerConfig {
	reject := errors.New("netconftest: bastion authentication rejected")
	cfg := &ssh.ServerConfig{
		NoClientAuth: len(b.cfg.Users) == 0 && len(b.cfg.AuthorizedKeys) == 0,
		PasswordCallback: func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if !passwordOK(b.cfg.Users, meta.User(), password) {
				return nil, reject
			}
			return &ssh.Permissions{}, nil
		},
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if !keyAuthorized(b.cfg.AuthorizedKeys, key) {
				return nil, reject
			}
			return &ssh.Permissions{}, nil
		},
	}
	cfg.AddHostKey(b.signer)
	return cfg
}
