package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver: no cgo
)

// busyTimeout bounds how long a connection waits for a lock held by
// another process (a report run against the daemon's file, a WAL
// checkpoint). Writers inside this process never wait on it: they queue
// for the single writer connection instead.
const busyTimeout = 5 * time.Second

// sqliteStore is the embedded engine.
//
// SQLite allows one writer at a time. Rather than letting 32+ pollers
// race for the file lock and spin in busy_timeout (and, with deferred
// transactions, fail with SQLITE_BUSY when a read lock cannot be
// upgraded), all writes go through writer, a pool of exactly one
// connection: database/sql queues callers fairly and honours their
// contexts while they wait. Reads use reader, a pool of query_only
// connections that WAL lets run beside the writer on a consistent
// snapshot.
type sqliteStore struct {
	path string
	// agent is this process, recorded with every run it begins.
	agent  agent
	writer *sql.DB
	reader *sql.DB

	// The statements the poll and judge paths run, prepared once (see
	// sqlite_stmts.go).
	sqliteStmts
	// filtered keeps the reader statements built from a Filter.
	filtered *stmtCache

	// now is the clock a finding's detected_at comes from. It is a field,
	// not time.Now called directly, so tests can tell "kept" from
	// "rewritten with the same second".
	now func() time.Time
}

var _ Store = (*sqliteStore)(nil)

// queryer is what *sql.DB and *sql.Tx share for reading.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func openSQLite(ctx context.Context, path string) (_ *sqliteStore, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// 0o750: the database holds the fleet's inventory and history, which
	// is nobody else's business, though nothing secret.
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("create directory: %w", err)
	}

	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, errors.New("is a directory, not a database file")
	}

	s := &sqliteStore{path: abs, now: time.Now, agent: thisAgent()}
	defer func() {
		if err != nil {
			// No PRAGMA optimize here: the file may be one this build must
			// not write to (a newer schema, another application's).
			_ = s.close(false) // the open error is the one to report
		}
	}()

	// WAL: readers never block the writer nor the writer them.
	// synchronous=NORMAL: in WAL mode commits skip their fsync; a power
	// loss (not a process crash) can roll back the last few commits but
	// never corrupts the file — right for poll history, which the next
	// poll re-creates anyway.
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so it waits (busy_timeout) up front instead of failing at its first
	// write when another process holds the lock.
	s.writer, err = sql.Open("sqlite", sqliteURI(abs,
		"_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()),
		"_foreign_keys", "1",
		"_journal_mode", "WAL",
		"_synchronous", "NORMAL",
		"_txlock", "immediate",
	))
	if err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0) // keep its prepared statements and page cache
	s.writer.SetConnMaxIdleTime(0)
	if err := s.writer.PingContext(ctx); err != nil {
		return nil, err
	}
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		// WAL needs shared memory; some network file systems refuse it.
		// Without WAL, readers would block the writer: better to say so.
		return nil, fmt.Errorf("cannot use WAL journal mode (got %q); is the file on a network file system?", mode)
	}
	if err := migrate(ctx, s.writer, migrations()); err != nil {
		return nil, err
	}

	// Readers are opened after migrate so none of them sees a half-built
	// schema; query_only makes an accidental write through them an error.
	s.reader, err = sql.Open("sqlite", sqliteURI(abs,
		"_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()),
		"_foreign_keys", "1",
		"_query_only", "1",
	))
	if err != nil {
		return nil, err
	}
	s.reader.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.reader.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	if err := s.reader.PingContext(ctx); err != nil {
		return nil, err
	}

	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// sqliteURI builds a file: URI for the modernc driver. The path is
// percent-escaped so a '?', '#' or '%' in a file name cannot be read as
// the start of parameters.
func sqliteURI(absPath string, params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	return "file:" + (&url.URL{Path: absPath}).EscapedPath() + "?" + q.Encode()
}

// Close closes the statements and both pools. The writer closes last: the
// last connection to a WAL database checkpoints it and removes the -wal
// and -shm files, leaving one self-contained file behind.
func (s *sqliteStore) Close() error { return s.close(true) }

func (s *sqliteStore) close(optimize bool) error {
	errs := s.closeStmts()
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		if optimize {
			// Keeps the query planner's statistics current for the next open;
			// cheap, and a failure here loses nothing.
			_, _ = s.writer.Exec(`PRAGMA optimize`)
		}
		errs = append(errs, s.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Time and optional-field conversions. Times are INTEGER unix nanoseconds
// UTC: exact to the nanosecond, ordered as numbers, 8 bytes, and free of
// text-format pitfalls (RFC 3339 text with trimmed fractions does not
// sort). The price is the range, 1677-09-21 to 2262-04-11: a time outside
// it is refused, never stored wrong.

func nanos(t time.Time) (int64, error) {
	n := t.UnixNano()
	// UnixNano wraps around outside the range; converting back shows it.
	if !time.Unix(0, n).Equal(t) {
		return 0, fmt.Errorf("time %s is outside the storable range (years 1678 to 2262)", t.Format(time.RFC3339))
	}
	return n, nil
}

// nanosOrNull maps the zero time ("not reported", "not finished") to NULL.
func nanosOrNull(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	return nanos(t)
}

func nanosPtr(t *time.Time) (any, error) {
	if t == nil {
		return nil, nil
	}
	return nanos(*t)
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func timeOrZero(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

func intOrNull(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// Up time is stored in whole seconds, as Junos reports it (junos:seconds).
func secondsOrNull(d *time.Duration) any {
	if d == nil {
		return nil
	}
	return int64(*d / time.Second)
}

func durationPtr(n sql.NullInt64) *time.Duration {
	if !n.Valid {
		return nil
	}
	d := time.Duration(n.Int64) * time.Second
	return &d
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
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
