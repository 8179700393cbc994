package store

import (
	"context"
	"time"

	"github.com/mastership/mastership/devices"
)

// HistoryStore keeps what the agent learns about the alive set over time:
// the log lines it read and where it stopped, the events rules found in
// them, the transitions of each RE, the life of each alarm, the findings
// the correlation draws, and the redundancy configuration.
//
// Writes are idempotent: an audit of a router that did not change, or a
// re-read of lines already stored, stores nothing new. That is what lets
// the poller save everything it saw without first asking what is known.
type HistoryStore interface {
	// LogCursor returns where reading device's file stopped; ok is false
	// when the file was never read.
	LogCursor(ctx context.Context, device, file string) (cur devices.LogCursor, ok bool, err error)

	// SaveLogs stores lines (with events, the meaning rules gave some of
	// them) and moves cursors, all in one transaction, and returns how
	// many lines were new. A cursor's Device may be empty (it is device);
	// an event's Device may be empty or device, and its Line must be one
	// of lines (same File, Time and Raw).
	//
	// A line's identity is (device, file, time, raw text, occurrence),
	// where occurrence tells apart identical lines stamped with the same
	// time — the mastership log repeats a line several times in one
	// second, and each is a real line. The rule:
	//
	//   - Within the batch, the identical lines (same file, time and raw
	//     text) of a group get occurrences 0, 1, 2, … in batch order.
	//   - A line whose occurrence is already stored for its group is a
	//     re-read, not stored again, and neither are its events. So if k
	//     lines of a group are stored and the batch holds m, the first k
	//     are taken as those and the other m-k are new, stored with
	//     occurrences k … m-1: new lines continue the stored numbering.
	//
	// A reader whose cursor holds its place sends only new lines, and the
	// rule stores them all. A re-read happens when the cursor lost its
	// place (rotation, clear-log, a fallback to the whole file): the
	// re-read copies are matched to the stored ones in occurrence order
	// and dropped, so two audits of an unchanged router store nothing new.
	// The one case the store cannot tell apart: a batch holding only the
	// later copies of a group whose earlier copies were stored by an
	// earlier batch (a poll that read the file in the middle of a burst)
	// looks like a re-read. A reader that resumes at a cursor's LastTime
	// therefore sends again every line of the file stamped with that
	// time; the store recognises those and keeps the rest.
	//
	// Lines with Parsed=false are stored like the others (see
	// UnparsedLines); a line without a time (zero Time) is grouped with
	// the other untimed identical lines of its file.
	SaveLogs(ctx context.Context, device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (newLines int, err error)

	// UnparsedLines counts the stored lines of device that matched no
	// known syslog shape, so a parser gap shows instead of hiding.
	UnparsedLines(ctx context.Context, device string) (int, error)

	// Events returns the events matching f (by event time), oldest first
	// (events without a time first), each with its log line.
	Events(ctx context.Context, f Filter) ([]devices.Event, error)

	// SaveTransitions merges ts into the stored transitions. A stored
	// transition of the same device, RE, From and To whose time is within
	// tol of the new one (the nearest, if several) is the same transition:
	// its Sources become the sorted union of both, its Evidence the
	// stored lines followed by the new ones not already there, and its
	// time the more precise of the two — a log line's timestamp beats an
	// alarm-time, which beats a time derived from the RE table (now minus
	// up-time); between equally precise times the earlier wins. Any other
	// transition is inserted. Saving the same transitions again changes
	// nothing, whatever the order they arrive in.
	SaveTransitions(ctx context.Context, ts []devices.Transition, tol time.Duration) error
	// Transitions returns the transitions matching f (by time), oldest
	// first.
	Transitions(ctx context.Context, f Filter) ([]devices.Transition, error)

	// SaveAlarmRecords upserts the device's alarm records. An alarm's
	// identity is (device, member, description, alarm time): the source is
	// not part of it, so one alarm reported by both the chassis and the
	// system RPC is one record. The record given is the caller's current
	// view: source, class, type, short description and ClearedAt (zero:
	// active again) are taken as given, while FirstSeen only ever moves
	// earlier and LastSeen later, so a caller that did not read the stored
	// record first cannot shorten the alarm's known life. Records not
	// given are kept: the lifecycle's history is never dropped by a save.
	SaveAlarmRecords(ctx context.Context, device string, recs []devices.AlarmRecord) error
	// AlarmRecords returns the records whose life — from the alarm time
	// (or first seen, when the alarm has no time) to the clear, open while
	// active — overlaps f's time range, oldest first.
	AlarmRecords(ctx context.Context, f Filter) ([]devices.AlarmRecord, error)

	// ReplaceFindings makes the device's stored findings exactly fs:
	// findings are recomputed from history on every poll, so fs must be
	// the device's complete set, and stored findings not in it are
	// deleted. A finding's identity is (device, RE, First); a finding
	// already stored keeps the time it was first detected, so recomputing
	// the same history changes nothing. Two findings of fs with one
	// identity are an error.
	//
	// Only stored findings whose last transition is at or after since are
	// replaced: the correlation judges a recent window, and what happened
	// before it stays as it was found (zero since: all of them).
	ReplaceFindings(ctx context.Context, device string, since time.Time, fs []devices.Finding) error
	// Findings returns the findings matching f — their span from First to
	// Last overlapping f's time range, and of f.Cause when set — ordered
	// by First, then device and RE.
	Findings(ctx context.Context, f Filter) ([]devices.Finding, error)

	// SaveConfig records the device's redundancy configuration as read at
	// at. Only changes make history: a configuration equal to the one in
	// effect at at is not stored again, so Configs' time for a device is
	// when its current configuration was first seen. A configuration with
	// Known=false is not stored: an unanswered RPC says nothing about the
	// configuration, and the last known one stays current.
	SaveConfig(ctx context.Context, device string, cfg devices.RedundancyConfig, at time.Time) error
	// Configs returns the latest configuration of every device that has
	// one.
	Configs(ctx context.Context) (map[string]devices.RedundancyConfig, error)
}

// Filter selects history. Its zero value selects everything.
type Filter struct {
	// Devices restricts the result to these devices; empty means all.
	Devices []string
	// Since and Until bound time as Since <= t < Until; a zero bound is
	// open. Each reader says which time it filters on. Rows without a time
	// are only returned when both bounds are open.
	Since, Until time.Time
	// Cause restricts findings to one cause; the other readers ignore it.
	Cause devices.Cause
	// Limit > 0 returns at most Limit rows, the first ones in the reader's
	// order (oldest first); 0 or less returns all.
	Limit int
}
