package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// specParser is the cron grammar the daemon accepts: 5 fields, an
// optional leading seconds field, and descriptors. ParseSpec validates
// before this parser sees a spec: some invalid specs panic inside it.
func specParser() cron.Parser {
	return cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// descriptors are the named schedules cron v3 knows, besides "@every D".
var descriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// ParseSpec parses a schedule: "m h dom mon dow", "s m h dom mon dow",
// "@every 5m", "@hourly" and the other descriptors, each optionally
// prefixed by "CRON_TZ=Zone " (or "TZ=Zone "). Specs without a zone run
// in the local time zone. The spec is checked before robfig/cron sees it
// (v3.0.1 panics on some invalid forms) and any panic left in the library
// is turned into an error; a spec that never fires is an error too.
func ParseSpec(spec string) (sched cron.Schedule, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, errors.New("empty schedule")
	}
	rest := s
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if !strings.HasPrefix(rest, prefix) {
			continue
		}
		zone, after, found := strings.Cut(rest[len(prefix):], " ")
		after = strings.TrimSpace(after)
		switch {
		case strings.TrimSpace(zone) == "":
			return nil, fmt.Errorf("schedule %q: %s names no time zone", spec, prefix)
		case !found || after == "":
			return nil, fmt.Errorf("schedule %q: a time zone but no schedule after it", spec)
		case strings.HasPrefix(after, "CRON_TZ=") || strings.HasPrefix(after, "TZ="):
			return nil, fmt.Errorf("schedule %q: more than one time zone", spec)
		}
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("schedule %q: unknown time zone %q", spec, zone)
		}
		// Normalise the separator: the library cuts at the first space
		// only, and a tab there would end up in the zone name.
		s = prefix + zone + " " + after
		rest = after
		break
	}
	if strings.HasPrefix(rest, "@") {
		if err := checkDescriptor(rest); err != nil {
			return nil, fmt.Errorf("schedule %q: %w", spec, err)
		}
	} else if n := len(strings.Fields(rest)); n != 5 && n != 6 {
		return nil, fmt.Errorf("schedule %q: %d fields, want 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)", spec, n)
	}

	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("schedule %q: invalid (the cron parser panicked: %v)", spec, r)
		}
	}()
	sched, err = specParser().Parse(s)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("schedule %q: never fires", spec)
	}
	return sched, nil
}

func checkDescriptor(d string) error {
	if descriptors[d] {
		return nil
	}
	arg, ok := strings.CutPrefix(d, "@every")
	if !ok {
		return fmt.Errorf("unknown descriptor %s (want @every D, @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)", strings.Fields(d)[0])
	}
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return errors.New("@every needs a duration, e.g. @every 5m")
	}
	dur, err := time.ParseDuration(arg)
	if err != nil {
		return fmt.Errorf("@every: %w", err)
	}
	if dur < time.Second {
		return fmt.Errorf("@every %s: the shortest interval is 1s", arg)
	}
	if dur%time.Second != 0 {
		// The library silently truncates to whole seconds.
		return fmt.Errorf("@every %s: the interval must be a whole number of seconds", arg)
	}
	return nil
}

// NextRuns returns the next n activations of s after from (fewer if the
// schedule stops firing).
func NextRuns(s cron.Schedule, from time.Time, n int) []time.Time {
	var out []time.Time
	t := from
	for range max(n, 0) {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	Logger *slog.Logger
	// OnSkip, if set, is called (from the scheduler's goroutine for that
	// activation) each time a run is skipped because the previous one is
	// still going; skipped is the total so far.
	OnSkip func(skipped int64)
}

// Runner runs a job on a cron schedule, never two at once: an activation
// that comes while the job is still running is skipped and counted. A
// panicking job is logged and the schedule goes on. The job's context is
// cancelled by Stop.
type Runner struct {
	cron    *cron.Cron
	log     *slog.Logger
	onSkip  func(int64)
	ctx     context.Context
	cancel  context.CancelFunc
	skipped atomic.Int64
	started atomic.Int64

	stopOnce sync.Once
	done     chan struct{} // closed when the scheduler is stopped and no job runs
}

// NewRunner returns a Runner of job on sched; Start starts it.
func NewRunner(sched cron.Schedule, job func(ctx context.Context), opts RunnerOptions) *Runner {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{log: log, onSkip: opts.OnSkip, done: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	cl := cronLogger{log}
	// The order matters: the skip guard outermost, Recover inside it, so
	// a panic is caught before it can leave the guard held. skipIfRunning
	// stands in for cron.SkipIfStillRunning, which only logs its skips.
	r.cron = cron.New(
		cron.WithParser(specParser()),
		cron.WithLogger(cl),
		cron.WithChain(r.skipIfRunning, cron.Recover(cl)),
	)
	r.cron.Schedule(sched, cron.FuncJob(func() {
		r.started.Add(1)
		job(r.ctx)
	}))
	return r
}

// skipIfRunning is cron.SkipIfStillRunning with the skip counted and
// reported, and the guard released by defer.
func (r *Runner) skipIfRunning(j cron.Job) cron.Job {
	var running atomic.Bool
	return cron.FuncJob(func() {
		if !running.CompareAndSwap(false, true) {
			n := r.skipped.Add(1)
			r.log.Warn("scheduled run skipped: the previous run is still going", "skipped_total", n)
			if r.onSkip != nil {
				r.onSkip(n)
			}
			return
		}
		defer running.Store(false)
		j.Run()
	})
}

// Start starts the schedule in its own goroutine.
func (r *Runner) Start() { r.cron.Start() }

// Skipped is how many activations were skipped because a run was going.
func (r *Runner) Skipped() int64 { return r.skipped.Load() }

// Runs is how many times the job was started.
func (r *Runner) Runs() int64 { return r.started.Load() }

// Next is the time of the next activation (zero before Start).
func (r *Runner) Next() time.Time {
	for _, e := range r.cron.Entries() {
		return e.Next
	}
	return time.Time{}
}

// Stop stops scheduling and waits for a running job to return, up to
// ctx; then it cancels the job's context. If the job has not returned by
// the time ctx is done, Stop cancels it and returns an error wrapping
// ctx's; Done tells when it has returned.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() {
		idle := r.cron.Stop()
		go func() {
			<-idle.Done()
			close(r.done)
		}()
	})
	select {
	case <-r.done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return fmt.Errorf("scheduled job still running; cancelled: %w", ctx.Err())
	}
}

// Done is closed once Stop has been called and no job is running.
func (r *Runner) Done() <-chan struct{} { return r.done }

// cronLogger puts robfig/cron's log lines on slog. Its Info lines (every
// wake-up and run) are debug detail here.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug("cron: "+msg, formatCronKV(kv)...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(formatCronKV(kv), "error", err)...)
}

// formatCronKV makes the library's key/value pairs slog-safe: an odd
// count would otherwise produce a "!BADKEY".
func formatCronKV(kv []any) []any {
	if len(kv)%2 == 1 {
		kv = append(kv, "")
	}
	return kv
}
