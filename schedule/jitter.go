package schedule

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"time"
)

// SpreadOffset is how long after an audit starts the device called name
// starts its poll: a deterministic point in [0, spread) from the FNV-64a
// hash of the name, so a fleet's polls (and their logins on the AAA
// servers) are spread evenly and each device is polled at the same point
// of every run. Zero when spread <= 0.
func SpreadOffset(name string, spread time.Duration) time.Duration {
	if spread <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(spread))
}

// startOrder returns the indexes of devs in the order their polls are due
// (inventory order when there is no spread) and each one's offset.
func (a *Auditor) startOrder(names []string) ([]int, []time.Duration) {
	order := make([]int, len(names))
	offsets := make([]time.Duration, len(names))
	for i, n := range names {
		order[i] = i
		offsets[i] = SpreadOffset(n, a.Spread)
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(offsets[x], offsets[y]) })
	return order, offsets
}

// waitUntil waits for the wall clock to reach t, or ctx; it reports
// whether t was reached.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
