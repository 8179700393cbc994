package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mastership/mastership/devices"
)

// pollArgs is a poll converted to column values, children included.
type pollArgs struct {
	poll                []any
	res, alarms, softwr [][]any // without poll_id and ord, which are added at insert
}

// pollArguments validates and converts the whole poll before the write
// transaction starts, so a bad value never holds the single writer.
func pollArguments(p *devices.Poll) (pollArgs, error) {
	var a pollArgs
	if p.Device == "" {
		return a, errors.New("no device name")
	}
	if p.Started.IsZero() {
		return a, errors.New("no start time")
	}
	if p.Outcome == "" {
		return a, errors.New("no outcome")
	}
	started, err := nanos(p.Started)
	if err != nil {
		return a, fmt.Errorf("started: %w", err)
	}
	finished, err := nanosOrNull(p.Finished)
	if err != nil {
		return a, fmt.Errorf("finished: %w", err)
	}
	var runID any // 0: a single check, not part of a run
	if p.RunID != 0 {
		runID = p.RunID
	}

	snap := p.Snapshot
	var polledAt any
	if snap != nil {
		if snap.Device != "" && snap.Device != p.Device {
			return a, fmt.Errorf("snapshot is of device %q", snap.Device)
		}
		if polledAt, err = nanosOrNull(snap.PolledAt); err != nil {
			return a, fmt.Errorf("polled at: %w", err)
		}
		for _, re := range snap.RouteEngines {
			start, err := nanosPtr(re.StartTime)
			if err != nil {
				return a, fmt.Errorf("route engine %s: start time: %w", re.Name, err)
			}
			a.res = append(a.res, []any{re.Name, re.Member, intOrNull(re.Slot), re.MastershipState,
				re.MastershipPriority, re.Status, re.Model, re.Serial, secondsOrNull(re.UpTime), start,
				re.LastRebootReason, intOrNull(re.TemperatureC), intOrNull(re.CPUTemperatureC)})
		}
		for _, al := range snap.Alarms {
			at, err := nanosOrNull(al.Time)
			if err != nil {
				return a, fmt.Errorf("alarm %q: %w", al.Description, err)
			}
			a.alarms = append(a.alarms, []any{string(al.Source), al.Member, at, al.Class, al.Type,
				al.Description, al.ShortDescription})
		}
		for _, sw := range snap.Software {
			a.softwr = append(a.softwr, []any{sw.Member, sw.Hostname, sw.Model, sw.Version})
		}
	}
	absent, err := absentLogsText(snap)
	if err != nil {
		return a, err
	}
	gaps, err := logGapsText(snap)
	if err != nil {
		return a, err
	}
	a.poll = []any{runID, p.Device, p.Host, p.Site, started, finished, string(p.Outcome),
		p.ErrorKind, p.Error, boolInt(snap != nil), polledAt, int64(len(a.res)), int64(p.ExpectedREs), absent, gaps, clockNoteOf(snap)}
	return a, nil
}

const (
	insertPollSQL = `INSERT INTO polls (run_id, device, host, site, started, finished, outcome,
    error_kind, error, has_snapshot, polled_at, re_count, res_expected, absent_logs, log_gaps, clock_note)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertRESQL = `INSERT INTO route_engines (poll_id, ord, name, member, slot, mastership_state,
    mastership_priority, status, model, serial, up_time_seconds, start_time, last_reboot_reason,
    temperature_c, cpu_temperature_c) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertAlarmSQL = `INSERT INTO alarms (poll_id, ord, source, member, alarm_time, class, type,
    description, short_description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertSoftwareSQL = `INSERT INTO software (poll_id, ord, member, hostname, model, version)
    VALUES (?, ?, ?, ?, ?, ?)`
)

func (s *sqliteStore) SavePoll(ctx context.Context, p *devices.Poll) error {
	if p == nil {
		return errors.New("save poll: nil poll")
	}
	id, err := s.savePoll(ctx, p)
	if err != nil {
		return fmt.Errorf("save poll of %s: %w", p.Device, err)
	}
	p.ID = id
	return nil
}

func (s *sqliteStore) savePoll(ctx context.Context, p *devices.Poll) (_ int64, err error) {
	args, err := pollArguments(p)
	if err != nil {
		return 0, err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the insert error is the one to report
		}
	}()

	// tx.StmtContext finds the statement already prepared on the
	// writer's only connection and reuses it.
	res, err := tx.StmtContext(ctx, s.insertPoll).ExecContext(ctx, args.poll...)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	for _, child := range []struct {
		stmt *sql.Stmt
		rows [][]any
		what string
	}{
		{s.insertRE, args.res, "route engine"},
		{s.insertAlarm, args.alarms, "alarm"},
		{s.insertSoftware, args.softwr, "software"},
	} {
		if len(child.rows) == 0 {
			continue
		}
		st := tx.StmtContext(ctx, child.stmt)
		for ord, row := range child.rows {
			vals := append([]any{id, int64(ord)}, row...)
			if _, err := st.ExecContext(ctx, vals...); err != nil {
				return 0, fmt.Errorf("%s %d: %w", child.what, ord, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

// pollColumns are read by scanPoll, in this order.
const pollColumns = `id, run_id, device, host, site, started, finished, outcome, error_kind, error,
    has_snapshot, polled_at, res_expected, absent_logs, log_gaps, clock_note`

const (
	maxREsSQL     = `SELECT MAX(re_count) FROM polls WHERE device = ?`
	latestPollSQL = `SELECT ` + pollColumns + ` FROM polls WHERE device = ?
    ORDER BY started DESC, id DESC LIMIT 1`
	latestREPollSQL = `SELECT ` + pollColumns + ` FROM polls WHERE device = ? AND re_count > 0
    ORDER BY started DESC, id DESC LIMIT 1`
	latestPollIDSQL = `SELECT id FROM polls WHERE device = ? ORDER BY started DESC, id DESC LIMIT 1`
)

type rowScanner interface{ Scan(dest ...any) error }

func scanPoll(sc rowScanner) (devices.Poll, error) {
	var (
		p                  devices.Poll
		runID              sql.NullInt64
		started            int64
		finished, polledAt sql.NullInt64
		outcome            string
		hasSnapshot        int64
		expected           int64
		absent, gaps       string
		clockNote          string
	)
	if err := sc.Scan(&p.ID, &runID, &p.Device, &p.Host, &p.Site, &started, &finished, &outcome,
		&p.ErrorKind, &p.Error, &hasSnapshot, &polledAt, &expected, &absent, &gaps, &clockNote); err != nil {
		return p, err
	}
	p.RunID = runID.Int64
	p.Started = fromNanos(started)
	p.Finished = timeOrZero(finished)
	p.Outcome = devices.Outcome(outcome)
	p.ExpectedREs = int(expected)
	if hasSnapshot != 0 {
		p.Snapshot = &devices.Snapshot{Device: p.Device, PolledAt: timeOrZero(polledAt), AbsentLogs: absentLogsOf(absent),
			ClockNote: clockNote}
		var err error
		if p.Snapshot.LogGaps, err = logGapsOf(gaps); err != nil {
			return p, fmt.Errorf("poll %d: %w", p.ID, err)
		}
	}
	return p, nil
}

// latestCTE names, as "latest(id)", the latest poll of every device. It
// walks the distinct devices through the polls_device_started index (a
// loose index scan: one seek per device, not a scan of the history) and
// takes the last entry of each device's range.
const latestCTE = `WITH RECURSIVE
devs(device) AS (
    SELECT MIN(device) FROM polls
    UNION ALL
    SELECT (SELECT MIN(device) FROM polls WHERE device > devs.device) FROM devs WHERE devs.device IS NOT NULL
),
latest(id) AS (
    SELECT (SELECT id FROM polls WHERE device = devs.device ORDER BY started DESC, id DESC LIMIT 1)
    FROM devs WHERE devs.device IS NOT NULL
)
`

func (s *sqliteStore) LatestPolls(ctx context.Context) ([]devices.Poll, error) {
	polls, err := s.latestPolls(ctx)
	if err != nil {
		return nil, fmt.Errorf("latest polls: %w", err)
	}
	return polls, nil
}

func (s *sqliteStore) latestPolls(ctx context.Context) ([]devices.Poll, error) {
	// One read transaction: the CTE is evaluated once per query, and all
	// four must see the same latest polls even while pollers commit.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to keep

	var polls []devices.Poll
	err = eachRow(ctx, tx, latestCTE+`SELECT `+pollColumns+`
FROM polls WHERE id IN (SELECT id FROM latest) ORDER BY device`, nil, func(rows *sql.Rows) error {
		p, err := scanPoll(rows)
		polls = append(polls, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	snaps := make(map[int64]*devices.Snapshot, len(polls))
	for i := range polls {
		if polls[i].Snapshot != nil {
			snaps[polls[i].ID] = polls[i].Snapshot
		}
	}
	if len(snaps) == 0 {
		return polls, nil
	}
	if err := loadChildren(ctx, tx, snaps, latestCTE, `poll_id IN (SELECT id FROM latest)`); err != nil {
		return nil, err
	}
	return polls, nil
}

func (s *sqliteStore) LatestPoll(ctx context.Context, device string) (*devices.Poll, error) {
	p, err := s.latestPollOf(ctx, device)
	if err != nil {
		return nil, fmt.Errorf("latest poll of %s: %w", device, err)
	}
	return p, nil
}

func (s *sqliteStore) LatestREPoll(ctx context.Context, device string) (*devices.Poll, error) {
	p, err := s.latestPollBy(ctx, s.latestREPoll, device)
	if err != nil {
		return nil, fmt.Errorf("latest poll of %s with an RE table: %w", device, err)
	}
	return p, nil
}

func (s *sqliteStore) latestPollOf(ctx context.Context, device string) (*devices.Poll, error) {
	return s.latestPollBy(ctx, s.latestPoll, device)
}

func (s *sqliteStore) latestPollBy(ctx context.Context, stmt *sql.Stmt, device string) (*devices.Poll, error) {
	// A read transaction so a future retention job deleting the poll
	// between the two reads cannot hand back a snapshot without children.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to keep

	p, err := scanPoll(tx.StmtContext(ctx, stmt).QueryRowContext(ctx, device))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p.Snapshot != nil {
		snaps := map[int64]*devices.Snapshot{p.ID: p.Snapshot}
		sel := childSelects{tx.StmtContext(ctx, s.pollREs), tx.StmtContext(ctx, s.pollAlarms),
			tx.StmtContext(ctx, s.pollSoftware)}
		if err := sel.load(ctx, snaps, p.ID); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

func (s *sqliteStore) LatestPollID(ctx context.Context, device string) (int64, error) {
	var id int64
	err := s.latestPollID.QueryRowContext(ctx, device).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest poll of %s: %w", device, err)
	}
	return id, nil
}

func (s *sqliteStore) MaxREsSeen(ctx context.Context, device string) (int, error) {
	var n sql.NullInt64 // NULL when the device has no polls
	if err := s.maxREs.QueryRowContext(ctx, device).Scan(&n); err != nil {
		return 0, fmt.Errorf("max route engines of %s: %w", device, err)
	}
	return int(n.Int64), nil
}

// loadChildren fills the route engines, alarms and software of snaps (by
// poll ID) from the rows matching where, in their saved order. prefix is
// put before each query (a WITH clause where needs). It runs the text
// unprepared: for a select run often, prepare childSelects once instead.
func loadChildren(ctx context.Context, q queryer, snaps map[int64]*devices.Snapshot, prefix, where string, args ...any) error {
	return childSelects{
		textQuery{q, routeEnginesSelect(prefix, where)},
		textQuery{q, alarmsSelect(prefix, where)},
		textQuery{q, softwareSelect(prefix, where)},
	}.load(ctx, snaps, args...)
}

// The selects of loadChildren, each of the rows matching where, ordered by
// poll and saved order; prefix is put before each (a WITH clause where
// needs).

func routeEnginesSelect(prefix, where string) string {
	return prefix + `SELECT poll_id, name, member, slot, mastership_state, mastership_priority,
    status, model, serial, up_time_seconds, start_time, last_reboot_reason, temperature_c, cpu_temperature_c
FROM route_engines WHERE ` + where + ` ORDER BY poll_id, ord`
}

func alarmsSelect(prefix, where string) string {
	return prefix + `SELECT poll_id, source, member, alarm_time, class, type, description,
    short_description
FROM alarms WHERE ` + where + ` ORDER BY poll_id, ord`
}

func softwareSelect(prefix, where string) string {
	return prefix + `SELECT poll_id, member, hostname, model, version
FROM software WHERE ` + where + ` ORDER BY poll_id, ord`
}

// childSelects are a routeEnginesSelect, an alarmsSelect and a
// softwareSelect with the same where, prepared or not.
type childSelects struct{ routeEngines, alarms, software rowQuery }

// load fills the route engines, alarms and software of snaps (by poll ID)
// from the rows the selects return given args.
func (sel childSelects) load(ctx context.Context, snaps map[int64]*devices.Snapshot, args ...any) error {
	if err := eachRowOf(ctx, sel.routeEngines, args, func(rows *sql.Rows) error {
		var (
			pollID                        int64
			re                            devices.RouteEngine
			slot, upTime, start, tmp, cpu sql.NullInt64
		)
		if err := rows.Scan(&pollID, &re.Name, &re.Member, &slot, &re.MastershipState, &re.MastershipPriority,
			&re.Status, &re.Model, &re.Serial, &upTime, &start, &re.LastRebootReason, &tmp, &cpu); err != nil {
			return err
		}
		re.Slot, re.UpTime, re.StartTime = intPtr(slot), durationPtr(upTime), timePtr(start)
		re.TemperatureC, re.CPUTemperatureC = intPtr(tmp), intPtr(cpu)
		if s := snaps[pollID]; s != nil {
			s.RouteEngines = append(s.RouteEngines, re)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("load route engines: %w", err)
	}

	if err := eachRowOf(ctx, sel.alarms, args, func(rows *sql.Rows) error {
		var (
			pollID int64
			al     devices.Alarm
			source string
			at     sql.NullInt64
		)
		if err := rows.Scan(&pollID, &source, &al.Member, &at, &al.Class, &al.Type, &al.Description,
			&al.ShortDescription); err != nil {
			return err
		}
		al.Source, al.Time = devices.AlarmSource(source), timeOrZero(at)
		if s := snaps[pollID]; s != nil {
			s.Alarms = append(s.Alarms, al)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("load alarms: %w", err)
	}

	if err := eachRowOf(ctx, sel.software, args, func(rows *sql.Rows) error {
		var (
			pollID int64
			sw     devices.Software
		)
		if err := rows.Scan(&pollID, &sw.Member, &sw.Hostname, &sw.Model, &sw.Version); err != nil {
			return err
		}
		if s := snaps[pollID]; s != nil {
			s.Software = append(s.Software, sw)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("load software: %w", err)
	}
	return nil
}

// eachRow runs query and calls fn for every row.
func eachRow(ctx context.Context, q queryer, query string, args []any, fn func(*sql.Rows) error) error {
	return eachRowOf(ctx, textQuery{q, query}, args, fn)
}

// rowQuery is a select ready to run: a prepared *sql.Stmt, or a textQuery.
type rowQuery interface {
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
}

// textQuery is query text run on q, prepared anew each time.
type textQuery struct {
	q    queryer
	text string
}

func (t textQuery) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return t.q.QueryContext(ctx, t.text, args...)
}

// eachRowOf runs q and calls fn for every row.
func eachRowOf(ctx context.Context, q rowQuery, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// callbackError marks an error returned by a caller's callback in an Each
// reader, so the reader hands it back as it is (a report's broken pipe is
// not a database error).
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

// stopErr marks fn's error, nil staying nil.
func stopErr(err error) error {
	if err == nil {
		return nil
	}
	return callbackError{err}
}

// readErr returns a callback's error unchanged and wraps any other with
// what was being read.
func readErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var cb callbackError
	if errors.As(err, &cb) {
		return cb.err
	}
	return fmt.Errorf("%s: %w", what, err)
}
