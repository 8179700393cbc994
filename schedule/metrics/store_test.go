package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestStoreErrors: each failed store operation counts under its own op,
// every known op is exported at 0 from the start, /healthz names the
// operations failing now (and stays 200: the daemon is alive and
// polling), and a success clears the failure but not the count.
func TestStoreErrors(t *testing.T) {
	m := New("begin_run", "save_poll", "finish_run")
	h := m.Handler(nil)
	fams := scrape(t, h)
	for _, op := range []string{"begin_run", "save_poll", "finish_run"} {
		if v, ok := value(fams, "mastership_store_errors_total", "op", op); !ok || v != 0 {
			t.Errorf("store_errors_total{op=%s} = %v, %v before any error; want 0, present", op, v, ok)
		}
	}
	t0 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	full := errors.New("save poll of r1: database or disk is full (13)\nsecond line")
	m.StoreOp("save_poll", full, t0)
	m.StoreOp("save_poll", full, t0.Add(time.Minute))
	m.StoreOp("begin_run", nil, t0)

	fams = scrape(t, h)
	if v, _ := value(fams, "mastership_store_errors_total", "op", "save_poll"); v != 2 {
		t.Errorf("store_errors_total{op=save_poll} = %v, want 2", v)
	}
	if v, _ := value(fams, "mastership_store_errors_total", "op", "begin_run"); v != 0 {
		t.Errorf("store_errors_total{op=begin_run} = %v, want 0 after a success", v)
	}
	code, body := get(t, h, "/healthz")
	want := "ok\nstore degraded: store operation save_poll failing since 2026-12-08T01:00:00Z (2 errors): save poll of r1: database or disk is full (13)\n"
	if code != 200 || body != want {
		t.Errorf("/healthz = %d %q, want 200 %q", code, body, want)
	}

	m.StoreOp("save_poll", nil, t0.Add(2*time.Minute))
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz after a successful save = %d %q, want 200 ok", code, body)
	}
	if v, _ := value(scrape(t, h), "mastership_store_errors_total", "op", "save_poll"); v != 2 {
		t.Errorf("store_errors_total{op=save_poll} = %v after the recovery, want still 2 (a counter)", v)
	}
}

func TestStoreErrorTextBounded(t *testing.T) {
	m := New()
	m.StoreOp("prune", errors.New(strings.Repeat("x", 5000)), time.Unix(0, 0))
	f := m.StoreFailures()
	if len(f) != 1 || len(f[0].Last) > maxErrorText+len("…") {
		t.Fatalf("failures = %+v, want one with its message cut to %d bytes", f, maxErrorText)
	}
}

func TestBuildInfo(t *testing.T) {
	m := New()
	m.SetBuildInfo(BuildInfo{Version: "v1.2.3", Revision: "abc123", Modified: "false"})
	m.SetBuildInfo(BuildInfo{Version: "(devel)"}) // replaces the first
	fams := scrape(t, m.Handler(nil))
	if v, ok := value(fams, "mastership_build_info", "version", "(devel)", "revision", "unknown", "modified", "unknown"); !ok || v != 1 {
		t.Errorf("build_info for a build without VCS data = %v, %v; want 1 with unknown labels", v, ok)
	}
	if n := len(fams["mastership_build_info"].GetMetric()); n != 1 {
		t.Errorf("%d build_info series, want 1", n)
	}
}
