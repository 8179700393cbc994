package schedule

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/netconf"
	"golang.org/x/crypto/ssh/knownhosts"
)

// countingProxy forwards TCP connections to a router and counts them, so
// tests see from the router's side how many sessions were opened; dropAll
// cuts every connection, as a router that drops idle sessions does.
type countingProxy struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.dropAll()
		p.wg.Wait()
	})
	return p
}

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(u, c)
		go p.pipe(c, u)
	}
}

func (p *countingProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *countingProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// persistentDevice starts a one-router fleet and returns its inventory
// device, set to persistent sessions and reached through a counting proxy.
func persistentDevice(t *testing.T) (inventory.Device, *countingProxy) {
	t.Helper()
	sc := junossim.Scenario{Devices: []junossim.Device{{Name: "r1", Topology: junossim.TopologyDual}}}
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{InventoryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	dir := t.TempDir()
	path := filepath.Join(dir, "devices.yaml")
	if err := fleet.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := fleet.Device("r1")
	proxy := newCountingProxy(t, info.Addr)
	d := inv.Devices[0]
	host, port, _ := net.SplitHostPort(proxy.ln.Addr().String())
	d.Host = host
	d.Port, _ = strconv.Atoi(port)
	d.KnownHosts = filepath.Join(dir, "proxy_known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(proxy.ln.Addr().String())}, info.HostKey)
	if err := os.WriteFile(d.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Session = inventory.SessionPersistent
	return d, proxy
}

func newPool(t *testing.T, every time.Duration) *SessionPool {
	t.Helper()
	pool := NewSessionPool(every, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pool.Close(ctx)
	})
	return pool
}

func wantPollOK(t *testing.T, p devices.Poll) {
	t.Helper()
	if p.Outcome != devices.OutcomeOK {
		t.Fatalf("poll outcome %s (%s), want ok", p.Outcome, p.Error)
	}
}

func TestPersistentSessionReused(t *testing.T) {
	d, proxy := persistentDevice(t)
	pool := newPool(t, 0)
	p := &Poller{Now: time.Now, Sessions: pool}
	for i := range 3 {
		wantPollOK(t, p.Poll(t.Context(), d))
		if n := pool.Len(); n != 1 {
			t.Fatalf("after poll %d: pool holds %d sessions, want 1", i+1, n)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Errorf("router saw %d connections over 3 polls, want 1", n)
	}

	// A per-poll device is dialled every time and never pooled.
	d.Session = inventory.SessionPerPoll
	wantPollOK(t, p.Poll(t.Context(), d))
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("per-poll device: router saw %d connections, want 2", n)
	}
	if n := pool.Len(); n != 1 {
		t.Errorf("per-poll device changed the pool: %d sessions", n)
	}
}

func TestPersistentSessionDroppedByRouterRedials(t *testing.T) {
	d, proxy := persistentDevice(t)
	pool := newPool(t, 0) // no keepalives: the poll itself must notice
	p := &Poller{Now: time.Now, Sessions: pool}
	wantPollOK(t, p.Poll(t.Context(), d))
	proxy.dropAll()
	wantPollOK(t, p.Poll(t.Context(), d))
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("router saw %d connections, want 2 (one redial)", n)
	}
	if n := pool.Len(); n != 1 {
		t.Errorf("pool holds %d sessions, want the new one", n)
	}
	wantPollOK(t, p.Poll(t.Context(), d))
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("router saw %d connections after a third poll, want 2", n)
	}
}

func TestKeepaliveDiscardsDeadIdleSession(t *testing.T) {
	d, proxy := persistentDevice(t)
	pool := newPool(t, 0)
	p := &Poller{Now: time.Now, Sessions: pool}
	wantPollOK(t, p.Poll(t.Context(), d))

	pool.keepaliveOnce(t.Context())
	if n := pool.Len(); n != 1 {
		t.Fatalf("a live session was discarded by keepalive: Len %d", n)
	}
	proxy.dropAll()
	pool.keepaliveOnce(t.Context())
	if n := pool.Len(); n != 0 {
		t.Fatalf("dead idle session kept: Len %d, want 0", n)
	}
	wantPollOK(t, p.Poll(t.Context(), d))
	if n := proxy.accepted.Load(); n != 2 {
		t.Errorf("router saw %d connections, want 2", n)
	}
}

func TestKeepaliveLoopRuns(t *testing.T) {
	d, proxy := persistentDevice(t)
	pool := newPool(t, 20*time.Millisecond)
	p := &Poller{Now: time.Now, Sessions: pool}
	wantPollOK(t, p.Poll(t.Context(), d))
	proxy.dropAll()
	deadline := time.Now().Add(5 * time.Second)
	for pool.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the keepalive loop did not discard the dead session within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolOneHolderPerKey(t *testing.T) {
	d, _ := persistentDevice(t)
	pool := newPool(t, 0)
	cfg, err := (&Poller{Now: time.Now}).sessionConfig(d)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context) (*netconf.Session, error) { return netconf.Dial(ctx, cfg) }
	s, reused, err := pool.Get(t.Context(), "k", dial)
	if err != nil || reused {
		t.Fatalf("Get: %v reused=%v", err, reused)
	}
	// A second Get for the key waits while the session is lent out.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := pool.Get(ctx, "k", dial); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Get while lent out: %v, want to wait until ctx ends", err)
	}
	got := make(chan *netconf.Session, 1)
	go func() {
		s2, reused, err := pool.Get(t.Context(), "k", dial)
		if err != nil || !reused {
			t.Errorf("Get after Put: %v reused=%v", err, reused)
		}
		got <- s2
	}()
	pool.Put("k", s)
	s2 := <-got
	if s2 != s {
		t.Error("Get after Put returned another session")
	}
	pool.Discard("k", s2)
	if n := pool.Len(); n != 0 {
		t.Errorf("Len after Discard = %d", n)
	}
	if !s.Closed() {
		t.Error("Discard did not close the session")
	}
	// Close, then Get fails and a late Put closes its session.
	s3, _, err := pool.Get(t.Context(), "k", dial)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	pool.Put("k", s3)
	if !s3.Closed() || pool.Len() != 0 {
		t.Error("Put after Close kept the session")
	}
	if _, _, err := pool.Get(t.Context(), "k", dial); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Get after Close: %v, want ErrPoolClosed", err)
	}
}

func TestPersistentPollCancelledThenOK(t *testing.T) {
	d, _ := persistentDevice(t)
	pool := newPool(t, 0)
	p := &Poller{Now: time.Now, Sessions: pool}
	wantPollOK(t, p.Poll(t.Context(), d))
	// A poll that times out breaks the session: it is not kept.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := p.Poll(ctx, d); got.Outcome == devices.OutcomeOK {
		t.Fatalf("cancelled poll is ok")
	}
	// Whether the cancelled poll got the session or not, the next poll works.
	wantPollOK(t, p.Poll(t.Context(), d))
	if n := pool.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestSessionPoolCloseNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		d, _ := persistentDevice(t)
		pool := NewSessionPool(10*time.Millisecond, nil)
		p := &Poller{Now: time.Now, Sessions: pool}
		wantPollOK(t, p.Poll(t.Context(), d))
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := pool.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := pool.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if n := pool.Len(); n != 0 {
			t.Errorf("Len after Close = %d", n)
		}
	}()
	// The fleet and proxy of this test are cleaned up only at its end;
	// count only what the pool and its sessions left: wait for the
	// goroutine count to settle at or below the fleet's share.
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !containsAny(stacks, "schedule.(*SessionPool).keepaliveLoop", "netconf.(*Session).Keepalive", "ssh.(*mux).loop", "ssh.(*Client).handleGlobalRequests") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close (%d before):\n%s", before, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if len(sub) > 0 && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
