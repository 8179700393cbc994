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

const (
	pgInsertPollSQL = `INSERT INTO polls (run_id, device, host, site, started, finished, outcome, error_kind, error,
    has_snapshot, polled_at, re_count, res_expected, absent_logs, log_gaps, clock_note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
RETURNING id`
	// The children of the poll inserted just before, in the same batch:
	// currval is this session's last value of the polls sequence.
	pgPollIDSQL   = `currval(pg_get_serial_sequence('polls', 'id'))`
	pgInsertRESQL = `INSERT INTO route_engines (poll_id, ord, name, member, slot, mastership_state, mastership_priority,
    status, model, serial, up_time_seconds, start_time, last_reboot_reason, temperature_c, cpu_temperature_c)
VALUES (` + pgPollIDSQL + `, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	pgInsertAlarmSQL = `INSERT INTO alarms (poll_id, ord, source, member, alarm_time, class, type, description,
    short_description) VALUES (` + pgPollIDSQL + `, $1, $2, $3, $4, $5, $6, $7, $8)`
	pgInsertSoftwareSQL = `INSERT INTO software (poll_id, ord, member, hostname, model, version)
VALUES (` + pgPollIDSQL + `, $1, $2, $3, $4, $5)`
)

func (s *pgStore) SavePoll(ctx context.Context, p *devices.Poll) error {
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

// savePoll sends the poll and its children as one batch: one round trip,
// and one implicit transaction (a batch runs in one unless it says
// otherwise), so either all of it is stored or none.
func (s *pgStore) savePoll(ctx context.Context, p *devices.Poll) (int64, error) {
	// The SQLite engine's validation: both engines accept the same polls.
	if _, err := pollArguments(p); err != nil {
		return 0, err
	}
	var runID *int64 // nil: a single check, not part of a run
	if p.RunID != 0 {
		runID = &p.RunID
	}
	snap := p.Snapshot
	var (
		polledAt pgtype.Timestamptz
		reCount  int
	)
	if snap != nil {
		polledAt, reCount = pgTimeOrNull(snap.PolledAt), len(snap.RouteEngines)
	}
	absent, err := absentLogsText(snap)
	if err != nil {
		return 0, err
	}
	gaps, err := logGapsText(snap)
	if err != nil {
		return 0, err
	}
	b := &pgx.Batch{}
	b.Queue(pgInsertPollSQL, runID, p.Device, p.Host, p.Site, pgTime(p.Started), pgTimeOrNull(p.Finished),
		string(p.Outcome), p.ErrorKind, pgSafeText(p.Error), snap != nil, polledAt, reCount, p.ExpectedREs, absent, gaps, pgSafeText(clockNoteOf(snap)))
	type child struct {
		what string
		ord  int
	}
	var children []child
	if snap != nil {
		for i, re := range snap.RouteEngines {
			start := pgtype.Timestamptz{}
			if re.StartTime != nil {
				start = pgtype.Timestamptz{Time: pgTime(*re.StartTime), Valid: true}
			}
			b.Queue(pgInsertRESQL, i, re.Name, re.Member, intOrNull(re.Slot), re.MastershipState, re.MastershipPriority,
				re.Status, re.Model, re.Serial, secondsOrNull(re.UpTime), start, re.LastRebootReason,
				intOrNull(re.TemperatureC), intOrNull(re.CPUTemperatureC))
			children = append(children, child{"route engine", i})
		}
		for i, al := range snap.Alarms {
			b.Queue(pgInsertAlarmSQL, i, string(al.Source), al.Member, pgTimeOrNull(al.Time), al.Class, al.Type,
				al.Description, al.ShortDescription)
			children = append(children, child{"alarm", i})
		}
		for i, sw := range snap.Software {
			b.Queue(pgInsertSoftwareSQL, i, sw.Member, sw.Hostname, sw.Model, sw.Version)
			children = append(children, child{"software", i})
		}
	}

	br := s.pool.SendBatch(ctx, b)
	var id int64
	err = br.QueryRow().Scan(&id)
	for i := 0; err == nil && i < len(children); i++ {
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("%s %d: %w", children[i].what, children[i].ord, err)
		}
	}
	// Close reads what is left and reports a failed commit.
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("commit: %w", cerr)
	}
	if err != nil {
		return 0, err
	}
	return id, nil
}

// pgScanPoll reads the pollColumns of one row.
func pgScanPoll(row pgx.Row) (devices.Poll, error) {
	var (
		p                  devices.Poll
		runID              *int64
		finished, polledAt *time.Time
		outcome            string
		hasSnapshot        bool
		absent, gaps       string
		clockNote          string
	)
	if err := row.Scan(&p.ID, &runID, &p.Device, &p.Host, &p.Site, &p.Started, &finished, &outcome,
		&p.ErrorKind, &p.Error, &hasSnapshot, &polledAt, &p.ExpectedREs, &absent, &gaps, &clockNote); err != nil {
		return p, err
	}
	if runID != nil {
		p.RunID = *runID
	}
	p.Finished = zeroIfNil(finished)
	p.Outcome = devices.Outcome(outcome)
	if hasSnapshot {
		p.Snapshot = &devices.Snapshot{Device: p.Device, PolledAt: zeroIfNil(polledAt), AbsentLogs: absentLogsOf(absent),
			ClockNote: clockNote}
		var err error
		if p.Snapshot.LogGaps, err = logGapsOf(gaps); err != nil {
			return p, fmt.Errorf("poll %d: %w", p.ID, err)
		}
	}
	return p, nil
}

// pgLatestPollsSQL is the latest poll of every device, by device. It
// walks the distinct devices through polls_device_started (a loose index
// scan: one seek per device, not a scan of the history, which DISTINCT
// ON would be) and takes the last entry of each device's range.
const pgLatestPollsSQL = `WITH RECURSIVE devs(device) AS (
    (SELECT device FROM polls ORDER BY device LIMIT 1)
    UNION ALL
    SELECT (SELECT p.device FROM polls p WHERE p.device > devs.device ORDER BY p.device LIMIT 1)
    FROM devs WHERE devs.device IS NOT NULL
)
SELECT latest.* FROM devs CROSS JOIN LATERAL (
    SELECT ` + pollColumns + ` FROM polls WHERE polls.device = devs.device ORDER BY started DESC, id DESC LIMIT 1
) latest
WHERE devs.device IS NOT NULL
ORDER BY latest.device`

func (s *pgStore) LatestPolls(ctx context.Context) ([]devices.Poll, error) {
	var polls []devices.Poll
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		polls, err = pgQueryPolls(ctx, tx, pgLatestPollsSQL)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("latest polls: %w", err)
	}
	return polls, nil
}

// pgQueryPolls reads the polls a query selects (pollColumns), in its
// order, with their snapshots, in tx.
func pgQueryPolls(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]devices.Poll, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var polls []devices.Poll
	for rows.Next() {
		p, err := pgScanPoll(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		polls = append(polls, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	snaps := make(map[int64]*devices.Snapshot, len(polls))
	ids := make([]int64, 0, len(polls))
	for i := range polls {
		if polls[i].Snapshot != nil {
			snaps[polls[i].ID] = polls[i].Snapshot
			ids = append(ids, polls[i].ID)
		}
	}
	if len(ids) > 0 {
		if err := pgLoadChildren(ctx, tx, snaps, ids); err != nil {
			return nil, err
		}
	}
	return polls, nil
}

func (s *pgStore) LatestPoll(ctx context.Context, device string) (*devices.Poll, error) {
	p, err := s.latestPollWhere(ctx, `device = $1`, device)
	if err != nil {
		return nil, fmt.Errorf("latest poll of %s: %w", device, err)
	}
	return p, nil
}

func (s *pgStore) LatestREPoll(ctx context.Context, device string) (*devices.Poll, error) {
	p, err := s.latestPollWhere(ctx, `device = $1 AND re_count > 0`, device)
	if err != nil {
		return nil, fmt.Errorf("latest poll of %s with an RE table: %w", device, err)
	}
	return p, nil
}

// latestPollWhere reads the poll and its children in one snapshot, so a
// prune deleting the poll in between cannot hand back a snapshot without
// children: one REPEATABLE READ transaction, sent whole in one round trip
// (the children are those of the poll the same condition selects).
func (s *pgStore) latestPollWhere(ctx context.Context, where, device string) (*devices.Poll, error) {
	latest := ` FROM polls WHERE ` + where + ` ORDER BY started DESC, id DESC LIMIT 1`
	var (
		p     *devices.Poll
		snaps = make(map[int64]*devices.Snapshot, 1)
		b     = &pgBatch{}
	)
	b.query("load poll", func(rows pgx.Rows) error {
		got, err := pgScanPoll(rows)
		if err != nil {
			return err
		}
		p = &got
		if p.Snapshot != nil {
			snaps[p.ID] = p.Snapshot
		}
		return nil
	}, `SELECT `+pollColumns+latest, device)
	pgQueueChildren(b, snaps, `SELECT id`+latest, device)
	if err := s.sendTx(ctx, pgBeginRead, b); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *pgStore) LatestPollID(ctx context.Context, device string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM polls WHERE device = $1 ORDER BY started DESC, id DESC LIMIT 1`, device).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest poll of %s: %w", device, err)
	}
	return id, nil
}

func (s *pgStore) MaxREsSeen(ctx context.Context, device string) (int, error) {
	var n *int // NULL when the device has no polls
	if err := s.pool.QueryRow(ctx, `SELECT MAX(re_count) FROM polls WHERE device = $1`, device).Scan(&n); err != nil {
		return 0, fmt.Errorf("max route engines of %s: %w", device, err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// pgLoadChildren fills the route engines, alarms and software of snaps
// (by poll ID) for the polls ids, in their saved order: three queries in
// one round trip.
func pgLoadChildren(ctx context.Context, tx pgx.Tx, snaps map[int64]*devices.Snapshot, ids []int64) error {
	b := &pgBatch{}
	pgQueueChildren(b, snaps, `$1`, ids)
	return tx.SendBatch(ctx, &b.Batch).Close()
}

// pgQueueChildren queues the reads of the route engines, alarms and
// software of the polls that polls selects — an array parameter or a
// subquery, with its args — into snaps (by poll ID), in their saved
// order. A poll missing from snaps has its children skipped.
func pgQueueChildren(b *pgBatch, snaps map[int64]*devices.Snapshot, polls string, args ...any) {
	var pollID int64
	b.query("load route engines", func(r pgx.Rows) error {
		var (
			re     devices.RouteEngine
			upTime *int64
		)
		if err := r.Scan(&pollID, &re.Name, &re.Member, &re.Slot, &re.MastershipState, &re.MastershipPriority,
			&re.Status, &re.Model, &re.Serial, &upTime, &re.StartTime, &re.LastRebootReason, &re.TemperatureC,
			&re.CPUTemperatureC); err != nil {
			return err
		}
		if upTime != nil {
			d := time.Duration(*upTime) * time.Second
			re.UpTime = &d
		}
		if s := snaps[pollID]; s != nil {
			s.RouteEngines = append(s.RouteEngines, re)
		}
		return nil
	}, `SELECT poll_id, name, member, slot, mastership_state, mastership_priority, status, model, serial,
    up_time_seconds, start_time, last_reboot_reason, temperature_c, cpu_temperature_c
FROM route_engines WHERE poll_id = ANY(`+polls+`) ORDER BY poll_id, ord`, args...)

	b.query("load alarms", func(r pgx.Rows) error {
		var (
			al     devices.Alarm
			source string
			at     *time.Time
		)
		if err := r.Scan(&pollID, &source, &al.Member, &at, &al.Class, &al.Type, &al.Description,
			&al.ShortDescription); err != nil {
			return err
		}
		al.Source, al.Time = devices.AlarmSource(source), zeroIfNil(at)
		if s := snaps[pollID]; s != nil {
			s.Alarms = append(s.Alarms, al)
		}
		return nil
	}, `SELECT poll_id, source, member, alarm_time, class, type, description, short_description
FROM alarms WHERE poll_id = ANY(`+polls+`) ORDER BY poll_id, ord`, args...)

	b.query("load software", func(r pgx.Rows) error {
		var sw devices.Software
		if err := r.Scan(&pollID, &sw.Member, &sw.Hostname, &sw.Model, &sw.Version); err != nil {
			return err
		}
		if s := snaps[pollID]; s != nil {
			s.Software = append(s.Software, sw)
		}
		return nil
	}, `SELECT poll_id, member, hostname, model, version
FROM software WHERE poll_id = ANY(`+polls+`) ORDER BY poll_id, ord`, args...)
}

// pgEachRow reads the next result of a batch, calling fn for every row.
func pgEachRow(br pgx.BatchResults, fn func(pgx.Rows) error) error {
	rows, err := br.Query()
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

// EachPoll reads pages of polls by keyset, as the SQLite engine does:
// rows after the last one sent in (started, id) order, so polls saved
// meanwhile neither repeat nor shift pages. Each page is one short
// REPEATABLE READ transaction (the polls and their children seen
// together), so a long export holds neither memory nor one snapshot for
// its whole run (a long snapshot holds back vacuum).
func (s *pgStore) EachPoll(ctx context.Context, f Filter, fn func(*devices.Poll) error) error {
	left := f.Limit // <= 0: no limit
	var (
		lastStarted time.Time
		lastID      int64
		first       = true
	)
	for {
		var w pgFilter
		w.devices("device", f.Devices)
		w.timeRange("started", "started", f)
		if !first {
			w.add("(started, id) > (" + w.arg(lastStarted) + ", " + w.arg(lastID) + ")")
		}
		n := pollPage
		if left > 0 && left < n {
			n = left
		}
		query := `SELECT ` + pollColumns + ` FROM polls` + w.String() + ` ORDER BY started, id LIMIT ` + w.arg(n)
		var page []devices.Poll
		err := s.readTx(ctx, func(tx pgx.Tx) error {
			var err error
			page, err = pgQueryPolls(ctx, tx, query, w.args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("polls: %w", err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < n {
			return nil
		}
		if left > 0 {
			if left -= len(page); left == 0 {
				return nil
			}
		}
		last := page[len(page)-1]
		lastStarted, lastID, first = last.Started, last.ID, false
	}
}
