package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mastership/mastership/devices"
)

// The switchover ledger (issue 15) in PostgreSQL.

const (
	pgSwitchoverQuery = `SELECT device, time, old_master, new_master, planned, command, cause, evidence::text FROM switchovers`

	pgInsertSwitchoverSQL = `INSERT INTO switchovers (device, time, old_master, new_master, planned, command, cause, evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::json)`
)

func (s *pgStore) ReplaceSwitchovers(ctx context.Context, device string, since time.Time, sws []devices.Switchover) error {
	if err := s.replaceSwitchovers(ctx, device, since, sws); err != nil {
		return fmt.Errorf("replace switchovers of %s: %w", device, err)
	}
	return nil
}

func (s *pgStore) replaceSwitchovers(ctx context.Context, device string, since time.Time, sws []devices.Switchover) error {
	if device == "" {
		return errors.New("no device name")
	}
	// One transaction, one round trip: the device's lock, the deletion of
	// the stored rows of the window, an insert per switchover.
	b := &pgBatch{}
	b.lock(device)
	var w pgFilter
	w.add("device = " + w.arg(device))
	var from time.Time
	if !since.IsZero() {
		from = pgCeil(since)
		w.add("time >= " + w.arg(from))
	}
	b.exec("delete stored switchovers", `DELETE FROM switchovers`+w.String(), w.args...)
	type key struct {
		at  int64
		new string
	}
	seen := make(map[key]bool, len(sws))
	for i, sw := range sws {
		if err := checkSwitchover(device, sw); err != nil {
			return fmt.Errorf("%s: %w", switchoverWhat(i, sw), err)
		}
		at := pgTime(sw.Time)
		if !from.IsZero() && at.Before(from) {
			continue // before the judged window: kept as stored
		}
		k := key{at.UnixMicro(), sw.NewMaster}
		if seen[k] {
			return fmt.Errorf("two switchovers to %q at %s", sw.NewMaster, at.Format(time.RFC3339Nano))
		}
		seen[k] = true
		evidence, err := stringsJSON(sw.Evidence)
		if err != nil {
			return fmt.Errorf("%s: evidence: %w", switchoverWhat(i, sw), err)
		}
		b.exec(switchoverWhat(i, sw), pgInsertSwitchoverSQL, device, at, sw.OldMaster, sw.NewMaster, sw.Planned,
			pgSafeText(sw.Command), string(sw.Cause), evidence)
	}
	return s.sendTx(ctx, pgBeginWrite, b)
}

func (s *pgStore) Switchovers(ctx context.Context, f Filter) ([]devices.Switchover, error) {
	return collect(ctx, f, s.EachSwitchover)
}

func (s *pgStore) EachSwitchover(ctx context.Context, f Filter, fn func(*devices.Switchover) error) error {
	var w pgFilter
	w.devices("device", f.Devices)
	w.timeRange("time", "time", f)
	query := pgSwitchoverQuery + w.String() + ` ORDER BY time, device, new_master` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			sw              devices.Switchover
			cause, evidence string
		)
		if err := rows.Scan(&sw.Device, &sw.Time, &sw.OldMaster, &sw.NewMaster, &sw.Planned, &sw.Command, &cause, &evidence); err != nil {
			return err
		}
		sw.Cause = devices.Cause(cause)
		var err error
		if sw.Evidence, err = stringsFromJSON(evidence); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		return stopErr(fn(&sw))
	})
	return readErr("switchovers", err)
}
