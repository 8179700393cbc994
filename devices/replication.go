package devices

import "strings"

// ReplicationState is what "show task replication"
// (<get-routing-task-replication-state/>) says on the master RE: whether
// graceful Routing Engine switchover keeps the backup's state in step
// (stateful replication), which role the answering RE has, and, with
// nonstop routing, how far each protocol's state has been copied to the
// backup.
type ReplicationState struct {
	// Member is the multi-routing-engine item that answered, empty for a
	// plain reply.
	Member string `json:"member,omitempty"`
	// StatefulReplication is the CLI's "Stateful Replication" line,
	// task-gres-state: "Enabled" or "Disabled" as the device said it.
	StatefulReplication string `json:"stateful_replication"`
	// REMode is "Master" or "Backup": the RE that answered.
	REMode string `json:"re_mode"`
	// Protocols are the per-protocol rows, in the device's order; empty
	// without nonstop routing, and on the backup RE.
	Protocols []ProtocolReplication `json:"protocols,omitempty"`
}

// Enabled reports whether stateful replication is on.
func (s ReplicationState) Enabled() bool {
	return strings.EqualFold(s.StatefulReplication, "enabled")
}

// ProtocolReplication is one protocol row of "show task replication":
// OSPF, BGP, LDP ... and its synchronization status.
type ProtocolReplication struct {
	Protocol string `json:"protocol"`
	// Status is "Complete" when the backup has the protocol's whole
	// state; anything else ("InProgress", "NotStarted", ...) means a
	// switchover now would lose it.
	Status string `json:"status"`
}

// Complete reports whether the protocol's state is fully on the backup.
func (p ProtocolReplication) Complete() bool { return strings.EqualFold(p.Status, "complete") }
