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
	// Two round trips: the devices' locks and the stored transitions the
	// batch may merge into, then the writes and the commit. Each
	// transition is merged in memory, one at a time, into what the ones
	// before it left (two of the batch within tol of each other merge
	// too), as if each were looked up and written in turn.
	m := pgTransitionMerge{tol: tol, in: in, keys: make(map[pgTransitionKey]int)}
	m.windows()
	return s.inTx(ctx, pgBeginWrite, func(tx *pgTx) error {
		b := &pgBatch{}
		b.lock(devs...)
		m.queueRead(b)
		if err := tx.send(ctx, b, false); err != nil {
			return err
		}
		if err := m.merge(); err != nil {
			return err
		}
		return tx.send(ctx, m.writes(), true)
	})
}

// pgTransitionKey is what two transitions must share to merge.
type pgTransitionKey struct{ device, re, from, to string }

// pgStoredTransition is a row of transitions as the batch leaves it.
type pgStoredTransition struct {
	id                int64 // 0: inserted by the batch
	added             int   // the order of the rows the batch inserts
	time              time.Time
	sources, evidence []string
	// by is the first transition of the batch that writes the row, -1
	// for none; src and ev are the lists it writes, as JSON.
	by      int
	src, ev string
}

// before tells whether r sorts before o by id: rows stored before the
// batch by their id, then those the batch inserts, in order (their ids
// come later from the same sequence, under the device's lock).
func (r *pgStoredTransition) before(o *pgStoredTransition) bool {
	if (r.id == 0) != (o.id == 0) {
		return r.id != 0
	}
	if r.id != 0 {
		return r.id < o.id
	}
	return r.added < o.added
}

// pgTransitionMerge is SaveTransitions' merge of a batch (in, stored
// precision and normalized) into the stored transitions.
type pgTransitionMerge struct {
	tol  time.Duration
	in   []devices.Transition
	keys map[pgTransitionKey]int // → index in lo, hi and rows
	// lo and hi bound the times of the stored transitions of each key that
	// the batch may merge into: the hull of its transitions' windows.
	lo, hi []time.Time
	rows   [][]*pgStoredTransition
	added  int
}

// window is t's merge window, its ends rounded inwards to stored
// precision: the stored times t may merge with lie within.
func (m *pgTransitionMerge) window(t devices.Transition) (lo, hi time.Time) {
	return pgCeil(t.Time.Add(-m.tol)), pgFloor(t.Time.Add(m.tol))
}

func (m *pgTransitionMerge) windows() {
	for _, t := range m.in {
		k := pgTransitionKey{t.Device, t.RE, t.From, t.To}
		lo, hi := m.window(t)
		i, ok := m.keys[k]
		if !ok {
			m.keys[k] = len(m.lo)
			m.lo, m.hi = append(m.lo, lo), append(m.hi, hi)
			m.rows = append(m.rows, nil)
			continue
		}
		if lo.Before(m.lo[i]) {
			m.lo[i] = lo
		}
		if hi.After(m.hi[i]) {
			m.hi[i] = hi
		}
	}
}

// queueRead queues the read of the stored transitions within the
// windows. A stored transition only moves when one of the batch merges
// into it, so no other can come within a window during the batch.
//
// One query for the batch: the devices' transitions between the
// earliest and the latest bound, a range of the (device, time) index
// whatever the planner thinks of the table's size (the batch is
// normally one device's); those of other keys or outside their key's
// bounds are left out here.
func (m *pgTransitionMerge) queueRead(b *pgBatch) {
	devs := make([]string, 0, len(m.keys))
	lo, hi := m.lo[0], m.hi[0]
	for k, i := range m.keys {
		devs = append(devs, k.device)
		if m.lo[i].Before(lo) {
			lo = m.lo[i]
		}
		if m.hi[i].After(hi) {
			hi = m.hi[i]
		}
	}
	slices.Sort(devs)
	devs = slices.Compact(devs)
	b.query("find the same transitions", func(rows pgx.Rows) error {
		var (
			k                 pgTransitionKey
			r                 = &pgStoredTransition{by: -1}
			sources, evidence string
		)
		if err := rows.Scan(&k.device, &k.re, &k.from, &k.to, &r.id, &r.time, &sources, &evidence); err != nil {
			return err
		}
		i, ok := m.keys[k]
		if !ok || r.time.Before(m.lo[i]) || r.time.After(m.hi[i]) {
			return nil
		}
		var err error
		if r.sources, err = stringsFromJSON(sources); err != nil {
			return fmt.Errorf("stored transition %d: sources: %w", r.id, err)
		}
		if r.evidence, err = stringsFromJSON(evidence); err != nil {
			return fmt.Errorf("stored transition %d: evidence: %w", r.id, err)
		}
		m.rows[i] = append(m.rows[i], r)
		return nil
	}, pgTransitionCandidatesSQL, devs, lo, hi)
}

// pgTransitionCandidatesSQL reads the stored transitions of the devices
// ($1) between two times.
const pgTransitionCandidatesSQL = `SELECT device, re, from_state, to_state, id, time, sources::text, evidence::text
FROM transitions WHERE device = ANY($1::text[]) AND time BETWEEN $2 AND $3`

// merge merges each transition of the batch in turn into the nearest row
// of the same device, RE, From and To within tol (mergeTransition, the
// SQLite engine's rule; ties to the lowest id), or adds a row.
func (m *pgTransitionMerge) merge() error {
	for i, t := range m.in {
		if err := m.mergeOne(i, t); err != nil {
			return fmt.Errorf("transition %d (%s %s %s→%s at %s): %w", i, t.Device, t.RE, t.From, t.To,
				t.Time.Format(time.RFC3339), err)
		}
	}
	return nil
}

func (m *pgTransitionMerge) mergeOne(i int, t devices.Transition) error {
	k := m.keys[pgTransitionKey{t.Device, t.RE, t.From, t.To}]
	lo, hi := m.window(t)
	var (
		near *pgStoredTransition
		dist int64
	)
	for _, r := range m.rows[k] {
		if r.time.Before(lo) || r.time.After(hi) {
			continue
		}
		d := r.time.UnixMicro() - t.Time.UnixMicro()
		if d < 0 {
			d = -d
		}
		if near == nil || d < dist || (d == dist && r.before(near)) {
			near, dist = r, d
		}
	}
	if near == nil {
		r := &pgStoredTransition{added: m.added, time: t.Time, by: i}
		m.added++
		if err := r.set(t); err != nil {
			return err
		}
		m.rows[k] = append(m.rows[k], r)
		return nil
	}
	stored := t // same device, RE, From and To
	stored.Time, stored.Sources, stored.Evidence = near.time, near.sources, near.evidence
	merged := mergeTransition(stored, t)
	if merged.Time.Equal(stored.Time) && slices.Equal(merged.Sources, stored.Sources) &&
		slices.Equal(merged.Evidence, stored.Evidence) {
		return nil // seen before: nothing to write
	}
	if near.by < 0 {
		near.by = i
	}
	near.time = merged.Time
	return near.set(merged)
}

// set gives r t's lists to write, and as they read back once written.
func (r *pgStoredTransition) set(t devices.Transition) error {
	var err error
	if r.src, r.ev, err = transitionLists(t); err != nil {
		return err
	}
	if r.sources, err = stringsFromJSON(r.src); err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	if r.evidence, err = stringsFromJSON(r.ev); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// writes is the batch that stores the rows the merge wrote: one
// statement per row, in the order the transitions first wrote them.
func (m *pgTransitionMerge) writes() *pgBatch {
	var rows []*pgStoredTransition
	for _, rs := range m.rows {
		for _, r := range rs {
			if r.by >= 0 {
				rows = append(rows, r)
			}
		}
	}
	slices.SortFunc(rows, func(a, b *pgStoredTransition) int { return a.by - b.by })
	b := &pgBatch{}
	for _, r := range rows {
		t := m.in[r.by]
		what := fmt.Sprintf("transition %d (%s %s %s→%s at %s)", r.by, t.Device, t.RE, t.From, t.To,
			t.Time.Format(time.RFC3339))
		if r.id == 0 {
			b.exec(what, `INSERT INTO transitions (device, re, time, from_state, to_state, sources, evidence)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::json)`, t.Device, t.RE, r.time, t.From, t.To, r.src, r.ev)
		} else {
			b.exec(what, `UPDATE transitions SET time = $1, sources = $2::text::jsonb, evidence = $3::text::json
WHERE id = $4`, r.time, r.src, r.ev, r.id)
		}
	}
	return b
}

func (s *pgStore) Transitions(ctx context.Context, f Filter) ([]devices.Transition, error) {
	return collect(ctx, f, s.EachTransition)
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
		if err := transitionText(&t, sources, evidence); err != nil {
			return err
		}
		return stopErr(fn(&t))
	})
	return readErr("transitions", err)
}

// Alarm records.

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
	// One transaction, one round trip: the device's lock, then a
	// statement per record, in order (a record may follow another of the
	// same alarm).
	b := &pgBatch{}
	if len(recs) > 0 {
		b.lock(device)
	}
	for i, r := range recs {
		if _, err := alarmRecordArgs(device, r); err != nil { // the SQLite engine's validation
			return fmt.Errorf("record %d (%q): %w", i, r.Alarm.Description, err)
		}
		a := r.Alarm
		b.exec(fmt.Sprintf("record %d (%q)", i, r.Alarm.Description), `INSERT INTO alarm_records (device, member, description, alarm_time, source, class, type,
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
	return s.sendTx(ctx, pgBeginWrite, b)
}

func (s *pgStore) AlarmRecords(ctx context.Context, f Filter) ([]devices.AlarmRecord, error) {
	return collect(ctx, f, s.EachAlarmRecord)
}

func (s *pgStore) EachAlarmRecord(ctx context.Context, f Filter, fn func(*devices.AlarmRecord) error) error {
	var w pgFilter
	w.devices("device", f.Devices)
	// Life from the alarm's own time (first seen when it has none) to the
	// clear; an active alarm's life is open-ended.
	w.timeRange("COALESCE(alarm_time, first_seen)", "COALESCE(cleared_at, 'infinity')", f)
	query := alarmRecordQuery + w.String() + `
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
    evidence::text, alarms::text, other_causes::text, remedy, maintenance, maintenance_note FROM findings`

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
	// One transaction, one round trip: the device's lock; the deletion of
	// the stored findings that are gone (rather than all of them and a
	// reinsert, which would lose the detected_at of those still there),
	// among those whose last transition is at or after since; an upsert
	// per finding.
	var (
		b         = &pgBatch{}
		keepRE    = make([]string, 0, len(fs))
		keepFirst = make([]time.Time, 0, len(fs))
	)
	b.lock(device)
	upserts := &pgBatch{}
	detected := pgTime(s.now())
	for i, f := range fs {
		if err := checkFinding(device, f); err != nil {
			return fmt.Errorf("finding %d (%s from %s): %w", i, f.RE, f.First.Format(time.RFC3339), err)
		}
		first := pgTime(f.First)
		k := pgFindingKey{f.RE, first.UnixMicro()}
		if keep[k] {
			return fmt.Errorf("two findings of %q starting %s", f.RE, first.Format(time.RFC3339Nano))
		}
		keep[k] = true
		keepRE, keepFirst = append(keepRE, f.RE), append(keepFirst, first)
		evidence, alarms, otherCauses, err := findingJSON(f)
		if err != nil {
			return fmt.Errorf("finding %d: %w", i, err)
		}
		// A finding already stored keeps its detected_at.
		upserts.exec(fmt.Sprintf("finding %d (%s)", i, f.RE), pgUpsertFindingSQL,
			device, f.RE, first, pgTime(f.Last), string(f.Cause), string(f.Severity), f.Transitions,
			evidence, alarms, otherCauses, f.Remedy, detected, f.Maintenance, pgSafeText(f.MaintenanceNote))
	}

	var w pgFilter
	w.add("device = " + w.arg(device))
	if !since.IsZero() {
		w.add("last_transition >= " + w.arg(pgCeil(since)))
	}
	w.add(`NOT EXISTS (SELECT FROM unnest(` + w.arg(keepRE) + `::text[], ` + w.arg(keepFirst) + `::timestamptz[]) AS k(re, first)
    WHERE k.re = findings.re AND k.first = findings.first_transition)`)
	b.exec("delete findings that are gone", `DELETE FROM findings`+w.String(), w.args...)
	b.QueuedQueries = append(b.QueuedQueries, upserts.QueuedQueries...)
	return s.sendTx(ctx, pgBeginWrite, b)
}

// pgUpsertFindingSQL stores a finding; one stored already keeps its
// detected_at.
const pgUpsertFindingSQL = `INSERT INTO findings (device, re, first_transition, last_transition, cause, severity,
    transitions, evidence, alarms, other_causes, remedy, detected_at, maintenance, maintenance_note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::json, $9::text::jsonb, $10::text::jsonb, $11, $12, $13, $14)
ON CONFLICT (device, re, first_transition) DO UPDATE SET
    last_transition = excluded.last_transition, cause = excluded.cause, severity = excluded.severity,
    transitions = excluded.transitions, evidence = excluded.evidence, alarms = excluded.alarms,
    other_causes = excluded.other_causes, remedy = excluded.remedy,
    maintenance = excluded.maintenance, maintenance_note = excluded.maintenance_note`

func (s *pgStore) Findings(ctx context.Context, f Filter) ([]devices.Finding, error) {
	return collect(ctx, f, s.EachFinding)
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
			&alarms, &otherCauses, &fd.Remedy, &fd.Maintenance, &fd.MaintenanceNote); err != nil {
			return err
		}
		if err := findingText(&fd, cause, severity, evidence, alarms, otherCauses); err != nil {
			return err
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
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	// One transaction, one round trip: the device's lock, then the
	// configuration stored unless the one in effect at that time is the
	// same (jsonb equality: however its text is spelled).
	b := &pgBatch{}
	b.lock(device)
	b.exec("store the configuration", `INSERT INTO configs (device, at, config)
SELECT $1::text, $2::timestamptz, $3::text::jsonb
WHERE (SELECT config = $3::text::jsonb FROM configs WHERE device = $1 AND at <= $2 ORDER BY at DESC LIMIT 1)
    IS NOT TRUE
ON CONFLICT (device, at) DO UPDATE SET config = excluded.config`, device, pgTime(at), string(js))
	return s.sendTx(ctx, pgBeginWrite, b)
}

func (s *pgStore) Configs(ctx context.Context) (map[string]devices.RedundancyConfig, error) {
	out := make(map[string]devices.RedundancyConfig)
	// A device has a row per change only: DISTINCT ON over the primary
	// key reads few rows.
	err := pgStream(ctx, s.pool, `SELECT DISTINCT ON (device) device, config::text FROM configs ORDER BY device, at DESC`,
		nil, func(rows pgx.Rows) error {
			var device, config string
			if err := rows.Scan(&device, &config); err != nil {
				return err
			}
			cfg, err := configFromJSON(device, config)
			if err != nil {
				return err
			}
			out[device] = cfg
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("configurations: %w", err)
	}
	return out, nil
}
