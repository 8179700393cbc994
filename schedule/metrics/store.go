package metrics

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeHealth is what the metrics know of the store: errors counted by
// operation, and which operations are failing now. An operation is
// failing from its first error after a success until its next success,
// so /healthz can say "save_poll failing since …" while the daemon keeps
// polling.
type storeHealth struct {
	errors *prometheus.CounterVec

	mu      sync.Mutex
	failing map[string]*StoreFailure
}

// StoreFailure is one store operation that is failing.
type StoreFailure struct {
	Op     string    // e.g. "save_poll"
	Since  time.Time // the first error since the last success
	Errors int       // errors since then
	Last   string    // the last error's message, first line
}

func (f StoreFailure) String() string {
	return fmt.Sprintf("store operation %s failing since %s (%d errors): %s",
		f.Op, f.Since.UTC().Format(time.RFC3339), f.Errors, f.Last)
}

func newStoreHealth(ops []string) *storeHealth {
	h := &storeHealth{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "store_errors_total",
			Help:      "Store operations that failed, by operation (begin_run, claim, save_poll, judge, finish_run, prune, recover_runs).",
		}, []string{"op"}),
		failing: map[string]*StoreFailure{},
	}
	// Every known operation is exported from the start, at 0, so that
	// rate() and increase() see the first error.
	for _, op := range ops {
		h.errors.WithLabelValues(op)
	}
	return h
}

// maxErrorText bounds the error message kept for /healthz.
const maxErrorText = 300

// StoreOp records the result of one store operation at time at: an error
// counts in mastership_store_errors_total{op} and marks op failing, a
// success (err nil) clears it. Messages are the store's own, which never
// hold a DSN's password.
func (m *Metrics) StoreOp(op string, err error, at time.Time) {
	h := m.store
	if err != nil {
		h.errors.WithLabelValues(op).Inc()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.failing, op)
		return
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText] + "…"
	}
	f := h.failing[op]
	if f == nil {
		f = &StoreFailure{Op: op, Since: at}
		h.failing[op] = f
	}
	f.Errors++
	f.Last = msg
}

// StoreFailures are the store operations failing now, by name.
func (m *Metrics) StoreFailures() []StoreFailure {
	h := m.store
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]StoreFailure, 0, len(h.failing))
	for _, f := range h.failing {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b StoreFailure) int { return strings.Compare(a.Op, b.Op) })
	return out
}
