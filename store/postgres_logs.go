package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mastership/mastership/devices"
)

// pgSaveLinesSQL stores a batch of lines and their events in one
// statement, and returns how many lines were new.
//
// The lines come as arrays, one element per line in batch order, with
// the occurrence numbered within the batch and appended telling a line
// of a file read after its cursor's place: its occurrence continues
// after the identical lines already stored, instead of being matched
// against them. A line whose identity is stored already is a re-read,
// skipped by the unique index, and so are its events; the events come as
// arrays too, each with the batch position (1-based) of its line.
const pgSaveLinesSQL = `WITH input AS (
    SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::bytea[], $5::bytea[], $6::bytea[], $7::int[],
        $8::bytea[], $9::bytea[], $10::bool[], $11::int[], $12::bool[])
        WITH ORDINALITY AS u(file, line_time, raw, host, process, pid, tag, message, parsed, occurrence, appended, i)
), numbered AS (
    SELECT i, file, line_time, raw, host, process, pid, tag, message, parsed,
        occurrence + CASE WHEN appended THEN (SELECT COUNT(*) FROM log_lines l
            WHERE l.device = $1 AND l.file = input.file AND l.time_key = COALESCE(input.line_time, '-infinity')
                AND sha256(l.raw) = sha256(input.raw) AND l.raw = input.raw)::int ELSE 0 END AS occurrence
    FROM input
), ins AS (
    INSERT INTO log_lines (device, file, line_time, raw, host, process, pid, tag, message, parsed, occurrence)
    SELECT $1, file, line_time, raw, host, process, pid, tag, message, parsed, occurrence FROM numbered ORDER BY i
    ON CONFLICT (device, file, time_key, sha256(raw), occurrence) DO NOTHING
    RETURNING id, file, time_key, raw, occurrence
), added AS (
    SELECT numbered.i, ins.id FROM ins JOIN numbered ON numbered.file = ins.file
        AND COALESCE(numbered.line_time, '-infinity') = ins.time_key AND numbered.raw = ins.raw
        AND numbered.occurrence = ins.occurrence
), new_events AS (
    INSERT INTO events (log_line_id, device, kind, time, re, change, subject, class, rule)
    SELECT added.id, $1, kind, time, re, change, subject, class, rule
    FROM unnest($13::bigint[], $14::text[], $15::timestamptz[], $16::text[], $17::text[], $18::text[], $19::text[],
        $20::text[]) WITH ORDINALITY AS e(line, kind, time, re, change, subject, class, rule, j)
    JOIN added ON added.i = e.line
    ORDER BY j
)
SELECT COUNT(*) FROM added`

const pgUpsertCursorSQL = `INSERT INTO log_cursors (device, file, tail, last_time, lines, head, file_size, file_mtime)
VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7, $8)
ON CONFLICT (device, file) DO UPDATE SET tail = excluded.tail, last_time = excluded.last_time, lines = excluded.lines,
    head = excluded.head, file_size = excluded.file_size, file_mtime = excluded.file_mtime`

// pgLines is a batch of lines as parameter arrays.
type pgLines struct {
	file                             []string
	at                               []pgtype.Timestamptz
	raw, host, process, tag, message [][]byte
	pid, occurrence                  []int32
	parsed, appended                 []bool
}

// pgEvents is a batch of events as parameter arrays, each with the
// batch position (1-based) of its line.
type pgEvents struct {
	line                                   []int64
	kind, re, change, subject, class, rule []string
	at                                     []pgtype.Timestamptz
}

func (s *pgStore) SaveLogs(ctx context.Context, device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (int, error) {
	n, err := s.saveLogs(ctx, device, lines, events, cursors)
	if err != nil {
		return 0, fmt.Errorf("save logs of %s: %w", device, err)
	}
	return n, nil
}

// pgLogTimes returns copies of lines and events with their times as
// PostgreSQL stores them, so that the occurrence rule groups identical
// lines by the same time the unique index compares.
func pgLogTimes(lines []devices.LogLine, events []devices.Event) ([]devices.LogLine, []devices.Event) {
	norm := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return pgTime(t)
	}
	ls := make([]devices.LogLine, len(lines))
	for i, l := range lines {
		l.Time = norm(l.Time)
		ls[i] = l
	}
	es := make([]devices.Event, len(events))
	for i, e := range events {
		e.Time, e.Line.Time = norm(e.Time), norm(e.Line.Time)
		es[i] = e
	}
	return ls, es
}

func (s *pgStore) saveLogs(ctx context.Context, device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (int, error) {
	lines, events = pgLogTimes(lines, events)
	// The SQLite engine's validation and occurrence numbering within the
	// batch (args.occ), and the line each event belongs to
	// (args.eventLine): the rule is the engines' common code.
	args, err := logsArguments(device, lines, events, cursors)
	if err != nil {
		return 0, err
	}
	if len(lines) == 0 && len(cursors) == 0 {
		return 0, nil // events need lines: logsArguments made sure
	}
	appended := make(map[string]bool, len(cursors))
	for _, c := range cursors {
		if c.Appended {
			appended[c.File] = true
		}
	}

	n := len(lines)
	in := pgLines{
		file: make([]string, 0, n), at: make([]pgtype.Timestamptz, 0, n),
		raw: make([][]byte, 0, n), host: make([][]byte, 0, n), process: make([][]byte, 0, n),
		tag: make([][]byte, 0, n), message: make([][]byte, 0, n),
		pid: make([]int32, 0, n), occurrence: make([]int32, 0, n), parsed: make([]bool, 0, n),
		appended: make([]bool, 0, n),
	}
	for i, l := range lines {
		in.file = append(in.file, l.File)
		in.at = append(in.at, pgTimeOrNull(l.Time))
		in.raw = append(in.raw, []byte(l.Raw))
		in.host = append(in.host, []byte(l.Host))
		in.process = append(in.process, []byte(l.Process))
		in.pid = append(in.pid, int32(l.PID))
		in.tag = append(in.tag, []byte(l.Tag))
		in.message = append(in.message, []byte(l.Message))
		in.parsed = append(in.parsed, l.Parsed)
		in.occurrence = append(in.occurrence, int32(args.occ[i]))
		in.appended = append(in.appended, appended[l.File])
	}
	m := len(events)
	ev := pgEvents{
		line: make([]int64, 0, m), kind: make([]string, 0, m), re: make([]string, 0, m),
		change: make([]string, 0, m), subject: make([]string, 0, m), class: make([]string, 0, m),
		rule: make([]string, 0, m), at: make([]pgtype.Timestamptz, 0, m),
	}
	for i, e := range events {
		ev.line = append(ev.line, int64(args.eventLine[i]+1))
		ev.kind = append(ev.kind, string(e.Kind))
		ev.at = append(ev.at, pgTimeOrNull(e.Time))
		ev.re = append(ev.re, e.RE)
		ev.change = append(ev.change, e.Change)
		ev.subject = append(ev.subject, e.Subject)
		ev.class = append(ev.class, e.Class)
		ev.rule = append(ev.rule, e.Rule)
	}

	// One transaction, one round trip: the device's lock, the lines and
	// their events, the cursors.
	b := &pgBatch{}
	b.lock(device)
	added := 0
	if len(lines) > 0 {
		b.query("insert lines and events", func(r pgx.Rows) error { return r.Scan(&added) },
			pgSaveLinesSQL, device, in.file, in.at, in.raw, in.host, in.process, in.pid, in.tag, in.message,
			in.parsed, in.occurrence, in.appended,
			ev.line, ev.kind, ev.at, ev.re, ev.change, ev.subject, ev.class, ev.rule)
	}
	// One statement per cursor, in order: a batch naming a file twice
	// keeps the last, as the SQLite engine does.
	for _, c := range cursors {
		tail, err := stringsJSON(c.Tail)
		if err != nil {
			return 0, fmt.Errorf("cursor of %s: %w", c.File, err)
		}
		b.exec("cursor of "+c.File, pgUpsertCursorSQL, device, c.File, tail, pgTimeOrNull(c.LastTime), c.Lines,
			c.Head, max(c.Size, 0), pgTimeOrNull(c.ModTime))
	}
	if err := s.sendTx(ctx, pgBeginWrite, b); err != nil {
		return 0, err
	}
	return added, nil
}

func (s *pgStore) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	var (
		tail        string
		last, mtime *time.Time
		lines, size int64
		head        string
	)
	err := s.pool.QueryRow(ctx, `SELECT tail::text, last_time, lines, head, file_size, file_mtime FROM log_cursors
WHERE device = $1 AND file = $2`,
		device, file).Scan(&tail, &last, &lines, &head, &size, &mtime)
	if errors.Is(err, pgx.ErrNoRows) {
		return devices.LogCursor{}, false, nil
	}
	if err != nil {
		return devices.LogCursor{}, false, fmt.Errorf("log cursor of %s %s: %w", device, file, err)
	}
	t, err := stringsFromJSON(tail)
	if err != nil {
		return devices.LogCursor{}, false, fmt.Errorf("log cursor of %s %s: tail: %w", device, file, err)
	}
	return devices.LogCursor{Device: device, File: file, Tail: t, LastTime: zeroIfNil(last), Lines: lines,
		Head: head, Size: size, ModTime: zeroIfNil(mtime)}, true, nil
}

func (s *pgStore) UnparsedLines(ctx context.Context, device string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM log_lines WHERE device = $1 AND NOT parsed`,
		device).Scan(&n); err != nil {
		return 0, fmt.Errorf("count unparsed lines of %s: %w", device, err)
	}
	return n, nil
}

func (s *pgStore) Events(ctx context.Context, f Filter) ([]devices.Event, error) {
	return collect(ctx, f, s.EachEvent)
}

func (s *pgStore) EachEvent(ctx context.Context, f Filter, fn func(*devices.Event) error) error {
	var w pgFilter
	w.devices("e.device", f.Devices)
	w.timeRange("e.time", "e.time", f)
	// NULLS FIRST: events without a time first, as SQLite orders them.
	query := eventsQuery + w.String() + ` ORDER BY e.time NULLS FIRST, e.id` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			e                                devices.Event
			kind                             string
			at, lineAt                       *time.Time
			raw, host, process, tag, message []byte
			line                             = &e.Line
		)
		if err := rows.Scan(&e.Device, &kind, &at, &e.RE, &e.Change, &e.Subject, &e.Class, &e.Rule,
			&line.File, &raw, &lineAt, &host, &process, &line.PID, &tag, &message, &line.Parsed); err != nil {
			return err
		}
		e.Kind, e.Time, line.Time = devices.EventKind(kind), zeroIfNil(at), zeroIfNil(lineAt)
		line.Raw, line.Host, line.Process, line.Tag, line.Message =
			string(raw), string(host), string(process), string(tag), string(message)
		return stopErr(fn(&e))
	})
	return readErr("events", err)
}

// pgStream runs query and calls fn for every row, as the Each readers
// need. When fn fails the query is cancelled rather than read to its end:
// a report whose reader went away must not drain a million rows first.
func pgStream(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, query string, args []any, fn func(pgx.Rows) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := fn(rows); err != nil {
			cancel()
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}
