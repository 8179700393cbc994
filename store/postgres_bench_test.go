package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

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
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.Started = base.Add(time.Duration(i) * time.Second)
				if err := st.SavePoll(ctx, &p); err != nil {
					b.Fatal(err)
				}
			}
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
		})
		b.Run(e.name+"/reread", func(b *testing.B) {
			st := e.open(b)
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
