package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mastership/mastership/devices"
)

// The switchover ledger (issue 15) in SQLite.

const (
	switchoverQuery = `SELECT device, time, old_master, new_master, planned, command, cause, evidence FROM switchovers`

	insertSwitchoverSQL = `INSERT INTO switchovers (device, time, old_master, new_master, planned, command, cause, evidence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
)

func (s *sqliteStore) ReplaceSwitchovers(ctx context.Context, device string, since time.Time, sws []devices.Switchover) error {
	if err := s.replaceSwitchovers(ctx, device, since, sws); err != nil {
		return fmt.Errorf("replace switchovers of %s: %w", device, err)
	}
	return nil
}

func (s *sqliteStore) replaceSwitchovers(ctx context.Context, device string, since time.Time, sws []devices.Switchover) (err error) {
	if device == "" {
		return errors.New("no device name")
	}
	var sinceNanos int64 = math.MinInt64
	if !since.IsZero() {
		if sinceNanos, err = nanos(since); err != nil {
			return fmt.Errorf("since: %w", err)
		}
	}
	type key struct {
		at  int64
		new string
	}
	seen := make(map[key]bool, len(sws))
	var rows [][]any
	for i, sw := range sws {
		if err := checkSwitchover(device, sw); err != nil {
			return fmt.Errorf("%s: %w", switchoverWhat(i, sw), err)
		}
		at, _ := nanos(sw.Time) // checked above
		if at < sinceNanos {
			continue // before the judged window: kept as stored
		}
		k := key{at, sw.NewMaster}
		if seen[k] {
			return fmt.Errorf("two switchovers to %q at %s", sw.NewMaster, sw.Time.UTC().Format(time.RFC3339Nano))
		}
		seen[k] = true
		evidence, err := stringsJSON(sw.Evidence)
		if err != nil {
			return fmt.Errorf("%s: evidence: %w", switchoverWhat(i, sw), err)
		}
		planned := int64(0)
		if sw.Planned {
			planned = 1
		}
		rows = append(rows, []any{device, at, sw.OldMaster, sw.NewMaster, planned, sw.Command, string(sw.Cause), evidence})
	}

	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the write error is the one to report
		}
	}()
	if _, err := tx.ExecContext(ctx, `DELETE FROM switchovers WHERE device = ? AND time >= ?`, device, sinceNanos); err != nil {
		return fmt.Errorf("delete stored switchovers: %w", err)
	}
	for i, row := range rows {
		if _, err := tx.ExecContext(ctx, insertSwitchoverSQL, row...); err != nil {
			return fmt.Errorf("switchover %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *sqliteStore) Switchovers(ctx context.Context, f Filter) ([]devices.Switchover, error) {
	return collect(ctx, f, s.EachSwitchover)
}

func (s *sqliteStore) EachSwitchover(ctx context.Context, f Filter, fn func(*devices.Switchover) error) error {
	var w where
	w.devices("device", f.Devices)
	if err := w.timeRange("time", "time", f); err != nil {
		return fmt.Errorf("switchovers: %w", err)
	}
	err := s.eachFiltered(ctx, f, switchoverQuery+w.String()+` ORDER BY time, device, new_master LIMIT ?`,
		append(w.args, limitArg(f)), func(rows *sql.Rows) error {
			var (
				sw              devices.Switchover
				at, planned     int64
				cause, evidence string
			)
			if err := rows.Scan(&sw.Device, &at, &sw.OldMaster, &sw.NewMaster, &planned, &sw.Command, &cause, &evidence); err != nil {
				return err
			}
			sw.Time, sw.Planned, sw.Cause = fromNanos(at), planned != 0, devices.Cause(cause)
			var err error
			if sw.Evidence, err = stringsFromJSON(evidence); err != nil {
				return fmt.Errorf("evidence: %w", err)
			}
			return stopErr(fn(&sw))
		})
	return readErr("switchovers", err)
}
