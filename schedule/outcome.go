package schedule

import (
	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/netconf"
)

// Outcome is the poll outcome the user sees for an error of Dial, RPC or
// Close. The poller owns this word, not the transport: netconf only says
// what kind of failure it saw.
func Outcome(err error) devices.Outcome {
	switch netconf.KindOf(err) {
	case netconf.KindNone:
		return devices.OutcomeOK
	case netconf.KindTooLarge:
		return devices.OutcomeTooLarge
	case netconf.KindHostKey:
		return devices.OutcomeHostKey
	case netconf.KindRPCError:
		return devices.OutcomeRPCError
	case netconf.KindTimeout:
		return devices.OutcomeTimeout
	case netconf.KindRefused:
		return devices.OutcomeRefused
	case netconf.KindAuth:
		return devices.OutcomeAuth
	default:
		return devices.OutcomeProtocol
	}
}
