package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mastership/mastership/devices"
)

// Transitions.

// pgTransitionQuery is the Transitions select without its WHERE clause.
const pgTransitionQuery = `SELECT device, re, time, from_state, to_state, sources::text, evidence::text FROM transitions`

func (s *pgStore) SaveTransitions(ctx context.Context, ts []devices.Transition, tol time.Duration) error {
	if err := s.saveTransitions(ctx, ts, tol); err != nil {
		return fmt.Errorf("save transitions: %w", err)
	}
	return nil
}

func (s *pgStore) saveTransitions(ctx context.Context, ts []devices.Transition, tol time.Duration) error {
	if tol < 0 {
		return fmt.Errorf("negative tolerance %s", tol)
	}
	in := make([]devices.Transition, len(ts))
	devs := make([]string, 0, len(ts))
	for i, t := range ts {
		if err := checkTransition(t); err != nil {
			return fmt.Errorf("transition %d (%s %s %s→%s): %w", i, t.Device, t.RE, t.From, t.To, err)
		}
		t.Time = pgTime(t.Time) // merged and compared as stored
		in[i] = normalizeTransition(t)
		devs = append(devs, t.Device)
	}
	if len(in) == 0 {
		return nil
	}
	return s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := lockDevices(ctx, tx, devs...); err != nil {
			return err
		}
		// One at a time, each seeing the ones before: two transitions of the
		// batch within tol of each other merge too.
		for i, t := range in {
			if err := pgMergeOrInsertTransition(ctx, tx, t, tol); err != nil {
				return fmt.Errorf("transition %d (%s %s %s→%s at %s): %w", i, t.Device, t.RE, t.From, t.To,
					t.Time.Format(time.RFC3339), err)
			}
		}
		return nil
	})
}

// pgMergeOrInsertTransition merges t into the nearest stored transition
// of the same device, RE, From and To within tol (mergeTransition, the
// SQLite engine's rule), or inserts it. t's time is stored precision
// already; the window's ends are rounded inwards to stored precision.
func pgMergeOrInsertTransition(ctx context.Context, tx pgx.Tx, t devices.Transition, tol time.Duration) error {
	var (
		id                int64
		storedAt          time.Time
		sources, evidence string
	)
	err := tx.QueryRow(ctx, `SELECT id, time, sources::text, evidence::text FROM transitions
WHERE device = $1 AND re = $2 AND from_state = $3 AND to_state = $4 AND time BETWEEN $5 AND $6
ORDER BY GREATEST(time - $7, $7 - time), id LIMIT 1`,
		t.Device, t.RE, t.From, t.To, pgCeil(t.Time.Add(-tol)), pgFloor(t.Time.Add(tol)), t.Time).
		Scan(&id, &storedAt, &sources, &evidence)
	if errors.Is(err, pgx.ErrNoRows) {
		src, ev, err := transitionLists(t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO transitions (device, re, time, from_state, to_state, sources, evidence)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::json)`, t.Device, t.RE, t.Time, t.From, t.To, src, ev)
		return err
	}
	if err != nil {
		return fmt.Errorf("find the same transition: %w", err)
	}

	stored := t // same device, RE, From and To
	stored.Time = storedAt
	if stored.Sources, err = stringsFromJSON(sources); err != nil {
		return fmt.Errorf("stored transition %d: sources: %w", id, err)
	}
	if stored.Evidence, err = stringsFromJSON(evidence); err != nil {
		return fmt.Errorf("stored transition %d: evidence: %w", id, err)
	}
	merged := mergeTransition(stored, t)
	if merged.Time.Equal(stored.Time) && slices.Equal(merged.Sources, stored.Sources) &&
		slices.Equal(merged.Evidence, stored.Evidence) {
		return nil // seen before: nothing to write
	}
	src, ev, err := transitionLists(merged)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE transitions SET time = $1, sources = $2::text::jsonb, evidence = $3::text::json
WHERE id = $4`, merged.Time, src, ev, id)
	return err
}

func (s *pgStore) Transitions(ctx context.Context, f Filter) ([]devices.Transition, error) {
	var out []devices.Transition
	err := s.EachTransition(ctx, f, func(t *devices.Transition) error {
		out = append(out, *t)
		return nil
	})
	return out, err
}

func (s *pgStore) EachTransition(ctx context.Context, f Filter, fn func(*devices.Transition) error) error {
	var w pgFilter
	w.devices("device", f.Devices)
	w.timeRange("time", "time", f)
	query := pgTransitionQuery + w.String() + ` ORDER BY time, id` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			t                 devices.Transition
			sources, evidence string
		)
		if err := rows.Scan(&t.Device, &t.RE, &t.Time, &t.From, &t.To, &sources, &evidence); err != nil {
			return err
		}
		var err error
		if t.Sources, err = stringsFromJSON(sources); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
		if t.Evidence, err = stringsFromJSON(evidence); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		return stopErr(fn(&t))
	})
	return readErr("transitions", err)
}

// Alarm records.

// pgAlarmRecordQuery is the AlarmRecords select without its WHERE clause.
const pgAlarmRecordQuery = `SELECT device, member, description, alarm_time, source, class, type, short_description,
    first_seen, last_seen, cleared_at FROM alarm_records`

func (s *pgStore) SaveAlarmRecords(ctx context.Context, device string, recs []devices.AlarmRecord) error {
	if err := s.saveAlarmRecords(ctx, device, recs); err != nil {
		return fmt.Errorf("save alarm records of %s: %w", device, err)
	}
	return nil
}

func (s *pgStore) saveAlarmRecords(ctx context.Context, device string, recs []devices.AlarmRecord) error {
	if device == "" {
		return errors.New("no device name")
	}
	b := &pgx.Batch{}
	for i, r := range recs {
		if _, err := alarmRecordArgs(device, r); err != nil { // the SQLite engine's validation
			return fmt.Errorf("record %d (%q): %w", i, r.Alarm.Description, err)
		}
		a := r.Alarm
		b.Queue(`INSERT INTO alarm_records (device, member, description, alarm_time, source, class, type,
    short_description, first_seen, last_seen, cleared_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (device, member, description, alarm_key) DO UPDATE SET
    source = excluded.source, class = excluded.class, type = excluded.type,
    short_description = excluded.short_description,
    first_seen = LEAST(alarm_records.first_seen, excluded.first_seen),
    last_seen = GREATEST(alarm_records.last_seen, excluded.last_seen),
    cleared_at = excluded.cleared_at`,
			device, a.Member, a.Description, pgTimeOrNull(a.Time), string(a.Source), a.Class, a.Type, a.ShortDescription,
			pgTime(r.FirstSeen), pgTime(r.LastSeen), pgTimeOrNull(r.ClearedAt))
	}
	if b.Len() == 0 {
		return nil
	}
	return s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := lockDevices(ctx, tx, device); err != nil {
			return err
		}
		br := tx.SendBatch(ctx, b)
		for i := range recs {
			if _, err := br.Exec(); err != nil {
				_ = br.Close() // the statement's error is the one to report
				return fmt.Errorf("record %d (%q): %w", i, recs[i].Alarm.Description, err)
			}
		}
		return br.Close()
	})
}

func (s *pgStore) AlarmRecords(ctx context.Context, f Filter) ([]devices.AlarmRecord, error) {
	var out []devices.AlarmRecord
	err := s.EachAlarmRecord(ctx, f, func(r *devices.AlarmRecord) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

func (s *pgStore) EachAlarmRecord(ctx context.Context, f Filter, fn func(*devices.AlarmRecord) error) error {
	var w pgFilter
	w.devices("device", f.Devices)
	// Life from the alarm's own time (first seen when it has none) to the
	// clear; an active alarm's life is open-ended.
	w.timeRange("COALESCE(alarm_time, first_seen)", "COALESCE(cleared_at, 'infinity')", f)
	query := pgAlarmRecordQuery + w.String() + `
ORDER BY COALESCE(alarm_time, first_seen), device, member, description` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			r           devices.AlarmRecord
			source      string
			at, cleared *time.Time
		)
		if err := rows.Scan(&r.Device, &r.Alarm.Member, &r.Alarm.Description, &at, &source, &r.Alarm.Class,
			&r.Alarm.Type, &r.Alarm.ShortDescription, &r.FirstSeen, &r.LastSeen, &cleared); err != nil {
			return err
		}
		r.Alarm.Source, r.Alarm.Time, r.ClearedAt = devices.AlarmSource(source), zeroIfNil(at), zeroIfNil(cleared)
		return stopErr(fn(&r))
	})
	return readErr("alarm records", err)
}

// Findings.

// pgFindingQuery is the Findings select without its WHERE clause.
const pgFindingQuery = `SELECT device, re, first_transition, last_transition, cause, severity, transitions,
    evidence::text, alarms::text, other_causes::text, remedy FROM findings`

// pgFindingKey is a finding's identity within a device, its first time
// as stored (microseconds).
type pgFindingKey struct {
	re    string
	first int64
}

func (s *pgStore) ReplaceFindings(ctx context.Context, device string, since time.Time, fs []devices.Finding) error {
	if err := s.replaceFindings(ctx, device, since, fs); err != nil {
		return fmt.Errorf("replace findings of %s: %w", device, err)
	}
	return nil
}

func (s *pgStore) replaceFindings(ctx context.Context, device string, since time.Time, fs []devices.Finding) error {
	if device == "" {
		return errors.New("no device name")
	}
	keep := make(map[pgFindingKey]bool, len(fs))
	upserts := &pgx.Batch{}
	detected := pgTime(s.now())
	for i, f := range fs {
		if _, err := findingArgs(device, f); err != nil { // the SQLite engine's validation
			return fmt.Errorf("finding %d (%s from %s): %w", i, f.RE, f.First.Format(time.RFC3339), err)
		}
		first := pgTime(f.First)
		k := pgFindingKey{f.RE, first.UnixMicro()}
		if keep[k] {
			return fmt.Errorf("two findings of %q starting %s", f.RE, first.Format(time.RFC3339Nano))
		}
		keep[k] = true
		evidence, err := stringsJSON(f.Evidence)
		if err != nil {
			return fmt.Errorf("finding %d: evidence: %w", i, err)
		}
		alarms, err := alarmsJSON(f.Alarms)
		if err != nil {
			return fmt.Errorf("finding %d: alarms: %w", i, err)
		}
		others := make([]string, len(f.OtherCauses))
		for j, c := range f.OtherCauses {
			others[j] = string(c)
		}
		otherCauses, err := stringsJSON(others)
		if err != nil {
			return fmt.Errorf("finding %d: other causes: %w", i, err)
		}
		// A finding already stored keeps its detected_at.
		upserts.Queue(`INSERT INTO findings (device, re, first_transition, last_transition, cause, severity,
    transitions, evidence, alarms, other_causes, remedy, detected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::json, $9::text::jsonb, $10::text::jsonb, $11, $12)
ON CONFLICT (device, re, first_transition) DO UPDATE SET
    last_transition = excluded.last_transition, cause = excluded.cause, severity = excluded.severity,
    transitions = excluded.transitions, evidence = excluded.evidence, alarms = excluded.alarms,
    other_causes = excluded.other_causes, remedy = excluded.remedy`,
			device, f.RE, first, pgTime(f.Last), string(f.Cause), string(f.Severity), f.Transitions,
			evidence, alarms, otherCauses, f.Remedy, detected)
	}

	return s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := lockDevices(ctx, tx, device); err != nil {
			return err
		}
		// Deleting only what is gone, rather than all and reinserting, keeps
		// the detected_at of findings that are still there. Only findings
		// whose last transition is at or after since are candidates.
		var w pgFilter
		w.add("device = " + w.arg(device))
		if !since.IsZero() {
			w.add("last_transition >= " + w.arg(pgCeil(since)))
		}
		rows, err := tx.Query(ctx, `SELECT re, first_transition FROM findings`+w.String(), w.args...)
		if err != nil {
			return fmt.Errorf("read stored findings: %w", err)
		}
		var (
			re    string
			first time.Time
			gone  = &pgx.Batch{}
		)
		if _, err := pgx.ForEachRow(rows, []any{&re, &first}, func() error {
			if !keep[pgFindingKey{re, first.UnixMicro()}] {
				gone.Queue(`DELETE FROM findings WHERE device = $1 AND re = $2 AND first_transition = $3`, device, re, first)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("read stored findings: %w", err)
		}
		if gone.Len() > 0 {
			if err := tx.SendBatch(ctx, gone).Close(); err != nil {
				return fmt.Errorf("delete findings that are gone: %w", err)
			}
		}
		if upserts.Len() == 0 {
			return nil
		}
		br := tx.SendBatch(ctx, upserts)
		for i := range fs {
			if _, err := br.Exec(); err != nil {
				_ = br.Close() // the statement's error is the one to report
				return fmt.Errorf("finding %d (%s): %w", i, fs[i].RE, err)
			}
		}
		return br.Close()
	})
}

func (s *pgStore) Findings(ctx context.Context, f Filter) ([]devices.Finding, error) {
	var out []devices.Finding
	err := s.EachFinding(ctx, f, func(fd *devices.Finding) error {
		out = append(out, *fd)
		return nil
	})
	return out, err
}

func (s *pgStore) EachFinding(ctx context.Context, f Filter, fn func(*devices.Finding) error) error {
	var w pgFilter
	w.devices("device", f.Devices)
	w.timeRange("first_transition", "last_transition", f)
	if f.Cause != "" {
		w.add("cause = " + w.arg(string(f.Cause)))
	}
	query := pgFindingQuery + w.String() +
		` ORDER BY first_transition, device, re` + w.limit(f)
	err := pgStream(ctx, s.pool, query, w.args, func(rows pgx.Rows) error {
		var (
			fd                            devices.Finding
			cause, severity               string
			evidence, alarms, otherCauses string
		)
		if err := rows.Scan(&fd.Device, &fd.RE, &fd.First, &fd.Last, &cause, &severity, &fd.Transitions, &evidence,
			&alarms, &otherCauses, &fd.Remedy); err != nil {
			return err
		}
		fd.Cause, fd.Severity = devices.Cause(cause), devices.Severity(severity)
		var err error
		if fd.Evidence, err = stringsFromJSON(evidence); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if fd.Alarms, err = alarmsFromJSON(alarms); err != nil {
			return fmt.Errorf("alarms: %w", err)
		}
		others, err := stringsFromJSON(otherCauses)
		if err != nil {
			return fmt.Errorf("other causes: %w", err)
		}
		for _, c := range others {
			fd.OtherCauses = append(fd.OtherCauses, devices.Cause(c))
		}
		return stopErr(fn(&fd))
	})
	return readErr("findings", err)
}

// Configurations.

func (s *pgStore) SaveConfig(ctx context.Context, device string, cfg devices.RedundancyConfig, at time.Time) error {
	if err := s.saveConfig(ctx, device, cfg, at); err != nil {
		return fmt.Errorf("save configuration of %s: %w", device, err)
	}
	return nil
}

func (s *pgStore) saveConfig(ctx context.Context, device string, cfg devices.RedundancyConfig, at time.Time) error {
	if device == "" {
		return errors.New("no device name")
	}
	if at.IsZero() {
		return errors.New("no time")
	}
	if _, err := nanos(at); err != nil {
		return err
	}
	if !cfg.Known {
		return nil // see HistoryStore.SaveConfig: the last known one stays current
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	at = pgTime(at)
	return s.writeTx(ctx, func(tx pgx.Tx) error {
		if err := lockDevices(ctx, tx, device); err != nil {
			return err
		}
		// jsonb equality: the same configuration, however its text is
		// spelled.
		var same bool
		err := tx.QueryRow(ctx, `SELECT config = $3::text::jsonb FROM configs WHERE device = $1 AND at <= $2
ORDER BY at DESC LIMIT 1`, device, at, string(b)).Scan(&same)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read the configuration in effect: %w", err)
		case same:
			return nil // unchanged: no history to add
		}
		_, err = tx.Exec(ctx, `INSERT INTO configs (device, at, config) VALUES ($1, $2, $3::text::jsonb)
ON CONFLICT (device, at) DO UPDATE SET config = excluded.config`, device, at, string(b))
		return err
	})
}

func (s *pgStore) Configs(ctx context.Context) (map[string]devices.RedundancyConfig, error) {
	out := make(map[string]devices.RedundancyConfig)
	// A device has a row per change only: DISTINCT ON over the primary
	// key reads few rows.
	err := pgStream(ctx, s.pool, `SELECT DISTINCT ON (device) device, config::text FROM configs ORDER BY device, at DESC`,
		nil, func(rows pgx.Rows) error {
			var (
				device, config string
				cfg            devices.RedundancyConfig
			)
			if err := rows.Scan(&device, &config); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(config), &cfg); err != nil {
				return fmt.Errorf("configuration of %s: %w", device, err)
			}
			out[device] = cfg
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("configurations: %w", err)
	}
	return out, nil
}
