package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Prune deletes what the SQLite engine's Prune deletes (see there), the
// same way: candidates found outside any write transaction, deleted in
// transactions of about pruneBatch rows that re-check them. PostgreSQL's
// writers do not queue behind one another as SQLite's do, so the small
// transactions are less about letting polls through than about short
// row locks, small WAL bursts and no long-running transaction holding
// back vacuum. The simple tables' batches take their rows with FOR UPDATE
// SKIP LOCKED, so two agents pruning one database at once share the work
// instead of queueing on each other's rows.
func (s *pgStore) Prune(ctx context.Context, before time.Time) (PruneStats, error) {
	var st PruneStats
	if before.IsZero() {
		return st, errors.New("prune: no cut-off time")
	}
	if _, err := nanos(before); err != nil { // the range both engines accept
		return st, fmt.Errorf("prune: %w", err)
	}
	cut := pgCeil(before) // t < before, for stored (microsecond) times
	// Polls before runs: a run is only deleted once no poll refers to it.
	for _, step := range []struct {
		what string
		fn   func() error
	}{
		{"polls", func() error { return s.prunePolls(ctx, cut, &st) }},
		{"runs", func() error {
			return s.deleteInBatches(ctx, &st.Runs, `DELETE FROM runs WHERE id IN (
    SELECT r.id FROM runs r WHERE r.started < $1 AND r.finished < $1
        AND NOT EXISTS (SELECT 1 FROM polls p WHERE p.run_id = r.id)
    LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"log lines", func() error { return s.pruneLogLines(ctx, cut, &st) }},
		{"poll claims", func() error {
			return s.deleteInBatches(ctx, &st.Claims, `DELETE FROM poll_claims WHERE (slot, device) IN (
    SELECT slot, device FROM poll_claims WHERE slot < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"transitions", func() error {
			return s.deleteInBatches(ctx, &st.Transitions, `DELETE FROM transitions WHERE id IN (
    SELECT id FROM transitions WHERE time < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"alarm records", func() error {
			return s.deleteInBatches(ctx, &st.AlarmRecords, `DELETE FROM alarm_records WHERE id IN (
    SELECT id FROM alarm_records WHERE cleared_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"findings", func() error {
			return s.deleteInBatches(ctx, &st.Findings, `DELETE FROM findings WHERE (device, re, first_transition) IN (
    SELECT device, re, first_transition FROM findings WHERE last_transition < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"configurations", func() error {
			return s.deleteInBatches(ctx, &st.Configs, `DELETE FROM configs WHERE (device, at) IN (
    SELECT c.device, c.at FROM configs c WHERE c.at < $1
        AND EXISTS (SELECT 1 FROM configs n WHERE n.device = c.device AND n.at > c.at AND n.at <= $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"switchovers", func() error {
			return s.deleteInBatches(ctx, &st.Switchovers, `DELETE FROM switchovers WHERE (device, time, new_master) IN (
    SELECT device, time, new_master FROM switchovers WHERE time < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
		{"maintenance windows", func() error {
			return s.deleteInBatches(ctx, &st.MaintenanceWindows, `DELETE FROM maintenance_windows WHERE id IN (
    SELECT id FROM maintenance_windows WHERE until_time < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cut)
		}},
	} {
		if err := step.fn(); err != nil {
			return st, fmt.Errorf("prune %s: %w", step.what, err)
		}
	}
	return st, nil
}

// deleteInBatches runs query, a DELETE of at most $2 rows given the cut
// as $1, one statement (one transaction) at a time until a batch deletes
// fewer rows.
func (s *pgStore) deleteInBatches(ctx context.Context, n *int64, query string, cut time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		tag, err := s.pool.Exec(ctx, query, cut, pruneBatch)
		if err != nil {
			return err
		}
		*n += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return nil
		}
	}
}

// nextKey returns the single text value query finds, ok false when none.
func (s *pgStore) nextKey(ctx context.Context, query string, args ...any) (string, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, query, args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// prunePolls walks every device's polls before cut through the
// polls_device_started index and deletes them in batches; each batch
// re-checks that a poll is still not one of its device's kept polls.
func (s *pgStore) prunePolls(ctx context.Context, cut time.Time, st *PruneStats) error {
	b := &idBatch{flush: func(ids []int64) error { return s.deletePolls(ctx, ids, cut, st) }}
	device := ""
	for {
		next, ok, err := s.nextKey(ctx, `SELECT device FROM polls WHERE device > $1 ORDER BY device LIMIT 1`, device)
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		if !ok {
			return b.done()
		}
		device = next
		afterStarted := pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		var afterID int64
		for {
			rows, err := s.pool.Query(ctx, `SELECT id, started FROM polls
WHERE device = $1 AND started < $2 AND (started, id) > ($3, $4)
ORDER BY started, id LIMIT $5`, device, cut, afterStarted, afterID, pruneBatch)
			if err != nil {
				return fmt.Errorf("polls of %s: %w", device, err)
			}
			var page []int64
			_, err = pgx.ForEachRow(rows, []any{&afterID, &afterStarted}, func() error {
				page = append(page, afterID)
				return nil
			})
			if err != nil {
				return fmt.Errorf("polls of %s: %w", device, err)
			}
			// Flushed after the page is read: a batch's transaction needs a
			// connection of its own.
			for _, id := range page {
				if err := b.add(id); err != nil {
					return err
				}
			}
			if len(page) < pruneBatch {
				break
			}
		}
	}
}

func (s *pgStore) deletePolls(ctx context.Context, candidates []int64, cut time.Time, st *PruneStats) error {
	var got PruneStats
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.id FROM polls p
WHERE p.id = ANY($1) AND p.started < $2 AND `+keptPollGuard, candidates, cut)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		// Children first and by name, not by ON DELETE CASCADE, so they
		// are counted.
		counts := []*int64{&got.RouteEngines, &got.Alarms, &got.Software, &got.Polls}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM route_engines WHERE poll_id = ANY($1)`, ids)
		b.Queue(`DELETE FROM alarms WHERE poll_id = ANY($1)`, ids)
		b.Queue(`DELETE FROM software WHERE poll_id = ANY($1)`, ids)
		b.Queue(`DELETE FROM polls WHERE id = ANY($1)`, ids)
		br := tx.SendBatch(ctx, b)
		for _, n := range counts {
			tag, err := br.Exec()
			if err != nil {
				_ = br.Close() // the statement's error is the one to report
				return err
			}
			*n = tag.RowsAffected()
		}
		return br.Close()
	})
	if err != nil {
		return err
	}
	st.Polls += got.Polls
	st.RouteEngines += got.RouteEngines
	st.Alarms += got.Alarms
	st.Software += got.Software
	return nil
}

// pruneLogLines walks every (device, file) of log_lines through the
// identity index (device, file, time_key, …): a range scan of the old
// lines of each file, untimed lines (time_key '-infinity') excluded.
func (s *pgStore) pruneLogLines(ctx context.Context, cut time.Time, st *PruneStats) error {
	b := &idBatch{flush: func(ids []int64) error { return s.deleteLogLines(ctx, ids, cut, st) }}
	device := ""
	for {
		next, ok, err := s.nextKey(ctx, `SELECT device FROM log_lines WHERE device > $1 ORDER BY device LIMIT 1`, device)
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		if !ok {
			return b.done()
		}
		device = next
		file := ""
		for {
			next, ok, err := s.nextKey(ctx, `SELECT file FROM log_lines WHERE device = $1 AND file > $2 ORDER BY file LIMIT 1`,
				device, file)
			if err != nil {
				return fmt.Errorf("list files of %s: %w", device, err)
			}
			if !ok {
				break
			}
			file = next
			// Keyset on time_key alone: deleteLogLines takes whole time
			// groups, so the lines of the last time seen that did not fit
			// in the page go with it.
			after := pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
			for {
				rows, err := s.pool.Query(ctx, `SELECT id, time_key FROM log_lines
WHERE device = $1 AND file = $2 AND time_key > $3 AND time_key < $4
ORDER BY time_key LIMIT $5`, device, file, after, cut, pruneBatch)
				if err != nil {
					return fmt.Errorf("log lines of %s %s: %w", device, file, err)
				}
				var (
					id   int64
					page []int64
				)
				if _, err := pgx.ForEachRow(rows, []any{&id, &after}, func() error {
					page = append(page, id)
					return nil
				}); err != nil {
					return fmt.Errorf("log lines of %s %s: %w", device, file, err)
				}
				for _, id := range page {
					if err := b.add(id); err != nil {
						return err
					}
				}
				if len(page) < pruneBatch {
					break
				}
			}
		}
	}
}

func (s *pgStore) deleteLogLines(ctx context.Context, candidates []int64, cut time.Time, st *PruneStats) error {
	var lines, events int64
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		// The devices' history locks, as SaveLogs takes them: a save
		// numbering repeated lines after the stored ones must not count
		// lines this batch is deleting.
		rows, err := tx.Query(ctx, `SELECT DISTINCT device FROM log_lines WHERE id = ANY($1)`, candidates)
		if err != nil {
			return err
		}
		devs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if err := lockDevices(ctx, tx, devs...); err != nil {
			return err
		}
		// Every line of the candidates' (device, file, time): identical
		// lines are numbered within that group, and deleting part of a
		// group would leave a numbering that does not start at 0.
		rows, err = tx.Query(ctx, `SELECT DISTINCT l.id FROM log_lines c
JOIN log_lines l ON l.device = c.device AND l.file = c.file AND l.time_key = c.time_key
WHERE c.id = ANY($1) AND l.line_time < $2`, candidates, cut)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		// Events first and by name, not by ON DELETE CASCADE, so they are
		// counted.
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE log_line_id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		events = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, `DELETE FROM log_lines WHERE id = ANY($1)`, ids); err != nil {
			return err
		}
		lines = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return err
	}
	st.LogLines += lines
	st.Events += events
	return nil
}
