package schedule

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	valid := []string{
		"*/5 * * * *",
		"0 6 * * 1-5",
		"30 */5 * * * *", // seconds first
		"@every 5m",
		"@every 1s",
		"@every 1h30m",
		"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
		"CRON_TZ=Europe/Paris 0 6 * * *",
		"CRON_TZ=America/New_York @daily",
		"TZ=UTC @every 1h",
		"TZ=Asia/Tokyo 0 0 9 * * *",
		"  @hourly  ",
		"0 0 29 2 *", // leap days only: rare, but it fires
	}
	for _, spec := range valid {
		s, err := ParseSpec(spec)
		if err != nil || s == nil {
			t.Errorf("ParseSpec(%q) = %v, %v; want a schedule", spec, s, err)
		}
	}
	invalid := []struct{ spec, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"CRON_TZ=", "no time zone"}, // panics inside cron v3.0.1
		{"CRON_TZ= ", "no time zone"},
		{"CRON_TZ= * * * * *", "no time zone"},
		{"TZ=", "no time zone"},
		{"CRON_TZ=Europe/Paris", "no schedule"}, // panics inside cron v3.0.1
		{"TZ=UTC", "no schedule"},
		{"CRON_TZ=UTC ", "no schedule"},
		{"CRON_TZ=Mars/Olympus_Mons 0 * * * *", "unknown time zone"},
		{"CRON_TZ=UTC TZ=UTC * * * * *", "more than one"},
		{"CRON_TZ=\t0 * * * *", "unknown time zone"},
		{"@every 500ms", "shortest"},
		{"@every 0s", "shortest"},
		{"@every -1m", "shortest"},
		{"@every 1500ms", "whole number"},
		{"@every", "needs a duration"},
		{"@every five minutes", "@every"},
		{"@fortnightly", "unknown descriptor"},
		{"@", "unknown descriptor"},
		{"* * * *", "4 fields"},
		{"* * * * * * *", "7 fields"},
		{"61 * * * *", "above maximum"},
		{"*/0 * * * *", "step"},
		{"0 0 30 2 *", "never fires"},
		{"garbage", "1 fields"},
		{"a b c d e", "schedule"},
	}
	for _, c := range invalid {
		var (
			s   any
			err error
		)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ParseSpec(%q) panicked: %v", c.spec, r)
				}
			}()
			s, err = ParseSpec(c.spec)
		}()
		if err == nil {
			t.Errorf("ParseSpec(%q) = %v, want an error", c.spec, s)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "schedule") {
			t.Errorf("ParseSpec(%q) error %q, want it to mention %q", c.spec, err, c.want)
		}
	}
}

func TestNextRuns(t *testing.T) {
	from := time.Date(2026, 3, 10, 10, 7, 12, 0, time.UTC)
	cases := []struct {
		spec string
		want []string
	}{
		{"@every 5m", []string{"10:12:12", "10:17:12", "10:22:12"}},
		{"*/20 * * * *", []string{"10:20:00", "10:40:00", "11:00:00"}},
		{"30 * * * * *", []string{"10:07:30", "10:08:30", "10:09:30"}},
		{"CRON_TZ=Asia/Tokyo 0 20 * * *", []string{"11:00:00", "11:00:00", "11:00:00"}}, // 20:00 JST
		{"TZ=UTC @hourly", []string{"11:00:00", "12:00:00", "13:00:00"}},
	}
	for _, c := range cases {
		s, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		runs := NextRuns(s, from, 3)
		if len(runs) != 3 {
			t.Fatalf("%s: %d runs", c.spec, len(runs))
		}
		for i, r := range runs {
			if got := r.UTC().Format(time.TimeOnly); got != c.want[i] {
				t.Errorf("%s: run %d at %s, want %s", c.spec, i, got, c.want[i])
			}
			if !r.After(from) || (i > 0 && !r.After(runs[i-1])) {
				t.Errorf("%s: runs not increasing: %v", c.spec, runs)
			}
		}
	}
	s, _ := ParseSpec("@daily")
	if got := NextRuns(s, from, 0); len(got) != 0 {
		t.Errorf("NextRuns(0) = %v", got)
	}
}

// fastSchedule fires every d: the library's own grammar cannot go below
// a second, and the tests must not take seconds.
type fastSchedule struct{ d time.Duration }

func (f fastSchedule) Next(t time.Time) time.Time { return t.Add(f.d) }

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestRunnerSkipsWhileRunning(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	skipped := make(chan struct{}, 1)
	var concurrent, most atomic.Int32
	r := NewRunner(fastSchedule{10 * time.Millisecond}, func(ctx context.Context) {
		n := concurrent.Add(1)
		defer concurrent.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
	}, RunnerOptions{OnSkip: func(int64) {
		select {
		case skipped <- struct{}{}:
		default:
		}
	}})
	r.Start()
	waitFor(t, started, "the first run")
	waitFor(t, skipped, "a skipped run")
	if r.Skipped() < 1 || r.Runs() != 1 {
		t.Errorf("skipped %d runs %d while the first run blocked; want >= 1 and 1", r.Skipped(), r.Runs())
	}
	close(release)
	waitFor(t, started, "a run after the blocked one ended")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d runs overlapped", m)
	}
}

func TestRunnerRecoversPanics(t *testing.T) {
	t.Parallel()
	again := make(chan struct{}, 1)
	var calls atomic.Int32
	r := NewRunner(fastSchedule{10 * time.Millisecond}, func(ctx context.Context) {
		if calls.Add(1) == 1 {
			panic("injected job panic")
		}
		select {
		case again <- struct{}{}:
		default:
		}
	}, RunnerOptions{})
	r.Start()
	waitFor(t, again, "a run after the panicking one")
	if err := r.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.Skipped() != 0 {
		// The guard must have been released by the panicking run.
		t.Errorf("%d runs skipped after a panic", r.Skipped())
	}
}

func TestRunnerStopCancelsAfterGrace(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var sawCancel atomic.Bool
	r := NewRunner(fastSchedule{10 * time.Millisecond}, func(ctx context.Context) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		sawCancel.Store(true)
	}, RunnerOptions{})
	r.Start()
	waitFor(t, started, "the run")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("Stop = %v, want the grace expiry", err)
	}
	waitFor(t, r.Done(), "the cancelled job to return")
	if !sawCancel.Load() {
		t.Error("the job's context was not cancelled")
	}
	runs := r.Runs()
	if err := r.Stop(t.Context()); err != nil { // idempotent
		t.Fatal(err)
	}
	if r.Runs() != runs {
		t.Error("the runner ran after Stop")
	}
}

// TestRunnerWithParsedSpec runs the real grammar's fastest schedule once.
func TestRunnerWithParsedSpec(t *testing.T) {
	t.Parallel()
	s, err := ParseSpec("@every 1s")
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	r := NewRunner(s, func(ctx context.Context) {
		select {
		case ran <- struct{}{}:
		default:
		}
	}, RunnerOptions{})
	r.Start()
	if next := r.Next(); next.IsZero() || time.Until(next) > time.Second {
		t.Errorf("next run at %v, want within 1s", next)
	}
	waitFor(t, ran, "the first run")
	if err := r.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}
