package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mastership/mastership/devices/readiness"
)

// Switchover readiness (issue 16) in PostgreSQL: one row per device.

func (s *pgStore) SaveReadiness(ctx context.Context, r Readiness) error {
	if err := s.saveReadiness(ctx, r); err != nil {
		return fmt.Errorf("save switchover readiness of %s: %w", r.Device, err)
	}
	return nil
}

func (s *pgStore) saveReadiness(ctx context.Context, r Readiness) error {
	reasons, unknown, err := readinessArgs(r)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO readiness (device, site, checked_at, verdict, reasons, unknown)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (device) DO UPDATE SET site = excluded.site, checked_at = excluded.checked_at,
    verdict = excluded.verdict, reasons = excluded.reasons, unknown = excluded.unknown`,
		r.Device, r.Site, pgTime(r.CheckedAt), string(r.Verdict.Verdict), reasons, unknown)
	return err
}

func (s *pgStore) Readinesses(ctx context.Context, f Filter) ([]Readiness, error) {
	var w pgFilter
	w.devices("device", f.Devices)
	w.timeRange("checked_at", "checked_at", f)
	var out []Readiness
	query := `SELECT device, site, checked_at, verdict, reasons::text, unknown::text FROM readiness` + w.String() + ` ORDER BY device` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			r                         Readiness
			verdict, reasons, unknown string
		)
		if err := rows.Scan(&r.Device, &r.Site, &r.CheckedAt, &verdict, &reasons, &unknown); err != nil {
			return err
		}
		r.CheckedAt, r.Verdict.Verdict = r.CheckedAt.UTC(), readiness.State(verdict)
		var err error
		if r.Reasons, err = readinessReasonsFromJSON(reasons); err != nil {
			return fmt.Errorf("reasons: %w", err)
		}
		if r.Unknown, err = readinessReasonsFromJSON(unknown); err != nil {
			return fmt.Errorf("unknown: %w", err)
		}
		if len(r.Unknown) == 0 {
			r.Unknown = nil
		}
		out = append(out, r)
		return nil
	})
	return out, readErr("switchover readiness", err)
}
