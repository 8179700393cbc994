package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/schedule"
)

// Targets of issue 17 for a steady-state poll of a healthy router with
// unchanged logs.
const (
	benchSteadyMaxRPCs       = 5         // per poll, close-session not counted
	benchSteadyMaxReplyBytes = 32 << 10  // per poll, whatever the size of the logs
	benchSteadyMaxCPURatio   = 1.3       // agent CPU, 5 MB messages against 500 B
	benchSteadyBigLog        = 5_000_000 // steady-5mb and few-lines: messages bytes
	benchSteadySmallLog      = 500       // steady-500b
	benchFewLinesPerPoll     = 5         // few-lines: lines each router logs between polls
)

// The session modes a steady scenario measures, as the suffix of its rows.
const (
	benchModeFresh      = "fresh"
	benchModePersistent = "persistent"
)

// runSteady measures the steady state of a fleet: a first audit reads
// everything (steadyWarmUp), then the second audit, the one measured, finds the routers
// as they were (steady-5mb, steady-500b) or each with a few new lines in
// messages (few-lines). It does so twice on the same fleet: with a new
// session per poll (row NAME/fresh) and on the sessions the first audit
// left open (NAME/persistent). The simulator logs nothing for a login, so
// an unchanged messages file stays unchanged across fresh sessions too
// (a real router logs each login: docs say why the filtered file matters).
func (b *bencher) runSteady(ctx context.Context, sc benchScenario) ([]benchResult, error) {
	spec := benchSimSpec{logFillBytes: benchSteadyBigLog}
	if sc.group == benchSteady500B {
		spec.logFillBytes = benchSteadySmallLog
	}
	fl, err := b.fleet(ctx, sc, spec, uint64(sc.size)+uint64(b.o.concurrency)*2+256)
	if err != nil {
		return nil, err
	}
	defer fl.stop()
	ctx, stopGuard := benchGuard(ctx, b.maxRSS, nil)
	defer stopGuard()
	var rows []benchResult
	for _, mode := range []string{benchModeFresh, benchModePersistent} {
		r, err := b.steadyMode(ctx, sc, fl, mode)
		rows = append(rows, r)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// steadyMode is one row of runSteady.
func (b *bencher) steadyMode(ctx context.Context, sc benchScenario, fl *benchFleet, mode string) (benchResult, error) {
	name := sc.name() + "/" + mode
	r := benchResult{Scenario: name, Size: sc.size, Unit: "devices", Concurrency: b.o.concurrency}
	devs := slices.Clone(fl.devs)
	var pool *schedule.SessionPool
	if mode == benchModePersistent {
		for i := range devs {
			devs[i].Session = inventory.SessionPersistent
		}
		pool = schedule.NewSessionPool(b.o.keepalive, b.log)
		defer func() { _ = pool.Close(context.WithoutCancel(ctx)) }()
	}
	st, err := openStore(ctx, b.storeFor(strings.ReplaceAll(name, "/", "-")))
	if err != nil {
		return r, err
	}
	defer st.Close()
	auditor, err := b.auditor(st, pool)
	if err != nil {
		return r, err
	}
	if err := b.steadyWarmUp(ctx, auditor, devs, name); err != nil {
		return r, err
	}
	if sc.group == benchFewLines {
		if err := fl.logLines(ctx, benchFewLinesPerPoll); err != nil {
			return r, err
		}
	}
	b.logf("%s: second audit, measured", name)
	if err := b.measureAudit(ctx, fl, auditor, devs, name, &r); err != nil {
		return r, err
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	switch sc.group {
	case benchFewLines:
		r.Note = benchJoin(r.Note, fmt.Sprintf("messages about %s, %d lines logged by every router between the polls", benchBytes(benchSteadyBigLog), benchFewLinesPerPoll))
	default:
		r.Note = benchJoin(r.Note, fmt.Sprintf("messages %s, unchanged between the polls", benchBytes(int64(benchFillOf(sc.group)))))
		r.Targets = append(r.Targets,
			atMost("rpcs/poll", r.RouterRPCsPerPoll, benchSteadyMaxRPCs, ""),
			atMost("reply/poll", r.RouterReplyBytesPerPoll/1024, benchSteadyMaxReplyBytes/1024, "KiB"))
	}
	return r, nil
}

// Warm-up of a steady scenario: its first audit, not measured, reads every
// router's whole messages file. It runs benchWarmUpConcurrency at a time,
// and again for the polls that failed, up to benchWarmUpAttempts times, so
// that on a loaded machine 5 MB reads do not run into their deadline and
// leave routers whose second poll is a first one.
const (
	benchWarmUpConcurrency = 16
	benchWarmUpAttempts    = 3
)

// steadyWarmUp runs the first audit of a steady scenario until every
// device's poll was ok.
func (b *bencher) steadyWarmUp(ctx context.Context, auditor *schedule.Auditor, devs []inventory.Device, name string) error {
	conc := auditor.Concurrency
	defer func() { auditor.Concurrency = conc }()
	auditor.Concurrency = min(conc, benchWarmUpConcurrency)
	pending := devs
	for attempt := 1; ; attempt++ {
		b.logf("%s: first audit (attempt %d, %d devices, %d at a time)", name, attempt, len(pending), auditor.Concurrency)
		res, err := auditor.Audit(ctx, pending)
		if err != nil {
			return fmt.Errorf("first audit: %w", err)
		}
		var failed []inventory.Device
		for i, p := range res.Polls {
			if p.Outcome != devices.OutcomeOK {
				failed = append(failed, pending[i])
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if attempt == benchWarmUpAttempts {
			_, _, first := benchOutcomes(res.Polls)
			return fmt.Errorf("first audit: %d of %d polls still failed after %d attempts (first: %s): the second audit would not be a steady state",
				len(failed), len(devs), attempt, first)
		}
		pending = failed
	}
}

// benchFillOf is the messages size of a steady group.
func benchFillOf(group string) int {
	if group == benchSteady500B {
		return benchSteadySmallLog
	}
	return benchSteadyBigLog
}

// benchSteadyRatios adds, for each session mode, a row comparing the
// agent's CPU per steady poll with a 5 MB messages file to the same with
// a 500 B one, when both were run at the same size.
func benchSteadyRatios(results []benchResult) []benchResult {
	byName := map[string]benchResult{}
	for _, r := range results {
		byName[r.Scenario] = r
	}
	var out []benchResult
	for _, r := range results {
		big, ok := strings.CutPrefix(r.Scenario, benchSteady5MB+"-")
		if !ok || r.Error != "" || r.CPUPerOpMS <= 0 {
			continue
		}
		small, ok := byName[benchSteady500B+"-"+big]
		if !ok || small.Error != "" || small.CPUPerOpMS <= 0 {
			continue
		}
		size, mode, _ := strings.Cut(big, "/")
		ratio := r.CPUPerOpMS / small.CPUPerOpMS
		out = append(out, benchResult{
			Scenario: "steady-5mb/500b-" + size + "/" + mode,
			Unit:     benchUnitRatio,
			Targets:  []benchCheck{atMost("agent cpu 5MB/500B", ratio, benchSteadyMaxCPURatio, "×")},
			Note: fmt.Sprintf("agent CPU per steady %s poll: %s with 5 MB messages, %s with 500 B", mode,
				benchMS(r.CPUPerOpMS), benchMS(small.CPUPerOpMS)),
			OtherCores: max(r.OtherCores, small.OtherCores),
		})
	}
	return out
}

// benchUnitRatio is the unit of a row that only compares two others.
const benchUnitRatio = "ratio"
