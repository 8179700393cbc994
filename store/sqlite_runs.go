package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices"
)

func (s *sqliteStore) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	if started.IsZero() {
		return 0, errors.New("begin run: no start time")
	}
	at, err := nanos(started)
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	res, err := s.writer.ExecContext(ctx, `INSERT INTO runs (started) VALUES (?)`, at)
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
	res, err := s.writer.ExecContext(ctx, `UPDATE runs
SET finished = ?, devices = ?, ok = ?, failed = ?, interrupted = ?
WHERE id = ?`,
		finished, int64(run.Devices), int64(run.OK), int64(run.Failed), boolInt(run.Interrupted), run.ID)
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
	rows, err := s.reader.QueryContext(ctx, `SELECT id, started, finished, devices, ok, failed, interrupted
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
		)
		if err := rows.Scan(&r.ID, &started, &finished, &count, &ok, &failed, &ir); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.Started = fromNanos(started)
		r.Finished = timeOrZero(finished)
		r.Devices, r.OK, r.Failed, r.Interrupted = int(count), int(ok), int(failed), ir != 0
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}
