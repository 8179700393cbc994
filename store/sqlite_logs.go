package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mastership/mastership/devices"
)

const (
	insertLogLineSQL = `INSERT INTO log_lines (device, file, line_time, raw, host, process, pid, tag, message,
    parsed, occurrence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (device, file, time_key, raw, occurrence) DO NOTHING`
	insertEventSQL = `INSERT INTO events (log_line_id, device, kind, time, re, change, subject, class, rule)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	upsertCursorSQL = `INSERT INTO log_cursors (device, file, tail, last_time, lines, head, file_size, file_mtime)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (device, file) DO UPDATE SET tail = excluded.tail, last_time = excluded.last_time,
    lines = excluded.lines, head = excluded.head, file_size = excluded.file_size, file_mtime = excluded.file_mtime`
	countStoredLinesSQL = `SELECT COUNT(*) FROM log_lines WHERE device = ? AND file = ? AND time_key = ? AND raw = ?`
	logCursorSQL        = `SELECT tail, last_time, lines, head, file_size, file_mtime FROM log_cursors
WHERE device = ? AND file = ?`
	unparsedLinesSQL = `SELECT COUNT(*) FROM log_lines WHERE device = ? AND parsed = 0`
)

// lineKey is a line's identity without its occurrence: the group of
// identical lines the occurrence numbers.
type lineKey struct {
	file string
	time int64 // noTimeKey for an untimed line, as in log_lines.time_key
	raw  string
}

// eventKey tells apart the events of one group of identical lines. The
// j-th event with a given key belongs to the j-th line of its group:
// identical lines give identical events, and a line with several events
// gives them different keys (kind, RE, subject, …).
type eventKey struct {
	line                                   lineKey
	time                                   int64
	kind, re, change, subject, class, rule string
}

// logsArgs is a SaveLogs batch converted to column values.
type logsArgs struct {
	lines [][]any // without the trailing occurrence
	occ   []int64 // occurrence of lines[i] within the batch
	// events[i] is an event's values without log_line_id, and eventLine[i]
	// the index in lines of the line it came from.
	events    [][]any
	eventLine []int
	cursors   [][]any
}

// logsArguments validates and converts the whole batch before the write
// transaction starts, so a bad value never holds the single writer.
func logsArguments(device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (logsArgs, error) {
	var a logsArgs
	if device == "" {
		return a, errors.New("no device name")
	}
	seen := make(map[lineKey]int64, len(lines))
	group := make(map[lineKey][]int, len(lines)) // batch indices of each group's lines, in order
	for i, l := range lines {
		if l.File == "" {
			return a, fmt.Errorf("line %d: no file name", i)
		}
		k, at, err := lineIdentity(l)
		if err != nil {
			return a, fmt.Errorf("line %d of %s: %w", i, l.File, err)
		}
		a.lines = append(a.lines, []any{device, l.File, at, l.Raw, l.Host, l.Process, int64(l.PID), l.Tag,
			l.Message, boolInt(l.Parsed)})
		a.occ = append(a.occ, seen[k])
		seen[k]++
		group[k] = append(group[k], i)
	}

	taken := make(map[eventKey]int, len(events))
	for i, e := range events {
		if e.Device != "" && e.Device != device {
			return a, fmt.Errorf("event %d is of device %q", i, e.Device)
		}
		if e.Kind == "" {
			return a, fmt.Errorf("event %d: no kind", i)
		}
		lk, _, err := lineIdentity(e.Line)
		if err != nil {
			return a, fmt.Errorf("event %d: line: %w", i, err)
		}
		at, err := nanosOrNull(e.Time)
		if err != nil {
			return a, fmt.Errorf("event %d (%s): %w", i, e.Kind, err)
		}
		ek := eventKey{line: lk, time: timeKey(e.Time), kind: string(e.Kind), re: e.RE, change: e.Change,
			subject: e.Subject, class: e.Class, rule: e.Rule}
		j := taken[ek]
		if j >= len(group[lk]) {
			// Either the line is not in the batch at all, or there are more
			// identical events than lines to carry them.
			return a, fmt.Errorf("event %d (%s, rule %q): its line %q of %s is not in the batch", i, e.Kind, e.Rule,
				e.Line.Raw, e.Line.File)
		}
		taken[ek] = j + 1
		a.events = append(a.events, []any{device, string(e.Kind), at, e.RE, e.Change, e.Subject, e.Class, e.Rule})
		a.eventLine = append(a.eventLine, group[lk][j])
	}

	for i, c := range cursors {
		if c.Device != "" && c.Device != device {
			return a, fmt.Errorf("cursor %d is of device %q", i, c.Device)
		}
		if c.File == "" {
			return a, fmt.Errorf("cursor %d: no file name", i)
		}
		if c.Lines < 0 {
			return a, fmt.Errorf("cursor of %s: negative line count %d", c.File, c.Lines)
		}
		tail, err := stringsJSON(c.Tail)
		if err != nil {
			return a, fmt.Errorf("cursor of %s: %w", c.File, err)
		}
		last, err := nanosOrNull(c.LastTime)
		if err != nil {
			return a, fmt.Errorf("cursor of %s: last time: %w", c.File, err)
		}
		mtime, err := nanosOrNull(c.ModTime)
		if err != nil {
			return a, fmt.Errorf("cursor of %s: file time: %w", c.File, err)
		}
		a.cursors = append(a.cursors, []any{device, c.File, tail, last, c.Lines, c.Head, max(c.Size, 0), mtime})
	}
	return a, nil
}

// lineIdentity returns a line's group key and its time column value.
func lineIdentity(l devices.LogLine) (lineKey, any, error) {
	at, err := keyNanosOrNull(l.Time)
	if err != nil {
		return lineKey{}, nil, err
	}
	return lineKey{file: l.File, time: timeKey(l.Time), raw: l.Raw}, at, nil
}

func (s *sqliteStore) SaveLogs(ctx context.Context, device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (int, error) {
	n, err := s.saveLogs(ctx, device, lines, events, cursors)
	if err != nil {
		return 0, fmt.Errorf("save logs of %s: %w", device, err)
	}
	return n, nil
}

func (s *sqliteStore) saveLogs(ctx context.Context, device string, lines []devices.LogLine, events []devices.Event, cursors []devices.LogCursor) (_ int, err error) {
	args, err := logsArguments(device, lines, events, cursors)
	if err != nil {
		return 0, err
	}
	if len(args.lines) == 0 && len(args.cursors) == 0 {
		return 0, nil // events need lines: logsArguments made sure
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the write error is the one to report
		}
	}()

	// Lines of a file read after its cursor's place are all new: their
	// occurrences continue after the identical lines already stored
	// instead of being matched against them.
	if err := s.shiftAppendedOccurrences(ctx, tx, device, lines, cursors, args.occ); err != nil {
		return 0, fmt.Errorf("number repeated lines: %w", err)
	}
	// ids[i] is the new row of lines[i], 0 when the line was stored before.
	ids := make([]int64, len(args.lines))
	added := 0
	insLine := tx.StmtContext(ctx, s.insertLogLine)
	for i, row := range args.lines {
		// The unique key rejects an occurrence already stored: that is the
		// whole of the re-read rule (see HistoryStore.SaveLogs).
		res, err := insLine.ExecContext(ctx, append(row, args.occ[i])...)
		if err != nil {
			return 0, fmt.Errorf("line %d: %w", i, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("line %d: %w", i, err)
		}
		if n == 0 {
			continue
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return 0, fmt.Errorf("line %d: %w", i, err)
		}
		added++
	}

	if len(args.events) > 0 {
		insEvent := tx.StmtContext(ctx, s.insertEvent)
		for i, row := range args.events {
			id := ids[args.eventLine[i]]
			if id == 0 {
				continue // its line is a re-read: so is the event
			}
			if _, err := insEvent.ExecContext(ctx, append([]any{id}, row...)...); err != nil {
				return 0, fmt.Errorf("event %d: %w", i, err)
			}
		}
	}

	if len(args.cursors) > 0 {
		upCursor := tx.StmtContext(ctx, s.upsertCursor)
		for _, row := range args.cursors {
			if _, err := upCursor.ExecContext(ctx, row...); err != nil {
				return 0, fmt.Errorf("cursor of %s: %w", row[1], err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return added, nil
}

func (s *sqliteStore) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	var (
		tail        string
		last, mtime sql.NullInt64
		lines, size int64
		head        string
	)
	err := s.logCursor.QueryRowContext(ctx, device, file).Scan(&tail, &last, &lines, &head, &size, &mtime)
	if errors.Is(err, sql.ErrNoRows) {
		return devices.LogCursor{}, false, nil
	}
	if err != nil {
		return devices.LogCursor{}, false, fmt.Errorf("log cursor of %s %s: %w", device, file, err)
	}
	t, err := stringsFromJSON(tail)
	if err != nil {
		return devices.LogCursor{}, false, fmt.Errorf("log cursor of %s %s: tail: %w", device, file, err)
	}
	return devices.LogCursor{Device: device, File: file, Tail: t, LastTime: timeOrZero(last), Lines: lines,
		Head: head, Size: size, ModTime: timeOrZero(mtime)}, true, nil
}

func (s *sqliteStore) UnparsedLines(ctx context.Context, device string) (int, error) {
	var n int64
	if err := s.unparsedLines.QueryRowContext(ctx, device).Scan(&n); err != nil {
		return 0, fmt.Errorf("count unparsed lines of %s: %w", device, err)
	}
	return int(n), nil
}

// eventsQuery is the Events select without its WHERE clause, exposed to
// the query plan test.
const eventsQuery = `SELECT e.device, e.kind, e.time, e.re, e.change, e.subject, e.class, e.rule,
    l.file, l.raw, l.line_time, l.host, l.process, l.pid, l.tag, l.message, l.parsed
FROM events e JOIN log_lines l ON l.id = e.log_line_id`

func (s *sqliteStore) Events(ctx context.Context, f Filter) ([]devices.Event, error) {
	return collect(ctx, f, s.EachEvent)
}

func (s *sqliteStore) EachEvent(ctx context.Context, f Filter, fn func(*devices.Event) error) error {
	var w where
	w.devices("e.device", f.Devices)
	if err := w.timeRange("e.time", "e.time", f); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	err := s.eachFiltered(ctx, f, eventsQuery+w.String()+` ORDER BY e.time, e.id LIMIT ?`, append(w.args, limitArg(f)),
		func(rows *sql.Rows) error {
			var (
				e           devices.Event
				kind        string
				at, lineAt  sql.NullInt64
				pid, parsed int64
				line        = &e.Line
			)
			if err := rows.Scan(&e.Device, &kind, &at, &e.RE, &e.Change, &e.Subject, &e.Class, &e.Rule,
				&line.File, &line.Raw, &lineAt, &line.Host, &line.Process, &pid, &line.Tag, &line.Message,
				&parsed); err != nil {
				return err
			}
			e.Kind, e.Time = devices.EventKind(kind), timeOrZero(at)
			line.Time, line.PID, line.Parsed = timeOrZero(lineAt), int(pid), parsed != 0
			return stopErr(fn(&e))
		})
	return readErr("events", err)
}

// shiftAppendedOccurrences adds, to the occurrence of each line of an
// appended file, the number of identical lines already stored.
func (s *sqliteStore) shiftAppendedOccurrences(ctx context.Context, tx *sql.Tx, device string, lines []devices.LogLine, cursors []devices.LogCursor, occ []int64) error {
	appended := make(map[string]bool, len(cursors))
	for _, c := range cursors {
		if c.Appended {
			appended[c.File] = true
		}
	}
	if len(appended) == 0 {
		return nil
	}
	stored := make(map[lineKey]int64)
	count := tx.StmtContext(ctx, s.countStoredLines)
	for i, l := range lines {
		if !appended[l.File] {
			continue
		}
		k, _, err := lineIdentity(l)
		if err != nil {
			return err
		}
		n, ok := stored[k]
		if !ok {
			if err := count.QueryRowContext(ctx, device, k.file, k.time, k.raw).Scan(&n); err != nil {
				return err
			}
			stored[k] = n
		}
		occ[i] += n
	}
	return nil
}
