// Package correlate turns a device's history into findings: it derives
// transitions of Routing Engines in and out of the alive set (from the RE
// table between two polls, and from classified log lines), merges the
// transitions several sources saw, follows alarms across polls, finds
// flaps (runs of transitions of one RE) and joins each flap to the
// evidence around it to name a cause, as docs/domain.md
// describes.
//
// Everything here is pure and deterministic: history in, findings out. No
// clock (every time comes from the device or from the caller), no I/O, no
// goroutines, and the same input in any order gives the same output.
//
// The pipeline a caller runs per device:
//
//	per poll:   TableTransitions(prev, cur)      RE-table deltas
//	            EventTransitions(events, cur.RouteEngines)
//	            UpdateAlarms(records, cur.Alarms, cur.PolledAt, events)
//	per fleet:  Drift(configs)                   redundancy settings that differ
//	then:       Findings(device, History{...}, settings)
//
// Findings merges the transitions itself (MergeTransitions is idempotent),
// so callers may store raw transitions and merge only for display.
package correlate
