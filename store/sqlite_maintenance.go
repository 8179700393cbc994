package store

import (
	"context"
	"database/sql"
	"fmt"
)

func (s *sqliteStore) AddMaintenanceWindows(ctx context.Context, ws []MaintenanceWindow) (err error) {
	for i, w := range ws {
		if err := checkMaintenanceWindow(w); err != nil {
			return fmt.Errorf("add maintenance window %d (%s): %w", i, w.Device, err)
		}
	}
	now := s.now()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add maintenance windows: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the write error is the one to report
		}
	}()
	ids := make([]int64, len(ws))
	for i, w := range ws {
		created := w.Created
		if created.IsZero() {
			created = now
		}
		from, _ := nanos(w.From) // checked above
		until, _ := nanos(w.Until)
		at, err := nanos(created)
		if err != nil {
			return fmt.Errorf("add maintenance window of %s: created: %w", w.Device, err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO maintenance_windows (device, from_time, until_time, reason, who, created_at)
VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, w.Device, from, until, w.Reason, w.Who, at).Scan(&ids[i]); err != nil {
			return fmt.Errorf("add maintenance window of %s: %w", w.Device, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add maintenance windows: commit: %w", err)
	}
	for i := range ws {
		ws[i].ID = ids[i]
		if ws[i].Created.IsZero() {
			ws[i].Created = now
		}
	}
	return nil
}

func (s *sqliteStore) MaintenanceWindows(ctx context.Context, f Filter) ([]MaintenanceWindow, error) {
	var w where
	w.devices("device", f.Devices)
	// A window is half open, [from, until): one that closes at Since is
	// over, hence > rather than timeRange's >=.
	if !f.Since.IsZero() {
		n, err := nanos(f.Since)
		if err != nil {
			return nil, fmt.Errorf("maintenance windows: since: %w", err)
		}
		w.add("until_time > ?", n)
	}
	if !f.Until.IsZero() {
		n, err := nanos(f.Until)
		if err != nil {
			return nil, fmt.Errorf("maintenance windows: until: %w", err)
		}
		w.add("from_time < ?", n)
	}
	var out []MaintenanceWindow
	err := eachRow(ctx, s.reader, `SELECT id, device, from_time, until_time, reason, who, created_at FROM maintenance_windows`+
		w.String()+` ORDER BY from_time, device, id LIMIT ?`, append(w.args, limitArg(f)), func(rows *sql.Rows) error {
		var mw MaintenanceWindow
		var from, until, created int64
		if err := rows.Scan(&mw.ID, &mw.Device, &from, &until, &mw.Reason, &mw.Who, &created); err != nil {
			return err
		}
		mw.From, mw.Until, mw.Created = fromNanos(from), fromNanos(until), fromNanos(created)
		out = append(out, mw)
		return nil
	})
	if err != nil {
		return nil, readErr("maintenance windows", err)
	}
	return out, nil
}
