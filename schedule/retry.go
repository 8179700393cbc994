package schedule

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
)

// Retryable says whether a poll that ended with o is worth another try
// within the same deadline: only transient network failures are. Auth and
// host-key failures must never be retried (retries lock accounts and hide
// an attack), and protocol, rpc-error, too-large or partial outcomes
// would come back the same.
func Retryable(o devices.Outcome) bool {
	return o == devices.OutcomeRefused || o == devices.OutcomeTimeout
}

const (
	defaultRetryBackoff = time.Second
	maxRetryBackoff     = 30 * time.Second
)

// pollAttempts polls d up to 1+Retries times while the outcome is
// retryable, sleeping an exponential backoff with full jitter between
// attempts. ctx carries the device's whole deadline: no attempt starts
// and no backoff is slept past it. The poll returned is the last
// attempt's; its Error names the attempt count when there was more than
// one.
func (a *Auditor) pollAttempts(ctx context.Context, d inventory.Device, cursors *rememberingCursors) devices.Poll {
	poller := a.Poller
	if cursors != nil {
		// The same poller reading d's cursors through the auditor's
		// memory of them: a copy, as the Poller is shared by every poll.
		cp := *a.Poller
		cp.Cursors = cursors
		poller = &cp
	}
	for attempt := 1; ; attempt++ {
		if a.OnAttempt != nil {
			a.OnAttempt(d.Name, attempt)
		}
		p := poller.Poll(ctx, d)
		if attempt > a.Retries || !Retryable(p.Outcome) || ctx.Err() != nil {
			return noteAttempts(p, attempt)
		}
		wait := a.retryBackoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			// No time left for the wait and another attempt.
			return noteAttempts(p, attempt)
		}
		if a.Logger != nil {
			a.Logger.Info("poll failed; retrying", "device", d.Name, "attempt", attempt,
				"outcome", p.Outcome, "error", p.Error, "backoff", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return noteAttempts(p, attempt)
		}
	}
}

func noteAttempts(p devices.Poll, attempts int) devices.Poll {
	if attempts > 1 && p.Error != "" {
		p.Error = fmt.Sprintf("%s (after %d attempts)", p.Error, attempts)
	}
	return p
}

// retryBackoff is the wait before attempt+1: uniform in [0, base·2^(attempt-1)),
// capped at 30s ("full jitter").
func (a *Auditor) retryBackoff(attempt int) time.Duration {
	ceiling := a.RetryBackoff
	if ceiling <= 0 {
		ceiling = defaultRetryBackoff
	}
	for i := 1; i < attempt && ceiling < maxRetryBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxRetryBackoff)
	if a.RetryRand == nil {
		return rand.N(ceiling)
	}
	a.randMu.Lock()
	defer a.randMu.Unlock()
	return time.Duration(rand.New(a.RetryRand).Int64N(int64(ceiling)))
}
