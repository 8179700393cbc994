package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mastership/mastership/netconf"
)

// ErrPoolClosed is returned by SessionPool.Get after Close.
var ErrPoolClosed = errors.New("schedule: session pool closed")

// sessionCloseBudget bounds the polite close-session of a discarded or
// pooled session, as for per-poll sessions.
const sessionCloseBudget = 2 * time.Second

// SessionPool keeps one NETCONF session per device open between polls
// (inventory "session: persistent") and probes the idle ones with SSH
// keepalives.
//
// A session is lent to one caller at a time: Get holds the device's slot
// until Put or Discard, so a second Get for the same key waits (bounded by
// its ctx) and two polls of one device never share, or duplicate, its
// session. The keepalive goroutine only probes sessions nobody holds.
type SessionPool struct {
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]*poolEntry
	closed  bool

	stop    context.CancelFunc // ends the keepalive loop and any probe in flight
	done    chan struct{}      // closed when the keepalive loop has returned
	stopCtx context.Context
}

type poolEntry struct {
	// turn is a one-slot semaphore held from Get to Put/Discard (and by
	// the keepalive loop while it probes); a channel so waiters can give
	// up when their context ends.
	turn chan struct{}
	sess *netconf.Session // open session (idle or lent out), or nil; guarded by SessionPool.mu
}

// NewSessionPool starts a pool whose background goroutine sends a
// keepalive to every idle session each keepaliveEvery (<= 0: no
// keepalives) and discards the sessions that do not answer. Call Close to
// stop it.
func NewSessionPool(keepaliveEvery time.Duration, log *slog.Logger) *SessionPool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &SessionPool{
		every:   keepaliveEvery,
		log:     log,
		entries: make(map[string]*poolEntry),
		stop:    cancel,
		stopCtx: ctx,
		done:    make(chan struct{}),
	}
	go p.keepaliveLoop()
	return p
}

// Get lends the session kept for key, or, if there is none, dials one
// with dial; reused says which. It waits, bounded by ctx, while another
// caller holds key's session. The caller must hand the session back with
// exactly one Put or Discard, also when err is nil and the poll failed.
// On error nothing is held.
func (p *SessionPool) Get(ctx context.Context, key string, dial func(context.Context) (*netconf.Session, error)) (s *netconf.Session, reused bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, ErrPoolClosed
	}
	e := p.entries[key]
	if e == nil {
		e = &poolEntry{turn: make(chan struct{}, 1)}
		p.entries[key] = e
	}
	p.mu.Unlock()

	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-e.turn
		return nil, false, ErrPoolClosed
	}
	s = e.sess
	p.mu.Unlock()
	if s != nil && !s.Closed() {
		return s, true, nil
	}
	if s != nil {
		p.forget(key, e, s)
	}
	s, err = dial(ctx)
	if err != nil {
		<-e.turn
		return nil, false, err
	}
	p.mu.Lock()
	e.sess = s
	p.mu.Unlock()
	return s, false, nil
}

// Put hands back a session from Get that is still good (every RPC on it
// succeeded or failed only with an *netconf.RPCError), keeping it idle for
// the next Get of key. A session that is closed already, or handed back
// after Close, is closed and dropped instead.
func (p *SessionPool) Put(key string, s *netconf.Session) {
	p.release(key, s, false)
}

// Discard hands back a session from Get that must not be used again
// (after a transport error, timeout or protocol error): it is closed and
// the next Get for key dials. s may be nil (Get's session was replaced and
// the replacement failed).
func (p *SessionPool) Discard(key string, s *netconf.Session) {
	p.release(key, s, true)
}

func (p *SessionPool) release(key string, s *netconf.Session, discard bool) {
	p.mu.Lock()
	e := p.entries[key]
	if e == nil {
		p.mu.Unlock()
		p.log.Error("session pool: session handed back for an unknown key", "key", key)
		closeSession(s)
		return
	}
	keep := !discard && !p.closed && s != nil && !s.Closed()
	if keep {
		e.sess = s
	} else if e.sess == s {
		e.sess = nil
	}
	p.mu.Unlock()
	if !keep {
		closeSession(s)
	}
	select {
	case <-e.turn:
	default:
		p.log.Error("session pool: session handed back twice", "key", key)
	}
}

// replace closes old, which the caller holds for key, and dials a new
// session in its place without letting go of key: the caller still owes
// one Put or Discard (of the new session, or of nil when dialling failed).
func (p *SessionPool) replace(ctx context.Context, key string, old *netconf.Session, dial func(context.Context) (*netconf.Session, error)) (*netconf.Session, error) {
	p.mu.Lock()
	e := p.entries[key]
	if e != nil && e.sess == old {
		e.sess = nil
	}
	p.mu.Unlock()
	closeSession(old)
	s, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if e != nil {
		e.sess = s
	}
	p.mu.Unlock()
	return s, nil
}

// forget drops s from e (if it is still there) and closes it.
func (p *SessionPool) forget(key string, e *poolEntry, s *netconf.Session) {
	p.mu.Lock()
	if e.sess == s {
		e.sess = nil
	}
	p.mu.Unlock()
	closeSession(s)
}

// Len returns the number of open sessions the pool keeps, idle or lent
// out.
func (p *SessionPool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.entries {
		if e.sess != nil {
			n++
		}
	}
	return n
}

// Close stops the keepalive goroutine and closes every idle session,
// politely within ctx (each within sessionCloseBudget at most). Sessions
// lent out are closed when they are handed back; Get fails from now on.
// Safe to call more than once.
func (p *SessionPool) Close(ctx context.Context) error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	p.stop()
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if already {
		return nil
	}
	// Take every idle session: holding its slot keeps it out of the hands
	// of a late Put's caller (there is none: Put after Close closes).
	var idle []*netconf.Session
	p.mu.Lock()
	for _, e := range p.entries {
		select {
		case e.turn <- struct{}{}:
			if e.sess != nil {
				idle = append(idle, e.sess)
				e.sess = nil
			}
			<-e.turn
		default: // lent out: closed by Put or Discard
		}
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, sessionCloseBudget)
			defer cancel()
			_ = s.Close(cctx)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (p *SessionPool) keepaliveLoop() {
	defer close(p.done)
	if p.every <= 0 {
		<-p.stopCtx.Done()
		return
	}
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		select {
		case <-p.stopCtx.Done():
			return
		case <-tick.C:
			p.keepaliveOnce(p.stopCtx)
		}
	}
}

// keepaliveTimeout bounds one probe: the interval itself, at most 10 s.
func (p *SessionPool) keepaliveTimeout() time.Duration {
	if p.every > 0 && p.every < 10*time.Second {
		return p.every
	}
	return 10 * time.Second
}

// keepaliveOnce probes every idle session once, one after the other, and
// discards those that fail. Sessions lent out are skipped: their poll's
// RPCs prove them alive, or fail.
func (p *SessionPool) keepaliveOnce(ctx context.Context) {
	type idle struct {
		key string
		e   *poolEntry
	}
	p.mu.Lock()
	var list []idle
	for k, e := range p.entries {
		if e.sess != nil {
			list = append(list, idle{k, e})
		}
	}
	p.mu.Unlock()
	for _, it := range list {
		if ctx.Err() != nil {
			return
		}
		select {
		case it.e.turn <- struct{}{}:
		default:
			continue // lent out
		}
		p.mu.Lock()
		s := it.e.sess
		p.mu.Unlock()
		if s != nil {
			kctx, cancel := context.WithTimeout(ctx, p.keepaliveTimeout())
			err := s.Keepalive(kctx)
			cancel()
			if err != nil {
				p.log.Info("persistent session dropped: keepalive failed", "key", it.key, "error", err)
				p.forget(it.key, it.e, s)
			}
		}
		<-it.e.turn
	}
}

// closeSession closes s politely with the usual short budget.
func closeSession(s *netconf.Session) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionCloseBudget)
	defer cancel()
	_ = s.Close(ctx)
}
