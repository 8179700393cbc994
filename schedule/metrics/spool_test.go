package metrics

import (
	"strings"
	"sync"
	"testing"
)

// The spool's state on /readyz, /healthz and /metrics: ready while the
// spool takes polls, whatever the store does; not ready once it is full.
func TestSpoolStateOnEndpoints(t *testing.T) {
	m := New()
	var mu sync.Mutex
	state := SpoolState{MaxBytes: 256 << 20}
	m.WatchSpool(func() SpoolState { mu.Lock(); defer mu.Unlock(); return state })
	set := func(s SpoolState) { mu.Lock(); state = s; mu.Unlock() }
	h := m.Handler(func() bool { return true })

	if code, body := get(t, h, "/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz with an empty spool = %d %q, want 200 ok", code, body)
	}
	set(SpoolState{PollsWaiting: 42, Bytes: 1 << 20, MaxBytes: 256 << 20, StoreError: "begin run: connection refused"})
	if code, _ := get(t, h, "/readyz"); code != 200 {
		t.Errorf("/readyz with the store down and the spool taking polls = %d, want 200", code)
	}
	if _, body := get(t, h, "/healthz"); !strings.Contains(body, "store degraded, 42 polls waiting: begin run: connection refused") {
		t.Errorf("/healthz = %q, want the polls waiting and the store's error", body)
	}
	_, body := get(t, h, "/metrics")
	for _, want := range []string{"mastership_store_degraded 1", "mastership_spool_polls_waiting 42", "mastership_spool_full 0", "mastership_spool_max_bytes 2.68435456e+08"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	set(SpoolState{PollsWaiting: 900, Full: true, DroppedLogs: 7, StoreError: "database or disk is full"})
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, SpoolFullMessage) {
		t.Errorf("/readyz with the spool full = %d %q, want 503", code, body)
	}
	if _, body := get(t, h, "/metrics"); !strings.Contains(body, "mastership_spool_log_records_dropped_total 7\n") || !strings.Contains(body, "mastership_spool_full 1\n") {
		t.Errorf("/metrics with the spool full lacks the dropped count or the full flag")
	}
}
