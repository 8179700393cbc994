package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// openSQLiteTest opens a store in a directory that does not exist yet
// (Open must create it) and, when the test ends, closes it and checks the
// file with integrity_check and foreign_key_check.
func openSQLiteTest(t *testing.T) Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "var", "lib", "mastership.db")
	st, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkIntegrity(t, path)
	})
	return st
}

func TestSQLite(t *testing.T) {
	testStoreSuite(t, openSQLiteTest)
}

// rawDB opens the file directly, bypassing the store, to inspect or
// tamper with it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteURI(path, "_busy_timeout", "5000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if res != "ok" {
		t.Errorf("integrity_check = %q, want ok", res)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign_key_check found violations")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func tempDBPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "mastership.db")
}

func mustOpen(t *testing.T, path string) Store {
	t.Helper()
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return st
}

func mustClose(t *testing.T, st Store) {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// 64 pollers × 20 polls with readers alongside: no SQLITE_BUSY, every row
// there, the file intact, and nothing left in -wal after Close.
func TestSQLiteConcurrentSavePoll(t *testing.T) {
	path := tempDBPath(t)
	st := mustOpen(t, path)
	saveConcurrently(t, st, 64, 20)
	mustClose(t, st)

	db := rawDB(t, path)
	for table, want := range map[string]int{"polls": 1280, "route_engines": 2560, "alarms": 3840, "software": 2560, "runs": 1} {
		if n := count(t, db, table); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	_ = db.Close()
	checkIntegrity(t, path)
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-wal file left after Close: %v", err)
	}
}

// The SQLite engine keeps nanoseconds, beyond the suite's microseconds.
func TestSQLiteNanosecondTimes(t *testing.T) {
	st := openSQLiteTest(t)
	started := base.Add(123 * time.Nanosecond)
	want := fullPoll("mx1", 0, started)
	want.Snapshot.PolledAt = started.Add(999_999_999)
	want.Snapshot.RouteEngines[0].StartTime = ptr(time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC)) // a backup RE with a reset clock
	want.Snapshot.Alarms[0].Time = time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	mustSave(t, st, &want)
	diffPoll(t, want, *mustLatest(t, st, "mx1"))
}

// Times outside int64 nanoseconds are refused, never stored wrong, and a
// refused poll leaves nothing behind.
func TestSQLiteTimeOutOfRange(t *testing.T) {
	st := openSQLiteTest(t)
	ctx := context.Background()
	for name, mutate := range map[string]func(p *devices.Poll){
		"poll start":      func(p *devices.Poll) { p.Started = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"poll finish":     func(p *devices.Poll) { p.Finished = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) },
		"RE start time":   func(p *devices.Poll) { p.Snapshot.RouteEngines[1].StartTime = ptr(time.Time{}) },
		"alarm time":      func(p *devices.Poll) { p.Snapshot.Alarms[2].Time = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) },
		"snapshot polled": func(p *devices.Poll) { p.Snapshot.PolledAt = time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		p := fullPoll("mx1", 0, base)
		mutate(&p)
		err := st.SavePoll(ctx, &p)
		if err == nil || !strings.Contains(err.Error(), "outside the storable range") {
			t.Errorf("%s: SavePoll = %v, want a range error", name, err)
		}
	}
	if _, err := st.BeginRun(ctx, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("BeginRun accepted year 2300")
	}
	if got, err := st.LatestPoll(ctx, "mx1"); err != nil || got != nil {
		t.Errorf("LatestPoll = %v, %v; want nil, nil", got, err)
	}
}

// A failure on the last child row rolls back the poll and the rows
// before it: one transaction per poll.
func TestSQLiteSavePollIsAtomic(t *testing.T) {
	path := tempDBPath(t)
	mustClose(t, mustOpen(t, path))
	db := rawDB(t, path)
	if _, err := db.Exec(`CREATE TRIGGER fail_software BEFORE INSERT ON software
WHEN NEW.version = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	st := mustOpen(t, path)
	defer mustClose(t, st)
	ctx := context.Background()
	p := fullPoll("mx1", 0, base)
	p.Snapshot.Software[1].Version = "boom"
	err := st.SavePoll(ctx, &p)
	if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "save poll of mx1") {
		t.Fatalf("SavePoll = %v, want the injected failure, wrapped", err)
	}
	if p.ID != 0 {
		t.Errorf("failed SavePoll set ID %d", p.ID)
	}
	if got, err := st.LatestPoll(ctx, "mx1"); err != nil || got != nil {
		t.Errorf("LatestPoll = %v, %v; want nil, nil", got, err)
	}
	db = rawDB(t, path)
	for _, table := range []string{"polls", "route_engines", "alarms", "software"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s: %d rows after a rolled-back poll", table, n)
		}
	}

	// The writer connection is usable afterwards.
	ok := fullPoll("mx1", 0, base)
	mustSave(t, st, &ok)
}

func migrationRows(t *testing.T, path string) [][2]int64 {
	t.Helper()
	db := rawDB(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var r [2]int64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSQLiteReopenKeepsDataAndSchema(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()

	st := mustOpen(t, path)
	run := mustBeginRun(t, st, base)
	want := fullPoll("mx1", run, base)
	mustSave(t, st, &want)
	if err := st.FinishRun(ctx, devices.Run{ID: run, Started: base, Finished: base.Add(time.Minute), Devices: 1, OK: 1}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, st)
	before := migrationRows(t, path)
	if len(before) != len(migrations()) {
		t.Fatalf("%d migrations recorded, want %d", len(before), len(migrations()))
	}

	// Every accepted spelling of the same file.
	for _, dsn := range []string{path, "sqlite:" + path, "file:" + path, "file://" + path, "sqlite://localhost" + path} {
		st = mustOpen(t, dsn)
		diffPoll(t, want, *mustLatest(t, st, "mx1"))
		runs, err := st.Runs(ctx, 1)
		if err != nil || len(runs) != 1 || runs[0].OK != 1 {
			t.Errorf("%s: Runs = %+v, %v", dsn, runs, err)
		}
		mustClose(t, st)
		if after := migrationRows(t, path); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: reopening changed schema_migrations: %v -> %v", dsn, before, after)
		}
	}
}

func TestSQLiteNewerSchemaRefused(t *testing.T) {
	path := tempDBPath(t)
	st := mustOpen(t, path)
	p := fullPoll("mx1", 0, base)
	mustSave(t, st, &p)
	mustClose(t, st)

	newer := len(migrations()) + 1
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, newer); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	st, err := Open(context.Background(), path)
	if err == nil {
		_ = st.Close()
		t.Fatal("Open accepted a database from a newer version")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open = %v, want ErrSchemaTooNew", err)
	}
	if want := fmt.Sprintf("schema version %d, this build knows up to %d", newer, len(migrations())); !strings.Contains(err.Error(), want) {
		t.Errorf("Open = %q, want it to say %q", err, want)
	}
	if n := len(migrationRows(t, path)); n != newer {
		t.Errorf("schema_migrations has %d rows after the refused open, want %d", n, newer)
	}
}

func TestSQLiteForeignDatabaseRefused(t *testing.T) {
	ctx := context.Background()

	other := tempDBPath(t)
	db := rawDB(t, other)
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if st, err := Open(ctx, other); err == nil || !strings.Contains(err.Error(), "not a mastership database") {
		if st != nil {
			_ = st.Close()
		}
		t.Errorf("Open(another application's database) = %v, want refusal", err)
	}

	marked := tempDBPath(t)
	db = rawDB(t, marked)
	if _, err := db.Exec(`PRAGMA application_id = 42`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if st, err := Open(ctx, marked); err == nil || !strings.Contains(err.Error(), "application_id") {
		if st != nil {
			_ = st.Close()
		}
		t.Errorf("Open(database with another application_id) = %v, want refusal", err)
	}

	// Ours carries the mark.
	ours := tempDBPath(t)
	mustClose(t, mustOpen(t, ours))
	var id int64
	if err := rawDB(t, ours).QueryRow(`PRAGMA application_id`).Scan(&id); err != nil || id != applicationID {
		t.Errorf("application_id = %#x, %v; want %#x", id, err, applicationID)
	}
}

// Each step is its own transaction: a failing step leaves the database at
// the previous version with nothing of the failed step, and a later run
// applies only what is missing.
func TestMigrateStepwise(t *testing.T) {
	ctx := context.Background()
	path := tempDBPath(t)
	db, err := sql.Open("sqlite", sqliteURI(path, "_txlock", "immediate", "_busy_timeout", "5000"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	one := migration{name: "one", sql: `CREATE TABLE a (x INTEGER) STRICT`}
	bad := migration{name: "bad", sql: `CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1)`}
	two := migration{name: "two", sql: `CREATE TABLE b (x INTEGER) STRICT; INSERT INTO b VALUES (2)`}

	version := func() int {
		v, err := schemaVersion(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := migrate(ctx, db, []migration{one}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	err = migrate(ctx, db, []migration{one, bad})
	if err == nil || !strings.Contains(err.Error(), "migration 2 (bad)") {
		t.Fatalf("migrate(bad) = %v, want an error naming migration 2", err)
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d after a failed step, want 1", v)
	}
	var tables int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("failed step left table b behind (%d, %v)", tables, err)
	}
	for range 2 { // the second run finds nothing to do
		if err := migrate(ctx, db, []migration{one, two}); err != nil {
			t.Fatal(err)
		}
	}
	if v := version(); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	if n := count(t, db, "b"); n != 1 {
		t.Fatalf("migration two ran %d times, want once", n)
	}
	if err := migrate(ctx, db, []migration{one}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("migrate(older build) = %v, want ErrSchemaTooNew", err)
	}
}

func TestSQLiteConnectionSettings(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	ctx := context.Background()
	for _, c := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.writer, "journal_mode", "wal"},
		{s.writer, "foreign_keys", "1"},
		{s.writer, "synchronous", "1"}, // NORMAL
		{s.writer, "busy_timeout", "5000"},
		{s.writer, "query_only", "0"},
		{s.reader, "journal_mode", "wal"},
		{s.reader, "busy_timeout", "5000"},
		{s.reader, "query_only", "1"},
	} {
		var got string
		if err := c.db.QueryRowContext(ctx, `PRAGMA `+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	if n := s.writer.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer allows %d connections, want 1", n)
	}
	if _, err := s.reader.ExecContext(ctx, `DELETE FROM runs`); err == nil {
		t.Error("the reader pool accepted a write")
	}
}

// The per-device lookups must stay index seeks as history grows: a full
// scan of polls would make every poll of a large fleet slower over time.
func TestSQLiteQueryPlans(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	for name, q := range map[string]string{
		"latest polls":  latestCTE + `SELECT ` + pollColumns + ` FROM polls WHERE id IN (SELECT id FROM latest) ORDER BY device`,
		"latest poll":   `SELECT ` + pollColumns + ` FROM polls WHERE device = 'x' ORDER BY started DESC, id DESC LIMIT 1`,
		"max REs":       `SELECT MAX(re_count) FROM polls WHERE device = 'x'`,
		"runs":          `SELECT id FROM runs ORDER BY started DESC, id DESC LIMIT 5`,
		"latest alarms": latestCTE + `SELECT * FROM alarms WHERE poll_id IN (SELECT id FROM latest) ORDER BY poll_id, ord`,
	} {
		rows, err := s.reader.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			// "SCAN t USING ... INDEX" walks an index in order and stops at
			// the LIMIT; a bare "SCAN t" reads the whole table. Sorting the
			// latest polls by device is a sort of one row per device.
			if f := strings.Fields(step); len(f) >= 2 && f[0] == "SCAN" && f[1] != "devs" && f[1] != "latest" &&
				!strings.Contains(step, " USING ") {
				t.Errorf("%s: plan has %q:\n  %s", name, step, strings.Join(plan, "\n  "))
			}
		}
	}
}

func BenchmarkSavePoll(b *testing.B) {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	p := fullPoll("mx1", 0, base) // dual RE, 3 alarms, 2 software
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Started = base.Add(time.Duration(i) * time.Second)
		if err := st.SavePoll(ctx, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSavePollParallel is many pollers saving at once: they queue
// for the one writer, so ns/op is the store's write throughput.
func BenchmarkSavePollParallel(b *testing.B) {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8) // 8 × GOMAXPROCS goroutines, like a large worker pool
	b.RunParallel(func(pb *testing.PB) {
		p := fullPoll("mx1", 0, base)
		for i := 0; pb.Next(); i++ {
			p.Started = base.Add(time.Duration(i) * time.Second)
			if err := st.SavePoll(ctx, &p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLatestPolls reads the latest state of a 500-device fleet with
// 20 polls of history each.
func BenchmarkLatestPolls(b *testing.B) {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for d := range 500 {
		for i := range 20 {
			p := fullPoll(fmt.Sprintf("mx%03d", d), 0, base.Add(time.Duration(i)*time.Minute))
			if err := st.SavePoll(ctx, &p); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		polls, err := st.LatestPolls(ctx)
		if err != nil || len(polls) != 500 {
			b.Fatalf("LatestPolls: %d, %v", len(polls), err)
		}
	}
}
