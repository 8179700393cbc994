package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgMigrations returns the PostgreSQL schema history, oldest first. Like
// migrations() for SQLite, steps are only ever appended, never edited or
// reordered. Version N of either engine holds the same tables with the
// same columns and meaning, so "schema version 5" says the same thing
// whichever engine a report comes from; a step that only one engine needs
// is still appended to both lists (as a no-op where it does not apply).
//
// Conventions, and where they differ from SQLite's:
//
//   - Times are timestamptz (microseconds, UTC); an optional time is NULL.
//     Where a nullable time is part of an identity, a stored generated
//     key column holds it with NULL as '-infinity', an instant no Go time
//     can be sent as, so it cannot collide with a real time (SQLite needs
//     a reserved integer for the same).
//   - Every text column has the "C" collation: ordering and uniqueness by
//     bytes, as SQLite's BINARY, whatever the database's locale, and no
//     index to rebuild when the C library's collation changes.
//   - Lists read and written whole are jsonb, except evidence: it holds
//     log lines verbatim, and a NUL in one (\u0000) is valid json but
//     not jsonb. json keeps the text as given, as SQLite's JSON text does.
//   - A log line's text fields are bytea: the device's bytes, whatever
//     they are (a file read with encoding="base64" may hold NULs or
//     invalid UTF-8, which text refuses). The line's identity uses
//     sha256(raw), so a long line fits in the unique index.
//   - IDs are bigint identity columns; alarm_records gets one too, where
//     SQLite has its implicit rowid.
func pgMigrations() []migration {
	return []migration{
		{name: "runs, polls, route engines, alarms, software", sql: `
CREATE TABLE runs (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started     timestamptz NOT NULL,
    finished    timestamptz,
    devices     integer     NOT NULL DEFAULT 0,
    ok          integer     NOT NULL DEFAULT 0,
    failed      integer     NOT NULL DEFAULT 0,
    interrupted boolean     NOT NULL DEFAULT false
);
CREATE INDEX runs_started ON runs (started, id);

CREATE TABLE polls (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint      REFERENCES runs (id),
    device       text        COLLATE "C" NOT NULL CHECK (device <> ''),
    host         text        COLLATE "C" NOT NULL,
    site         text        COLLATE "C" NOT NULL,
    started      timestamptz NOT NULL,
    finished     timestamptz,
    outcome      text        COLLATE "C" NOT NULL CHECK (outcome <> ''),
    error_kind   text        COLLATE "C" NOT NULL,
    error        text        COLLATE "C" NOT NULL,
    -- has_snapshot tells a failed poll (Snapshot nil) from a poll that
    -- decoded an empty snapshot; polled_at is Snapshot.PolledAt.
    has_snapshot boolean     NOT NULL,
    polled_at    timestamptz,
    -- re_count is len(Snapshot.RouteEngines), kept so MaxREsSeen is an
    -- index lookup instead of a join over a device's whole history.
    re_count     integer     NOT NULL DEFAULT 0,
    -- res_expected is Poll.ExpectedREs (0 = unknown).
    res_expected integer     NOT NULL DEFAULT 0 CHECK (res_expected >= 0)
);
CREATE INDEX polls_device_started ON polls (device, started, id);
CREATE INDEX polls_device_re_count ON polls (device, re_count);
CREATE INDEX polls_run ON polls (run_id);

CREATE TABLE route_engines (
    poll_id             bigint      NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord                 integer     NOT NULL,
    name                text        COLLATE "C" NOT NULL,
    member              text        COLLATE "C" NOT NULL,
    slot                integer,
    mastership_state    text        COLLATE "C" NOT NULL,
    mastership_priority text        COLLATE "C" NOT NULL,
    status              text        COLLATE "C" NOT NULL,
    model               text        COLLATE "C" NOT NULL,
    serial              text        COLLATE "C" NOT NULL,
    up_time_seconds     bigint,
    start_time          timestamptz,
    last_reboot_reason  text        COLLATE "C" NOT NULL,
    temperature_c       integer,
    cpu_temperature_c   integer,
    PRIMARY KEY (poll_id, ord)
);

CREATE TABLE alarms (
    poll_id           bigint      NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord               integer     NOT NULL,
    source            text        COLLATE "C" NOT NULL,
    member            text        COLLATE "C" NOT NULL,
    alarm_time        timestamptz,
    class             text        COLLATE "C" NOT NULL,
    type              text        COLLATE "C" NOT NULL,
    description       text        COLLATE "C" NOT NULL,
    short_description text        COLLATE "C" NOT NULL,
    PRIMARY KEY (poll_id, ord)
);

CREATE TABLE software (
    poll_id  bigint  NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord      integer NOT NULL,
    member   text    COLLATE "C" NOT NULL,
    hostname text    COLLATE "C" NOT NULL,
    model    text    COLLATE "C" NOT NULL,
    version  text    COLLATE "C" NOT NULL,
    PRIMARY KEY (poll_id, ord)
);
`},
		{name: "log lines, events, cursors, transitions, alarm records, findings, configs", sql: pgMigration2},
		{name: "time-ordered indexes for reports", sql: `
CREATE INDEX polls_started ON polls (started, id);
CREATE INDEX events_time ON events (time NULLS FIRST, id);
CREATE INDEX transitions_time ON transitions (time, id);
`},
		{name: "run agents", sql: `
ALTER TABLE runs ADD COLUMN agent text COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX runs_unfinished ON runs (id) WHERE finished IS NULL;
`},
		{name: "poll claims", sql: `
CREATE TABLE poll_claims (
    slot       timestamptz NOT NULL,
    device     text        COLLATE "C" NOT NULL,
    agent      text        COLLATE "C" NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (slot, device)
);
`},
		// See the SQLite migration of the same name.
		{name: "run unstored polls", sql: `
ALTER TABLE runs ADD COLUMN unstored integer NOT NULL DEFAULT 0 CHECK (unstored >= 0);
`},
		{name: "absent log files", sql: `
ALTER TABLE polls ADD COLUMN absent_logs text COLLATE "C" NOT NULL DEFAULT '';
`},
		// See the SQLite migration of the same name (issue 15).
		{name: "maintenance windows", sql: `
CREATE TABLE maintenance_windows (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device     text        COLLATE "C" NOT NULL CHECK (device <> ''),
    from_time  timestamptz NOT NULL,
    until_time timestamptz NOT NULL CHECK (until_time > from_time),
    reason     text        COLLATE "C" NOT NULL,
    who        text        COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX maintenance_windows_device_until ON maintenance_windows (device, until_time);
ALTER TABLE findings ADD COLUMN maintenance boolean NOT NULL DEFAULT false;
ALTER TABLE findings ADD COLUMN maintenance_note text COLLATE "C" NOT NULL DEFAULT '';
`},
		// See the SQLite migration of the same name.
		{name: "switchover ledger", sql: `
CREATE TABLE switchovers (
    device     text        COLLATE "C" NOT NULL CHECK (device <> ''),
    time       timestamptz NOT NULL,
    old_master text        COLLATE "C" NOT NULL,
    new_master text        COLLATE "C" NOT NULL CHECK (new_master <> ''),
    planned    boolean     NOT NULL,
    command    text        COLLATE "C" NOT NULL,
    cause      text        COLLATE "C" NOT NULL,
    evidence   json        NOT NULL CHECK (json_typeof(evidence) = 'array'),
    PRIMARY KEY (device, time, new_master)
);
CREATE INDEX switchovers_time ON switchovers (time, device);
`},
		// See the SQLite migration of the same name.
		{name: "switchover readiness", sql: `
CREATE TABLE readiness (
    device     text        COLLATE "C" NOT NULL PRIMARY KEY CHECK (device <> ''),
    site       text        COLLATE "C" NOT NULL,
    checked_at timestamptz NOT NULL,
    verdict    text        COLLATE "C" NOT NULL CHECK (verdict IN ('ready', 'not-ready', 'unknown', 'not-applicable')),
    reasons    json        NOT NULL CHECK (json_typeof(reasons) = 'array'),
    unknown    json        NOT NULL CHECK (json_typeof(unknown) = 'array')
);
`},
		// See the SQLite migration of the same name (issue 17).
		{name: "log cursor file state", sql: `
ALTER TABLE log_cursors ADD COLUMN head text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE log_cursors ADD COLUMN file_size bigint NOT NULL DEFAULT 0 CHECK (file_size >= 0);
ALTER TABLE log_cursors ADD COLUMN file_mtime timestamptz;
`},
		// See the SQLite migration of the same name (issue 19).
		{name: "log gaps", sql: `
ALTER TABLE polls ADD COLUMN log_gaps text COLLATE "C" NOT NULL DEFAULT '';
`},
		// See the SQLite migration of the same name (issue 19).
		{name: "clock note", sql: `
ALTER TABLE polls ADD COLUMN clock_note text NOT NULL DEFAULT '';
`},
	}
}

// pgMigration2 is the history of the alive set (see migration2).
const pgMigration2 = `
CREATE TABLE log_lines (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device     text        COLLATE "C" NOT NULL CHECK (device <> ''),
    file       text        COLLATE "C" NOT NULL CHECK (file <> ''),
    line_time  timestamptz CHECK (isfinite(line_time)),
    time_key   timestamptz NOT NULL GENERATED ALWAYS AS (COALESCE(line_time, '-infinity')) STORED,
    raw        bytea       NOT NULL,
    host       bytea       NOT NULL,
    process    bytea       NOT NULL,
    pid        integer     NOT NULL,
    tag        bytea       NOT NULL,
    message    bytea       NOT NULL,
    parsed     boolean     NOT NULL,
    -- occurrence numbers identical lines (same device, file, time and raw
    -- text) 0, 1, 2, ...: the mastership log repeats lines within a second.
    occurrence integer     NOT NULL CHECK (occurrence >= 0)
);
CREATE UNIQUE INDEX log_lines_identity ON log_lines (device, file, time_key, sha256(raw), occurrence);
-- UnparsedLines counts a device's parser gaps without reading its history.
CREATE INDEX log_lines_unparsed ON log_lines (device) WHERE NOT parsed;

CREATE TABLE events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    log_line_id bigint      NOT NULL REFERENCES log_lines (id) ON DELETE CASCADE,
    device      text        COLLATE "C" NOT NULL CHECK (device <> ''),
    kind        text        COLLATE "C" NOT NULL CHECK (kind <> ''),
    time        timestamptz,
    re          text        COLLATE "C" NOT NULL,
    change      text        COLLATE "C" NOT NULL,
    subject     text        COLLATE "C" NOT NULL,
    class       text        COLLATE "C" NOT NULL,
    rule        text        COLLATE "C" NOT NULL
);
-- NULLS FIRST: events without a time come first, as SQLite sorts NULLs.
CREATE INDEX events_device_time ON events (device, time NULLS FIRST, id);
-- Deleting old log lines (retention) cascades through this index.
CREATE INDEX events_log_line ON events (log_line_id);

CREATE TABLE log_cursors (
    device    text        COLLATE "C" NOT NULL CHECK (device <> ''),
    file      text        COLLATE "C" NOT NULL CHECK (file <> ''),
    tail      jsonb       NOT NULL CHECK (jsonb_typeof(tail) = 'array'),
    last_time timestamptz,
    lines     bigint      NOT NULL CHECK (lines >= 0),
    PRIMARY KEY (device, file)
);

CREATE TABLE transitions (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device     text        COLLATE "C" NOT NULL CHECK (device <> ''),
    re         text        COLLATE "C" NOT NULL CHECK (re <> ''),
    time       timestamptz NOT NULL,
    from_state text        COLLATE "C" NOT NULL CHECK (from_state <> ''),
    to_state   text        COLLATE "C" NOT NULL CHECK (to_state <> ''),
    sources    jsonb       NOT NULL CHECK (jsonb_typeof(sources) = 'array'),
    evidence   json        NOT NULL CHECK (json_typeof(evidence) = 'array')
);
CREATE INDEX transitions_device_time ON transitions (device, time, id);

CREATE TABLE alarm_records (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device            text        COLLATE "C" NOT NULL CHECK (device <> ''),
    member            text        COLLATE "C" NOT NULL,
    description       text        COLLATE "C" NOT NULL,
    alarm_time        timestamptz CHECK (isfinite(alarm_time)),
    alarm_key         timestamptz NOT NULL GENERATED ALWAYS AS (COALESCE(alarm_time, '-infinity')) STORED,
    source            text        COLLATE "C" NOT NULL,
    class             text        COLLATE "C" NOT NULL,
    type              text        COLLATE "C" NOT NULL,
    short_description text        COLLATE "C" NOT NULL,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    cleared_at        timestamptz,
    -- The alarm's identity; it also serves per-device reads.
    UNIQUE (device, member, description, alarm_key)
);

CREATE TABLE findings (
    device           text        COLLATE "C" NOT NULL CHECK (device <> ''),
    re               text        COLLATE "C" NOT NULL,
    first_transition timestamptz NOT NULL,
    last_transition  timestamptz NOT NULL,
    cause            text        COLLATE "C" NOT NULL CHECK (cause <> ''),
    severity         text        COLLATE "C" NOT NULL,
    transitions      integer     NOT NULL,
    evidence         json        NOT NULL CHECK (json_typeof(evidence) = 'array'),
    alarms           jsonb       NOT NULL CHECK (jsonb_typeof(alarms) = 'array'),
    other_causes     jsonb       NOT NULL CHECK (jsonb_typeof(other_causes) = 'array'),
    remedy           text        COLLATE "C" NOT NULL,
    detected_at      timestamptz NOT NULL,
    PRIMARY KEY (device, re, first_transition)
);
CREATE INDEX findings_device_last ON findings (device, last_transition);

-- One row per change of a device's redundancy configuration.
CREATE TABLE configs (
    device text        COLLATE "C" NOT NULL CHECK (device <> ''),
    at     timestamptz NOT NULL,
    config jsonb       NOT NULL CHECK (jsonb_typeof(config) = 'object'),
    PRIMARY KEY (device, at)
);
`

// pgMigrationsTable is named for the application: a database shared with
// other software may well hold a "schema_migrations" of someone else's
// (golang-migrate, Rails and others use that name).
const pgMigrationsTable = "mastership_migrations"

// lockMigrateSQL serialises migrators of one schema (other agents
// starting at the same moment) for the rest of the transaction.
const lockMigrateSQL = `SELECT pg_advisory_xact_lock(hashtextextended('mastership migrate ' || COALESCE(current_schema(), ''), 0))`

// pgMigrate brings the schema (the first of the search_path) to the
// newest version in steps, each in its own transaction with its
// mastership_migrations row: DDL is transactional in PostgreSQL, so a
// failed step leaves nothing of itself and a rerun continues from the
// last good version. Each transaction first takes an advisory lock, so
// agents starting together apply each step once, one after the other,
// and re-read the version under the lock.
func pgMigrate(ctx context.Context, pool *pgxpool.Pool, steps []migration) error {
	for {
		done := false
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			done, err = pgMigrateOne(ctx, tx, steps)
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// pgMigrateOne applies the next pending step in tx, or reports that none
// is left.
func pgMigrateOne(ctx context.Context, tx pgx.Tx, steps []migration) (done bool, err error) {
	if _, err := tx.Exec(ctx, lockMigrateSQL); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	ours, err := pgCheckApplication(ctx, tx)
	if err != nil {
		return false, err
	}
	// Created only when missing: CREATE … IF NOT EXISTS would still need
	// the CREATE privilege, which an agent's role may well not have once
	// the schema is in place.
	if !ours {
		if _, err := tx.Exec(ctx, `CREATE TABLE `+pgMigrationsTable+` (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return false, fmt.Errorf("create %s: %w", pgMigrationsTable, err)
		}
	}
	current, err := pgSchemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case current > len(steps):
		return false, fmt.Errorf("schema version %d, this build knows up to %d: %w; upgrade mastership or use another database",
			current, len(steps), ErrSchemaTooNew)
	case current == len(steps):
		return true, nil
	}
	next := current + 1
	step := steps[current]
	// No arguments: pgx sends it with the simple protocol, which runs
	// several statements.
	if _, err := tx.Exec(ctx, step.sql); err != nil {
		return false, fmt.Errorf("migration %d (%s): %w", next, step.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+pgMigrationsTable+` (version, name) VALUES ($1, $2)`, next, step.name); err != nil {
		return false, fmt.Errorf("migration %d (%s): record: %w", next, step.name, err)
	}
	return false, nil
}

func pgSchemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v *int
	if err := q.QueryRow(ctx, `SELECT MAX(version) FROM `+pgMigrationsTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// pgCheckApplication refuses a schema that belongs to another
// application: it has tables, but not ours. PostgreSQL has no
// application_id; the migrations table is the mark. ours tells whether
// it is there.
func pgCheckApplication(ctx context.Context, tx pgx.Tx) (ours bool, err error) {
	var (
		schema string
		tables int
	)
	err = tx.QueryRow(ctx, `SELECT current_schema(), COUNT(*), COALESCE(bool_or(c.relname = $1), false)
FROM pg_class c
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, pgMigrationsTable).Scan(&schema, &tables, &ours)
	if err != nil {
		return false, fmt.Errorf("read schema: %w", err)
	}
	if tables > 0 && !ours {
		return false, fmt.Errorf("not a mastership database: schema %q has tables but no %s "+
			"(use an empty database, or a schema of its own with search_path=…)", schema, pgMigrationsTable)
	}
	return ours, nil
}

// errNoSchema is returned when the search_path names no schema to create
// the tables in.
var errNoSchema = errors.New("no schema to create tables in: the search_path names no existing schema")
