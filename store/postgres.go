package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mastership/mastership/devices"
)

// pgStore is the PostgreSQL engine, for a database several agents share.
//
// It talks to the server through pgx's own interface and a pgxpool, not
// database/sql: the SQL has nothing to share with the SQLite engine's
// (placeholders, types, upserts and locking all differ), while pgx gives
// what a networked database needs — batches that send many statements in
// one round trip (a poll and its children are one), arrays as parameters
// (a 500-line log batch is one INSERT … SELECT FROM unnest), and native
// timestamptz and bytea. What is shared with SQLite is the contract's Go
// side: input validation (the same inputs are accepted with the same
// errors), the SaveLogs occurrence rule and the SaveTransitions merge
// rule.
//
// Conventions (see postgres_migrations.go): times are timestamptz, so
// microseconds; identities hold times truncated to the microsecond (on
// the Go side too, before anything is grouped), and query bounds are
// rounded up to it, so that "t < until" means the same as on SQLite for
// every stored value. Text columns use the "C" collation: SQLite compares
// bytes, and so must every ORDER BY and index here.
//
// Writes to one device's history (log lines, transitions, alarm records,
// findings, configurations) each take a transaction-scoped advisory lock
// on the device first. SQLite's single writer serialises them for free;
// here two agents — or two goroutines — saving the same device at once
// would otherwise race between reading what is stored and writing what
// is new (occurrence numbering, the transition merge, the configuration
// in effect). Different devices never wait for each other. The lock
// travels in the same batch as the writes, BEGIN and COMMIT included: a
// write is one round trip (SaveTransitions two), see "Pipelined
// transactions" below.
type pgStore struct {
	pool *pgxpool.Pool
	// where names the database for messages: user@host:port/database,
	// never the password.
	where string
	// agent is this process, recorded with every run it begins and claim
	// it takes.
	agent agent
	// now is the clock a finding's detected_at and a claim's time come
	// from (a field so tests can move it).
	now func() time.Time
}

var _ Store = (*pgStore)(nil)

// pgMinServer is the oldest server the schema works on: stored generated
// columns (the time keys) arrived in PostgreSQL 12.
const pgMinServer = 120000

func openPostgres(ctx context.Context, dsn string) (*pgStore, error) {
	return openPostgresWith(ctx, dsn, nil)
}

// openPostgresWith is openPostgres with a hook that may adjust the pool's
// configuration before the pool is made (the benchmarks count round trips
// with it); nil for none.
func openPostgresWith(ctx context.Context, dsn string, configure func(*pgxpool.Config)) (_ *pgStore, err error) {
	// URL schemes are case-insensitive (RFC 3986), pgx's test is not.
	if i := strings.Index(dsn, "://"); i > 0 {
		if scheme := strings.ToLower(dsn[:i]); scheme == "postgres" || scheme == "postgresql" {
			dsn = scheme + dsn[i:]
		}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, redactDSN(dsn, "", fmt.Errorf("parse PostgreSQL DSN: %w", err))
	}
	cc := cfg.ConnConfig
	s := &pgStore{where: pgDescribe(cc.User, cc.Host, cc.Port, cc.Database), agent: thisAgent(), now: time.Now}
	defer func() {
		if err != nil {
			err = redactDSN(dsn, cc.Password, fmt.Errorf("%s: %w", s.where, err))
		}
	}()
	// Named in pg_stat_activity, unless the DSN names it otherwise.
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "mastership"
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// timestamptz loads in UTC, as the contract wants, not time.Local.
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	if configure != nil {
		configure(cfg)
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.pool.Close()
		}
	}()

	var version int
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_schema()`).
		Scan(&version, &schema); err != nil {
		return nil, err
	}
	if version < pgMinServer {
		return nil, fmt.Errorf("PostgreSQL server version %d.%d is too old: mastership needs 12 or later",
			version/10000, version%10000)
	}
	if schema == nil {
		return nil, errNoSchema
	}
	if err := pgMigrate(ctx, s.pool, pgMigrations()); err != nil {
		return nil, err
	}
	return s, nil
}

// pgDescribe describes a connection for messages.
func pgDescribe(user, host string, port uint16, database string) string {
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("postgres %s@%s/%s (socket)", user, host, database)
	}
	return fmt.Sprintf("postgres %s@%s/%s", user, net.JoinHostPort(host, strconv.Itoa(int(port))), database)
}

// Close closes the pool, waiting for connections in use to be released.
func (s *pgStore) Close() error {
	s.pool.Close()
	return nil
}

// redactDSN masks dsn's passwords in err's message, and parsed, the
// password the DSN parsed to. pgx redacts the DSNs it quotes already, on
// a best-effort basis; this is the belt to its braces, since the message
// ends up in logs.
func redactDSN(dsn, parsed string, err error) error {
	return devices.RedactError(err, append(devices.DSNPasswords(dsn), parsed)...)
}

// Times. timestamptz keeps microseconds: a stored time is the Go time
// truncated to them (which is what pgx sends), and a bound compared with
// stored times is rounded up to them, so that v >= since and v < until
// select the same stored values they would at full precision.

// pgTime is t as PostgreSQL stores it.
func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// pgTimeOrNull maps the zero time ("not reported", "not finished") to NULL.
func pgTimeOrNull(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: pgTime(t), Valid: true}
}

// pgCeil is t rounded up to the microsecond: the bound for v >= t or
// v < t over stored (microsecond) values.
func pgCeil(t time.Time) time.Time {
	u := pgTime(t)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
}

// pgFloor is the bound for v <= t over stored values.
func pgFloor(t time.Time) time.Time { return pgTime(t) }

func zeroIfNil(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// pgSafeText makes s storable in a text column: PostgreSQL refuses NUL
// bytes and invalid UTF-8, which a Go error message may carry from a
// device's reply. It is only used for diagnostics (a poll's error text),
// where a replacement character beats losing the poll; data a device
// reports verbatim (log lines) is stored as bytea instead.
func pgSafeText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Query building.

// pgArgs numbers parameters as they are added.
type pgArgs struct{ args []any }

// arg adds v and returns its placeholder.
func (a *pgArgs) arg(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// pgFilter builds a WHERE clause (conditions joined by AND) and a LIMIT.
type pgFilter struct {
	pgArgs
	conds []string
}

func (w *pgFilter) add(cond string) { w.conds = append(w.conds, cond) }

// devices restricts col to names; no names, no restriction.
func (w *pgFilter) devices(col string, names []string) {
	if len(names) > 0 {
		w.add(col + " = ANY(" + w.arg(names) + "::text[])")
	}
}

// timeRange keeps rows whose span [start, end] overlaps f's [Since,
// Until); a NULL time drops out when a bound is set (see Filter).
func (w *pgFilter) timeRange(start, end string, f Filter) {
	if !f.Since.IsZero() {
		w.add(end + " >= " + w.arg(pgCeil(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add(start + " < " + w.arg(pgCeil(f.Until)))
	}
}

func (w *pgFilter) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(w.conds, " AND ")
}

// limit is f's LIMIT clause, empty for none.
func (w *pgFilter) limit(f Filter) string {
	if f.Limit <= 0 {
		return ""
	}
	return " LIMIT " + w.arg(int64(f.Limit))
}

// Locks.

// lockDevicesSQL takes the transaction-scoped advisory lock on a device's
// history. The key is a hash of the schema and the device: stores in
// other schemas of the database do not wait for each other, and a hash
// collision only serialises two devices that needed not be.
const lockDeviceSQL = `SELECT pg_advisory_xact_lock(hashtextextended('mastership device ' || COALESCE(current_schema(), '') || ' ' || $1::text, 0))`

// lockDevices locks the devices' histories in tx, in sorted order so two
// transactions locking overlapping sets cannot deadlock.
func lockDevices(ctx context.Context, tx pgx.Tx, devices ...string) error {
	b := &pgBatch{}
	b.lock(devices...)
	return tx.SendBatch(ctx, &b.Batch).Close()
}

// readTx runs fn in a read-only REPEATABLE READ transaction: every
// statement in it sees the same snapshot, as an SQLite read transaction
// does.
func (s *pgStore) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// writeTx runs fn in a READ COMMITTED transaction and commits it. The
// level is explicit: the writes rely on the device locks, not on
// serializable snapshots, and a database whose default is SERIALIZABLE
// would otherwise fail them with serialization errors no caller retries.
func (s *pgStore) writeTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

// Pipelined transactions.
//
// What a poll stores and reads back is a few statements per call, and
// each round trip to the server costs more than the statements do on
// either side (two context switches and a wake-up of each process, on a
// machine the agent and the server share). So the transactions of the
// poll path are sent as batches, with their BEGIN queued before the
// first statement and their COMMIT after the last: a transaction whose
// statements need nothing from each other's results is one round trip,
// where BeginTxFunc spends one on BEGIN, one per statement and one on
// COMMIT. The server runs a batch's statements one after the other, as
// it would the same statements sent one at a time, and skips the rest of
// the batch — the COMMIT included — at the first error.

// The transaction modes of readTx and writeTx (see there), as BEGIN
// statements.
const (
	pgBeginRead  = "begin isolation level repeatable read read only"
	pgBeginWrite = "begin isolation level read committed"
)

// pgBatch is a batch whose statements say what they do, for the error
// one returns, and may read their own results. A reader's own error
// (not the server's) fails the call but cannot stop the server, which
// has the whole batch: in a batch sent with its COMMIT, readers only
// read.
type pgBatch struct{ pgx.Batch }

// exec queues a statement whose result is only checked.
func (b *pgBatch) exec(what, sql string, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// query queues a statement and calls fn for each of its rows.
func (b *pgBatch) query(what string, fn func(pgx.Rows) error, sql string, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		if err := pgEachRow(br, fn); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// lock queues the locks of the devices' histories, in sorted order so
// two transactions locking overlapping sets cannot deadlock.
func (b *pgBatch) lock(devices ...string) {
	sorted := slices.Clone(devices)
	slices.Sort(sorted)
	for _, d := range slices.Compact(sorted) {
		b.exec("lock device history", lockDeviceSQL, d)
	}
}

// pgTx is a transaction on a connection of its own whose BEGIN goes with
// its first batch and whose COMMIT goes with its last (send).
type pgTx struct {
	conn  *pgxpool.Conn
	begin string // until the first batch is sent
}

// inTx runs fn with a transaction that begins with begin (pgBeginRead or
// pgBeginWrite). fn must send the last of its batches with commit set;
// a transaction it leaves open, or that failed, is rolled back.
func (s *pgStore) inTx(ctx context.Context, begin string, fn func(*pgTx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection released in a transaction is closed, not reused: the
	// end of a rollback that failed too.
	defer conn.Release()
	t := &pgTx{conn: conn, begin: begin}
	err = fn(t)
	if conn.Conn().PgConn().TxStatus() != 'I' {
		if _, rerr := conn.Exec(ctx, "rollback"); rerr != nil && err == nil {
			err = fmt.Errorf("roll back: %w", rerr)
		}
		if err == nil {
			err = errors.New("transaction left open") // a bug: fn sent no commit
		}
	}
	return err
}

// sendTx runs b in a transaction of its own: one round trip.
func (s *pgStore) sendTx(ctx context.Context, begin string, b *pgBatch) error {
	return s.inTx(ctx, begin, func(t *pgTx) error { return t.send(ctx, b, true) })
}

// send sends b in t, after t's BEGIN if this is its first batch, and
// with its COMMIT if commit is set, and runs the statements' readers.
func (t *pgTx) send(ctx context.Context, b *pgBatch, commit bool) error {
	all := &pgBatch{Batch: pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+2)}}
	if t.begin != "" {
		all.exec("begin", t.begin)
		t.begin = ""
	}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	if commit {
		all.Queue("commit").Fn = func(br pgx.BatchResults) error {
			tag, err := br.Exec()
			switch {
			case err != nil:
				return fmt.Errorf("commit: %w", err)
			case tag.String() == "ROLLBACK": // cannot be: a failed statement skips the commit
				return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
			}
			return nil
		}
	}
	return t.conn.SendBatch(ctx, &all.Batch).Close()
}
