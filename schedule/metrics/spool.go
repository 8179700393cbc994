package metrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// SpoolState is what the daemon's spool holds (issue 19): the polls
// waiting for the store, and whether the store takes them.
type SpoolState struct {
	PollsWaiting int
	Bytes        int64
	MaxBytes     int64
	// Full: the spool refused a record; /readyz fails until it takes
	// one again.
	Full bool
	// DroppedLogs counts the log-line records dropped (oldest first, so
	// that no poll is) since the daemon started.
	DroppedLogs int64
	// StoreError is the store's last error while flushing; empty while
	// the store takes the spool's records.
	StoreError string
}

// spoolWatch is the source of the spool gauges, set once by WatchSpool.
type spoolWatch struct {
	mu    sync.Mutex
	state func() SpoolState
}

func (w *spoolWatch) get() (SpoolState, bool) {
	w.mu.Lock()
	f := w.state
	w.mu.Unlock()
	if f == nil {
		return SpoolState{}, false
	}
	return f(), true
}

// WatchSpool exports the spool's state, read from state at each scrape
// and each /healthz and /readyz request:
//
//	mastership_spool_polls_waiting, mastership_spool_bytes,
//	mastership_spool_max_bytes, mastership_spool_full,
//	mastership_spool_log_records_dropped_total, mastership_store_degraded.
func (m *Metrics) WatchSpool(state func() SpoolState) {
	m.spool.mu.Lock()
	first := m.spool.state == nil
	m.spool.state = state
	m.spool.mu.Unlock()
	if !first {
		return
	}
	get := func(f func(SpoolState) float64) func() float64 {
		return func() float64 {
			s, _ := m.spool.get()
			return f(s)
		}
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "spool_polls_waiting",
			Help: "Polls in the local spool that the store has not taken yet."},
			get(func(s SpoolState) float64 { return float64(s.PollsWaiting) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "spool_bytes",
			Help: "Bytes the local spool uses on disk."},
			get(func(s SpoolState) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "spool_max_bytes",
			Help: "The spool's bound (--spool-max)."},
			get(func(s SpoolState) float64 { return float64(s.MaxBytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "spool_full",
			Help: "1 when the spool refused a record for lack of room (polls are being lost), else 0."},
			get(func(s SpoolState) float64 { return b(s.Full) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "spool_log_records_dropped_total",
			Help: "Log-line records (one poll's lines each) dropped from the full spool, oldest first, so that no poll was."},
			get(func(s SpoolState) float64 { return float64(s.DroppedLogs) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "store_degraded",
			Help: "1 while the store does not take the spool's records (polls wait in the spool), else 0."},
			get(func(s SpoolState) float64 { return b(s.StoreError != "") })),
	)
}

// spoolHealth is the /healthz line about the spool, "" when all is well.
func (m *Metrics) spoolHealth() string {
	s, ok := m.spool.get()
	if !ok {
		return ""
	}
	switch {
	case s.Full:
		return fmt.Sprintf("store degraded, spool full: %d polls waiting, new polls are being lost (%s)", s.PollsWaiting, s.StoreError)
	case s.StoreError != "":
		return fmt.Sprintf("store degraded, %d polls waiting: %s", s.PollsWaiting, s.StoreError)
	case s.PollsWaiting > 0:
		return fmt.Sprintf("%d polls waiting in the spool", s.PollsWaiting)
	}
	return ""
}

// SpoolFullMessage is the body of /readyz while the spool is full.
const SpoolFullMessage = "not ready: the spool is full and refuses polls"
