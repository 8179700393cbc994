package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// migration is one step of the SQLite schema. Its version is its position
// in migrations() plus one: steps are only ever appended, never edited or
// reordered, because databases in the field already carry the old ones.
type migration struct {
	name string
	sql  string
}

// applicationID marks the file as a mastership database ("MSTR") in the
// SQLite header, so pointing --db at another application's database is an
// error instead of a silent schema merge.
const applicationID = 0x4d535452

// migrations returns the SQLite schema history, oldest first. It is a
// function, not a package variable, so no caller can alter the list.
//
// Conventions: times are INTEGER unix nanoseconds UTC (exact, sortable,
// compact, and compared as numbers in indexes); an optional model field
// is a nullable column, NULL meaning nil; tables are STRICT so a wrong Go
// type is an error, not a silent conversion; child rows carry ord, their
// position in the snapshot's slice, so a load gives back the same order.
func migrations() []migration {
	return []migration{
		{name: "runs, polls, route engines, alarms, software", sql: `
PRAGMA application_id = 1297306706;

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started     INTEGER NOT NULL,
    finished    INTEGER,
    devices     INTEGER NOT NULL DEFAULT 0,
    ok          INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1))
) STRICT;
CREATE INDEX runs_started ON runs (started, id);

CREATE TABLE polls (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER REFERENCES runs (id),
    device       TEXT    NOT NULL CHECK (device <> ''),
    host         TEXT    NOT NULL,
    site         TEXT    NOT NULL,
    started      INTEGER NOT NULL,
    finished     INTEGER,
    outcome      TEXT    NOT NULL CHECK (outcome <> ''),
    error_kind   TEXT    NOT NULL,
    error        TEXT    NOT NULL,
    -- has_snapshot tells a failed poll (Snapshot nil) from a poll that
    -- decoded an empty snapshot; polled_at is Snapshot.PolledAt.
    has_snapshot INTEGER NOT NULL CHECK (has_snapshot IN (0, 1)),
    polled_at    INTEGER,
    -- re_count is len(Snapshot.RouteEngines), kept so MaxREsSeen is an
    -- index lookup instead of a join over a device's whole history.
    re_count     INTEGER NOT NULL DEFAULT 0,
    -- res_expected is Poll.ExpectedREs: the RE count judged against when
    -- the poll was taken (0 = unknown), so reports show what the verdict used.
    res_expected INTEGER NOT NULL DEFAULT 0 CHECK (res_expected >= 0)
) STRICT;
-- Latest poll per device: a backwards scan of one device's range.
CREATE INDEX polls_device_started ON polls (device, started, id);
CREATE INDEX polls_device_re_count ON polls (device, re_count);
CREATE INDEX polls_run ON polls (run_id);

CREATE TABLE route_engines (
    poll_id             INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord                 INTEGER NOT NULL,
    name                TEXT    NOT NULL,
    member              TEXT    NOT NULL,
    slot                INTEGER,
    mastership_state    TEXT    NOT NULL,
    mastership_priority TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    model               TEXT    NOT NULL,
    serial              TEXT    NOT NULL,
    up_time_seconds     INTEGER,
    start_time          INTEGER,
    last_reboot_reason  TEXT    NOT NULL,
    temperature_c       INTEGER,
    cpu_temperature_c   INTEGER,
    PRIMARY KEY (poll_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE alarms (
    poll_id           INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord               INTEGER NOT NULL,
    source            TEXT    NOT NULL,
    member            TEXT    NOT NULL,
    alarm_time        INTEGER,
    class             TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    short_description TEXT    NOT NULL,
    PRIMARY KEY (poll_id, ord)
) STRICT, WITHOUT ROWID;

CREATE TABLE software (
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL,
    member   TEXT    NOT NULL,
    hostname TEXT    NOT NULL,
    model    TEXT    NOT NULL,
    version  TEXT    NOT NULL,
    PRIMARY KEY (poll_id, ord)
) STRICT, WITHOUT ROWID;
`},
		{name: "log lines, events, cursors, transitions, alarm records, findings, configs", sql: migration2},
		// Fleet-wide reports stream rows in time order; without these a
		// million-event export sorts everything before its first row and
		// every page of polls sorts the whole table.
		{name: "time-ordered indexes for reports", sql: `
CREATE INDEX polls_started ON polls (started, id);
CREATE INDEX events_time ON events (time, id);
CREATE INDEX transitions_time ON transitions (time, id);
`},
		// Who began a run, so a run left unfinished by a killed agent can
		// be marked interrupted (RecoverRuns) without touching one another
		// process is still running.
		{name: "run agents", sql: `
ALTER TABLE runs ADD COLUMN agent TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_unfinished ON runs (id) WHERE finished IS NULL;
`},
		// Several agents sharing one database poll each device once per
		// scheduled slot: the first agent to insert (slot, device) polls
		// it (ClaimPoll).
		{name: "poll claims", sql: `
CREATE TABLE poll_claims (
    slot       INTEGER NOT NULL,
    device     TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (slot, device)
) STRICT, WITHOUT ROWID;
`},
		// How many polls of a run could not be stored: a run whose
		// polls were lost to a full disk must not read as all ok.
		{name: "run unstored polls", sql: `
ALTER TABLE runs ADD COLUMN unstored INTEGER NOT NULL DEFAULT 0 CHECK (unstored >= 0);
`},
		// The log files a device does not have (no /var/log/mastership on
		// an SRX cluster), comma-separated: a note, not a partial poll.
		{name: "absent log files", sql: `
ALTER TABLE polls ADD COLUMN absent_logs TEXT NOT NULL DEFAULT '';
`},
		// Maintenance (issue 15): the ad-hoc windows "mastership silence"
		// stores, and whether a finding fell in one (of those or of the
		// inventory's), so reports show it as it was judged.
		{name: "maintenance windows", sql: `
CREATE TABLE maintenance_windows (
    id         INTEGER PRIMARY KEY,
    device     TEXT    NOT NULL CHECK (device <> ''),
    from_time  INTEGER NOT NULL,
    until_time INTEGER NOT NULL CHECK (until_time > from_time),
    reason     TEXT    NOT NULL,
    who        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX maintenance_windows_device_until ON maintenance_windows (device, until_time);
ALTER TABLE findings ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0 CHECK (maintenance IN (0, 1));
ALTER TABLE findings ADD COLUMN maintenance_note TEXT NOT NULL DEFAULT '';
`},
		// The switchover ledger (issue 15): one row per change of master,
		// recomputed from history when a device is judged, like findings.
		{name: "switchover ledger", sql: `
CREATE TABLE switchovers (
    device     TEXT    NOT NULL CHECK (device <> ''),
    time       INTEGER NOT NULL,
    old_master TEXT    NOT NULL,
    new_master TEXT    NOT NULL CHECK (new_master <> ''),
    planned    INTEGER NOT NULL CHECK (planned IN (0, 1)),
    command    TEXT    NOT NULL,
    cause      TEXT    NOT NULL,
    evidence   TEXT    NOT NULL CHECK (json_valid(evidence)),
    PRIMARY KEY (device, time, new_master)
) STRICT, WITHOUT ROWID;
CREATE INDEX switchovers_time ON switchovers (time, device);
`},
		// Switchover readiness (issue 16): each device's last verdict,
		// replaced at every poll.
		{name: "switchover readiness", sql: `
CREATE TABLE readiness (
    device     TEXT    NOT NULL PRIMARY KEY CHECK (device <> ''),
    site       TEXT    NOT NULL,
    checked_at INTEGER NOT NULL,
    verdict    TEXT    NOT NULL CHECK (verdict IN ('ready', 'not-ready', 'unknown', 'not-applicable')),
    reasons    TEXT    NOT NULL CHECK (json_valid(reasons)),
    unknown    TEXT    NOT NULL CHECK (json_valid(unknown))
) STRICT, WITHOUT ROWID;
`},
		// Issue 17 (router cost): the file's size and time when last read,
		// and its first line's fingerprint, so an unchanged log is not
		// transferred and a rotation is recognised.
		{name: "log cursor file state", sql: `
ALTER TABLE log_cursors ADD COLUMN head TEXT NOT NULL DEFAULT '';
ALTER TABLE log_cursors ADD COLUMN file_size INTEGER NOT NULL DEFAULT 0 CHECK (file_size >= 0);
ALTER TABLE log_cursors ADD COLUMN file_mtime INTEGER;
`},
		// Issue 19: a rotation whose archive (messages.0.gz) could not be
		// read, as JSON ("" for none): a note the report shows, not a
		// partial poll.
		{name: "log gaps", sql: `
ALTER TABLE polls ADD COLUMN log_gaps TEXT NOT NULL DEFAULT '';
`},
		// Issue 19 (clocks): a step of the device clock between two
		// polls, told from a reboot, is a note stored with the poll.
		{name: "clock note", sql: `
ALTER TABLE polls ADD COLUMN clock_note TEXT NOT NULL DEFAULT '';
`},
	}
}

// noTimeKey (the smallest INTEGER) stands for "no time" in the key
// columns below. UNIQUE treats NULLs as distinct, so a nullable time in a
// key would let every re-read store an untimed line (or a timeless alarm)
// again; the key columns are generated as COALESCE(time, noTimeKey) and
// the time column itself stays NULL, as elsewhere, when unknown. The store
// (and a CHECK on the time column) refuses the instant it stands for (1677-09-21T00:12:43.145224192Z) as a
// real time. -1 would not do: it is a real instant
// (1969-12-31T23:59:59.999999999Z), and backup REs with reset clocks log
// near the epoch. PostgreSQL can say the same with UNIQUE NULLS NOT
// DISTINCT.
const noTimeKey = math.MinInt64

// migration2 is the history of the alive set. Lists (cursor tails,
// sources, evidence, alarms of a finding, configurations) are JSON text:
// they are read and written whole with their row, never queried inside.
const migration2 = `
CREATE TABLE log_lines (
    id         INTEGER PRIMARY KEY,
    device     TEXT    NOT NULL CHECK (device <> ''),
    file       TEXT    NOT NULL CHECK (file <> ''),
    line_time  INTEGER CHECK (line_time <> -9223372036854775808),
    time_key   INTEGER NOT NULL GENERATED ALWAYS AS (COALESCE(line_time, -9223372036854775808)) VIRTUAL,
    raw        TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    process    TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    tag        TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    parsed     INTEGER NOT NULL CHECK (parsed IN (0, 1)),
    -- occurrence numbers identical lines (same device, file, time and raw
    -- text) 0, 1, 2, ...: the mastership log repeats lines within a second.
    occurrence INTEGER NOT NULL CHECK (occurrence >= 0),
    UNIQUE (device, file, time_key, raw, occurrence)
) STRICT;
-- UnparsedLines counts a device's parser gaps without reading its history.
CREATE INDEX log_lines_unparsed ON log_lines (device) WHERE parsed = 0;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    log_line_id INTEGER NOT NULL REFERENCES log_lines (id) ON DELETE CASCADE,
    device      TEXT    NOT NULL CHECK (device <> ''),
    kind        TEXT    NOT NULL CHECK (kind <> ''),
    time        INTEGER,
    re          TEXT    NOT NULL,
    change      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    class       TEXT    NOT NULL,
    rule        TEXT    NOT NULL
) STRICT;
CREATE INDEX events_device_time ON events (device, time, id);
-- Deleting old log lines (retention) cascades through this index.
CREATE INDEX events_log_line ON events (log_line_id);

CREATE TABLE log_cursors (
    device    TEXT    NOT NULL CHECK (device <> ''),
    file      TEXT    NOT NULL CHECK (file <> ''),
    tail      TEXT    NOT NULL CHECK (json_valid(tail)),
    last_time INTEGER,
    lines     INTEGER NOT NULL CHECK (lines >= 0),
    PRIMARY KEY (device, file)
) STRICT, WITHOUT ROWID;

CREATE TABLE transitions (
    id         INTEGER PRIMARY KEY,
    device     TEXT    NOT NULL CHECK (device <> ''),
    re         TEXT    NOT NULL CHECK (re <> ''),
    time       INTEGER NOT NULL,
    from_state TEXT    NOT NULL CHECK (from_state <> ''),
    to_state   TEXT    NOT NULL CHECK (to_state <> ''),
    sources    TEXT    NOT NULL CHECK (json_valid(sources)),
    evidence   TEXT    NOT NULL CHECK (json_valid(evidence))
) STRICT;
-- Serves range reads and SaveTransitions' search for the same transition
-- within the tolerance: a device has few transitions in any minute, so an
-- index on (device, re, from_state, to_state, time) would add writes and
-- save nothing (the planner picks this one anyway).
CREATE INDEX transitions_device_time ON transitions (device, time, id);

CREATE TABLE alarm_records (
    device            TEXT    NOT NULL CHECK (device <> ''),
    member            TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    alarm_time        INTEGER CHECK (alarm_time <> -9223372036854775808),
    alarm_key         INTEGER NOT NULL GENERATED ALWAYS AS (COALESCE(alarm_time, -9223372036854775808)) VIRTUAL,
    source            TEXT    NOT NULL,
    class             TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    short_description TEXT    NOT NULL,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    cleared_at        INTEGER,
    -- The alarm's identity (a primary key in all but name: a generated
    -- column cannot be part of one). It also serves per-device reads.
    UNIQUE (device, member, description, alarm_key)
) STRICT;

-- first_transition/last_transition, not first/last: those are keywords
-- in both SQLite and PostgreSQL, and these match the CSV header.
CREATE TABLE findings (
    device           TEXT    NOT NULL CHECK (device <> ''),
    re               TEXT    NOT NULL,
    first_transition INTEGER NOT NULL,
    last_transition  INTEGER NOT NULL,
    cause            TEXT    NOT NULL CHECK (cause <> ''),
    severity         TEXT    NOT NULL,
    transitions      INTEGER NOT NULL,
    evidence         TEXT    NOT NULL CHECK (json_valid(evidence)),
    alarms           TEXT    NOT NULL CHECK (json_valid(alarms)),
    other_causes     TEXT    NOT NULL CHECK (json_valid(other_causes)),
    remedy           TEXT    NOT NULL,
    detected_at      INTEGER NOT NULL,
    PRIMARY KEY (device, re, first_transition)
) STRICT, WITHOUT ROWID;
CREATE INDEX findings_device_last ON findings (device, last_transition);

-- One row per change of a device's redundancy configuration.
CREATE TABLE configs (
    device TEXT    NOT NULL CHECK (device <> ''),
    at     INTEGER NOT NULL,
    config TEXT    NOT NULL CHECK (json_valid(config)),
    PRIMARY KEY (device, at)
) STRICT, WITHOUT ROWID;
`

// migrate brings the database to the newest schema in steps, each step in
// its own transaction with its schema_migrations row, so a failure leaves
// the database at the last good version and a rerun continues from there.
// db must be the writer: its transactions begin IMMEDIATE, which
// serialises two processes migrating the same file at once; each step
// re-reads the version inside its transaction and so never applies a step
// the other process has just applied.
func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	if err := checkApplication(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for {
		done, err := migrateOne(ctx, db, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending step, or reports that none is left.
func migrateOne(ctx context.Context, db *sql.DB, steps []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback() // nothing written, or the error is the news
		}
	}()

	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case current > len(steps):
		return false, fmt.Errorf("schema version %d, this build knows up to %d: %w; upgrade mastership or use another --db",
			current, len(steps), ErrSchemaTooNew)
	case current == len(steps):
		return true, nil
	}

	next := current + 1
	step := steps[current]
	if _, err := tx.ExecContext(ctx, step.sql); err != nil {
		return false, fmt.Errorf("migration %d (%s): %w", next, step.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		next, time.Now().UTC().UnixNano()); err != nil {
		return false, fmt.Errorf("migration %d (%s): record: %w", next, step.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d (%s): commit: %w", next, step.name, err)
	}
	return false, nil
}

func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// checkApplication refuses a file that belongs to another application:
// either it carries another application_id, or it has tables but none of
// ours (an unmarked database mastership did not create).
func checkApplication(ctx context.Context, db *sql.DB) error {
	var id int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&id); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if id == applicationID {
		return nil
	}
	if id != 0 {
		return fmt.Errorf("not a mastership database (SQLite application_id %#x)", id)
	}
	var tables int
	var ours bool
	err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(name = 'schema_migrations'), 0)
FROM sqlite_schema WHERE type = 'table'`).Scan(&tables, &ours)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if tables > 0 && !ours {
		return errors.New("not a mastership database (it has tables but no schema_migrations)")
	}
	return nil
}
