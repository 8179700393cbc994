package store

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store/pgtest"
)

// The engine benchmarks run the same workload on SQLite and PostgreSQL,
// side by side:
//
//	go test -run '^$' -bench Engine ./store/
//
// The PostgreSQL half needs MASTERSHIP_TEST_POSTGRES (see pgtest) and is
// skipped without it. Its figures include the network round trips to the
// server, which are what a poller pays; the test server of
// .ci/postgres/setup.sh runs with synchronous_commit=off, the
// counterpart of the SQLite engine's synchronous=NORMAL (neither waits
// for a disk flush at commit).

// benchEngines is how each engine opens a fresh, empty store.
var benchEngines = []struct {
	name string
	open func(b *testing.B) Store
}{
	{"sqlite", func(b *testing.B) Store {
		st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"postgres", func(b *testing.B) Store {
		dsn := pgtest.Schema(b)
		st, err := Open(context.Background(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}},
}

// BenchmarkEngineSavePoll saves dual-RE polls (2 REs, 3 alarms, 2
// software rows each) one after another: the latency one poller sees.
func BenchmarkEngineSavePoll(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(e.name, func(b *testing.B) {
			st := e.open(b)
			ctx := context.Background()
			p := fullPoll("mx1", 0, base)
			cpu := startCPU()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.Started = base.Add(time.Duration(i) * time.Second)
				if err := st.SavePoll(ctx, &p); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b, e.name == "postgres")
		})
	}
}

// BenchmarkEngineSavePollParallel is many pollers saving at once (8 ×
// GOMAXPROCS goroutines, like a large worker pool): ns/op is the store's
// write throughput. SQLite queues them for its one writer; PostgreSQL
// runs as many at once as the pool has connections.
func BenchmarkEngineSavePollParallel(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(e.name, func(b *testing.B) {
			st := e.open(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(8)
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
		})
	}
}

// BenchmarkEngineSaveLogs saves 500-line batches (benchLogBatch): "new"
// lines the store has not seen, as a busy router between two polls
// gives, and a "reread" of the same 500, all recognised as stored.
func BenchmarkEngineSaveLogs(b *testing.B) {
	ctx := context.Background()
	for _, e := range benchEngines {
		b.Run(e.name+"/new", func(b *testing.B) {
			st := e.open(b)
			cpu := startCPU()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				lines, events := benchLogBatch(logBase.Add(time.Duration(i) * time.Hour))
				cur := []devices.LogCursor{{File: "messages", Tail: []string{lines[499].Raw}, LastTime: lines[499].Time,
					Lines: int64(500 * (i + 1))}}
				n, err := st.SaveLogs(ctx, "mx1", lines, events, cur)
				if err != nil || n != 500 {
					b.Fatalf("SaveLogs = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(500*b.N), "ns/line")
			cpu.report(b, e.name == "postgres")
		})
		b.Run(e.name+"/reread", func(b *testing.B) {
			st := e.open(b)
			lines, events := benchLogBatch(logBase)
			if _, err := st.SaveLogs(ctx, "mx1", lines, events, nil); err != nil {
				b.Fatal(err)
			}
			cpu := startCPU()
			b.ReportAllocs()
			for b.Loop() {
				n, err := st.SaveLogs(ctx, "mx1", lines, events, nil)
				if err != nil || n != 0 {
					b.Fatalf("SaveLogs = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(500*b.N), "ns/line")
			cpu.report(b, e.name == "postgres")
		})
	}
}

// BenchmarkEngineLatestPolls reads the latest state of a 500-device
// fleet with 20 polls of history each.
func BenchmarkEngineLatestPolls(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(e.name, func(b *testing.B) {
			st := e.open(b)
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
		})
	}
}

// BenchmarkEngineDevicePoll is the store side of one device poll as an
// audit makes it — schedule.Auditor.save (MaxREsSeen, LatestREPoll,
// SavePoll), Historian.Record (SaveLogs, SaveTransitions, SaveConfig,
// AlarmRecords, SaveAlarmRecords), the poller's LogCursor reads before
// them and Historian.Judge's reads and ReplaceFindings after — one op per
// device poll, one call after the other as one audit worker makes them.
// The per-audit calls (BeginRun, FinishRun, Configs) and the shared
// mode's ClaimPoll are left out.
//
//   - first: every op polls a device the store has never seen, with a
//     whole log tail to store: the fresh-N audit of mastership-bench,
//     the first into an empty database.
//   - again: benchPollDevices devices polled round-robin, each poll
//     appending a few lines and re-seeing the last poll's transition.
//   - first-parallel: first polls by 16 × GOMAXPROCS workers at once.
//
// Besides ns/op it reports the CPU time per poll of the benchmark
// (cpu-ns/op) and, on PostgreSQL, of the server's processes
// (server-cpu-ns/op, Linux, the server on this machine), and the network
// round trips per poll (rt/op), counted on the connections' sockets; the
// serial cases log the round trips and the time by call.
func BenchmarkEngineDevicePoll(b *testing.B) {
	ctx := context.Background()
	for _, e := range benchEngines {
		for _, again := range []bool{false, true} {
			name := e.name + "/first"
			if again {
				name = e.name + "/again"
			}
			b.Run(name, func(b *testing.B) {
				var (
					st Store
					rt *benchRoundTrips
				)
				if e.name == "postgres" {
					st, rt = openCountedPostgres(b)
				} else {
					st = e.open(b)
				}
				poll := func(i int) error {
					dev, round := fmt.Sprintf("dev%06d", i), 0
					if again {
						dev, round = fmt.Sprintf("dev%06d", i%benchPollDevices), i/benchPollDevices
					}
					return benchDevicePoll(ctx, st, dev, round, rt)
				}
				n := 0
				if again { // one round first: every measured op has history
					for ; n < benchPollDevices; n++ {
						if err := poll(n); err != nil {
							b.Fatal(err)
						}
					}
				}
				cpu := startCPU()
				rt.reset()
				b.ReportAllocs()
				for b.Loop() {
					if err := poll(n); err != nil {
						b.Fatal(err)
					}
					n++
				}
				cpu.report(b, rt != nil)
				rt.report(b)
			})
		}
		// first-parallel: first polls by 16 × GOMAXPROCS workers at once,
		// as the audit's worker pool (32 on two cores) makes them: ns/op
		// is the store's throughput, server and agent sharing the cores.
		b.Run(e.name+"/first-parallel", func(b *testing.B) {
			var (
				st Store
				rt *benchRoundTrips
			)
			if e.name == "postgres" {
				st, rt = openCountedPostgres(b)
			} else {
				st = e.open(b)
			}
			var next atomic.Int64
			start, cpu := rt.total(), startCPU()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					dev := fmt.Sprintf("dev%06d", next.Add(1))
					if err := benchDevicePoll(ctx, st, dev, 0, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			cpu.report(b, rt != nil)
			if rt != nil {
				b.ReportMetric(float64(rt.total()-start)/float64(b.N), "rt/op")
			}
		})
	}
}

// benchCPUMeter reports the CPU time per op of the benchmark (cpu-ns/op)
// and, for PostgreSQL, of the server's processes (server-cpu-ns/op): on
// a machine whose cores are shared with other work, they move less than
// the wall time does.
type benchCPUMeter struct {
	self, server time.Duration
	ok           bool
}

func startCPU() benchCPUMeter {
	self, server, ok := benchCPU()
	return benchCPUMeter{self, server, ok}
}

func (m benchCPUMeter) report(b *testing.B, withServer bool) {
	self, server, ok := benchCPU()
	if self > 0 {
		b.ReportMetric(float64(self-m.self)/float64(b.N), "cpu-ns/op")
	}
	if withServer && ok && m.ok {
		b.ReportMetric(float64(server-m.server)/float64(b.N), "server-cpu-ns/op")
	}
}

// benchPollDevices is the fleet BenchmarkEngineDevicePoll/again polls.
const benchPollDevices = 200

// benchDevicePoll is one poll of dev in its round-th audit (0: the
// device's first), noting each call's round trips in rt (nil: none).
func benchDevicePoll(ctx context.Context, st Store, dev string, round int, rt *benchRoundTrips) error {
	started := base.Add(time.Duration(round) * time.Hour)
	files := []string{"messages", "mastership"}
	cursors := make([]devices.LogCursor, len(files))
	for i, f := range files {
		c, _, err := st.LogCursor(ctx, dev, f)
		if err != nil {
			return err
		}
		cursors[i] = c
		rt.note("LogCursor")
	}
	if _, err := st.MaxREsSeen(ctx, dev); err != nil {
		return err
	}
	rt.note("MaxREsSeen")
	prev, err := st.LatestREPoll(ctx, dev)
	if err != nil {
		return err
	}
	if (round > 0) != (prev != nil) {
		return fmt.Errorf("round %d: LatestREPoll(%s) = %v", round, dev, prev)
	}
	rt.note("LatestREPoll")
	p := fullPoll(dev, 0, started)
	if err := st.SavePoll(ctx, &p); err != nil {
		return err
	}
	rt.note("SavePoll")

	// The log tail: on the first poll 20 lines of each file, then 3 new
	// lines of each; an event in every fifth line.
	per := 20
	if round > 0 {
		per = 3
	}
	var (
		lines  []devices.LogLine
		events []devices.Event
	)
	for fi, f := range files {
		for j := range per {
			at := started.Add(time.Duration(j-per) * 10 * time.Second).Truncate(time.Second)
			l := devices.LogLine{File: f, Time: at, Host: "re0-" + dev, Process: "chassisd", PID: 1500 + fi,
				Tag: "CHASSISD_SNMP_TRAP7", Parsed: true,
				Message: fmt.Sprintf("SNMP trap generated: Fru Offline (jnxFruContentsIndex 7, jnxFruL1Index %d)", j)}
			l.Raw = at.Format(time.Stamp) + "  " + l.Host + " " + l.Process + "[1500]: " + l.Tag + ": " + l.Message
			lines = append(lines, l)
			if j%5 == 0 {
				events = append(events, devices.Event{Kind: devices.EventFRU, Time: at, Subject: "FPC 7",
					Rule: "chassisd-fru", Line: l})
			}
		}
		last := lines[len(lines)-1]
		cursors[fi] = devices.LogCursor{File: f, Tail: []string{last.Raw}, LastTime: last.Time,
			Lines: cursors[fi].Lines + int64(per), Appended: round > 0}
	}
	if _, err := st.SaveLogs(ctx, dev, lines, events, cursors); err != nil {
		return err
	}
	rt.note("SaveLogs")

	// The RE table's view and the log's of a switchover, and on later
	// polls the same switchover seen again (merged, nothing to write).
	sw := started.Add(-7 * time.Minute)
	if round > 0 {
		sw = base.Add(-7 * time.Minute)
	}
	ts := []devices.Transition{
		{Device: dev, RE: "re1", Time: sw, From: devices.REBackup, To: devices.REMaster,
			Sources: []string{"re-table"}, Evidence: []string{"re1: backup → master"}},
		{Device: dev, RE: "re0", Time: sw.Add(time.Second), From: devices.REMaster, To: devices.REBackup,
			Sources: []string{"log:messages"}, Evidence: []string{lines[0].Raw}},
	}
	if err := st.SaveTransitions(ctx, ts, 2*time.Minute); err != nil {
		return err
	}
	rt.note("SaveTransitions")
	cfg := devices.RedundancyConfig{GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, Known: true}
	if err := st.SaveConfig(ctx, dev, cfg, p.Finished); err != nil {
		return err
	}
	rt.note("SaveConfig")
	prevRecs, err := st.AlarmRecords(ctx, Filter{Devices: []string{dev}})
	if err != nil {
		return err
	}
	rt.note("AlarmRecords")
	recs := make([]devices.AlarmRecord, 0, len(p.Snapshot.Alarms))
	for _, a := range p.Snapshot.Alarms {
		r := devices.AlarmRecord{Device: dev, Alarm: a, FirstSeen: started, LastSeen: started}
		for _, pr := range prevRecs {
			if pr.Alarm.Description == a.Description && pr.Alarm.Member == a.Member && pr.Alarm.Time.Equal(a.Time) {
				r.FirstSeen = pr.FirstSeen
			}
		}
		recs = append(recs, r)
	}
	if err := st.SaveAlarmRecords(ctx, dev, recs); err != nil {
		return err
	}
	rt.note("SaveAlarmRecords")

	// Judge, for this device.
	since := started.Add(-25 * time.Hour)
	f := Filter{Devices: []string{dev}, Since: since}
	stored, err := st.Transitions(ctx, f)
	if err != nil {
		return err
	}
	rt.note("Transitions")
	if _, err := st.Events(ctx, f); err != nil {
		return err
	}
	rt.note("Events")
	if _, err := st.AlarmRecords(ctx, Filter{Devices: []string{dev}}); err != nil {
		return err
	}
	rt.note("AlarmRecords")
	var found []devices.Finding
	if len(stored) > 0 {
		found = append(found, devices.Finding{Device: dev, RE: stored[0].RE, Cause: devices.CauseHardware,
			Severity: devices.SeverityCritical, Transitions: len(stored), First: stored[0].Time,
			Last: stored[len(stored)-1].Time, Evidence: stored[0].Evidence, Alarms: p.Snapshot.Alarms[:1],
			Remedy: "inspect and replace the FRU (hardware maintenance)"})
	}
	if err := st.ReplaceFindings(ctx, dev, since, found); err != nil {
		return err
	}
	rt.note("ReplaceFindings")
	rt.done()
	return nil
}

// openCountedPostgres opens a PostgreSQL store in a fresh schema whose
// connections count the round trips they make.
func openCountedPostgres(b *testing.B) (Store, *benchRoundTrips) {
	rt := &benchRoundTrips{by: map[string]int64{}, took: map[string]time.Duration{}}
	st, err := openPostgresWith(context.Background(), pgtest.Schema(b), func(cfg *pgxpool.Config) {
		dial := cfg.ConnConfig.DialFunc
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			rc := &roundTripConn{Conn: c, n: &rt.n}
			rc.replied.Store(true)
			return rc, nil
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st, rt
}

// roundTripConn counts round trips: a write after a reply has been read
// (or the first write) starts one.
type roundTripConn struct {
	net.Conn
	n       *atomic.Int64
	replied atomic.Bool
}

func (c *roundTripConn) Write(p []byte) (int, error) {
	if c.replied.Swap(false) {
		c.n.Add(1)
	}
	return c.Conn.Write(p)
}

func (c *roundTripConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.replied.Store(true)
	}
	return n, err
}

// benchRoundTrips is the round trips of a store's connections, in all
// and by call. A nil one counts nothing.
type benchRoundTrips struct {
	n      atomic.Int64
	last   int64
	polls  int64
	by     map[string]int64
	order  []string
	lastAt time.Time
	took   map[string]time.Duration
}

// note gives the round trips since the last note to call.
func (r *benchRoundTrips) note(call string) {
	if r == nil {
		return
	}
	n, now := r.n.Load(), time.Now()
	if _, ok := r.by[call]; !ok {
		r.order = append(r.order, call)
	}
	r.by[call] += n - r.last
	r.took[call] += now.Sub(r.lastAt)
	r.last, r.lastAt = n, now
}

func (r *benchRoundTrips) done() {
	if r != nil {
		r.polls++
	}
}

// total is every round trip so far.
func (r *benchRoundTrips) total() int64 {
	if r == nil {
		return 0
	}
	return r.n.Load()
}

func (r *benchRoundTrips) reset() {
	if r == nil {
		return
	}
	r.last, r.polls, r.lastAt = r.n.Load(), 0, time.Now()
	clear(r.by)
	clear(r.took)
	r.order = nil
}

func (r *benchRoundTrips) report(b *testing.B) {
	if r == nil || r.polls == 0 {
		return
	}
	var total int64
	var by strings.Builder
	for _, call := range r.order {
		total += r.by[call]
		fmt.Fprintf(&by, " %s %.2g/%s", call, float64(r.by[call])/float64(r.polls),
			(r.took[call] / time.Duration(r.polls)).Round(10*time.Microsecond))
	}
	b.ReportMetric(float64(total)/float64(r.polls), "rt/op")
	b.Logf("round trips/time per poll by call:%s", by.String())
}
