package netconf

import (
	"context"
	"fmt"
)

// keepaliveRequest is the global request OpenSSH uses for its
// ServerAliveInterval. Servers that do not know it answer with a failure
// reply, which proves the peer alive just as well.
const keepaliveRequest = "keepalive@openssh.com"

// Keepalive sends an SSH keepalive (a global request wanting a reply) on
// the session's connection and waits for the answer, bounded by ctx. Any
// reply, even a refusal, means the peer is alive; a transport error or ctx
// ending marks the session closed (later RPCs return ErrSessionClosed)
// and is returned. It does not wait for an RPC in progress: SSH global
// requests travel beside the NETCONF channel.
func (s *Session) Keepalive(ctx context.Context) error {
	if s.broken.Load() {
		return fmt.Errorf("keepalive to %s: %w", s.addr, ErrSessionClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keepalive to %s: %w", s.addr, err)
	}
	// x/crypto's SendRequest has no deadline; it returns once the
	// connection is closed, which abort does when ctx ends first.
	done := make(chan error, 1)
	go func() {
		_, _, err := s.client.SendRequest(keepaliveRequest, true, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			s.abort()
			s.log.Debug("netconf keepalive failed", "error", err)
			return fmt.Errorf("keepalive to %s: %w: %w", s.addr, ErrSessionClosed, err)
		}
		return nil
	case <-ctx.Done():
		s.abort()
		<-done // the closed connection ends the request; no goroutine is left behind
		s.log.Debug("netconf keepalive timed out", "error", ctx.Err())
		return fmt.Errorf("keepalive to %s: %w", s.addr, ctx.Err())
	}
}

// Closed reports whether the session was closed or broken: RPCs on it
// would return ErrSessionClosed. A false answer does not prove the peer is
// still there; Keepalive does.
func (s *Session) Closed() bool { return s.broken.Load() }
