package netconftest

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// rttConn is a server connection seen across a WAN link: every byte the
// client sends becomes readable half a round trip after it arrived, and
// every byte the server writes is put on the wire half a round trip after
// Write. Both directions keep their order, and everything on the
// connection is delayed, the SSH handshake included (Fault.RTT; Latency
// only delays replies). TCP's own handshake is not: the SYN exchange
// happens in the kernel before Accept returns.
//
// Writes are queued and return at once, as into a socket buffer; the
// queue is bounded (rttQueue chunks), so a client that stops reading still
// blocks the writer. Timers inside the connection do the delaying; nothing
// sleeps.
type rttConn struct {
	net.Conn
	half time.Duration // one way: RTT/2

	in      chan rttChunk // read from Conn, stamped on arrival
	inErr   error         // the reader's error, valid once in is closed
	closing chan struct{} // closed by Close: the reader stops handing on

	readMu  sync.Mutex // serialises Read; guards head
	head    rttChunk   // the chunk Read is handing out, maybe not yet due
	hasHead bool

	deadlineMu   sync.Mutex
	readDeadline time.Time
	deadlineSet  chan struct{} // closed and replaced when the read deadline changes

	out       chan rttChunk // waiting to be written to Conn
	writeMu   sync.Mutex    // guards closed and writeErr, and sends on out
	closed    bool
	writeErr  error
	writeDone chan struct{} // closed when the writer has stopped
	closeOnce sync.Once
	closeErr  error
}

// rttChunk is bytes and the time they may go on.
type rttChunk struct {
	b   []byte
	due time.Time
}

// rttQueue bounds the chunks in flight in each direction: at SSH's packet
// sizes, a few MiB.
const rttQueue = 128

// rttFlushLimit is how long Close waits for queued writes past their due
// time before it drops them.
const rttFlushLimit = 5 * time.Second

// newRTTConn delays c's traffic by rtt/2 in each direction.
func newRTTConn(c net.Conn, rtt time.Duration) *rttConn {
	r := &rttConn{
		Conn:        c,
		half:        rtt / 2,
		in:          make(chan rttChunk, rttQueue),
		closing:     make(chan struct{}),
		out:         make(chan rttChunk, rttQueue),
		writeDone:   make(chan struct{}),
		deadlineSet: make(chan struct{}),
	}
	go r.readLoop()
	go r.writeLoop()
	return r
}

// readLoop reads c as fast as it can and stamps each chunk with the time
// it may be read. The read deadline is the wrapper's, not c's, so this
// loop ends only with the connection.
func (r *rttConn) readLoop() {
	defer close(r.in)
	for {
		buf := make([]byte, 32<<10)
		n, err := r.Conn.Read(buf)
		if n > 0 {
			select {
			case r.in <- rttChunk{b: buf[:n], due: time.Now().Add(r.half)}:
			case <-r.closing:
				r.inErr = net.ErrClosed
				return
			}
		}
		if err != nil {
			r.inErr = err
			return
		}
	}
}

// Read returns the next bytes once they are due, or the read deadline's
// error.
func (r *rttConn) Read(p []byte) (int, error) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	for {
		r.deadlineMu.Lock()
		deadline, changed := r.readDeadline, r.deadlineSet
		r.deadlineMu.Unlock()
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, os.ErrDeadlineExceeded
		}
		var expire <-chan time.Time
		var dt *time.Timer
		if !deadline.IsZero() {
			dt = time.NewTimer(time.Until(deadline))
			expire = dt.C
		}
		n, again, err := r.readWithin(p, expire, changed)
		if dt != nil {
			dt.Stop()
		}
		if !again {
			return n, err
		}
	}
}

// readWithin is one wait of Read: for the next chunk, then for its due
// time; again says the read deadline changed meanwhile.
func (r *rttConn) readWithin(p []byte, expire <-chan time.Time, changed <-chan struct{}) (n int, again bool, err error) {
	if !r.hasHead {
		select {
		case c, ok := <-r.in:
			if !ok {
				if r.inErr == nil {
					return 0, false, io.EOF
				}
				return 0, false, r.inErr
			}
			r.head, r.hasHead = c, true
		case <-expire:
			return 0, false, os.ErrDeadlineExceeded
		case <-changed:
			return 0, true, nil
		}
	}
	if wait := time.Until(r.head.due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-expire:
			return 0, false, os.ErrDeadlineExceeded
		case <-changed:
			return 0, true, nil
		}
	}
	n = copy(p, r.head.b)
	r.head.b = r.head.b[n:]
	r.hasHead = len(r.head.b) > 0
	return n, false, nil
}

// Write queues a copy of p to go on the wire half a round trip from now.
func (r *rttConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	if r.closed {
		return 0, net.ErrClosed
	}
	if r.writeErr != nil {
		return 0, r.writeErr
	}
	c := rttChunk{b: append([]byte(nil), p...), due: time.Now().Add(r.half)}
	select {
	case r.out <- c:
		return len(p), nil
	case <-r.writeDone:
		if r.writeErr != nil {
			return 0, r.writeErr
		}
		return 0, net.ErrClosed
	}
}

// writeLoop writes each queued chunk when it is due, in order, until the
// queue is closed and empty or a write fails.
func (r *rttConn) writeLoop() {
	defer close(r.writeDone)
	for c := range r.out {
		if wait := time.Until(c.due); wait > 0 {
			t := time.NewTimer(wait)
			<-t.C
		}
		if _, err := r.Conn.Write(c.b); err != nil {
			r.writeMu.Lock()
			r.writeErr = err
			r.writeMu.Unlock()
			return // what is still queued is lost, as on a broken link
		}
	}
}

// Close sends what is queued (at its due time, waiting at most
// rttFlushLimit longer), then closes the connection.
func (r *rttConn) Close() error {
	r.closeOnce.Do(func() {
		close(r.closing)
		r.writeMu.Lock()
		r.closed = true
		close(r.out)
		r.writeMu.Unlock()
		t := time.NewTimer(r.half + rttFlushLimit)
		select {
		case <-r.writeDone:
		case <-t.C:
		}
		t.Stop()
		r.closeErr = r.Conn.Close()
		<-r.writeDone // the close ended a blocked write
	})
	return r.closeErr
}

// SetDeadline sets the wrapper's read deadline and c's write deadline
// (which the writer's writes then meet).
func (r *rttConn) SetDeadline(t time.Time) error {
	r.setReadDeadline(t)
	return r.Conn.SetWriteDeadline(t)
}

// SetReadDeadline bounds Read; c itself is always being read.
func (r *rttConn) SetReadDeadline(t time.Time) error {
	r.setReadDeadline(t)
	return nil
}

func (r *rttConn) setReadDeadline(t time.Time) {
	r.deadlineMu.Lock()
	defer r.deadlineMu.Unlock()
	r.readDeadline = t
	close(r.deadlineSet)
	r.deadlineSet = make(chan struct{})
}

// NetConn is the connection under the delay, for ResetMidReply.
func (r *rttConn) NetConn() net.Conn { return r.Conn }
