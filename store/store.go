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
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
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
		return nil, fmt.Errorf("open store: %w", err)
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

// checkSQLitePath rejects paths the engine cannot serve. An in-memory
// database is refused because the writer and the reader pool are separate
// connections and would each see a different, empty database.
func checkSQLitePath(path string) error {
	switch {
	case path == "":
		return errors.New("store DSN: empty SQLite file path")
	case strings.HasPrefix(path, ":memory:"):
		return errors.New("store DSN: in-memory SQLite databases are not supported (the writer and readers use separate connections); use a file, e.g. in a temporary directory")
	case strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)):
		return fmt.Errorf("store DSN: %q is a directory, not a database file", path)
	}
	return nil
}
