package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

func (s *pgStore) AddMaintenanceWindows(ctx context.Context, ws []MaintenanceWindow) error {
	for i, w := range ws {
		if err := checkMaintenanceWindow(w); err != nil {
			return fmt.Errorf("add maintenance window %d (%s): %w", i, w.Device, err)
		}
	}
	now := pgTime(s.now())
	ids := make([]int64, len(ws))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, w := range ws {
			created := now
			if !w.Created.IsZero() {
				created = pgTime(w.Created)
			}
			if err := tx.QueryRow(ctx, `INSERT INTO maintenance_windows (device, from_time, until_time, reason, who, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, w.Device, pgTime(w.From), pgTime(w.Until),
				pgSafeText(w.Reason), pgSafeText(w.Who), created).Scan(&ids[i]); err != nil {
				return fmt.Errorf("add maintenance window of %s: %w", w.Device, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add maintenance windows: %w", err)
	}
	for i := range ws {
		ws[i].ID = ids[i]
		if ws[i].Created.IsZero() {
			ws[i].Created = now
		}
	}
	return nil
}

func (s *pgStore) MaintenanceWindows(ctx context.Context, f Filter) ([]MaintenanceWindow, error) {
	var w pgFilter
	w.devices("device", f.Devices)
	// Half open, as in the SQLite engine.
	if !f.Since.IsZero() {
		w.add("until_time > " + w.arg(pgFloor(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("from_time < " + w.arg(pgCeil(f.Until)))
	}
	var out []MaintenanceWindow
	err := pgStream(ctx, s.pool, `SELECT id, device, from_time, until_time, reason, who, created_at FROM maintenance_windows`+
		w.String()+` ORDER BY from_time, device, id`+w.limit(f), w.args, func(rows pgx.Rows) error {
		var mw MaintenanceWindow
		if err := rows.Scan(&mw.ID, &mw.Device, &mw.From, &mw.Until, &mw.Reason, &mw.Who, &mw.Created); err != nil {
			return err
		}
		mw.From, mw.Until, mw.Created = mw.From.UTC(), mw.Until.UTC(), mw.Created.UTC()
		out = append(out, mw)
		return nil
	})
	if err != nil {
		return nil, readErr("maintenance windows", err)
	}
	return out, nil
}
