// Package store keeps what the agent saw: fleet runs, polls and the
// snapshots they decoded, and the history of the alive set (log lines,
// events, transitions, alarm records, findings, configurations). Callers
// use the Store interface only, so the engine behind it — embedded SQLite
// (the default: pure Go, no cgo, one file) or PostgreSQL (a server that
// several agents share) — can change without touching them.
//
// Times are UTC. The SQLite engine keeps them to the nanosecond; the
// contract every engine meets is microsecond precision (PostgreSQL's
// timestamptz), which is finer than anything a router reports.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/devices/readiness"
)

// Store is everything the agent persists. It is split into one interface
// per concern so a caller can depend on the narrow part it uses (the
// scheduler needs RunStore and PollStore, a report only readers), and so
// later concerns — streaming reports, retention — arrive as new embedded
// interfaces without changing the existing ones, as HistoryStore did.
//
// Every method is safe for concurrent use.
type Store interface {
	RunStore
	PollStore
	HistoryStore
	ExportStore
	ClaimStore
	MaintenanceStore
	// Prune deletes the history older than before, in small transactions
	// that let polls through between them (see retention.go).
	Prune(ctx context.Context, before time.Time) (PruneStats, error)
	io.Closer
}

// RunStore records fleet audits.
type RunStore interface {
	// BeginRun records the start of an audit and returns its ID, which
	// the run's polls carry in Poll.RunID.
	BeginRun(ctx context.Context, started time.Time) (runID int64, err error)
	// FinishRun stores run.Finished, the counts and Interrupted for the
	// run with ID run.ID; an unknown ID is an error wrapping ErrNotFound.
	FinishRun(ctx context.Context, run devices.Run) error
	// Runs returns up to limit runs, newest first; limit <= 0 means all.
	Runs(ctx context.Context, limit int) ([]devices.Run, error)
	// RecoverRuns marks interrupted the unfinished runs whose agent is
	// surely gone — begun by a process of this host that no longer runs,
	// or before this host last booted — counting the polls they stored,
	// and returns them. Runs of live processes (a daemon and an audit
	// sharing the file) and of other hosts are left alone.
	RecoverRuns(ctx context.Context) ([]devices.Run, error)
}

// PollStore records polls and answers the questions the scheduler and
// the check command ask about the latest state of a device.
type PollStore interface {
	// SavePoll stores the poll and, in the same transaction, its route
	// engines, alarms and software, and sets p.ID. Either all of it is
	// stored or none. p.RunID 0 means "not part of a run" (a single
	// check). A nil Snapshot stores no child rows. Snapshot.Device must be
	// empty or p.Device: it is not stored separately and loads as
	// p.Device.
	SavePoll(ctx context.Context, p *devices.Poll) error
	// LatestPolls returns the latest poll (by Started, then ID) of every
	// device ever polled, snapshots loaded, sorted by device name in byte
	// order.
	LatestPolls(ctx context.Context) ([]devices.Poll, error)
	// LatestPoll returns the latest poll of one device, snapshot loaded,
	// or nil, nil when the device was never polled.
	LatestPoll(ctx context.Context, device string) (*devices.Poll, error)
	// LatestREPoll is LatestPoll among the polls that read the RE table:
	// what the next poll's RE-table deltas are taken against, so a failed
	// poll in between hides no transition.
	LatestREPoll(ctx context.Context, device string) (*devices.Poll, error)
	// MaxREsSeen returns the most route engines seen in one poll of the
	// device, 0 if none: the fallback for expected_res when the inventory
	// does not say.
	MaxREsSeen(ctx context.Context, device string) (int, error)
}

// ClaimStore shares a fleet among several agents using one database:
// each device is polled by exactly one of them per scheduled slot.
type ClaimStore interface {
	// ClaimPoll claims device's poll in slot (the scheduled time of an
	// audit, the same for every agent on the same schedule) for this
	// process, and reports whether the claim is this process's: true for
	// the first claimant (or a repeated claim by the same process), false
	// when another agent has it. Claims are never taken over within a
	// slot, so no slot polls a device twice; an agent that dies loses
	// only its unfinished devices of that slot, and the next slot
	// shares them out again.
	ClaimPoll(ctx context.Context, slot time.Time, device string) (bool, error)
}

// ExportStore streams stored history for reports. Each method calls fn
// for every row matching f, in the order its slice-returning twin uses,
// without holding the rows in memory, and returns fn's first error as it
// is. fn's argument is only valid during the call. Exporting a million
// rows therefore takes as much memory as exporting ten.
type ExportStore interface {
	// EachPoll streams the polls started in f's time range (of f.Devices)
	// by start time, snapshots loaded. It reads in pages, each consistent
	// on its own; polls saved during the export may or may not appear.
	EachPoll(ctx context.Context, f Filter, fn func(*devices.Poll) error) error
	// EachEvent streams what Events returns.
	EachEvent(ctx context.Context, f Filter, fn func(*devices.Event) error) error
	// EachTransition streams what Transitions returns.
	EachTransition(ctx context.Context, f Filter, fn func(*devices.Transition) error) error
	// EachAlarmRecord streams what AlarmRecords returns.
	EachAlarmRecord(ctx context.Context, f Filter, fn func(*devices.AlarmRecord) error) error
	// EachFinding streams what Findings returns.
	EachFinding(ctx context.Context, f Filter, fn func(*devices.Finding) error) error
	// EachSwitchover streams what Switchovers returns.
	EachSwitchover(ctx context.Context, f Filter, fn func(*devices.Switchover) error) error
}

var (
	// ErrNotFound is wrapped by errors about a record that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSchemaTooNew is wrapped when the database was written by a newer
	// version of mastership: using it could lose or misread data.
	ErrSchemaTooNew = errors.New("database schema is newer than this build of mastership")
)

// Open opens (creating or migrating as needed) the store named by dsn:
//
//   - "postgres://…" or "postgresql://…" URL, or a libpq keyword/value
//     string ("host=… dbname=…"): a PostgreSQL database, through pgx, so
//     its parameters and PG* environment variables apply (sslmode,
//     pool_max_conns, …). The tables live in the first schema of the
//     search_path; "?search_path=NAME" gives a store a schema of its own
//     in a shared database. Errors never echo the DSN's password;
//   - "sqlite:PATH", "file:PATH" or a plain PATH: an SQLite file, its
//     parent directory created if missing. PATH is a file name taken
//     literally, not a URI: the store sets its own pragmas, so a query
//     string ("?mode=ro") is rejected rather than silently ignored.
//     "sqlite:///abs/path" and "file:///abs/path" are accepted too.
func Open(ctx context.Context, dsn string) (Store, error) {
	engine, path, err := parseDSN(dsn)
	if err != nil {
		// The DSN as the operator wrote it, but never its password.
		return nil, fmt.Errorf("open store %s: %w", devices.MaskDSN(dsn), err)
	}
	switch engine {
	case enginePostgres:
		s, err := openPostgres(ctx, dsn)
		if err != nil {
			// Not the DSN: it may hold a password. openPostgres names the
			// database by user, host and name, and masks the password in
			// what pgx says.
			return nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return s, nil
	default:
		s, err := openSQLite(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		return s, nil
	}
}

type engine int

const (
	engineSQLite engine = iota
	enginePostgres
)

// parseDSN tells the engine and, for SQLite, the file path.
func parseDSN(dsn string) (engine, string, error) {
	if strings.TrimSpace(dsn) == "" {
		return 0, "", errors.New("empty store DSN: give a file path, sqlite:PATH or postgres://…")
	}
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return enginePostgres, "", nil
	}
	// A libpq keyword/value string must not be taken for a file name: that
	// would write "password=…" into the file system.
	for _, k := range []string{"host=", "hostaddr=", "dbname=", "user=", "password=", "port=", "sslmode=", "service="} {
		if strings.HasPrefix(lower, k) {
			return enginePostgres, "", nil
		}
	}

	path := dsn
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		path = dsn[len("sqlite:"):]
	case strings.HasPrefix(lower, "file:"):
		path = dsn[len("file:"):]
	default:
		// "mysql://x" is a mistake, not a file called "mysql:".
		if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], `/\`) {
			return 0, "", fmt.Errorf("unknown store scheme %q: use a file path, sqlite:PATH or postgres://…", dsn[:i])
		}
		return engineSQLite, dsn, checkSQLitePath(dsn)
	}

	if strings.HasPrefix(path, "//") {
		u, err := url.Parse("file:" + path)
		if err != nil {
			return 0, "", fmt.Errorf("store DSN: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return 0, "", fmt.Errorf("store DSN: SQLite file on host %q: only local files can be opened", u.Host)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return 0, "", errors.New("store DSN: query parameters are not accepted: the store sets its own SQLite pragmas")
		}
		path = u.Path
	} else if strings.ContainsAny(path, "?#") {
		return 0, "", errors.New("store DSN: query parameters are not accepted: the store sets its own SQLite pragmas (a file name with '?' or '#' can be given as a plain path)")
	}
	return engineSQLite, path, checkSQLitePath(path)
}

// PruneStats counts the rows Prune deleted, per table.
type PruneStats struct {
	Runs, Polls, RouteEngines, Alarms, Software int64
	LogLines, Events                            int64
	Transitions, AlarmRecords, Findings         int64
	Configs                                     int64
	Claims                                      int64 // poll claims of past slots
}

// Total is the number of rows deleted from all tables.
func (s PruneStats) Total() int64 {
	return s.Runs + s.Polls + s.RouteEngines + s.Alarms + s.Software + s.LogLines + s.Events +
		s.Transitions + s.AlarmRecords + s.Findings + s.Configs + s.Claims
}

// pruneBatch is how many rows one retention transaction deletes (a little
// more for log lines, whose time groups are never split). A SavePoll that
// arrives while Prune runs waits for at most one such transaction.
const pruneBatch = 500

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

	// The switchover ledger (issue 15).
	//
	// ReplaceSwitchovers makes the device's stored switchovers at or after
	// since exactly those of sws at or after since (zero since: all of
	// them): the ledger is recomputed from history when the device is
	// judged, like its findings, and what happened before the judged
	// window stays as it was. A switchover's identity is (device, time,
	// new master); two of sws with one identity are an error.
	ReplaceSwitchovers(ctx context.Context, device string, since time.Time, sws []devices.Switchover) error
	// Switchovers returns the switchovers matching f (by time), ordered
	// by time, then device and new master.
	Switchovers(ctx context.Context, f Filter) ([]devices.Switchover, error)

	// Switchover readiness (issue 16): the last verdict of each device.
	//
	// SaveReadiness replaces the device's stored verdict with v (from its
	// latest poll). A not-applicable verdict is stored too, so a router
	// that lost its backup's slot stops showing an old verdict.
	SaveReadiness(ctx context.Context, r Readiness) error
	// Readinesses returns the stored verdicts of f.Devices (every device
	// when empty), checked in f's time range, ordered by device.
	Readinesses(ctx context.Context, f Filter) ([]Readiness, error)

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

// Both engines keep a transition's sources and evidence, and a finding's
// evidence, alarms and other causes, as JSON text; these read them back
// the same way whatever driver scanned the row.

// transitionText fills the JSON text columns of a transition.
func transitionText(t *devices.Transition, sources, evidence string) error {
	var err error
	if t.Sources, err = stringsFromJSON(sources); err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	if t.Evidence, err = stringsFromJSON(evidence); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// findingText fills the text columns of a finding.
func findingText(fd *devices.Finding, cause, severity, evidence, alarms, otherCauses string) error {
	fd.Cause, fd.Severity = devices.Cause(cause), devices.Severity(severity)
	var err error
	if fd.Evidence, err = stringsFromJSON(evidence); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if fd.Alarms, err = alarmsFromJSON(alarms); err != nil {
		return fmt.Errorf("alarms: %w", err)
	}
	others, err := stringsFromJSON(otherCauses)
	if err != nil {
		return fmt.Errorf("other causes: %w", err)
	}
	for _, c := range others {
		fd.OtherCauses = append(fd.OtherCauses, devices.Cause(c))
	}
	return nil
}

// checkFinding is what both engines require of a finding before storing
// it for device (times in SQLite's range, which PostgreSQL keeps too, so
// the engines refuse the same findings).
func checkFinding(device string, f devices.Finding) error {
	if f.Device != "" && f.Device != device {
		return fmt.Errorf("finding is of device %q", f.Device)
	}
	if f.Cause == "" {
		return errors.New("no cause")
	}
	if f.First.IsZero() || f.Last.IsZero() {
		return errors.New("no first or last transition time")
	}
	if _, err := nanos(f.First); err != nil {
		return fmt.Errorf("first: %w", err)
	}
	if _, err := nanos(f.Last); err != nil {
		return fmt.Errorf("last: %w", err)
	}
	return nil
}

// findingJSON encodes the text columns findingText reads back.
func findingJSON(f devices.Finding) (evidence, alarms, otherCauses string, err error) {
	if evidence, err = stringsJSON(f.Evidence); err != nil {
		return "", "", "", fmt.Errorf("evidence: %w", err)
	}
	if alarms, err = alarmsJSON(f.Alarms); err != nil {
		return "", "", "", fmt.Errorf("alarms: %w", err)
	}
	others := make([]string, len(f.OtherCauses))
	for i, c := range f.OtherCauses {
		others[i] = string(c)
	}
	if otherCauses, err = stringsJSON(others); err != nil {
		return "", "", "", fmt.Errorf("other causes: %w", err)
	}
	return evidence, alarms, otherCauses, nil
}

// checkSwitchover is what both engines require of a switchover before
// storing it for device.
func checkSwitchover(device string, sw devices.Switchover) error {
	if sw.Device != "" && sw.Device != device {
		return fmt.Errorf("switchover is of device %q", sw.Device)
	}
	if sw.NewMaster == "" {
		return errors.New("no new master")
	}
	if sw.Time.IsZero() {
		return errors.New("no time")
	}
	if _, err := nanos(sw.Time); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	return nil
}

// switchoverWhat names a switchover in errors.
func switchoverWhat(i int, sw devices.Switchover) string {
	return fmt.Sprintf("switchover %d (%s to %s at %s)", i, sw.OldMaster, sw.NewMaster, sw.Time.UTC().Format(time.RFC3339))
}

// collect gathers what one of the Each readers streams into a slice.
func collect[T any](ctx context.Context, f Filter, each func(context.Context, Filter, func(*T) error) error) ([]T, error) {
	var out []T
	err := each(ctx, f, func(v *T) error {
		out = append(out, *v)
		return nil
	})
	return out, err
}

// configFromJSON reads a stored redundancy configuration of device.
func configFromJSON(device, text string) (devices.RedundancyConfig, error) {
	var cfg devices.RedundancyConfig
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		return cfg, fmt.Errorf("configuration of %s: %w", device, err)
	}
	return cfg, nil
}

// agent names the process that began a run: host, boot and process ID, as
// "host/boot/pid". A run left unfinished by an agent that is gone (killed,
// crashed, the machine rebooted) can then be told from one still going —
// another agent's, or another command's on the same database.
type agent struct {
	host, boot string
	pid        int
	// instance is random per opened store. Host, boot and PID tell a live
	// process from a dead one; they do not tell agents apart: two stores
	// opened by one process, or two containers on one kernel that share a
	// hostname and both run as PID 1, look alike. Claims need that.
	instance string
}

// thisAgent describes the current process.
func thisAgent() agent {
	host, _ := os.Hostname() // empty on error: such runs are never judged dead
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails on supported platforms
	return agent{host: host, boot: bootID(), pid: os.Getpid(), instance: hex.EncodeToString(nonce[:])}
}

// claimant names this agent in poll claims: the process and the store
// instance, so that no two agents can mistake each other's claim for
// their own.
func (a agent) claimant() string { return a.String() + "/" + a.instance }

func (a agent) String() string {
	return fmt.Sprintf("%s/%s/%d", a.host, a.boot, a.pid)
}

func parseAgent(s string) (agent, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return agent{}, false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return agent{}, false
	}
	return agent{host: parts[0], boot: parts[1], pid: pid}, true
}

// gone reports whether the agent a, as seen from the agent me, surely no
// longer runs: it ran on this host and either the host has rebooted since
// or its process is gone. Agents of other hosts are never judged (that is
// for leases shared through the database), nor is anything unsure.
func (me agent) gone(a agent) bool {
	if a.host == "" || a.host != me.host {
		return false
	}
	if a.boot != "" && me.boot != "" && a.boot != me.boot {
		return true
	}
	if a.pid == me.pid {
		return false
	}
	return !processAlive(a.pid)
}

// bootID is Linux's random ID of this boot, empty elsewhere.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// SQLiteFile tells whether dsn names an SQLite store and, if so, its
// file, so that a command that only reads can refuse to create an empty
// database where none was. Errors are those Open would give, without
// the DSN's password.
func SQLiteFile(dsn string) (path string, ok bool, err error) {
	e, path, err := parseDSN(dsn)
	if err != nil {
		return "", false, err
	}
	return path, e == engineSQLite, nil
}

// absentLogsText is a snapshot's absent log files as the polls table
// keeps them: names joined by commas, "" for none. A log file name is a
// plain file name under /var/log, so a comma in one is refused rather
// than stored ambiguously.
func absentLogsText(snap *devices.Snapshot) (string, error) {
	if snap == nil {
		return "", nil
	}
	for _, f := range snap.AbsentLogs {
		if f == "" || strings.ContainsAny(f, ",\x00") {
			return "", fmt.Errorf("absent log file %q: not a log file name", f)
		}
	}
	return strings.Join(snap.AbsentLogs, ","), nil
}

// absentLogsOf reads absentLogsText back.
func absentLogsOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// MaintenanceStore keeps the ad-hoc maintenance windows that
// "mastership silence" sets, so that every agent sharing the store
// applies them from its next audit. The inventory's windows are not
// stored: the inventory is their source.
type MaintenanceStore interface {
	// AddMaintenanceWindows stores ws, all or none, and sets their IDs.
	// Each needs a device and Until after From; Created zero is now.
	AddMaintenanceWindows(ctx context.Context, ws []MaintenanceWindow) error
	// MaintenanceWindows returns the windows of f.Devices whose span
	// From..Until overlaps f's time range (From < f.Until and Until >
	// f.Since: a window open at t is selected by Since t, Until t+1ns),
	// ordered by From, device and ID. Cause is ignored.
	MaintenanceWindows(ctx context.Context, f Filter) ([]MaintenanceWindow, error)
}

// MaintenanceWindow is one ad-hoc maintenance window of one device:
// From <= t < Until.
type MaintenanceWindow struct {
	ID      int64     `json:"id"`
	Device  string    `json:"device"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
	Reason  string    `json:"reason"`
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
}

// Window is w as the judgement applies it.
func (w MaintenanceWindow) Window() (maintenance.Window, error) {
	mw, err := maintenance.Fixed(w.From, w.Until, w.Reason)
	if err != nil {
		return mw, fmt.Errorf("maintenance window %d of %s: %w", w.ID, w.Device, err)
	}
	mw.Who = w.Who
	return mw, nil
}

// checkMaintenanceWindow is what both engines require of a window.
func checkMaintenanceWindow(w MaintenanceWindow) error {
	if w.Device == "" {
		return errors.New("no device name")
	}
	if w.From.IsZero() || w.Until.IsZero() {
		return errors.New("no from or until time")
	}
	if !w.Until.After(w.From) {
		return fmt.Errorf("until %s is not after from %s", w.Until.Format(time.RFC3339), w.From.Format(time.RFC3339))
	}
	for _, t := range []time.Time{w.From, w.Until, w.Created} {
		if t.IsZero() {
			continue // Created zero is now
		}
		if _, err := nanos(t); err != nil {
			return err
		}
	}
	return nil
}

// Readiness is a device's stored switchover readiness verdict (issue 16).
type Readiness struct {
	Device string
	Site   string
	readiness.Verdict
}

// readinessArgs checks r and encodes its reasons and unknown conditions
// as the readiness table keeps them, the same for both engines.
func readinessArgs(r Readiness) (reasons, unknown string, err error) {
	if err := checkReadiness(r); err != nil {
		return "", "", err
	}
	if reasons, err = readinessReasonsJSON(r.Reasons); err != nil {
		return "", "", fmt.Errorf("reasons: %w", err)
	}
	if unknown, err = readinessReasonsJSON(r.Unknown); err != nil {
		return "", "", fmt.Errorf("unknown: %w", err)
	}
	return reasons, unknown, nil
}

// checkReadiness is what both engines require of a verdict before
// storing it.
func checkReadiness(r Readiness) error {
	switch {
	case r.Device == "":
		return errors.New("no device name")
	case r.CheckedAt.IsZero():
		return errors.New("no checked_at time")
	}
	switch r.Verdict.Verdict {
	case readiness.Ready, readiness.NotReady, readiness.Unknown, readiness.NotApplicable:
		return nil
	}
	return fmt.Errorf("verdict %q is not one of ready, not-ready, unknown, not-applicable", r.Verdict.Verdict)
}

// readinessReasonsJSON encodes a reason list, [] for none.
func readinessReasonsJSON(rs []readiness.Reason) (string, error) {
	if rs == nil {
		rs = []readiness.Reason{}
	}
	b, err := json.Marshal(rs)
	return string(b), err
}

func readinessReasonsFromJSON(s string) ([]readiness.Reason, error) {
	out := []readiness.Reason{}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}
