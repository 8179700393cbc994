package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices"
)

const (
	insertRunSQL = `INSERT INTO runs (started, agent) VALUES (?, ?)`
	finishRunSQL = `UPDATE runs
SET finished = ?, devices = ?, ok = ?, failed = ?, interrupted = ?, unstored = ?
WHERE id = ?`
	// claimPollSQL inserts a claim or, when the slot's device is claimed
	// already, reads the claimant back.
	claimPollSQL = `INSERT INTO poll_claims (slot, device, agent, claimed_at) VALUES (?, ?, ?, ?)
ON CONFLICT (slot, device) DO UPDATE SET slot = excluded.slot
RETURNING agent`
)

func (s *sqliteStore) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	if started.IsZero() {
		return 0, errors.New("begin run: no start time")
	}
	at, err := nanos(started)
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	res, err := s.insertRun.ExecContext(ctx, at, s.agent.String())
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return id, nil
}

func (s *sqliteStore) FinishRun(ctx context.Context, run devices.Run) error {
	finished, err := nanosOrNull(run.Finished)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	res, err := s.finishRun.ExecContext(ctx,
		finished, int64(run.Devices), int64(run.OK), int64(run.Failed), boolInt(run.Interrupted), int64(run.Unstored), run.ID)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("finish run %d: %w", run.ID, ErrNotFound)
	}
	return nil
}

func (s *sqliteStore) Runs(ctx context.Context, limit int) ([]devices.Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT id, started, finished, devices, ok, failed, interrupted, unstored
FROM runs ORDER BY started DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []devices.Run
	for rows.Next() {
		var (
			r                     devices.Run
			started               int64
			finished              sql.NullInt64
			count, ok, failed, ir int64
			unstored              int64
		)
		if err := rows.Scan(&r.ID, &started, &finished, &count, &ok, &failed, &ir, &unstored); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.Started = fromNanos(started)
		r.Finished = timeOrZero(finished)
		r.Devices, r.OK, r.Failed, r.Interrupted, r.Unstored = int(count), int(ok), int(failed), ir != 0, int(unstored)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) RecoverRuns(ctx context.Context) ([]devices.Run, error) {
	out, err := s.recoverRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover unfinished runs: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) recoverRuns(ctx context.Context) (_ []devices.Run, err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error is the news
		}
	}()
	type unfinished struct {
		id, started int64
		agent       string
	}
	var runs []unfinished
	if err := eachRow(ctx, tx, `SELECT id, started, agent FROM runs WHERE finished IS NULL ORDER BY id`, nil,
		func(rows *sql.Rows) error {
			var u unfinished
			if err := rows.Scan(&u.id, &u.started, &u.agent); err != nil {
				return err
			}
			runs = append(runs, u)
			return nil
		}); err != nil {
		return nil, err
	}
	var out []devices.Run
	for _, u := range runs {
		a, ok := parseAgent(u.agent)
		if !ok || !s.agent.gone(a) {
			continue
		}
		// The counts are what was stored before the agent died; the last
		// poll's end is as close to the run's end as the file can tell.
		r := devices.Run{ID: u.id, Started: fromNanos(u.started), Interrupted: true}
		var (
			count, ok64 int64
			last        sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(outcome IN ('ok', 'partial')), 0),
    MAX(COALESCE(finished, started)) FROM polls WHERE run_id = ?`, u.id).Scan(&count, &ok64, &last); err != nil {
			return nil, fmt.Errorf("run %d: %w", u.id, err)
		}
		r.Devices, r.OK, r.Failed = int(count), int(ok64), int(count-ok64)
		r.Finished = r.Started
		if last.Valid {
			r.Finished = fromNanos(last.Int64)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET finished = ?, devices = ?, ok = ?, failed = ?, interrupted = 1
WHERE id = ?`, r.Finished.UnixNano(), count, ok64, count-ok64, u.id); err != nil {
			return nil, fmt.Errorf("run %d: %w", u.id, err)
		}
		out = append(out, r)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) ClaimPoll(ctx context.Context, slot time.Time, device string) (bool, error) {
	at, err := nanos(slot)
	if err != nil || slot.IsZero() {
		return false, fmt.Errorf("claim poll of %s: bad slot %v", device, slot)
	}
	me := s.agent.claimant()
	// One statement: the insert wins or the existing claim is read back,
	// atomically under SQLite's single writer.
	var owner string
	err = s.claimPoll.QueryRowContext(ctx, at, device, me, s.now().UTC().UnixNano()).Scan(&owner)
	if err != nil {
		return false, fmt.Errorf("claim poll of %s: %w", device, err)
	}
	return owner == me, nil
}
