package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
	"github.com/mastership/mastership/store"
)

// Auditor runs one fleet audit: every device polled once, at most
// Concurrency at a time, every poll stored as it finishes.
type Auditor struct {
	Poller *Poller
	Store  store.Store
	// Historian, if set, records each poll's history (log lines, events,
	// transitions, alarm lifecycle) and judges the findings at the end.
	Historian *Historian
	// Concurrency bounds the polls in flight; default DefaultConcurrency.
	Concurrency int
	// OnPoll, if set, is called after each device's poll is stored, from
	// the audit's goroutines one at a time (progress bars, live tables).
	OnPoll func(devices.Poll)
	// StoreOp, if set, is told the result of each store operation the
	// audit makes (op is one of the Op names below; err nil on success),
	// so that the daemon can count store errors and say on /healthz which
	// operation is failing. It must be safe for concurrent use.
	StoreOp func(op string, err error)
	Logger  *slog.Logger

	// Retries is how many more times a poll that failed transiently
	// (refused, timeout; see Retryable) is tried within the device's
	// deadline; default 0. RetryBackoff is the base of the exponential,
	// fully jittered wait between attempts (default 1s), drawn from
	// RetryRand if set (tests seed it), else from math/rand/v2.
	Retries      int
	RetryBackoff time.Duration
	RetryRand    rand.Source
	randMu       sync.Mutex // guards RetryRand
	// OnAttempt, if set, is called before each poll attempt of a device,
	// from that device's goroutine: it must be safe for concurrent use.
	OnAttempt func(device string, attempt int)
	// Spread delays each device's poll start by SpreadOffset(name, Spread)
	// after the audit starts, so a fleet does not log in all at once;
	// default 0 (no delay). The concurrency bound still applies.
	Spread time.Duration

	// memory is what this auditor stored last about each device, so that
	// a steady-state poll neither reads it back nor writes it again
	// (memory.go).
	memory deviceMemory

	// Spool, if set, takes the audit's writes (issue 19): the run and
	// each poll are appended to it and flushed into Store by its flusher,
	// so the audit neither waits on the store to begin nor loses a poll
	// while the store is down. Findings and readiness are judged only
	// once the audit's records are flushed.
	Spool *Spool
}

// DefaultConcurrency is the default bound on the polls in flight. A poll
// mostly waits on the network: on loopback an audit is CPU-bound long
// before 256 sessions are open, and a wider bound costs it nothing (the
// CPU per poll is the same), while behind a 50 ms round trip a fresh poll
// waits about a second, so 5,000 routers need about this many sessions at
// once to be audited in a minute (issue 17; docs/scale-out.md). Each open
// session holds a descriptor and its replies until the poll ends.
const DefaultConcurrency = 256

// hardDeadlineSlack is how long past a device's deadline the audit waits
// for its poll to return before recording a timeout and moving on. The
// netconf layer honours contexts, so this only matters if it ever doesn't.
const hardDeadlineSlack = time.Second

// Result is what one audit found.
type Result struct {
	Run devices.Run
	// Polls are in the order of the devices audited; a device the audit
	// never reached (cancelled) has a zero Poll.
	Polls []devices.Poll
	// Findings are the open findings of each polled device (nil without a
	// Historian).
	Findings map[string][]devices.Finding
	// Switchovers is the switchover ledger of each polled device in the
	// judged window (nil without a Historian).
	Switchovers map[string][]devices.Switchover
	// Readiness is each polled device's switchover readiness verdict
	// (issue 16), rebuilt after judging so the ledger's last switchover
	// is this audit's.
	Readiness map[string]readiness.Verdict
}

// Audit polls devs and stores a run. Device failures are results; the
// error is for the store or a cancelled context. A store error on one
// device does not stop the others.
func (a *Auditor) Audit(ctx context.Context, devs []inventory.Device) (Result, error) {
	return a.AuditSlot(ctx, time.Time{}, devs)
}

// AuditSlot is Audit as one of several agents sharing the store: with a
// non-zero slot (the scheduled time of this audit, the same for every
// agent), each device is claimed in the store just before its poll and
// polled only if this agent's claim won (store.ClaimStore), so every
// device is polled exactly once per slot by whichever agent gets to it
// first. The devices other agents took have a zero Poll in the result and
// are not counted in the run. A zero slot polls every device.
func (a *Auditor) AuditSlot(ctx context.Context, slot time.Time, devs []inventory.Device) (Result, error) {
	now := a.Poller.Now
	run := devices.Run{Started: now().UTC(), Devices: len(devs)}
	var runKey int64 // the run in the spool
	if a.Spool != nil {
		k, err := a.Spool.BeginRun(run.Started)
		if err != nil {
			return Result{Run: run}, err
		}
		runKey = k
		if !slot.IsZero() {
			// Shared: while the store answers, polls are stored
			// directly (sharedDirect), and they need the run's ID.
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spoolWait)
			a.Spool.Stored(wctx, uint64(k))
			cancel()
		}
	} else {
		id, err := a.Store.BeginRun(ctx, run.Started)
		a.storeOp(OpBeginRun, err)
		if err != nil {
			// The store names the operation ("begin run: …").
			return Result{Run: run}, err
		}
		run.ID = id
	}

	conc := a.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	polls := make([]devices.Poll, len(devs))
	others := make([]bool, len(devs))   // claimed by another agent in slot
	unstored := make([]bool, len(devs)) // polled, but the store refused the poll
	sem := make(chan struct{}, conc)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // serialises OnPoll and the store error
		storeErr error
	)
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.Name
	}
	order, offsets := a.startOrder(names)
	startedAt := time.Now() // wall clock: the spread is real waiting
	for _, i := range order {
		d := devs[i]
		if !waitUntil(ctx, startedAt.Add(offsets[i])) {
			break
		}
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
			defer func() {
				// A panic storing or reporting this device's poll ends
				// this device only.
				if r := recover(); r != nil {
					p := a.panicPoll(d, polls[i].Started, r)
					p.RunID = run.ID
					polls[i] = p
				}
			}()
			if !slot.IsZero() {
				// Claimed only now, with a worker free: an agent that
				// dies holds back at most Concurrency devices of a slot.
				mine, err := a.Store.ClaimPoll(ctx, slot, d.Name)
				if ctx.Err() == nil {
					a.storeOp(OpClaim, err)
				}
				if a.Spool != nil {
					if err == nil && mine {
						a.Spool.Claimed(slot, d.Name)
					} else if err != nil && ctx.Err() == nil {
						// The store is down: keep this agent's own
						// devices of the last slot it could claim.
						mine, err = a.Spool.HeldLastSlot(slot, d.Name)
					}
				}
				if err != nil || !mine {
					mu.Lock()
					defer mu.Unlock()
					others[i] = true
					if err != nil && ctx.Err() == nil && storeErr == nil {
						// Not polled: polling unclaimed could poll twice.
						storeErr = err
					}
					return
				}
			}
			cursors := a.cursorsFor(ctx, d.Name)
			p := a.pollWithHardDeadline(ctx, d, cursors)
			p.RunID = run.ID
			// Store even when the audit is being cancelled: the poll
			// happened and must not be lost.
			var serr error
			if a.Spool != nil {
				p.ExpectedREs = a.Spool.ExpectedREs(ctx, d, p)
				spooled := true
				if !slot.IsZero() {
					spooled, serr = a.sharedDirect(context.WithoutCancel(ctx), runKey, d, &p)
				}
				if spooled {
					_, serr = a.Spool.SavePoll(runKey, d, p)
				}
			} else {
				serr = a.save(context.WithoutCancel(ctx), d, &p, cursors)
				a.storeOp(OpSavePoll, serr)
			}
			polls[i] = p
			mu.Lock()
			defer mu.Unlock()
			if serr != nil {
				unstored[i] = true
				if a.Logger != nil {
					a.Logger.Error("poll not stored", "device", d.Name, "run", run.ID, "error", serr)
				}
				if storeErr == nil {
					storeErr = serr // the store names the operation and the device
				}
			}
			if a.OnPoll != nil {
				a.OnPoll(p)
			}
		}()
	}
	wg.Wait()

	run.Finished = now().UTC()
	for i, p := range polls {
		switch {
		case others[i]:
			run.Devices-- // another agent's in this slot
		case p.Device == "": // never started: the audit was cancelled
			run.Interrupted = true
			continue
		case p.Outcome == devices.OutcomeOK || p.Outcome == devices.OutcomePartial:
			run.OK++
		default:
			run.Failed++
		}
		if unstored[i] {
			run.Unstored++
		}
	}
	if ctx.Err() != nil {
		run.Interrupted = true
	}
	res := Result{Run: run, Polls: polls}
	judge := ctx.Err() == nil
	if a.Spool != nil {
		// The run's end goes through the spool like its polls; the
		// findings are judged from the store, so only once it has them.
		seq, err := a.Spool.FinishRun(runKey, run)
		if err != nil {
			return res, errors.Join(storeErr, err)
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spoolWait)
		flushed := a.Spool.Flushed(fctx, seq)
		cancel()
		if !flushed {
			if a.Logger != nil {
				a.Logger.Warn("store degraded: the audit's polls wait in the spool; findings are judged once they are flushed",
					"polls_waiting", a.Spool.Status().PollsWaiting)
			}
			return res, storeErr
		}
		res.Run.ID = a.Spool.RunID(runKey)
	}
	// An interrupted audit is not judged: the daemon is stopping, and
	// the next audit judges the history this one stored.
	if a.Historian != nil && judge {
		var names []string
		for _, p := range polls {
			if p.Device != "" {
				names = append(names, p.Device)
			}
		}
		j, err := a.Historian.JudgeAll(context.WithoutCancel(ctx), names, now().UTC())
		a.storeOp(OpJudge, err)
		res.Findings, res.Switchovers = j.Findings, j.Switchovers
		if err != nil {
			storeErr = errors.Join(storeErr, err)
		}
	}
	if ctx.Err() == nil {
		res.Readiness = make(map[string]readiness.Verdict)
		for i, p := range polls {
			if p.Device == "" || others[i] {
				continue
			}
			v, err := a.readiness(context.WithoutCancel(ctx), devs[i], p)
			res.Readiness[p.Device] = v
			storeErr = errors.Join(storeErr, err)
		}
	}
	if a.Spool != nil {
		return res, storeErr
	}
	err := a.Store.FinishRun(context.WithoutCancel(ctx), run)
	a.storeOp(OpFinishRun, err)
	if err != nil {
		return res, errors.Join(storeErr, err) // "finish run N: …" from the store
	}
	return res, storeErr
}

// spoolWait bounds how long an audit waits for the spool to flush its
// records before it leaves the judging to a later audit: a store that
// fails says so at once, this is for one that is slow or hangs.
const spoolWait = time.Minute

// The store operations an audit reports to StoreOp, as they are named in
// mastership_store_errors_total{op} and on /healthz.
const (
	OpBeginRun  = "begin_run"
	OpClaim     = "claim"
	OpSavePoll  = "save_poll"
	OpJudge     = "judge"
	OpFinishRun = "finish_run"
	// OpSaveReadiness stores a device's switchover readiness (issue 16).
	OpSaveReadiness = "save_readiness"
)

// StoreOps are the operations above, in the order an audit makes them.
func StoreOps() []string {
	return []string{OpBeginRun, OpClaim, OpSavePoll, OpJudge, OpSaveReadiness, OpFinishRun}
}

// storeOp reports one store operation's result to StoreOp, if set.
func (a *Auditor) storeOp(op string, err error) {
	if a.StoreOp != nil {
		a.StoreOp(op, err)
	}
}

// cursorsFor is where the poll of device reads its log cursors: the
// device's memory, when it still holds, else the poller's own source.
func (a *Auditor) cursorsFor(ctx context.Context, device string) *rememberingCursors {
	if a.Poller.Cursors == nil {
		return nil
	}
	c := &rememberingCursors{inner: a.Poller.Cursors, device: device}
	if c.from = a.memory.get(ctx, a.Store, device); c.from != nil {
		c.known = c.from.cursors
	}
	return c
}

// save stores one poll and what it adds to the device's history, and
// remembers what it left in the store. cursors is where the poll read its
// log cursors (nil: from the store, unremembered).
func (a *Auditor) save(ctx context.Context, d inventory.Device, p *devices.Poll, cursors *rememberingCursors) error {
	// Asked before this poll is stored: a poll stored by anyone else
	// since this auditor's last makes the memory void.
	mem := a.memory.get(ctx, a.Store, d.Name)
	if cursors == nil || mem != cursors.from {
		// Changed while the device was polled: the cursors it read
		// from memory are not known to be the stored ones.
		mem = nil
	}
	next, err := a.saveRemembering(ctx, d, p, mem)
	if err != nil || next == nil {
		a.memory.forget(d.Name)
		return err
	}
	next.pollID = p.ID
	next.cursors = cursors.cursorsRead(mem != nil)
	if a.Historian != nil && p.Snapshot != nil { // it stored the poll's cursors (SaveLogs)
		for _, c := range p.Snapshot.LogCursors {
			next.cursors[c.File] = storedCursor(d.Name, c)
		}
	}
	a.memory.put(d.Name, next)
	return nil
}

// saveRemembering is save's store work. It returns what it knows the
// store holds afterwards (cursors aside), nil when it cannot tell.
func (a *Auditor) saveRemembering(ctx context.Context, d inventory.Device, p *devices.Poll, mem *remembered) (*remembered, error) {
	exp, err := ExpectedREs(ctx, a.Store, d, *p)
	if err != nil && a.Logger != nil {
		a.Logger.Warn("expected RE count unknown", "device", d.Name, "error", err)
	}
	p.ExpectedREs = exp
	var prev *devices.Poll
	if a.Historian != nil {
		// Taken before saving: the RE-table deltas of this poll are
		// against the last poll that read the table. Remembered only
		// while it is the device's latest poll: then it is also the
		// latest with an RE table, and no pruning can have taken it.
		if mem != nil && mem.rePoll != nil && mem.rePoll.ID == mem.pollID {
			prev = mem.rePoll
		} else if prev, err = a.Store.LatestREPoll(ctx, d.Name); err != nil {
			return nil, err
		}
		noteClockStep(prev, p)
	}
	if err := a.Store.SavePoll(ctx, p); err != nil {
		return nil, err
	}
	// The latest poll with an RE table once p is stored.
	rePoll := prev
	if p.Snapshot != nil && len(p.Snapshot.RouteEngines) > 0 {
		rePoll = storedREPoll(*p)
	}
	if a.Historian == nil || p.Snapshot == nil {
		// Nothing but the poll was stored: the rest is as it was.
		if mem == nil || p.Snapshot == nil {
			return nil, nil
		}
		return &remembered{config: mem.config, configAt: mem.configAt, noAlarms: mem.noAlarms}, nil
	}
	next, err := a.Historian.record(ctx, prev, *p, mem)
	if next != nil {
		next.rePoll = rePoll
	}
	return next, err
}

// sharedDirect stores a shared agent's poll directly while the store
// answers and the spool holds nothing (and reports spool=false), as
// without a spool: the other agents see the poll at once, an agent
// killed now loses only its polls in flight, and the agents' writes go on
// in parallel. A poll the store did not take (none of it written) is
// left for the spool (spool=true); one whose history failed after the
// poll row was written is not spooled, which would store it twice.
func (a *Auditor) sharedDirect(ctx context.Context, runKey int64, d inventory.Device, p *devices.Poll) (spool bool, err error) {
	id := a.Spool.RunID(runKey)
	if id == 0 || !a.Spool.Idle() {
		return true, nil
	}
	p.RunID = id
	saved := false
	var prev *devices.Poll
	if a.Historian != nil {
		if prev, err = a.Store.LatestREPoll(ctx, d.Name); err != nil {
			a.storeOp(OpSavePoll, err)
			p.RunID = 0
			return true, nil
		}
	}
	if err = a.Store.SavePoll(ctx, p); err == nil {
		saved = true
		if a.Historian != nil {
			err = a.Historian.Record(ctx, prev, *p)
		}
	}
	a.storeOp(OpSavePoll, err)
	if !saved {
		p.RunID, p.ID = 0, 0
		return true, nil
	}
	return false, err
}

// pollWithHardDeadline returns the device's poll, or a timeout poll if the
// poll has not returned shortly after its deadline.
func (a *Auditor) pollWithHardDeadline(ctx context.Context, d inventory.Device, cursors *rememberingCursors) devices.Poll {
	done := make(chan devices.Poll, 1)
	started := a.Poller.Now().UTC()
	// One budget for all attempts; cancelled if the poll is abandoned.
	ctx, cancel := context.WithTimeout(ctx, a.Poller.DeviceTimeout(d))
	defer cancel()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- a.panicPoll(d, started, r)
			}
		}()
		done <- a.pollAttempts(ctx, d, cursors)
	}()
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

// panicPoll records a panic in d's poll as that device's protocol
// failure; the stack goes to the log, not into the stored error.
func (a *Auditor) panicPoll(d inventory.Device, started time.Time, r any) devices.Poll {
	log := a.Logger
	if log == nil {
		log = a.Poller.logger()
	}
	log.Error("panic in device poll; recovered", "device", d.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if started.IsZero() {
		started = a.Poller.Now().UTC()
	}
	return devices.Poll{
		Device: d.Name, Host: d.Host, Site: d.Site,
		Started: started, Finished: a.Poller.Now().UTC(),
		Outcome: devices.OutcomeProtocol, ErrorKind: string(devices.OutcomeProtocol),
		Error: fmt.Sprintf("internal error: panic: %v", r),
	}
}

// Check polls one device outside any run (an operator's on-demand check),
// stores the poll and its history, and judges the device's findings.
func (a *Auditor) Check(ctx context.Context, d inventory.Device) (devices.Poll, []devices.Finding, error) {
	cursors := a.cursorsFor(ctx, d.Name)
	p := a.pollWithHardDeadline(ctx, d, cursors)
	if err := a.save(context.WithoutCancel(ctx), d, &p, cursors); err != nil {
		return p, nil, err // the store names the operation and the device
	}
	if a.Historian == nil {
		return p, nil, nil
	}
	found, err := a.Historian.Judge(context.WithoutCancel(ctx), []string{d.Name}, a.Poller.Now().UTC())
	return p, found[d.Name], err
}

// CheckReadiness is the switchover readiness verdict of d's poll p, made
// by Check (after it, so the ledger is judged), and stored.
func (a *Auditor) CheckReadiness(ctx context.Context, d inventory.Device, p devices.Poll) (readiness.Verdict, error) {
	return a.readiness(ctx, d, p)
}

// readiness builds and stores d's verdict at its poll p.
func (a *Auditor) readiness(ctx context.Context, d inventory.Device, p devices.Poll) (readiness.Verdict, error) {
	v := Readiness(ctx, a.Store, d, p, a.Poller.Now().UTC())
	err := a.Store.SaveReadiness(ctx, store.Readiness{Device: d.Name, Site: d.Site, Verdict: v})
	a.storeOp(OpSaveReadiness, err)
	return v, err
}
