package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mastership/mastership/devices"

	"github.com/mastership/mastership/store/pgtest"
)

// openPostgresTest opens a store in a fresh schema of the test server
// (pgtest) and closes it when the test ends, before the schema is
// dropped.
func openPostgresTest(t *testing.T) Store {
	t.Helper()
	st, _ := openPostgresTestDSN(t)
	return st
}

// openPostgresTestDSN is openPostgresTest that also returns the DSN, for
// tests that open the same schema again or inspect it.
func openPostgresTestDSN(t *testing.T) (Store, string) {
	t.Helper()
	dsn := pgtest.Schema(t)
	st, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st, dsn
}

func TestPostgres(t *testing.T) {
	pgtest.DSN(t) // skip (or fail) here, once, rather than in every subtest
	testStoreSuite(t, openPostgresTest)
}

// rawPG connects to dsn directly, bypassing the store, to inspect or
// tamper with the schema.
func rawPG(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Errors from opening a PostgreSQL store — a DSN pgx cannot parse, a
// server that refuses the connection — never carry the DSN's password,
// however it is spelled. No server is needed: nothing listens on port 1.
func TestOpenPostgresErrorsHideThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		dsn     string
		secrets []string
	}{
		{"postgres://mastership:hunter2@127.0.0.1:1/mastership?sslmode=disable", []string{"hunter2"}},
		{"postgresql://mastership:hunter2@127.0.0.1:1/mastership?sslmode=disable", []string{"hunter2"}},
		{"POSTGRES://mastership:hunter2@127.0.0.1:1/m?sslmode=disable", []string{"hunter2"}},
		{"postgres://mastership:hun%40ter2@127.0.0.1:1/m?sslmode=disable", []string{"hun%40ter2", "hun@ter2"}},
		{"postgres://127.0.0.1:1/m?sslmode=disable&password=hunter2", []string{"hunter2"}},
		{"host=127.0.0.1 port=1 user=mastership password=hunter2 dbname=mastership sslmode=disable", []string{"hunter2"}},
		{"host=127.0.0.1 port=1 user=mastership password='hun ter2' dbname=m sslmode=disable", []string{"hun ter2"}},
		// Unparsable: pgx's error would quote the DSN.
		{"postgres://mastership:hunter2@127.0.0.1:notaport/m", []string{"hunter2"}},
		{"postgres://mastership:hunter2@[::1/m", []string{"hunter2"}},
		{"host=127.0.0.1 password=hunter2 bogus", []string{"hunter2"}},
		{"host=127.0.0.1 password='hunter2", []string{"hunter2"}},
	} {
		st, err := Open(ctx, c.dsn)
		if err == nil {
			_ = st.Close()
			t.Errorf("Open(%q) succeeded", c.dsn)
			continue
		}
		if !strings.Contains(err.Error(), "PostgreSQL") {
			t.Errorf("Open(%q) = %q, want it to name PostgreSQL", c.dsn, err)
		}
		for _, s := range c.secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("Open(%q) error leaks the password: %q", c.dsn, err)
			}
		}
	}
	// Nothing was created in the working directory either.
	if _, err := os.Stat("host=127.0.0.1 port=1 user=mastership password=hunter2 dbname=mastership sslmode=disable"); err == nil {
		t.Error("a libpq DSN was taken for a file name")
	}
}

// The store is named by user, host and database in messages, never with
// the password, and the error of a refused password does not carry it.
func TestPostgresWrongPassword(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal("the test DSN does not parse")
	}
	const wrong = "not-the-Password-42"
	kv := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable connect_timeout=10",
		cfg.Host, cfg.Port, cfg.User, wrong, cfg.Database)
	st, err := Open(context.Background(), kv)
	if err == nil {
		_ = st.Close()
		t.Skip("the test server accepts any password (trust authentication)")
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("Open(wrong password) leaks it: %q", err)
	}
	if !strings.Contains(err.Error(), cfg.User+"@") {
		t.Errorf("Open(wrong password) = %q, want it to name the user and server", err)
	}
	if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("Open(wrong password) leaks the right one: %q", err)
	}
}

func TestRedactDSN(t *testing.T) {
	for _, c := range []struct{ dsn, msg, want string }{
		{"postgres://u:s3cret@h/db", "cannot parse `postgres://u:s3cret@h/db`", "cannot parse `postgres://u:xxxxx@h/db`"},
		{"postgres://u:a%2Fb@h/db", "bad a%2Fb and a/b", "bad xxxxx and xxxxx"},
		{"host=h password='x y' dbname=d", "parse host=h password='x y'", "parse host=h password=xxxxx"},
		{"host=h password=pw dbname=d", "no password here", "no password here"},
		{"postgres://u@h/db?password=qq", "url ...password=qq", "url ...password=xxxxx"},
	} {
		if got := redactDSN(c.dsn, "", errors.New(c.msg)).Error(); got != c.want {
			t.Errorf("redactDSN(%q, %q) = %q, want %q", c.dsn, c.msg, got, c.want)
		}
	}
	inner := fmt.Errorf("dial: %w", context.Canceled)
	if err := redactDSN("postgres://u:dial@h/db", "", inner); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "dial") {
		t.Errorf("redactDSN = %v: want the password masked and errors.Is kept", err)
	}
}

func TestPgSafeText(t *testing.T) {
	for in, want := range map[string]string{
		"ok":                      "ok",
		"caf\xc3\xa9":             "café",
		"bad \xff byte":           "bad \uFFFD byte",
		"nul \x00 inside":         "nul \uFFFD inside",
		"\x00\xfe":                "\uFFFD\uFFFD",
		"dial tcp: i/o timeout\n": "dial tcp: i/o timeout\n",
	} {
		if got := pgSafeText(in); got != want {
			t.Errorf("pgSafeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPgCeil(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)
	for _, c := range []struct{ in, ceil, floor time.Time }{
		{at, at, at},
		{at.Add(1), at.Add(time.Microsecond), at},
		{at.Add(999), at.Add(time.Microsecond), at},
		{time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Unix(0, 0).UTC(),
			time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC)},
	} {
		if got := pgCeil(c.in); !got.Equal(c.ceil) {
			t.Errorf("pgCeil(%s) = %s, want %s", c.in, got, c.ceil)
		}
		if got := pgFloor(c.in); !got.Equal(c.floor) {
			t.Errorf("pgFloor(%s) = %s, want %s", c.in, got, c.floor)
		}
	}
}

// pgMigrationRows reads mastership_migrations.
func pgMigrationRows(t *testing.T, dsn string) []string {
	t.Helper()
	rows, err := rawPG(t, dsn).Query(context.Background(), `SELECT version, name, applied_at FROM mastership_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var (
			v    int
			name string
			at   time.Time
		)
		err := r.Scan(&v, &name, &at)
		return fmt.Sprintf("%d %s %s", v, name, at.Format(time.RFC3339Nano)), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pgKeywordDSN respells a URL DSN as a keyword/value string.
func pgKeywordDSN(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal("the test DSN does not parse")
	}
	q := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	kv := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s search_path=%s", q(cfg.Host), cfg.Port,
		q(cfg.User), q(cfg.Password), q(cfg.Database), q(cfg.RuntimeParams["search_path"]))
	if cfg.TLSConfig == nil {
		kv += " sslmode=disable"
	}
	return kv
}

func TestPostgresReopenKeepsDataAndSchema(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	ctx := context.Background()
	run := mustBeginRun(t, st, base)
	want := fullPoll("mx1", run, base)
	mustSave(t, st, &want)
	if err := st.FinishRun(ctx, devices.Run{ID: run, Started: base, Finished: base.Add(time.Minute), Devices: 1, OK: 1}); err != nil {
		t.Fatal(err)
	}
	before := pgMigrationRows(t, dsn)
	if len(before) != len(pgMigrations()) {
		t.Fatalf("%d migrations recorded, want %d", len(before), len(pgMigrations()))
	}
	if len(pgMigrations()) != len(migrations()) {
		t.Errorf("PostgreSQL has %d migrations, SQLite %d: a version must mean the same schema on both",
			len(pgMigrations()), len(migrations()))
	}

	// Every accepted spelling of the same database.
	u := strings.Replace(dsn, "postgres://", "postgresql://", 1)
	for name, d := range map[string]string{"url": dsn, "postgresql url": u, "keyword/value": pgKeywordDSN(t, dsn)} {
		st2, err := Open(ctx, d)
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		diffPoll(t, want, *mustLatest(t, st2, "mx1"))
		runs, err := st2.Runs(ctx, 1)
		if err != nil || len(runs) != 1 || runs[0].OK != 1 {
			t.Errorf("%s: Runs = %+v, %v", name, runs, err)
		}
		mustClose(t, st2)
		if after := pgMigrationRows(t, dsn); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: reopening changed mastership_migrations: %v -> %v", name, before, after)
		}
	}
}

func TestPostgresNewerSchemaRefused(t *testing.T) {
	_, dsn := openPostgresTestDSN(t)
	newer := len(pgMigrations()) + 1
	if _, err := rawPG(t, dsn).Exec(context.Background(), `INSERT INTO mastership_migrations (version, name) VALUES ($1, 'from the future')`, newer); err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), dsn)
	if err == nil {
		_ = st.Close()
		t.Fatal("Open accepted a database from a newer version")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open = %v, want ErrSchemaTooNew", err)
	}
	if want := fmt.Sprintf("schema version %d, this build knows up to %d", newer, len(pgMigrations())); !strings.Contains(err.Error(), want) {
		t.Errorf("Open = %q, want it to say %q", err, want)
	}
}

func TestPostgresForeignSchemaRefused(t *testing.T) {
	dsn := pgtest.Schema(t)
	if _, err := rawPG(t, dsn).Exec(context.Background(), `CREATE TABLE users (id bigint PRIMARY KEY, name text)`); err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), dsn)
	if err == nil {
		_ = st.Close()
		t.Fatal("Open accepted another application's schema")
	}
	if !strings.Contains(err.Error(), "not a mastership database") {
		t.Errorf("Open = %v, want a refusal", err)
	}
	var n int
	if err := rawPG(t, dsn).QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the refused schema has %d tables (%v), want its one table untouched", n, err)
	}
}

func TestPostgresNoSchema(t *testing.T) {
	dsn, err := pgtest.WithSearchPath(pgtest.DSN(t), "no_such_schema_here")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), dsn)
	if err == nil {
		_ = st.Close()
		t.Fatal("Open succeeded without a schema to create tables in")
	}
	if !errors.Is(err, errNoSchema) {
		t.Errorf("Open = %v, want errNoSchema", err)
	}
}

// Each step is its own transaction: a failing step leaves the schema at
// the previous version with nothing of the failed step, and a later run
// applies only what is missing.
func TestPostgresMigrateStepwise(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	one := migration{name: "one", sql: `CREATE TABLE a (x integer)`}
	bad := migration{name: "bad", sql: `CREATE TABLE b (x integer); INSERT INTO no_such_table VALUES (1)`}
	two := migration{name: "two", sql: `CREATE TABLE b (x integer); INSERT INTO b VALUES (2)`}
	version := func() int {
		t.Helper()
		v, err := pgSchemaVersion(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := pgMigrate(ctx, pool, []migration{one}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	err = pgMigrate(ctx, pool, []migration{one, bad})
	if err == nil || !strings.Contains(err.Error(), "migration 2 (bad)") {
		t.Fatalf("migrate(bad) = %v, want an error naming migration 2", err)
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d after a failed step, want 1", v)
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'b'`).
		Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("failed step left table b behind (%d, %v)", tables, err)
	}
	for range 2 { // the second run finds nothing to do
		if err := pgMigrate(ctx, pool, []migration{one, two}); err != nil {
			t.Fatal(err)
		}
	}
	if v := version(); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT COUNT(*) FROM b`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration two ran %d times (%v), want once", n, err)
	}
	if err := pgMigrate(ctx, pool, []migration{one}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("migrate(older build) = %v, want ErrSchemaTooNew", err)
	}
}

// Agents starting together migrate one empty schema together: the
// advisory lock lets each step run once, and every Open succeeds.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := pgtest.Schema(t)
	const agents = 8
	var wg sync.WaitGroup
	stores := make([]Store, agents)
	for i := range agents {
		wg.Go(func() {
			st, err := Open(context.Background(), dsn)
			if err != nil {
				t.Errorf("agent %d: Open: %v", i, err)
				return
			}
			stores[i] = st
		})
	}
	wg.Wait()
	for _, st := range stores {
		if st != nil {
			mustClose(t, st)
		}
	}
	if rows := pgMigrationRows(t, dsn); len(rows) != len(pgMigrations()) {
		t.Errorf("mastership_migrations after concurrent opens: %q", rows)
	}
}

// Bytes a device wrote that PostgreSQL's text refuses — NUL, invalid
// UTF-8 — round-trip in a log line's fields (bytea) and in evidence
// (json, not jsonb); a poll's error text is made storable instead of
// losing the poll.
func TestPostgresBytesRoundTrip(t *testing.T) {
	st := openPostgresTest(t)
	odd := devices.LogLine{File: "messages", Raw: "Mar 14 09:26:53 re0 chassisd[1]: \x00\xff\xfe latin-1 caf\xe9", Time: logBase,
		Host: "re0\xff", Process: "chassisd\x00", PID: 1, Tag: "TAG\xe9", Message: "\x00\xff\xfe latin-1 caf\xe9", Parsed: true}
	ev := devices.Event{Device: "mx1", Kind: devices.EventFRU, Time: logBase, Subject: "FPC 0", Rule: "r", Line: odd}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{odd}, []devices.Event{ev}, nil, 1)
	if got := mustEvents(t, st, Filter{}); len(got) != 1 || !reflect.DeepEqual(got[0], ev) {
		t.Errorf("event with odd bytes\n got %+v\nwant %+v", got, ev)
	}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{odd}, []devices.Event{ev}, nil, 0) // recognised as a re-read

	tr := devices.Transition{Device: "mx1", RE: "re1", Time: logBase, From: devices.REBackup, To: devices.REGone,
		Sources: []string{"log:messages"}, Evidence: []string{"nul \x00 here"}}
	mustSaveTransitions(t, st, time.Minute, tr)
	if got := mustTransitions(t, st, Filter{}); len(got) != 1 || !reflect.DeepEqual(got[0], tr) {
		t.Errorf("transition with a NUL in its evidence\n got %+v\nwant %+v", got, tr)
	}
	fs := findingsOf("mx1")[:1]
	fs[0].Evidence = []string{"nul \x00 here"}
	mustReplaceFindings(t, st, "mx1", fs)
	if got := mustFindings(t, st, Filter{}); !reflect.DeepEqual(got, fs) {
		t.Errorf("finding with a NUL in its evidence\n got %+v\nwant %+v", got, fs)
	}

	p := failedPoll("mx1", 0, base)
	p.Error = "protocol: unexpected \x00\xff in reply"
	mustSave(t, st, &p)
	if got := mustLatest(t, st, "mx1"); got.Error != "protocol: unexpected \uFFFD\uFFFD in reply" {
		t.Errorf("poll error = %q", got.Error)
	}
}

// Times are kept to the microsecond: finer parts are dropped when
// stored, lines a few nanoseconds apart are one group, and filter bounds
// keep their meaning (t < until, t >= since) at full precision.
func TestPostgresMicroseconds(t *testing.T) {
	st := openPostgresTest(t)
	ctx := context.Background()
	at := base.Add(999) // 999 ns past a whole microsecond
	p := fullPoll("mx1", 0, at)
	mustSave(t, st, &p)
	got := mustLatest(t, st, "mx1")
	if want := base; !got.Started.Equal(want) {
		t.Errorf("Started = %s, want %s", got.Started, want)
	}
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{Since: base}, 1},
		{Filter{Since: base.Add(1)}, 0}, // stored base < base+1ns
		{Filter{Until: base}, 0},
		{Filter{Until: base.Add(1)}, 1}, // base < base+1ns
	} {
		if n := len(collectPolls(t, st, c.f)); n != c.want {
			t.Errorf("EachPoll(%+v) = %d polls, want %d", c.f, n, c.want)
		}
	}

	l1 := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase.Add(100)}
	l2 := l1
	l2.Time = logBase.Add(900) // the same stored microsecond: the same group
	mustSaveLogs(t, st, "mx1", []devices.LogLine{l1, l2}, nil, nil, 2)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{l2, l1}, nil, nil, 0)
	if _, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{l1, l2, l1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	s := st.(*pgStore)
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM log_lines`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d lines stored (%v), want 3", n, err)
	}
}

// A failure on the last child row rolls back the poll and the rows
// before it: one transaction per poll.
func TestPostgresSavePollIsAtomic(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	ctx := context.Background()
	if _, err := rawPG(t, dsn).Exec(ctx, `CREATE FUNCTION fail_software() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fail_software BEFORE INSERT ON software FOR EACH ROW EXECUTE FUNCTION fail_software();`); err != nil {
		t.Fatal(err)
	}
	p := fullPoll("mx1", 0, base)
	p.Snapshot.Software[1].Version = "boom"
	err := st.SavePoll(ctx, &p)
	if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "save poll of mx1") ||
		!strings.Contains(err.Error(), "software 1") {
		t.Fatalf("SavePoll = %v, want the injected failure, wrapped", err)
	}
	if p.ID != 0 {
		t.Errorf("failed SavePoll set ID %d", p.ID)
	}
	for _, table := range []string{"polls", "route_engines", "alarms", "software"} {
		var n int
		if err := rawPG(t, dsn).QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows after a rolled-back poll (%v)", table, n, err)
		}
	}
	ok := fullPoll("mx1", 0, base)
	mustSave(t, st, &ok)
}

// A failure on the events rolls back the lines and leaves the cursor
// where it was: one transaction per batch.
func TestPostgresSaveLogsIsAtomic(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	ctx := context.Background()
	if _, err := rawPG(t, dsn).Exec(ctx, `CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.rule = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fail_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_event();`); err != nil {
		t.Fatal(err)
	}
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
	events[len(events)-1].Rule = "alarmd-fru"
	mustSaveLogs(t, st, "mx1", lines, events, cursor, 6)
}

// Two agents appending identical lines to one device's history at once
// (each after its cursor's place) number them one after the other: the
// device's advisory lock serialises the count of stored copies and the
// insert, which SQLite's single writer does for free.
func TestPostgresConcurrentSaveLogsOneDevice(t *testing.T) {
	a, dsn := openPostgresTestDSN(t)
	b, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, b)
	line := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase, Parsed: true}
	cur := []devices.LogCursor{{File: "mastership", Tail: []string{"x"}, LastTime: logBase, Lines: 1, Appended: true}}
	const rounds = 10
	var wg sync.WaitGroup
	for i := range 2 * rounds {
		st := []Store{a, b}[i%2]
		wg.Go(func() {
			n, err := st.SaveLogs(context.Background(), "mx1", []devices.LogLine{line, line, line}, nil, cur)
			if err != nil || n != 3 {
				t.Errorf("SaveLogs = %d, %v; want 3 new", n, err)
			}
		})
	}
	wg.Wait()
	rows, err := rawPG(t, dsn).Query(context.Background(), `SELECT occurrence FROM log_lines ORDER BY occurrence`)
	if err != nil {
		t.Fatal(err)
	}
	occ, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range occ {
		if int(o) != i {
			t.Fatalf("occurrences %v, want 0 to %d", occ, 6*rounds-1)
		}
	}
	if len(occ) != 6*rounds {
		t.Errorf("%d lines stored, want %d", len(occ), 6*rounds)
	}
}

// TestPostgresRecoverRuns: only runs whose agent is surely gone are
// marked interrupted, with the counts of the polls they stored; two
// stores recovering at once report each run once.
func TestPostgresRecoverRuns(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	other, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, other)
	s := st.(*pgStore)
	ctx := context.Background()
	self := s.agent
	const deadPID = 99_999_999 // pid_max is at most 2^22 on Linux
	agents := map[string]agent{
		"killed":        {host: self.host, boot: self.boot, pid: deadPID},
		"before reboot": {host: self.host, boot: "another-boot", pid: self.pid},
		"this process":  self,
		"other host":    {host: self.host + "-other", boot: self.boot, pid: deadPID},
		"finished":      {host: self.host, boot: self.boot, pid: deadPID},
	}
	ids := map[string]int64{}
	for i, name := range []string{"killed", "before reboot", "this process", "other host", "finished"} {
		started := base.Add(time.Duration(i) * time.Hour)
		id := mustBeginRun(t, st, started)
		ids[name] = id
		if _, err := s.pool.Exec(ctx, `UPDATE runs SET agent = $1 WHERE id = $2`, agents[name].String(), id); err != nil {
			t.Fatal(err)
		}
		ok := fullPoll(fmt.Sprintf("mx%d", i), id, started.Add(time.Second))
		bad := failedPoll(fmt.Sprintf("mx%d", i), id, started.Add(2*time.Second))
		mustSave(t, st, &ok)
		mustSave(t, st, &bad)
		if name == "finished" {
			if err := st.FinishRun(ctx, devices.Run{ID: id, Finished: started.Add(time.Minute), Devices: 2, OK: 1, Failed: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		wg  sync.WaitGroup
		got [2][]devices.Run
	)
	for i, x := range []Store{st, other} {
		wg.Go(func() {
			runs, err := x.RecoverRuns(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = runs
		})
	}
	wg.Wait()
	all := append(got[0], got[1]...)
	slices.SortFunc(all, func(a, b devices.Run) int { return cmp.Compare(a.ID, b.ID) })
	if len(all) != 2 || all[0].ID != ids["killed"] || all[1].ID != ids["before reboot"] {
		t.Fatalf("RecoverRuns = %+v and %+v, want the killed run and the one from before the reboot, once each", got[0], got[1])
	}
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]devices.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	k := byID[ids["killed"]]
	if !k.Interrupted || k.Devices != 2 || k.OK != 1 || k.Failed != 1 || !k.Finished.Equal(base.Add(2*time.Second).Add(30*time.Second)) {
		t.Errorf("killed run after recovery: %+v", k)
	}
	if !reflect.DeepEqual(all[0], k) {
		t.Errorf("RecoverRuns reported %+v, stored %+v", all[0], k)
	}
	for _, name := range []string{"this process", "other host"} {
		if r := byID[ids[name]]; r.Interrupted || !r.Finished.IsZero() {
			t.Errorf("%s: run touched by recovery: %+v", name, r)
		}
	}
	if again, err := st.RecoverRuns(ctx); err != nil || len(again) != 0 {
		t.Errorf("second RecoverRuns = %v, %v; want nothing left", again, err)
	}
}

// TestPostgresClaimPollTwoAgents: two agents race for the same devices of
// a slot; each device goes to exactly one of them.
func TestPostgresClaimPollTwoAgents(t *testing.T) {
	a, dsn := openPostgresTestDSN(t)
	b, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, b)
	raceClaims(t, a, b)
}

// Recomputing a finding keeps the time it was first detected; a new one
// gets the clock's time.
func TestPostgresFindingsKeepDetectedAt(t *testing.T) {
	st := openPostgresTest(t)
	s := st.(*pgStore)
	detected := func() map[string]time.Time {
		t.Helper()
		rows, err := s.pool.Query(context.Background(), `SELECT re, detected_at FROM findings WHERE device = 'mx1'`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Time{}
		var (
			re string
			at time.Time
		)
		if _, err := pgx.ForEachRow(rows, []any{&re, &at}, func() error { out[re] = at; return nil }); err != nil {
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
	fs := findingsOf("mx1")
	fs[0].Transitions, fs[0].Last = 9, fs[0].Last.Add(time.Hour)
	mustReplaceFindings(t, st, "mx1", fs)
	if got := detected(); !reflect.DeepEqual(got, map[string]time.Time{"re1": t1, "re0": t2}) {
		t.Errorf("after growth: detected_at %v, want re1 at %v and re0 at %v", got, t1, t2)
	}
}

// The occurrence numbering as stored, and the key of an untimed line.
func TestPostgresLogOccurrences(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	line := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase}
	untimed := devices.LogLine{File: "messages", Raw: junk}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{line, untimed, line}, nil, nil, 3)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{line, line, untimed, line, untimed}, nil, nil, 2)
	rows, err := rawPG(t, dsn).Query(context.Background(), `SELECT file, line_time IS NOT NULL, time_key::text, occurrence
FROM log_lines ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var (
			file, key string
			timed     bool
			oc        int
		)
		err := r.Scan(&file, &timed, &key, &oc)
		return fmt.Sprintf("%s %v/%s #%d", file, timed, key, oc), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var ts string
	if err := rawPG(t, dsn).QueryRow(context.Background(), `SELECT $1::timestamptz::text`, logBase).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mastership true/" + ts + " #0",
		"messages false/-infinity #0",
		"mastership true/" + ts + " #1",
		"mastership true/" + ts + " #2",
		"messages false/-infinity #1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored lines\n got %q\nwant %q", got, want)
	}
}

// Every query a poll or a report makes can be served by an index: with
// sequential scans priced out of reach, the planner still finds a plan
// without them. (Left to itself it rightly prefers a scan of a table this
// small; this asks whether an index exists that serves the query, which
// is what keeps it fast as history grows.) The fleet-wide exports can
// also come in index order, without a sort of the whole table.
func TestPostgresQueryPlans(t *testing.T) {
	_, dsn := openPostgresTestDSN(t)
	conn := rawPG(t, dsn)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off; SET enable_bitmapscan = off; SET jit = off`); err != nil {
		t.Fatal(err)
	}
	t0 := "'2026-01-01T00:00:00Z'::timestamptz"
	seeks := map[string]string{
		// Sorts one row per device.
		"latest polls": pgLatestPollsSQL,
		"latest poll":  `SELECT ` + pollColumns + ` FROM polls WHERE device = 'x' ORDER BY started DESC, id DESC LIMIT 1`,
		"latest RE poll": `SELECT ` + pollColumns + ` FROM polls WHERE device = 'x' AND re_count > 0
ORDER BY started DESC, id DESC LIMIT 1`,
		"max REs":  `SELECT MAX(re_count) FROM polls WHERE device = 'x'`,
		"runs":     `SELECT id FROM runs ORDER BY started DESC, id DESC LIMIT 5`,
		"children": `SELECT * FROM alarms WHERE poll_id = ANY('{1,2,3}'::bigint[]) ORDER BY poll_id, ord`,
		"children of the latest RE poll": `SELECT * FROM route_engines WHERE poll_id = ANY(SELECT id FROM polls
WHERE device = 'x' AND re_count > 0 ORDER BY started DESC, id DESC LIMIT 1) ORDER BY poll_id, ord`,
		"events of a device": eventsQuery + ` WHERE e.device = ANY('{x}'::text[]) AND e.time >= ` + t0 +
			` ORDER BY e.time NULLS FIRST, e.id`,
		"transition merge candidates": strings.NewReplacer("$1", "'{x}'", "$2", t0, "$3", t0).
			Replace(pgTransitionCandidatesSQL),
		"findings gone": `DELETE FROM findings WHERE device = 'x' AND last_transition >= ` + t0 + `
AND NOT EXISTS (SELECT FROM unnest('{r}'::text[], ARRAY[` + t0 + `]) AS k(re, first)
    WHERE k.re = findings.re AND k.first = findings.first_transition)`,
		"alarm records of a device": alarmRecordQuery + ` WHERE device = ANY('{x}'::text[])`,
		"findings of a device":      pgFindingQuery + ` WHERE device = ANY('{x}'::text[]) AND last_transition >= ` + t0,
		"unparsed lines":            `SELECT COUNT(*) FROM log_lines WHERE device = 'x' AND NOT parsed`,
		"log cursor":                `SELECT tail FROM log_cursors WHERE device = 'x' AND file = 'f'`,
		"stored copies of a line": `SELECT COUNT(*) FROM log_lines l WHERE l.device = 'x' AND l.file = 'f'
AND l.time_key = ` + t0 + ` AND sha256(l.raw) = sha256('\x00'::bytea)`,
		"configuration before": `SELECT config FROM configs WHERE device = 'x' AND at <= ` + t0 + ` ORDER BY at DESC LIMIT 1`,
		"old log lines of a file": `SELECT id, time_key FROM log_lines WHERE device = 'x' AND file = 'f'
AND time_key > '-infinity' AND time_key < ` + t0 + ` ORDER BY time_key LIMIT 500`,
	}
	exports := map[string]string{
		"all events":      eventsQuery + ` ORDER BY e.time NULLS FIRST, e.id`,
		"all transitions": pgTransitionQuery + ` ORDER BY time, id`,
		"a page of polls": `SELECT ` + pollColumns + ` FROM polls WHERE (started, id) > (` + t0 + `, 2) ORDER BY started, id LIMIT 512`,
	}
	plan := func(q string) []string {
		t.Helper()
		rows, err := conn.Query(ctx, `EXPLAIN `+q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return plan
	}
	for name, q := range seeks {
		p := plan(q)
		for _, step := range p {
			if strings.Contains(step, "Seq Scan") {
				t.Errorf("%s: plan has %q:\n  %s", name, strings.TrimSpace(step), strings.Join(p, "\n  "))
			}
		}
	}
	// PostgreSQL may still choose to sort a big export (within work_mem,
	// spilling to disk, never in this process's memory); what matters is
	// that it need not.
	if _, err := conn.Exec(ctx, `SET enable_sort = off`); err != nil {
		t.Fatal(err)
	}
	for name, q := range exports {
		p := plan(q)
		for _, step := range p {
			if strings.Contains(step, "Seq Scan") || strings.Contains(step, "Sort") {
				t.Errorf("%s: plan has %q:\n  %s", name, strings.TrimSpace(step), strings.Join(p, "\n  "))
			}
		}
	}
}

// A statement failing inside a pipelined transaction — the second of a
// batch of transitions, alarm records or findings — leaves nothing of
// the call stored, names what failed and the device, and rolls the
// transaction back on its connection, which the pool then reuses
// rather than closes. The store goes on working.
func TestPostgresPipelinedWritesAreAtomic(t *testing.T) {
	st, dsn := openPostgresTestDSN(t)
	s := st.(*pgStore)
	ctx := context.Background()
	for table, col := range map[string]string{"transitions": "re", "findings": "re", "alarm_records": "description"} {
		if _, err := rawPG(t, dsn).Exec(ctx, fmt.Sprintf(`CREATE FUNCTION fail_%[1]s() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.%[2]s = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fail_%[1]s BEFORE INSERT OR UPDATE ON %[1]s FOR EACH ROW EXECUTE FUNCTION fail_%[1]s();`, table, col)); err != nil {
			t.Fatal(err)
		}
	}
	// Warm the pool up, then count the connections it makes from here.
	for range 4 {
		if _, err := st.MaxREsSeen(ctx, "mx1"); err != nil {
			t.Fatal(err)
		}
	}
	conns := s.pool.Stat().NewConnsCount()

	ok := devices.Transition{Device: "mx1", RE: "re1", Time: logBase, From: devices.REBackup, To: devices.REMaster,
		Sources: []string{"re-table"}}
	bad := ok
	bad.RE, bad.Time = "boom", logBase.Add(time.Hour)
	fs := findingsOf("mx1")
	fs[1].RE = "boom"
	pem := devices.Alarm{Source: devices.AlarmChassis, Class: "Major", Description: "PEM 0 Not Powered"}
	boom := pem
	boom.Description = "boom"
	for range 3 {
		err := st.SaveTransitions(ctx, []devices.Transition{ok, bad}, time.Minute)
		if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "transition 1 (mx1 boom") {
			t.Errorf("SaveTransitions = %v, want the injected failure, naming transition 1", err)
		}
		err = st.ReplaceFindings(ctx, "mx1", time.Time{}, fs)
		if err == nil || !strings.Contains(err.Error(), "injected failure") ||
			!strings.Contains(err.Error(), "replace findings of mx1") || !strings.Contains(err.Error(), "finding 1 (boom)") {
			t.Errorf("ReplaceFindings = %v, want the injected failure, naming finding 1", err)
		}
		err = st.SaveAlarmRecords(ctx, "mx1", []devices.AlarmRecord{
			{Alarm: pem, FirstSeen: base, LastSeen: base}, {Alarm: boom, FirstSeen: base, LastSeen: base}})
		if err == nil || !strings.Contains(err.Error(), "injected failure") ||
			!strings.Contains(err.Error(), "save alarm records of mx1") || !strings.Contains(err.Error(), `record 1 ("boom")`) {
			t.Errorf("SaveAlarmRecords = %v, want the injected failure, naming record 1", err)
		}
	}
	if got := mustTransitions(t, st, Filter{}); len(got) != 0 {
		t.Errorf("transitions stored by failed calls: %+v", got)
	}
	if got := mustFindings(t, st, Filter{}); len(got) != 0 {
		t.Errorf("findings stored by failed calls: %+v", got)
	}
	if got := mustAlarmRecords(t, st, Filter{}); len(got) != 0 {
		t.Errorf("alarm records stored by failed calls: %+v", got)
	}
	if n := s.pool.Stat().NewConnsCount(); n != conns {
		t.Errorf("the pool made %d connections after the failures: they were closed, not rolled back", n-conns)
	}
	mustSaveTransitions(t, st, time.Minute, ok)
	mustReplaceFindings(t, st, "mx1", fs[:1])
	if err := st.SaveAlarmRecords(ctx, "mx1", []devices.AlarmRecord{{Alarm: pem, FirstSeen: base, LastSeen: base}}); err != nil {
		t.Fatal(err)
	}
	if len(mustTransitions(t, st, Filter{})) != 1 || len(mustFindings(t, st, Filter{})) != 1 ||
		len(mustAlarmRecords(t, st, Filter{})) != 1 {
		t.Error("the store did not save after the failures")
	}
}

// SaveTransitions merges a batch in memory, against the stored
// transitions it read under the device's lock; the SQLite engine looks
// each one up in turn. Random batches — a few keys, times a few seconds
// apart, sources of every precision, several tolerances — leave both
// engines with the same transitions.
func TestPostgresTransitionMergeMatchesSQLite(t *testing.T) {
	pg := openPostgresTest(t)
	lite, err := Open(context.Background(), filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, lite)
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	for batch := range 60 {
		tol := []time.Duration{0, time.Second, 5 * time.Second, time.Minute}[batch%4]
		var ts []devices.Transition
		for range 1 + rnd.IntN(6) {
			tr := devices.Transition{Device: pick("mx1", "mx2"), RE: pick("re0", "re1"),
				Time: logBase.Add(time.Duration(rnd.IntN(40)) * time.Second / 2).Add(time.Duration(rnd.IntN(3)) * time.Microsecond),
				From: devices.REBackup, To: devices.REMaster,
				Sources:  []string{pick("re-table", "alarm", "log:messages", "log:mastership")},
				Evidence: []string{pick("a", "b", "c", "d"), pick("a", "e")}}
			if rnd.IntN(4) == 0 {
				tr.From, tr.To = devices.REMaster, devices.REBackup
			}
			ts = append(ts, tr)
		}
		for _, st := range []Store{pg, lite} {
			if err := st.SaveTransitions(context.Background(), ts, tol); err != nil {
				t.Fatalf("batch %d: %v", batch, err)
			}
		}
		got, want := mustTransitions(t, pg, Filter{}), mustTransitions(t, lite, Filter{})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after batch %d (tolerance %s, %+v):\nPostgreSQL %+v\n    SQLite %+v", batch, tol, ts, got, want)
		}
	}
}
