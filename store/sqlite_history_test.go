package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// A database created by a build that knew only migration 1 gets
// migration 2 on open, and keeps its polls.
func TestSQLiteMigration2OnVersion1Database(t *testing.T) {
	ctx := context.Background()
	path := tempDBPath(t)
	db, err := sql.Open("sqlite", sqliteURI(path, "_txlock", "immediate", "_busy_timeout", "5000", "_journal_mode", "WAL"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, migrations()[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO polls (device, host, site, started, outcome, error_kind, error, has_snapshot)
VALUES ('mx1', 'mx1.example.net', 'ams1', ?, 'timeout', 'timeout', 'dial: i/o timeout', 0)`, base.UnixNano()); err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'log_lines'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("version 1 database already has log_lines (%d, %v)", tables, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := mustOpen(t, path)
	if got := mustLatest(t, st, "mx1"); got.Outcome != devices.OutcomeTimeout || !got.Started.Equal(base) {
		t.Errorf("version 1 poll after migration: %+v", got)
	}
	lines, events := histBatch("mx1")
	mustSaveLogs(t, st, "mx1", lines, events, nil, len(lines))
	mustReplaceFindings(t, st, "mx1", findingsOf("mx1"))
	mustClose(t, st)

	rows := migrationRows(t, path)
	if len(rows) != len(migrations()) || rows[0][0] != 1 || rows[1][0] != 2 {
		t.Fatalf("schema_migrations = %v, want versions 1 to %d", rows, len(migrations()))
	}
	checkIntegrity(t, path)
	// And once more: nothing left to apply.
	mustClose(t, mustOpen(t, path))
	if again := migrationRows(t, path); !reflect.DeepEqual(again, rows) {
		t.Errorf("reopen changed schema_migrations: %v -> %v", rows, again)
	}
}

// Recomputing a finding keeps the time it was first detected; a new one
// gets the clock's time. The Finding type has no field for it, so this
// reads the column.
func TestSQLiteFindingsKeepDetectedAt(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	detected := func() map[string]time.Time {
		t.Helper()
		out := map[string]time.Time{}
		err := eachRow(context.Background(), s.reader, `SELECT re, detected_at FROM findings WHERE device = 'mx1'`, nil,
			func(rows *sql.Rows) error {
				var re string
				var at int64
				err := rows.Scan(&re, &at)
				out[re] = fromNanos(at)
				return err
			})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t1, t2 := base.Add(time.Hour), base.Add(2*time.Hour)
	s.now = func() time.Time { return t1 }
	mustReplaceFindings(t, st, "mx1", findingsOf("mx1")[:1])
	s.now = func() time.Time { return t2 }
	mustReplaceFindings(t, st, "mx1", findingsOf("mx1")[:1])
	if got := detected(); !reflect.DeepEqual(got, map[string]time.Time{"re1": t1}) {
		t.Fatalf("after the same findings again: detected_at %v, want re1 at %v", got, t1)
	}
	// The re1 flap grows (same identity) and an re0 flap appears.
	fs := findingsOf("mx1")
	fs[0].Transitions, fs[0].Last = 9, fs[0].Last.Add(time.Hour)
	mustReplaceFindings(t, st, "mx1", fs)
	if got := detected(); !reflect.DeepEqual(got, map[string]time.Time{"re1": t1, "re0": t2}) {
		t.Errorf("after growth: detected_at %v, want re1 at %v and re0 at %v", got, t1, t2)
	}
}

// The occurrence numbering as stored, and the generated key of an
// untimed line.
func TestSQLiteLogOccurrences(t *testing.T) {
	path := tempDBPath(t)
	st := mustOpen(t, path)
	line := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase}
	untimed := devices.LogLine{File: "messages", Raw: junk}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{line, untimed, line}, nil, nil, 3)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{line, line, untimed, line, untimed}, nil, nil, 2)
	mustClose(t, st)

	db := rawDB(t, path)
	rows, err := db.Query(`SELECT file, line_time, time_key, occurrence FROM log_lines ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var (
			file    string
			at      sql.NullInt64
			key, oc int64
		)
		if err := rows.Scan(&file, &at, &key, &oc); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %v/%d #%d", file, at.Valid, key, oc))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ts := logBase.UnixNano()
	want := []string{
		fmt.Sprintf("mastership true/%d #0", ts),
		fmt.Sprintf("messages false/%d #0", int64(math.MinInt64)),
		fmt.Sprintf("mastership true/%d #1", ts),
		fmt.Sprintf("mastership true/%d #2", ts),
		fmt.Sprintf("messages false/%d #1", int64(math.MinInt64)),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored lines\n got %q\nwant %q", got, want)
	}
}

// The instant that stands for "no time" in key columns is refused as a
// real time, so it can never be mistaken for an untimed line or alarm.
func TestSQLiteReservedTimeRefused(t *testing.T) {
	st := openSQLiteTest(t)
	ctx := context.Background()
	reserved := time.Unix(0, math.MinInt64).UTC()
	if _, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{{File: "messages", Raw: "x", Time: reserved}}, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "reserved") {
		t.Errorf("SaveLogs(reserved time) = %v, want a refusal", err)
	}
	rec := devices.AlarmRecord{Alarm: devices.Alarm{Description: "x", Time: reserved}, FirstSeen: base, LastSeen: base}
	if err := st.SaveAlarmRecords(ctx, "mx1", []devices.AlarmRecord{rec}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("SaveAlarmRecords(reserved time) = %v, want a refusal", err)
	}
	if _, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{{File: "messages", Raw: "x", Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "outside the storable range") {
		t.Errorf("SaveLogs(year 2300) = %v, want a range error", err)
	}
}

// A failure on the last event rolls back the lines before it and leaves
// the cursor where it was: one transaction per batch.
func TestSQLiteSaveLogsIsAtomic(t *testing.T) {
	path := tempDBPath(t)
	mustClose(t, mustOpen(t, path))
	db := rawDB(t, path)
	if _, err := db.Exec(`CREATE TRIGGER fail_event BEFORE INSERT ON events
WHEN NEW.rule = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	st := mustOpen(t, path)
	defer mustClose(t, st)
	ctx := context.Background()
	lines, events := histBatch("mx1")
	events[len(events)-1].Rule = "boom"
	cursor := []devices.LogCursor{{File: "messages", Tail: []string{"x"}, Lines: 6}}
	n, err := st.SaveLogs(ctx, "mx1", lines, events, cursor)
	if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "save logs of mx1") {
		t.Fatalf("SaveLogs = %d, %v; want the injected failure, wrapped", n, err)
	}
	mustUnparsed(t, st, "mx1", 0)
	if _, ok, err := st.LogCursor(ctx, "mx1", "messages"); ok || err != nil {
		t.Errorf("cursor moved by a failed batch (ok=%v, %v)", ok, err)
	}
	db = rawDB(t, path)
	for _, table := range []string{"log_lines", "events", "log_cursors"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s: %d rows after a rolled-back batch", table, n)
		}
	}
	// The writer is usable afterwards, and the batch is new then.
	events[len(events)-1].Rule = "alarmd-fru"
	mustSaveLogs(t, st, "mx1", lines, events, cursor, 6)
}

// The merge's time rule is a maximum, so the order transitions arrive
// in does not change the stored result.
func TestMergeTransitionOrderIndependent(t *testing.T) {
	mk := func(sec int, src, ev string) devices.Transition {
		return normalizeTransition(devices.Transition{Device: "mx1", RE: "re1", Time: logBase.Add(time.Duration(sec) * time.Second),
			From: devices.REBackup, To: devices.REGone, Sources: []string{src}, Evidence: []string{ev}})
	}
	ts := []devices.Transition{mk(9, "re-table", "a"), mk(5, "alarm", "b"), mk(3, "log:mastership", "c"),
		mk(1, "re-table", "d"), mk(4, "log:messages", "e")}
	merge := func(order []int) devices.Transition {
		acc := ts[order[0]]
		for _, i := range order[1:] {
			acc = mergeTransition(acc, ts[i])
		}
		return acc
	}
	want := merge([]int{0, 1, 2, 3, 4})
	if !want.Time.Equal(logBase.Add(3*time.Second)) || len(want.Sources) != 4 || len(want.Evidence) != 5 {
		t.Fatalf("merge = %+v: want the earliest log time, four sources, five lines", want)
	}
	for _, order := range [][]int{{4, 3, 2, 1, 0}, {3, 0, 4, 1, 2}, {1, 4, 0, 2, 3}} {
		got := merge(order)
		if !got.Time.Equal(want.Time) || !reflect.DeepEqual(got.Sources, want.Sources) {
			t.Errorf("order %v: time %s sources %v; want %s %v", order, got.Time, got.Sources, want.Time, want.Sources)
		}
	}
}

// The history reads a poll makes for one device must stay index seeks as
// history grows.
func TestSQLiteHistoryQueryPlans(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	for name, q := range map[string]string{
		"events of a device": eventsQuery + ` WHERE e.device IN ('x') AND e.time >= 1 ORDER BY e.time, e.id`,
		"transition merge lookup": `SELECT id, time, sources, evidence FROM transitions
WHERE device = 'x' AND re = 'r' AND from_state = 'a' AND to_state = 'b' AND time BETWEEN 1 AND 2
ORDER BY ABS(time - 1), id LIMIT 1`,
		"transitions of a device": transitionQuery + ` WHERE device IN ('x') AND time >= 1 ORDER BY time, id`,
		"alarm records of a device": alarmRecordQuery + ` WHERE device IN ('x')
ORDER BY COALESCE(alarm_time, first_seen), device, member, description`,
		"findings of a device": findingQuery + ` WHERE device IN ('x') AND last_transition >= 1
ORDER BY first_transition, device, re`,
		"stored findings":      `SELECT re, first_transition FROM findings WHERE device = 'x'`,
		"unparsed lines":       `SELECT COUNT(*) FROM log_lines WHERE device = 'x' AND parsed = 0`,
		"log cursor":           `SELECT tail, last_time, lines FROM log_cursors WHERE device = 'x' AND file = 'f'`,
		"configuration before": `SELECT config FROM configs WHERE device = 'x' AND at <= 5 ORDER BY at DESC LIMIT 1`,
		"latest configs":       latestConfigsQuery,
	} {
		plan := queryPlan(t, s.reader, q)
		checkPlan(t, name, plan)
	}
}

// checkPlan fails on a full table scan.
func checkPlan(t *testing.T, name string, plan []string) {
	t.Helper()
	for _, step := range plan {
		// "SCAN devs" walks the CTE's one row per device.
		if f := strings.Fields(step); len(f) >= 2 && f[0] == "SCAN" && f[1] != "devs" && !strings.Contains(step, " USING ") {
			t.Errorf("%s: plan has %q:\n  %s", name, step, strings.Join(plan, "\n  "))
		}
	}
}

// Fleet-wide exports stream in time order: their plans walk an index in
// that order instead of sorting the table before the first row (which
// would hold it all, and for polls redo it on every page).
func TestSQLiteExportQueryPlans(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	for name, q := range map[string]string{
		"all events":      eventsQuery + ` ORDER BY e.time, e.id LIMIT -1`,
		"all transitions": transitionQuery + ` ORDER BY time, id LIMIT -1`,
		"a page of polls": `SELECT ` + pollColumns + ` FROM polls WHERE (started > 1 OR (started = 1 AND id > 2)) ORDER BY started, id LIMIT 512`,
	} {
		plan := queryPlan(t, s.reader, q)
		for _, step := range plan {
			if strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s sorts: %q\n  %s", name, step, strings.Join(plan, "\n  "))
			}
		}
	}
}

func queryPlan(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN ` + q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// benchLogBatch is a 500-line poll of messages and mastership starting at
// start: one line a second, every tenth repeated three times in its
// second as the mastership log does, and an event for every fifth line.
func benchLogBatch(start time.Time) ([]devices.LogLine, []devices.Event) {
	lines := make([]devices.LogLine, 0, 500)
	var events []devices.Event
	for i := 0; len(lines) < 500; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		l := devices.LogLine{File: "messages", Time: at, Host: "re0-mx1", Process: "chassisd", PID: 1500 + i%7,
			Tag: "CHASSISD_SNMP_TRAP7", Parsed: true,
			Message: fmt.Sprintf("SNMP trap generated: Fru Offline (jnxFruContentsIndex 7, jnxFruL1Index %d)", i%4)}
		copies := 1
		if i%10 == 0 {
			l.File, l.Host, l.Process, l.PID, l.Tag, l.Message = "mastership", "", "", 0, "E_NO_ORE", "no other RE"
			copies = 3
		}
		l.Raw = at.Format(time.Stamp) + " " + l.Host + " " + l.Tag + ": " + l.Message
		for range copies {
			lines = append(lines, l)
		}
		if i%5 == 0 {
			events = append(events, devices.Event{Kind: devices.EventFRU, Time: at, Subject: "FPC 7", Rule: "chassisd-fru", Line: l})
		}
	}
	return lines[:500], events
}

func BenchmarkSaveLogs(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B) Store {
		st, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}
	// new: every batch is 500 lines the store has not seen (a busy router
	// between two polls).
	b.Run("new", func(b *testing.B) {
		st := open(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			lines, events := benchLogBatch(logBase.Add(time.Duration(i) * time.Hour))
			cur := []devices.LogCursor{{File: "messages", Tail: []string{lines[499].Raw}, LastTime: lines[499].Time, Lines: int64(500 * (i + 1))}}
			n, err := st.SaveLogs(ctx, "mx1", lines, events, cur)
			if err != nil || n != 500 {
				b.Fatalf("SaveLogs = %d, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(500*b.N), "ns/line")
	})
	// reread: the same 500 lines again (a cursor that lost its place):
	// all of them rejected by the unique key.
	b.Run("reread", func(b *testing.B) {
		st := open(b)
		lines, events := benchLogBatch(logBase)
		if _, err := st.SaveLogs(ctx, "mx1", lines, events, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			n, err := st.SaveLogs(ctx, "mx1", lines, events, nil)
			if err != nil || n != 0 {
				b.Fatalf("SaveLogs = %d, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(500*b.N), "ns/line")
	})
}
