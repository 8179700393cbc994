package schedule

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/netconf"
)

// TestOutcome: every kind of transport failure has its own outcome word,
// and the words are the user contract's.
func TestOutcome(t *testing.T) {
	tests := []struct {
		err  error
		want devices.Outcome
	}{
		{nil, devices.OutcomeOK},
		{fmt.Errorf("rpc get-log: %w", &netconf.ErrReplyTooLarge{Limit: 10}), devices.OutcomeTooLarge},
		{fmt.Errorf("ssh handshake: %w", &netconf.HostKeyError{Host: "[r1]:830", Unknown: true}), devices.OutcomeHostKey},
		{fmt.Errorf("rpc x: %w", &netconf.RPCError{Severity: "error", Message: "boom"}), devices.OutcomeRPCError},
		{fmt.Errorf("credentials: %w", netconf.ErrNoCredentials), devices.OutcomeAuth},
		{fmt.Errorf("rpc x: %w", context.DeadlineExceeded), devices.OutcomeTimeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, devices.OutcomeRefused},
		{errors.New("something odd"), devices.OutcomeProtocol},
		{netconf.ErrSessionClosed, devices.OutcomeProtocol},
	}
	for _, tt := range tests {
		if got := Outcome(tt.err); got != tt.want {
			t.Errorf("Outcome(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
