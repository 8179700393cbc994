package schedule

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
)

func TestRetryable(t *testing.T) {
	want := map[devices.Outcome]bool{
		devices.OutcomeOK:       false,
		devices.OutcomePartial:  false,
		devices.OutcomeTimeout:  true,
		devices.OutcomeRefused:  true,
		devices.OutcomeAuth:     false,
		devices.OutcomeHostKey:  false,
		devices.OutcomeProtocol: false,
		devices.OutcomeRPCError: false,
		devices.OutcomeTooLarge: false,
		"":                      false,
	}
	for o, w := range want {
		if got := Retryable(o); got != w {
			t.Errorf("Retryable(%q) = %v, want %v", o, got, w)
		}
	}
}

func TestRetryBackoffFullJitter(t *testing.T) {
	a := &Auditor{RetryBackoff: 100 * time.Millisecond, RetryRand: rand.NewPCG(1, 2)}
	for attempt := 1; attempt <= 12; attempt++ {
		ceiling := min(100*time.Millisecond<<(attempt-1), maxRetryBackoff)
		var most time.Duration
		for range 200 {
			w := a.retryBackoff(attempt)
			if w < 0 || w >= ceiling {
				t.Fatalf("attempt %d: wait %v outside [0, %v)", attempt, w, ceiling)
			}
			most = max(most, w)
		}
		if most < ceiling/2 {
			t.Errorf("attempt %d: largest of 200 waits %v, want the range up to %v used", attempt, most, ceiling)
		}
	}
	// The same seed gives the same waits.
	b := &Auditor{RetryBackoff: time.Second, RetryRand: rand.NewPCG(7, 7)}
	c := &Auditor{RetryBackoff: time.Second, RetryRand: rand.NewPCG(7, 7)}
	for i := 1; i < 5; i++ {
		if x, y := b.retryBackoff(i), c.retryBackoff(i); x != y {
			t.Errorf("attempt %d: %v and %v from one seed", i, x, y)
		}
	}
}

// attemptCounter is an OnAttempt hook counting attempts per device.
type attemptCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *attemptCounter) hook(device string, attempt int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[device]++
	if c.n[device] != attempt {
		panic("attempts out of order")
	}
}

func (c *attemptCounter) get(device string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[device]
}

// TestAuditRetriesOnlyTransientFailures: against simulated routers over
// real SSH, a refusing router is tried Retries+1 times, a router that
// rejects the login and a healthy one exactly once.
func TestAuditRetriesOnlyTransientFailures(t *testing.T) {
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "healthy", Topology: junossim.TopologyDual},
		{Name: "refuses", Topology: junossim.TopologyDual, Faults: &junossim.Faults{Refuse: true}},
		{Name: "rejects-auth", Topology: junossim.TopologyDual, Faults: &junossim.Faults{RejectAuth: true}},
	}}
	devs := fleetDevices(t, sc)
	var count attemptCounter
	a := &Auditor{
		Poller:       &Poller{Now: time.Now, Timeout: 10 * time.Second},
		Store:        openStore(t),
		Retries:      2,
		RetryBackoff: 10 * time.Millisecond,
		RetryRand:    rand.NewPCG(1, 1),
		OnAttempt:    count.hook,
	}
	res, err := a.Audit(t.Context(), devs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		outcome  devices.Outcome
		attempts int
	}{
		"healthy":      {devices.OutcomeOK, 1},
		"refuses":      {devices.OutcomeRefused, 3},
		"rejects-auth": {devices.OutcomeAuth, 1},
	}
	for _, p := range res.Polls {
		w := want[p.Device]
		if p.Outcome != w.outcome {
			t.Errorf("%s: outcome %s (%s), want %s", p.Device, p.Outcome, p.Error, w.outcome)
		}
		if got := count.get(p.Device); got != w.attempts {
			t.Errorf("%s: %d attempts, want %d", p.Device, got, w.attempts)
		}
		mentions := strings.Contains(p.Error, "after 3 attempts")
		if mentions != (w.attempts == 3) {
			t.Errorf("%s: error %q; it names the attempts only when retried", p.Device, p.Error)
		}
	}
	stored, err := a.Store.LatestPolls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stored {
		if p.Device == "refuses" && !strings.Contains(p.Error, "after 3 attempts") {
			t.Errorf("stored poll of refuses: %q, want the last attempt's error with the count", p.Error)
		}
	}
}

// TestRetriesStayInsideTheDeadline: a backoff longer than what is left of
// the device's deadline is not slept; the poll ends within the deadline.
func TestRetriesStayInsideTheDeadline(t *testing.T) {
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "refuses", Topology: junossim.TopologyDual, Faults: &junossim.Faults{Refuse: true}},
	}}
	devs := fleetDevices(t, sc)
	var count attemptCounter
	a := &Auditor{
		Poller:       &Poller{Now: time.Now, Timeout: 300 * time.Millisecond},
		Store:        openStore(t),
		Retries:      50,
		RetryBackoff: 100 * time.Millisecond,
		RetryRand:    rand.NewPCG(3, 4),
		OnAttempt:    count.hook,
	}
	start := time.Now()
	res, err := a.Audit(t.Context(), devs)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 300*time.Millisecond+hardDeadlineSlack/2 {
		t.Errorf("audit took %v with a 300ms device deadline", el)
	}
	if n := count.get("refuses"); n < 1 || n > 10 {
		t.Errorf("%d attempts in 300ms", n)
	}
	if p := res.Polls[0]; p.Outcome != devices.OutcomeRefused {
		t.Errorf("outcome %s (%s), want refused", p.Outcome, p.Error)
	}
}

// cancelOnMessage is a slog handler that cancels a context when a given
// message is logged: here, the moment the retry loop starts a backoff.
type cancelOnMessage struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (c cancelOnMessage) Enabled(context.Context, slog.Level) bool { return true }

func (c cancelOnMessage) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == c.msg {
		c.cancel()
	}
	return nil
}

// TestRetryStopsOnCancel: a cancelled audit does not wait out a backoff.
func TestRetryStopsOnCancel(t *testing.T) {
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "refuses", Topology: junossim.TopologyDual, Faults: &junossim.Faults{Refuse: true}},
	}}
	devs := fleetDevices(t, sc)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var count attemptCounter
	a := &Auditor{
		Poller:       &Poller{Now: time.Now, Timeout: time.Minute},
		Store:        openStore(t),
		Retries:      3,
		RetryBackoff: 25 * time.Second,
		RetryRand:    rand.NewPCG(5, 6),
		OnAttempt:    count.hook,
		Logger:       slog.New(cancelOnMessage{msg: "poll failed; retrying", cancel: cancel}),
	}
	if w := (&Auditor{RetryBackoff: 25 * time.Second, RetryRand: rand.NewPCG(5, 6)}).retryBackoff(1); w < 3*time.Second {
		t.Fatalf("seed gives a first backoff of %v; pick one that waits seconds", w)
	}
	start := time.Now()
	res, err := a.Audit(ctx, devs)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a cancelled audit took %v", el)
	}
	if n := count.get("refuses"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if p := res.Polls[0]; p.Outcome != devices.OutcomeRefused || strings.Contains(p.Error, "attempts") {
		t.Errorf("poll %s %q, want the one refused attempt", p.Outcome, p.Error)
	}
}
