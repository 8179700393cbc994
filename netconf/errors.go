package netconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

// ErrSessionClosed is returned by RPC on a session that was closed, or
// broken by an earlier timeout, cancellation or transport failure. Such a
// session never recovers: dial a new one.
var ErrSessionClosed = errors.New("netconf: session closed")

// ErrNoCredentials marks a failure to build any SSH authentication method
// (nothing configured, unreadable key file, wrong passphrase, no agent):
// the poll failed on credentials before the router was asked.
var ErrNoCredentials = errors.New("netconf: no usable SSH credentials")

// ErrReplyTooLarge is returned when a message exceeds the size limit. The
// reader stops at the limit, so the session is unusable afterwards.
type ErrReplyTooLarge struct {
	Limit int64 // the limit in bytes
}

func (e *ErrReplyTooLarge) Error() string {
	return fmt.Sprintf("netconf: reply larger than the %d-byte limit", e.Limit)
}

// Is makes errors.Is(err, &ErrReplyTooLarge{}) match whatever the limit.
func (e *ErrReplyTooLarge) Is(target error) bool {
	_, ok := target.(*ErrReplyTooLarge)
	return ok
}

// ProtocolError is a peer that does not speak NETCONF as expected:
// malformed framing, XML that does not parse, a bad hello, a stream that
// ends mid-message, a reply to another request.
type ProtocolError struct {
	Op  string // what was being done: "read message", "hello", "parse reply", ...
	Err error
}

func (e *ProtocolError) Error() string {
	return "netconf protocol error: " + e.Op + ": " + e.Err.Error()
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// RPCError is an error the device reported in its reply: an <rpc-error>,
// a Junos <xnm:error>, or an <output>Aborted! …</output> answer from a
// backup Routing Engine (Tag "aborted").
type RPCError struct {
	Type         string // error-type: transport, rpc, protocol, application
	Tag          string // error-tag: operation-failed, ...; "aborted" for <output>Aborted!
	Severity     string // "error" or "warning"
	Path         string // error-path
	Message      string // error-message, trimmed
	DaemonSource string // Junos source-daemon, when given
}

func (e *RPCError) Error() string {
	var b strings.Builder
	b.WriteString("netconf rpc-error")
	var attrs []string
	for _, kv := range [][2]string{{"severity", e.Severity}, {"tag", e.Tag}, {"type", e.Type}, {"daemon", e.DaemonSource}, {"path", e.Path}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0]+" "+kv[1])
		}
	}
	if len(attrs) > 0 {
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Kind is what went wrong in a Dial, RPC or Close, as far as the
// transport can tell. The poller turns it into the outcome the user sees
// (schedule owns that word); the values are the same words.
type Kind string

// The kinds of failure, from the most specific to the least.
const (
	KindNone     Kind = ""          // no error
	KindTooLarge Kind = "too-large" // a reply exceeded the size limit (*ErrReplyTooLarge)
	KindHostKey  Kind = "hostkey"   // the host key is unknown or changed (*HostKeyError)
	KindRPCError Kind = "rpc-error" // the device answered with an error (*RPCError)
	KindTimeout  Kind = "timeout"   // a deadline or cancellation
	KindRefused  Kind = "refused"   // connect refused, reset while connecting, or unreachable
	KindAuth     Kind = "auth"      // credentials rejected or unavailable
	KindProtocol Kind = "protocol"  // anything else: framing, XML, hello, a dropped session
)

// KindOf classifies err. The order matters: a size or host-key failure
// is reported as such even if the connection was torn down afterwards,
// and a deadline wins over the EOF that tearing the connection down
// causes.
func KindOf(err error) Kind {
	if err == nil {
		return KindNone
	}
	var tooLarge *ErrReplyTooLarge
	var hostKey *HostKeyError
	var rpcErr *RPCError
	switch {
	case errors.As(err, &tooLarge):
		return KindTooLarge
	case errors.As(err, &hostKey):
		return KindHostKey
	case errors.As(err, &rpcErr):
		return KindRPCError
	case isTimeout(err):
		return KindTimeout
	case isRefused(err):
		return KindRefused
	case isAuth(err):
		return KindAuth
	default:
		return KindProtocol
	}
}

// isTimeout reports deadlines and cancellation. Cancellation counts as a
// timeout because it is the same event seen from above: the agent gave up
// waiting (shutdown, an audit's overall deadline), the device did nothing
// wrong that another outcome would describe.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRefused(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// isAuth matches x/crypto's authentication failures, which have no type
// of their own, by their fixed messages. The second is x/crypto's
// keyboard-interactive method meeting a server that rejects it without
// asking anything (USERAUTH_FAILURE, 51, where it expects
// USERAUTH_INFO_REQUEST, 60), which a server may do for a user it
// refuses outright.
func isAuth(err error) bool {
	if errors.Is(err, ErrNoCredentials) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "ssh: unable to authenticate") ||
		strings.Contains(msg, "ssh: unexpected message type 51 (expected 60)")
}
