package netconf_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestKeepaliveAlive(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	// netconftest, like every x/crypto server, refuses unknown global
	// requests: a refusal is still an answer.
	for range 3 {
		if err := s.Keepalive(rpcCtx(t, 5*time.Second)); err != nil {
			t.Fatalf("Keepalive: %v", err)
		}
	}
	if s.Closed() {
		t.Fatal("session closed after successful keepalives")
	}
	if _, err := s.RPC(rpcCtx(t, 5*time.Second), "<get-software-information/>"); err != nil {
		t.Fatalf("RPC after keepalive: %v", err)
	}
}

func TestKeepalivePeerGone(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	_ = srv.Close() // closes every connection
	err := s.Keepalive(rpcCtx(t, 5*time.Second))
	if !errors.Is(err, netconf.ErrSessionClosed) {
		t.Fatalf("Keepalive to a closed server: %v, want ErrSessionClosed", err)
	}
	if !s.Closed() {
		t.Error("Closed() = false after a failed keepalive")
	}
	wantClosedFast(t, s)
	// Again, on the broken session: at once.
	if err := s.Keepalive(rpcCtx(t, 5*time.Second)); !errors.Is(err, netconf.ErrSessionClosed) {
		t.Errorf("second Keepalive: %v, want ErrSessionClosed", err)
	}
}

func TestKeepaliveTimeoutClosesSession(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	p := newFreezeProxy(t, srv.Addr())
	cfg := clientConfig(t, srv)
	host, port := p.hostPort(t)
	cfg.Host, cfg.Port = host, port
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{p.addr()}, srv.HostKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.KnownHostsFile = kh
	s := dial(t, cfg)
	if err := s.Keepalive(rpcCtx(t, 5*time.Second)); err != nil {
		t.Fatalf("Keepalive through the proxy: %v", err)
	}
	p.freeze() // a black-holed path: nothing gets through, nothing is closed
	start := time.Now()
	err := s.Keepalive(rpcCtx(t, 200*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Keepalive over a dead path: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Keepalive took %v with a 200ms budget", d)
	}
	if !s.Closed() {
		t.Error("Closed() = false after a timed-out keepalive")
	}
	wantClosedFast(t, s)
}

func TestKeepaliveCancelledContext(t *testing.T) {
	srv := newServer(t, netconftest.Config{})
	s := dial(t, clientConfig(t, srv))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Keepalive(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Keepalive with a cancelled ctx: %v", err)
	}
	// Nothing was sent: the session is still good.
	if s.Closed() {
		t.Error("a keepalive that never started closed the session")
	}
}

// freezeProxy forwards one TCP connection at a time to target until
// frozen; from then on it reads and drops everything in both directions,
// like a path that black-holes traffic.
type freezeProxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) hostPort(t *testing.T) (string, int) {
	a := p.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func (p *freezeProxy) freeze() { p.frozen.Store(true) }

func (p *freezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(u, c)
		go p.pipe(c, u)
	}
}

func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = src.Close()
			}
			return
		}
	}
}
