package junos

import (
	"encoding/xml"
	"strings"

	"github.com/mastership/mastership/devices"
)

// RPCReplicationState is "show task replication"; see
// DecodeReplicationState. It needs only the view permission, unlike
// "request chassis routing-engine master switch check", which needs
// maintenance (the permission that also allows a real switchover) and is
// never sent.
const RPCReplicationState = "<get-routing-task-replication-state/>"

// taskReplicationState is <task-replication-state>.
//
// Which shape is confirmed and which is inferred: task-gres-state and
// task-re-mode come from a real reply (PyEZ's unit-test capture, Junos
// 16.1, GRES on, NSR off, so no protocol rows). No real XML reply with
// protocol rows is among the samples; the CLI shows them as a
// "Protocol / Synchronization Status" table. The element names
// task-protocol-replication-name and task-protocol-replication-state are
// inferred from public parsers of this RPC, which disagree on whether each
// pair sits in a <task-protocol-replication> wrapper or the two elements
// alternate directly under <task-replication-state>. Both are read, so
// whichever a release sends decodes the same.
type taskReplicationState struct {
	GRESState string `xml:"task-gres-state"`
	REMode    string `xml:"task-re-mode"`
	// Rows holds the protocol elements in document order, wrapped or
	// not; see UnmarshalXML of protocolRows.
	Rows protocolRows `xml:",any"`
	inlineErrors
}

func (s taskReplicationState) hasData() bool {
	return strings.TrimSpace(s.GRESState) != "" || strings.TrimSpace(s.REMode) != ""
}

// protocolRows collects protocol names and states in document order from
// the children of <task-replication-state> that are not its named fields.
type protocolRows struct {
	names, states []string
}

// UnmarshalXML receives each unnamed child of <task-replication-state>:
// a name or state element directly, or a <task-protocol-replication>
// wrapper holding one of each. Anything else is skipped.
func (r *protocolRows) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	switch start.Name.Local {
	case "task-protocol-replication-name", "task-protocol-replication-state":
		var s string
		if err := d.DecodeElement(&s, &start); err != nil {
			return err
		}
		r.add(start.Name.Local, s)
		return nil
	case "task-protocol-replication":
		var w struct {
			Name  string `xml:"task-protocol-replication-name"`
			State string `xml:"task-protocol-replication-state"`
		}
		if err := d.DecodeElement(&w, &start); err != nil {
			return err
		}
		// Pad so a wrapper missing one element does not shift the
		// pairs that follow it.
		r.pad()
		r.names = append(r.names, strings.TrimSpace(w.Name))
		r.states = append(r.states, strings.TrimSpace(w.State))
		return nil
	}
	return d.Skip()
}

func (r *protocolRows) add(element, s string) {
	s = strings.TrimSpace(s)
	if element == "task-protocol-replication-name" {
		r.pad()
		r.names = append(r.names, s)
		return
	}
	// A state belongs to the name before it; a state with no name of
	// its own gets an empty one.
	if len(r.states) >= len(r.names) {
		r.names = append(r.names, "")
	}
	r.states = append(r.states, s)
}

// pad gives the last name a state ("" = not reported) before a new row.
func (r *protocolRows) pad() {
	for len(r.states) < len(r.names) {
		r.states = append(r.states, "")
	}
}

func (r protocolRows) rows() []devices.ProtocolReplication {
	r.pad()
	out := make([]devices.ProtocolReplication, 0, len(r.names))
	for i, n := range r.names {
		if n == "" && r.states[i] == "" {
			continue
		}
		out = append(out, devices.ProtocolReplication{Protocol: n, Status: r.states[i]})
	}
	return out
}

// DecodeReplicationState decodes a reply to RPCReplicationState into one
// state per multi-routing-engine item, or a single one with an empty
// Member for a plain reply.
//
// A reply whose <task-replication-state> names neither the replication
// state nor the RE mode — an RE without GRES support, a backup answering
// "Aborted!", an <xnm:error> — is a *NoDataError: "not said" must stay
// distinct from "Disabled". A protocol row without a status keeps an
// empty Status, which is not Complete. Malformed XML is an error.
func DecodeReplicationState(reply []byte) ([]devices.ReplicationState, error) {
	sections, err := decodeReply[taskReplicationState](reply, "task-replication-state")
	partial, err := memberErrorOf(err)
	if err != nil {
		return nil, err
	}
	out := make([]devices.ReplicationState, 0, len(sections))
	for _, s := range sections {
		rows := s.data.Rows.rows()
		if len(rows) == 0 {
			rows = nil
		}
		out = append(out, devices.ReplicationState{
			Member:              s.member,
			StatefulReplication: strings.TrimSpace(s.data.GRESState),
			REMode:              strings.TrimSpace(s.data.REMode),
			Protocols:           rows,
		})
	}
	return out, partial.orNil()
}
