package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Prune deletes the history older than before:
//
//   - polls started before it, with their route engines, alarms and
//     software — except, for every device, its latest poll, its latest
//     poll that read the RE table (what LatestREPoll gives the next poll's
//     deltas), and its latest poll with the most REs ever seen (so
//     MaxREsSeen, the fallback for expected_res, does not drop because a
//     dead RE stayed dead past the retention period);
//   - finished runs that finished before it and that no kept poll
//     belongs to (an unfinished run is kept: it may be in progress);
//   - log lines stamped before it, with their events. Lines without a
//     time are kept: nothing tells their age, they are what
//     UnparsedLines counts, and the identity rule needs them to recognise
//     a re-read. Lines of one file stamped with the same time are deleted
//     together, so the occurrence numbering of the lines kept stays whole;
//   - transitions before it, alarm records cleared before it (active ones
//     are kept however old), and findings whose last transition is before
//     it;
//   - configurations replaced before it: of each device, the latest
//     configuration and the one in effect at before are kept, so the
//     history kept stays complete from before on;
//   - switchovers before it, and maintenance windows that ended before it.
//     Both are judged again from the history kept, so a switchover older
//     than the history would be a row nothing can re-derive or correct.
//
// Log cursors are never deleted. A log file re-read in full (its cursor
// lost its place) stores again the lines Prune deleted that the router
// still holds; the next Prune deletes them again.
//
// Prune never holds the writer for long: it finds candidates on the
// reader connections and deletes them in transactions of about
// pruneBatch rows, each re-checking what it deletes, so polls are saved
// between batches. It stops at the first error or when ctx ends, and
// returns what it deleted until then; what is left goes at the next call.
func (s *sqliteStore) Prune(ctx context.Context, before time.Time) (PruneStats, error) {
	var st PruneStats
	if before.IsZero() {
		return st, errors.New("prune: no cut-off time")
	}
	cut, err := nanos(before)
	if err != nil {
		return st, fmt.Errorf("prune: %w", err)
	}
	// Polls before runs: a run is only deleted once no poll refers to it.
	for _, step := range []struct {
		what string
		fn   func() error
	}{
		{"polls", func() error { return s.prunePolls(ctx, cut, &st) }},
		{"runs", func() error {
			return s.deleteInBatches(ctx, &st.Runs, `DELETE FROM runs WHERE id IN (
    SELECT r.id FROM runs r WHERE r.started < ? AND r.finished < ?
        AND NOT EXISTS (SELECT 1 FROM polls p WHERE p.run_id = r.id)
    LIMIT ?)`, cut, cut)
		}},
		{"log lines", func() error { return s.pruneLogLines(ctx, cut, &st) }},
		{"poll claims", func() error {
			return s.deleteInBatches(ctx, &st.Claims, `DELETE FROM poll_claims WHERE (slot, device) IN (
    SELECT slot, device FROM poll_claims WHERE slot < ? LIMIT ?)`, cut)
		}},
		{"transitions", func() error {
			return s.deleteInBatches(ctx, &st.Transitions, `DELETE FROM transitions WHERE id IN (
    SELECT id FROM transitions WHERE time < ? LIMIT ?)`, cut)
		}},
		{"alarm records", func() error {
			return s.deleteInBatches(ctx, &st.AlarmRecords, `DELETE FROM alarm_records WHERE rowid IN (
    SELECT rowid FROM alarm_records WHERE cleared_at < ? LIMIT ?)`, cut)
		}},
		{"findings", func() error {
			return s.deleteInBatches(ctx, &st.Findings, `DELETE FROM findings WHERE (device, re, first_transition) IN (
    SELECT device, re, first_transition FROM findings WHERE last_transition < ? LIMIT ?)`, cut)
		}},
		{"configurations", func() error {
			return s.deleteInBatches(ctx, &st.Configs, `DELETE FROM configs WHERE (device, at) IN (
    SELECT c.device, c.at FROM configs c WHERE c.at < ?
        AND EXISTS (SELECT 1 FROM configs n WHERE n.device = c.device AND n.at > c.at AND n.at <= ?)
    LIMIT ?)`, cut, cut)
		}},
		{"switchovers", func() error {
			return s.deleteInBatches(ctx, &st.Switchovers, `DELETE FROM switchovers WHERE (device, time, new_master) IN (
    SELECT device, time, new_master FROM switchovers WHERE time < ? LIMIT ?)`, cut)
		}},
		{"maintenance windows", func() error {
			return s.deleteInBatches(ctx, &st.MaintenanceWindows, `DELETE FROM maintenance_windows WHERE id IN (
    SELECT id FROM maintenance_windows WHERE until_time < ? LIMIT ?)`, cut)
		}},
	} {
		if err := step.fn(); err != nil {
			return st, fmt.Errorf("prune %s: %w", step.what, err)
		}
	}
	return st, nil
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE: the store
// opens its writer with _txlock=immediate) and commits it. When it ends,
// the writer's only connection goes to the next caller queued for it —
// a poller, if one is waiting — before Prune's next batch.
func (s *sqliteStore) writeTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the delete error is the one to report
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// deleteInBatches runs query, a DELETE whose last parameter is the batch
// size, one transaction at a time until a batch deletes fewer rows. It
// suits the small tables (runs, transitions, alarm records, findings,
// configurations), whose candidates are cheap to find on the writer.
func (s *sqliteStore) deleteInBatches(ctx context.Context, n *int64, query string, args ...any) error {
	args = append(args, pruneBatch)
	for {
		var k int64
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			k, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		*n += k
		if k < pruneBatch {
			return nil
		}
	}
}

// idBatch gathers candidate IDs and deletes them pruneBatch at a time.
type idBatch struct {
	ids   []int64
	flush func(ids []int64) error
}

func (b *idBatch) add(id int64) error {
	b.ids = append(b.ids, id)
	if len(b.ids) < pruneBatch {
		return nil
	}
	return b.done()
}

func (b *idBatch) done() error {
	if len(b.ids) == 0 {
		return nil
	}
	err := b.flush(b.ids)
	b.ids = b.ids[:0]
	return err
}

// idsJSON passes a list of IDs as one parameter, read back in SQL with
// json_each: no statement built per batch size, no parameter limit.
func idsJSON(ids []int64) (string, error) {
	b, err := json.Marshal(ids)
	return string(b), err
}

// nextKey returns the single text value query finds, ok false when none.
func (s *sqliteStore) nextKey(ctx context.Context, query string, args ...any) (string, bool, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, query, args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// prunePolls walks every device's polls before cut through the
// polls_device_started index on the readers and deletes them in batches;
// each batch re-checks, on the writer, that a poll is still not one of
// the device's kept polls (see Prune).
func (s *sqliteStore) prunePolls(ctx context.Context, cut int64, st *PruneStats) error {
	b := &idBatch{flush: func(ids []int64) error { return s.deletePolls(ctx, ids, cut, st) }}
	device := ""
	for {
		next, ok, err := s.nextKey(ctx, `SELECT device FROM polls WHERE device > ? ORDER BY device LIMIT 1`, device)
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		if !ok {
			return b.done()
		}
		device = next
		var afterStarted, afterID int64 = -1 << 63, 0
		for {
			n := 0
			err := eachRow(ctx, s.reader, `SELECT id, started FROM polls
WHERE device = ? AND started < ? AND (started, id) > (?, ?)
ORDER BY started, id LIMIT ?`, []any{device, cut, afterStarted, afterID, pruneBatch}, func(rows *sql.Rows) error {
				n++
				if err := rows.Scan(&afterID, &afterStarted); err != nil {
					return err
				}
				return b.add(afterID)
			})
			if err != nil {
				return fmt.Errorf("polls of %s: %w", device, err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
}

// keptPollGuard is true for a poll Prune may delete: a later poll of its
// device exists, one that read the RE table too when it did, and one with
// as many REs when it has the device's most.
const keptPollGuard = `EXISTS (SELECT 1 FROM polls n WHERE n.device = p.device AND (n.started, n.id) > (p.started, p.id))
    AND (p.re_count = 0 OR EXISTS (SELECT 1 FROM polls n WHERE n.device = p.device AND n.re_count > 0
        AND (n.started, n.id) > (p.started, p.id)))
    AND (p.re_count < (SELECT MAX(m.re_count) FROM polls m WHERE m.device = p.device)
        OR EXISTS (SELECT 1 FROM polls n WHERE n.device = p.device AND n.re_count = p.re_count
            AND (n.started, n.id) > (p.started, p.id)))`

func (s *sqliteStore) deletePolls(ctx context.Context, candidates []int64, cut int64, st *PruneStats) error {
	cand, err := idsJSON(candidates)
	if err != nil {
		return err
	}
	var got PruneStats
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var ids []int64
		if err := eachRow(ctx, tx, `SELECT p.id FROM polls p
WHERE p.id IN (SELECT value FROM json_each(?)) AND p.started < ? AND `+keptPollGuard,
			[]any{cand, cut}, func(rows *sql.Rows) error {
				var id int64
				ids = append(ids, id)
				return rows.Scan(&ids[len(ids)-1])
			}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		del, err := idsJSON(ids)
		if err != nil {
			return err
		}
		// Children first and by name, not by ON DELETE CASCADE, so they
		// are counted.
		for _, d := range []struct {
			query string
			n     *int64
		}{
			{`DELETE FROM route_engines WHERE poll_id IN (SELECT value FROM json_each(?))`, &got.RouteEngines},
			{`DELETE FROM alarms WHERE poll_id IN (SELECT value FROM json_each(?))`, &got.Alarms},
			{`DELETE FROM software WHERE poll_id IN (SELECT value FROM json_each(?))`, &got.Software},
			{`DELETE FROM polls WHERE id IN (SELECT value FROM json_each(?))`, &got.Polls},
		} {
			res, err := tx.ExecContext(ctx, d.query, del)
			if err != nil {
				return err
			}
			if *d.n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
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

// pruneLogLines walks every (device, file) of log_lines through its
// unique index (device, file, time_key, …) on the readers: a range scan
// of the old lines of each file, untimed lines (time_key noTimeKey)
// excluded, instead of a scan of the whole table.
func (s *sqliteStore) pruneLogLines(ctx context.Context, cut int64, st *PruneStats) error {
	b := &idBatch{flush: func(ids []int64) error { return s.deleteLogLines(ctx, ids, cut, st) }}
	device := ""
	for {
		next, ok, err := s.nextKey(ctx, `SELECT device FROM log_lines WHERE device > ? ORDER BY device LIMIT 1`, device)
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		if !ok {
			return b.done()
		}
		device = next
		file := ""
		for {
			next, ok, err := s.nextKey(ctx, `SELECT file FROM log_lines WHERE device = ? AND file > ? ORDER BY file LIMIT 1`,
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
			after := int64(noTimeKey)
			for {
				n := 0
				err := eachRow(ctx, s.reader, `SELECT id, time_key FROM log_lines
WHERE device = ? AND file = ? AND time_key > ? AND time_key < ?
ORDER BY time_key LIMIT ?`, []any{device, file, after, cut, pruneBatch}, func(rows *sql.Rows) error {
					n++
					var id int64
					if err := rows.Scan(&id, &after); err != nil {
						return err
					}
					return b.add(id)
				})
				if err != nil {
					return fmt.Errorf("log lines of %s %s: %w", device, file, err)
				}
				if n < pruneBatch {
					break
				}
			}
		}
	}
}

func (s *sqliteStore) deleteLogLines(ctx context.Context, candidates []int64, cut int64, st *PruneStats) error {
	cand, err := idsJSON(candidates)
	if err != nil {
		return err
	}
	var lines, events int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		// Every line of the candidates' (device, file, time): identical
		// lines are numbered within that group, and deleting part of a
		// group would leave a numbering that does not start at 0.
		var ids []int64
		if err := eachRow(ctx, tx, `SELECT DISTINCT l.id FROM log_lines c
JOIN log_lines l ON l.device = c.device AND l.file = c.file AND l.time_key = c.time_key
WHERE c.id IN (SELECT value FROM json_each(?)) AND l.line_time < ?`,
			[]any{cand, cut}, func(rows *sql.Rows) error {
				var id int64
				ids = append(ids, id)
				return rows.Scan(&ids[len(ids)-1])
			}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		del, err := idsJSON(ids)
		if err != nil {
			return err
		}
		// Events first and by name, not by ON DELETE CASCADE, so they are
		// counted.
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE log_line_id IN (SELECT value FROM json_each(?))`, del)
		if err != nil {
			return err
		}
		if events, err = res.RowsAffected(); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM log_lines WHERE id IN (SELECT value FROM json_each(?))`, del)
		if err != nil {
			return err
		}
		lines, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	st.LogLines += lines
	st.Events += events
	return nil
}
