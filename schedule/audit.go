package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// Auditor runs one fleet audit: every device polled once, at most
// Concurrency at a time, every poll stored as it finishes.
type Auditor struct {
	Poller *Poller
	Store  store.Store
	// Concurrency bounds the polls in flight; default 32.
	Concurrency int
	// OnPoll, if set, is called after each device's poll is stored, from
	// the audit's goroutines one at a time (progress bars, live tables).
	OnPoll func(devices.Poll)
	Logger *slog.Logger
}

// hardDeadlineSlack is how long past a device's deadline the audit waits
// for its poll to return before recording a timeout and moving on. The
// netconf layer honours contexts, so this only matters if it ever doesn't.
const hardDeadlineSlack = time.Second

// Audit polls devs and stores a run. It returns the run and the polls in
// the order of devs. Device failures are results; the error is for the
// store or a cancelled context.
func (a *Auditor) Audit(ctx context.Context, devs []devices.Device) (devices.Run, []devices.Poll, error) {
	now := a.Poller.Now
	run := devices.Run{Started: now().UTC(), Devices: len(devs)}
	id, err := a.Store.BeginRun(ctx, run.Started)
	if err != nil {
		return run, nil, fmt.Errorf("begin run: %w", err)
	}
	run.ID = id

	conc := a.Concurrency
	if conc <= 0 {
		conc = 32
	}
	polls := make([]devices.Poll, len(devs))
	sem := make(chan struct{}, conc)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // serialises OnPoll and the store error
		storeErr error
	)
	for i, d := range devs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p := a.pollWithHardDeadline(ctx, d)
			p.RunID = run.ID
			exp, err := ExpectedREs(context.WithoutCancel(ctx), a.Store, d, p)
			if err != nil && a.Logger != nil {
				a.Logger.Warn("expected RE count unknown", "device", d.Name, "error", err)
			}
			p.ExpectedREs = exp
			// Store even when the audit is being cancelled: the poll
			// happened and must not be lost.
			serr := a.Store.SavePoll(context.WithoutCancel(ctx), &p)
			polls[i] = p
			mu.Lock()
			defer mu.Unlock()
			if serr != nil && storeErr == nil {
				storeErr = fmt.Errorf("store poll of %s: %w", d.Name, serr)
			}
			if a.OnPoll != nil {
				a.OnPoll(p)
			}
		}()
	}
	wg.Wait()

	run.Finished = now().UTC()
	for _, p := range polls {
		switch {
		case p.Device == "": // never started: the audit was cancelled
			run.Interrupted = true
		case p.Outcome == devices.OutcomeOK || p.Outcome == devices.OutcomePartial:
			run.OK++
		default:
			run.Failed++
		}
	}
	if ctx.Err() != nil {
		run.Interrupted = true
	}
	if err := a.Store.FinishRun(context.WithoutCancel(ctx), run); err != nil {
		return run, polls, errors.Join(storeErr, fmt.Errorf("finish run %d: %w", run.ID, err))
	}
	return run, polls, storeErr
}

// pollWithHardDeadline returns the device's poll, or a timeout poll if the
// poll has not returned shortly after its deadline.
func (a *Auditor) pollWithHardDeadline(ctx context.Context, d devices.Device) devices.Poll {
	done := make(chan devices.Poll, 1)
	started := a.Poller.Now().UTC()
	go func() { done <- a.Poller.Poll(ctx, d) }()
	timer := time.NewTimer(a.Poller.DeviceTimeout(d) + hardDeadlineSlack)
	defer timer.Stop()
	select {
	case p := <-done:
		return p
	case <-timer.C:
		if a.Logger != nil {
			a.Logger.Warn("poll overran its hard deadline; abandoned", "device", d.Name)
		}
		return devices.Poll{
			Device: d.Name, Host: d.Host, Site: d.Site,
			Started: started, Finished: a.Poller.Now().UTC(),
			Outcome: devices.OutcomeTimeout, ErrorKind: string(devices.OutcomeTimeout),
			Error: fmt.Sprintf("poll of %s exceeded its %s deadline", d.Name, a.Poller.DeviceTimeout(d)),
		}
	}
}
