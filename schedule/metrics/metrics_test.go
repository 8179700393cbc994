package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func okPoll(name, site string, alive, expected int, alarms ...devices.Alarm) devices.Poll {
	var res []devices.RouteEngine
	for i := range alive {
		state := "backup"
		if i == 0 {
			state = "master"
		}
		res = append(res, devices.RouteEngine{Name: "re" + string(rune('0'+i)), MastershipState: state, Status: "OK"})
	}
	// One RE out of the alive set, to check it is not counted.
	res = append(res, devices.RouteEngine{Name: "re9", Status: "Failed"})
	return devices.Poll{
		Device: name, Site: site, Started: t0, Finished: t0.Add(1500 * time.Millisecond),
		Outcome: devices.OutcomeOK, ExpectedREs: expected,
		Snapshot: &devices.Snapshot{Device: name, RouteEngines: res, Alarms: alarms, AlarmsRead: true},
	}
}

func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of family name with exactly the
// labels given (as name, value pairs); ok false when absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// seriesOf counts the series of every family that carry device=name.
func seriesOf(fams map[string]*dto.MetricFamily, name string) int {
	n := 0
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "device" && l.GetValue() == name {
					n++
				}
			}
		}
	}
	return n
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: absent, want %v", name, labels, v)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func absent(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) {
	t.Helper()
	if got, ok := value(fams, name, labels...); ok {
		t.Errorf("%s%v = %v, want absent", name, labels, got)
	}
}

func TestObserveAudit(t *testing.T) {
	m := New()
	h := m.Handler(nil)

	major := devices.Alarm{Source: devices.AlarmChassis, Class: "Major", Description: "PEM 0 Not OK", Time: t0}
	minor := devices.Alarm{Source: devices.AlarmSystem, Class: "Minor", Description: "Rescue configuration is not set", Time: t0}
	majorAgain := major
	majorAgain.Source = devices.AlarmSystem // same alarm in the system table: counted once

	a := okPoll("r1", "par", 2, 2, major, majorAgain, minor)
	b := okPoll("r2", "lon", 1, 2)
	c := devices.Poll{Device: "r3", Site: "lon", Started: t0, Finished: t0.Add(30 * time.Second),
		Outcome: devices.OutcomeTimeout, ErrorKind: "timeout", Error: "dial: i/o timeout", ExpectedREs: 2}
	run := devices.Run{ID: 1, Started: t0, Finished: t0.Add(42 * time.Second), Devices: 4, OK: 2, Failed: 1}
	findings := map[string][]devices.Finding{
		"r1": {{Device: "r1", RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical},
			{Device: "r1", RE: "re0", Cause: devices.CauseHardware, Severity: devices.SeverityWarning}},
		"r2": {{Device: "r2", RE: "re1", Cause: "brand-new-cause"}},
	}
	m.ObserveAudit(run, []devices.Poll{a, b, c, {}}, findings)

	f := scrape(t, h)
	for _, o := range outcomes {
		v := 0.0
		if o == devices.OutcomeOK {
			v = 1
		}
		want(t, f, v, "mastership_poll_outcome", "device", "r1", "site", "par", "outcome", string(o))
	}
	want(t, f, 1, "mastership_poll_outcome", "device", "r3", "site", "lon", "outcome", "timeout")
	want(t, f, 0, "mastership_poll_outcome", "device", "r3", "site", "lon", "outcome", "ok")
	if n := len(f["mastership_poll_outcome"].GetMetric()); n != 3*len(outcomes) {
		t.Errorf("poll_outcome has %d series, want %d", n, 3*len(outcomes))
	}

	want(t, f, 2, "mastership_alive_res", "device", "r1", "site", "par")
	want(t, f, 1, "mastership_alive_res", "device", "r2", "site", "lon")
	want(t, f, 2, "mastership_expected_res", "device", "r2", "site", "lon")
	want(t, f, 1, "mastership_alarms_active", "device", "r1", "site", "par", "class", "major")
	want(t, f, 1, "mastership_alarms_active", "device", "r1", "site", "par", "class", "minor")
	want(t, f, 0, "mastership_alarms_active", "device", "r2", "site", "lon", "class", "major")
	want(t, f, 1.5, "mastership_poll_last_duration_seconds", "device", "r1", "site", "par")
	want(t, f, 30, "mastership_poll_last_duration_seconds", "device", "r3", "site", "lon")
	want(t, f, float64(t0.Add(1500*time.Millisecond).UnixNano())/1e9,
		"mastership_last_success_timestamp_seconds", "device", "r1", "site", "par")

	// Every cause word, 0 when none; an unknown word folds into unknown.
	want(t, f, 2, "mastership_findings_open", "device", "r1", "site", "par", "cause", "hardware")
	for _, cause := range []string{"network", "software", "configuration", "unknown"} {
		want(t, f, 0, "mastership_findings_open", "device", "r1", "site", "par", "cause", cause)
	}
	want(t, f, 1, "mastership_findings_open", "device", "r2", "site", "lon", "cause", "unknown")
	want(t, f, 0, "mastership_findings_open", "device", "r3", "site", "lon", "cause", "hardware")
	// The critical ones among them, by cause, for the alert that pages.
	want(t, f, 1, "mastership_findings_critical", "device", "r1", "site", "par", "cause", "hardware")
	want(t, f, 0, "mastership_findings_critical", "device", "r1", "site", "par", "cause", "network")
	want(t, f, 0, "mastership_findings_critical", "device", "r2", "site", "lon", "cause", "unknown")

	// The failed poll: outcome and duration, but nothing that looks healthy.
	for _, name := range []string{"mastership_alive_res", "mastership_expected_res", "mastership_last_success_timestamp_seconds"} {
		absent(t, f, name, "device", "r3", "site", "lon")
	}
	absent(t, f, "mastership_alarms_active", "device", "r3", "site", "lon", "class", "major")

	// The run.
	want(t, f, 42, "mastership_audit_last_duration_seconds")
	want(t, f, 1, "mastership_audit_duration_seconds")
	want(t, f, 2, "mastership_audit_devices", "result", "ok")
	want(t, f, 1, "mastership_audit_devices", "result", "failed")
	want(t, f, 1, "mastership_audits_total")
	want(t, f, 0, "mastership_audits_interrupted_total")
	want(t, f, 0, "mastership_audits_skipped_total")
	want(t, f, 2, "mastership_poll_duration_seconds", "outcome", "ok")
	want(t, f, 1, "mastership_poll_duration_seconds", "outcome", "timeout")
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if f[name] == nil {
			t.Errorf("%s missing: Go/process collectors not registered", name)
		}
	}
	if seriesOf(f, "") != 0 {
		t.Error("the zero poll produced series")
	}

	// Second run: r1 fails, r2 moves site, r3 is removed from the inventory.
	fail := devices.Poll{Device: "r1", Site: "par", Started: t0.Add(time.Minute), Finished: t0.Add(time.Minute + time.Second),
		Outcome: devices.OutcomeAuth, ErrorKind: "auth", Error: "permission denied", ExpectedREs: 2}
	b2 := okPoll("r2", "ams", 2, 2)
	m.AuditSkipped()
	m.ObserveAudit(devices.Run{ID: 2, Started: t0.Add(time.Minute), Finished: t0.Add(2 * time.Minute), Devices: 2, OK: 1, Failed: 1, Interrupted: true},
		[]devices.Poll{fail, b2}, nil)
	m.Forget([]string{"r1", "r2"})

	f = scrape(t, h)
	want(t, f, 1, "mastership_poll_outcome", "device", "r1", "site", "par", "outcome", "auth")
	want(t, f, 0, "mastership_poll_outcome", "device", "r1", "site", "par", "outcome", "ok")
	// Keeps its last success time, loses what only a snapshot can say.
	want(t, f, float64(t0.Add(1500*time.Millisecond).UnixNano())/1e9,
		"mastership_last_success_timestamp_seconds", "device", "r1", "site", "par")
	absent(t, f, "mastership_alive_res", "device", "r1", "site", "par")
	absent(t, f, "mastership_expected_res", "device", "r1", "site", "par")
	absent(t, f, "mastership_alarms_active", "device", "r1", "site", "par", "class", "major")
	// No findings judged this run: no findings series.
	absent(t, f, "mastership_findings_open", "device", "r1", "site", "par", "cause", "hardware")
	// r2 moved: no series left under the old site.
	want(t, f, 2, "mastership_alive_res", "device", "r2", "site", "ams")
	absent(t, f, "mastership_alive_res", "device", "r2", "site", "lon")
	absent(t, f, "mastership_poll_outcome", "device", "r2", "site", "lon", "outcome", "ok")
	// r3 is gone from every family.
	if n := seriesOf(f, "r3"); n != 0 {
		t.Errorf("removed device r3 still has %d series", n)
	}
	want(t, f, 2, "mastership_audits_total")
	want(t, f, 1, "mastership_audits_interrupted_total")
	want(t, f, 1, "mastership_audits_skipped_total")
	want(t, f, 2, "mastership_audit_duration_seconds")
	want(t, f, 60, "mastership_audit_last_duration_seconds")
	want(t, f, 1, "mastership_audit_devices", "result", "failed")
}

func TestPartialPollWithoutRETableOrAlarms(t *testing.T) {
	m := New()
	p := okPoll("r1", "par", 2, 2)
	p.Outcome = devices.OutcomePartial
	p.Snapshot.RouteEngines = nil // get-route-engine-information failed
	p.Snapshot.AlarmsRead = false // and one alarm table was not read
	m.ObserveAudit(devices.Run{Started: t0, Finished: t0.Add(time.Second), Devices: 1, OK: 1}, []devices.Poll{p}, nil)
	f := scrape(t, m.Handler(nil))
	want(t, f, 1, "mastership_poll_outcome", "device", "r1", "site", "par", "outcome", "partial")
	want(t, f, 2, "mastership_expected_res", "device", "r1", "site", "par")
	absent(t, f, "mastership_alive_res", "device", "r1", "site", "par")
	absent(t, f, "mastership_alarms_active", "device", "r1", "site", "par", "class", "major")
	absent(t, f, "mastership_alarms_active", "device", "r1", "site", "par", "class", "minor")
}

func TestInstancesAreIndependent(t *testing.T) {
	a, b := New(), New()
	a.ObserveAudit(devices.Run{Started: t0, Finished: t0}, []devices.Poll{okPoll("r1", "", 1, 1)}, nil)
	f := scrape(t, b.Handler(nil))
	if seriesOf(f, "r1") != 0 {
		t.Error("a second Metrics sees the first one's devices")
	}
	want(t, f, 0, "mastership_audits_total")
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestHandlerPaths(t *testing.T) {
	m := New()
	h := m.Handler(nil)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, NotReadyMessage) {
		t.Errorf("/readyz before an audit = %d %q", code, body)
	}
	m.ObserveAudit(devices.Run{Started: t0, Finished: t0.Add(time.Second)}, nil, nil)
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz after an audit = %d %q", code, body)
	}
	for _, p := range []string{"/", "/metricsx", "/healthz/x", "/debug/pprof/"} {
		if code, _ := get(t, h, p); code != 404 {
			t.Errorf("%s = %d, want 404", p, code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", rec.Code)
	}

	// An explicit ready func wins over the default.
	ready := false
	h2 := New().Handler(func() bool { return ready })
	if code, _ := get(t, h2, "/readyz"); code != 503 {
		t.Errorf("/readyz with ready()=false = %d", code)
	}
	ready = true
	if code, _ := get(t, h2, "/readyz"); code != 200 {
		t.Errorf("/readyz with ready()=true = %d", code)
	}
}

// TestConcurrentScrapes runs audits, Forget and scrapes together for the
// race detector, and checks every scrape sees exactly one outcome at 1
// per device.
func TestConcurrentScrapes(t *testing.T) {
	m := New()
	h := m.Handler(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			p := okPoll("r1", "par", 2, 2)
			if i%2 == 1 {
				p = devices.Poll{Device: "r1", Site: "par", Outcome: devices.OutcomeRefused}
			}
			m.ObserveAudit(devices.Run{Started: t0, Finished: t0.Add(time.Second), OK: 1}, []devices.Poll{p, okPoll("r2", "x", 1, 1)}, nil)
			m.AuditSkipped()
			m.Forget([]string{"r1"})
		}
	}()
	for range 50 {
		f := scrape(t, h)
		ones := 0
		for _, mm := range f["mastership_poll_outcome"].GetMetric() {
			ones += int(mm.GetGauge().GetValue())
		}
		if ones > 2 { // r1 and, between an audit and a Forget, r2
			t.Fatalf("%d outcomes at 1", ones)
		}
	}
	cancel()
	<-done
}

func TestListenRefusesAllInterfaces(t *testing.T) {
	ctx := t.Context()
	for _, addr := range []string{":9728", "0.0.0.0:9728", "[::]:9728", "[::ffff:0.0.0.0]:9728", ":0"} {
		_, _, err := Listen(ctx, ListenConfig{Addr: addr}, http.NotFoundHandler(), nil)
		if !errors.Is(err, ErrAllInterfaces) {
			t.Errorf("Listen(%q) = %v, want ErrAllInterfaces", addr, err)
		}
	}
	if _, _, err := Listen(ctx, ListenConfig{Addr: "127.0.0.1"}, http.NotFoundHandler(), nil); err == nil {
		t.Error("Listen without a port succeeded")
	}
	for _, addr := range []string{"127.0.0.1:9728", "[::1]:9728", "localhost:9728", "192.0.2.1:9728"} {
		if all, err := bindsAllInterfaces(addr); err != nil || all {
			t.Errorf("bindsAllInterfaces(%q) = %v, %v", addr, all, err)
		}
	}
}

func TestListenAllowAllInterfaces(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, errc, err := Listen(ctx, ListenConfig{Addr: "0.0.0.0:0", AllowAllInterfaces: true}, New().Handler(nil), nil)
	if err != nil {
		t.Skipf("cannot bind 0.0.0.0 here: %v", err)
	}
	if addr == nil {
		t.Fatal("no address")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestListenServesAndStops(t *testing.T) {
	m := New()
	m.ObserveAudit(devices.Run{Started: t0, Finished: t0.Add(time.Second), OK: 1}, []devices.Poll{okPoll("r1", "par", 2, 2)}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, errc, err := Listen(ctx, ListenConfig{Addr: "127.0.0.1:0"}, m.Handler(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics over loopback: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	want(t, fams, 2, "mastership_alive_res", "device", "r1", "site", "par")
	resp, err = client.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/readyz = %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("server error after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after ctx was cancelled")
	}
	if _, ok := <-errc; ok {
		t.Error("error channel not closed")
	}
	client.CloseIdleConnections()
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after ctx was cancelled")
	}
}

// TestListenTLS: with ListenConfig.TLS the server speaks HTTPS only,
// with the given certificate, and refuses TLS below 1.2 even when the
// caller's config would allow it. The certificate is the one
// net/http/httptest serves (SANs 127.0.0.1, ::1), so its client trusts it.
func TestListenTLS(t *testing.T) {
	ref := httptest.NewUnstartedServer(http.NotFoundHandler())
	ref.StartTLS()
	defer ref.Close()
	client := ref.Client()
	client.Timeout = 10 * time.Second

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := &tls.Config{Certificates: ref.TLS.Certificates, MinVersion: tls.VersionTLS10}
	addr, errc, err := Listen(ctx, ListenConfig{Addr: "127.0.0.1:0", TLS: cfg}, New().Handler(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS10 {
		t.Error("Listen changed the caller's tls.Config")
	}
	resp, err := client.Get("https://" + addr.String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("GET /healthz over TLS: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	// Plain HTTP on the TLS port gets Go's 400, never the endpoint.
	resp, err = (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr.String() + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d, want 400", resp.StatusCode)
		}
	}
	old := client.Transport.(*http.Transport).TLSClientConfig.Clone()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	conn, err := tls.Dial("tcp", addr.String(), old)
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 client completed the handshake")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestListenBusyAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr, errc, err := Listen(ctx, ListenConfig{Addr: "127.0.0.1:0"}, http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Listen(ctx, ListenConfig{Addr: addr.String()}, http.NotFoundHandler(), nil); err == nil {
		t.Error("second Listen on a busy address succeeded")
	}
	cancel()
	<-errc
}

// TestMaintenanceMetrics: findings in maintenance are left out of
// mastership_findings_open, and mastership_maintenance says which
// devices are in a window, kept across audits until observed again.
func TestMaintenanceMetrics(t *testing.T) {
	m := New()
	h := m.Handler(nil)
	run := devices.Run{ID: 1, Started: t0, Finished: t0.Add(time.Second), Devices: 2, OK: 2}
	findings := map[string][]devices.Finding{
		"r1": {{Device: "r1", RE: "re1", Cause: devices.CauseHardware, Maintenance: true},
			{Device: "r1", RE: "re0", Cause: devices.CauseHardware}},
	}
	polls := []devices.Poll{okPoll("r1", "par", 2, 2), okPoll("r2", "par", 2, 2)}
	m.ObserveAudit(run, polls, findings)
	f := scrape(t, h)
	want(t, f, 1, "mastership_findings_open", "device", "r1", "site", "par", "cause", "hardware")
	absent(t, f, "mastership_maintenance", "device", "r1", "site", "par") // not observed yet

	m.ObserveMaintenance(map[string]bool{"r1": true, "r2": false, "gone": true})
	f = scrape(t, h)
	want(t, f, 1, "mastership_maintenance", "device", "r1", "site", "par")
	want(t, f, 0, "mastership_maintenance", "device", "r2", "site", "par")
	if n := seriesOf(f, "gone"); n != 0 {
		t.Errorf("a device never polled has %d series", n)
	}
	m.ObserveAudit(run, polls, findings)
	want(t, scrape(t, h), 1, "mastership_maintenance", "device", "r1", "site", "par")
}

func TestSwitchoversTotal(t *testing.T) {
	m := New()
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	planned := devices.Switchover{Device: "mx1", Time: at, OldMaster: "re0", NewMaster: "re1", Planned: true}
	crash := devices.Switchover{Device: "mx1", Time: at.Add(time.Hour), OldMaster: "re1", NewMaster: "re0"}
	// count reads the counter through the registry, as a scrape would.
	series := func() map[string]float64 {
		t.Helper()
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "mastership_switchovers_total" {
				continue
			}
			for _, mt := range mf.GetMetric() {
				var key []string
				for _, l := range mt.GetLabel() {
					key = append(key, l.GetName()+"="+l.GetValue())
				}
				out[strings.Join(key, ",")] = mt.GetCounter().GetValue()
			}
		}
		return out
	}
	count := func(planned string) float64 {
		t.Helper()
		return series()["device=mx1,planned="+planned+",site=ams1"]
	}
	// The first ledger is the baseline.
	m.ObserveSwitchovers("mx1", "ams1", []devices.Switchover{planned})
	if n := count("true"); n != 0 {
		t.Fatalf("baseline counted: %v", n)
	}
	// A new switchover counts once; seeing it again, or with its time
	// moved a little by a more precise source, does not.
	m.ObserveSwitchovers("mx1", "ams1", []devices.Switchover{planned, crash})
	moved := crash
	moved.Time = crash.Time.Add(-40 * time.Second)
	m.ObserveSwitchovers("mx1", "ams1", []devices.Switchover{planned, moved})
	if p, u := count("true"), count("false"); p != 0 || u != 1 {
		t.Fatalf("planned %v, unplanned %v; want 0 and 1", p, u)
	}
	back := devices.Switchover{Device: "mx1", Time: at.Add(2 * time.Hour), OldMaster: "re0", NewMaster: "re1", Planned: true}
	m.ObserveSwitchovers("mx1", "ams1", []devices.Switchover{planned, moved, back})
	if p := count("true"); p != 1 {
		t.Fatalf("planned %v, want 1", p)
	}
	m.Forget(nil)
	if n := len(series()); n != 0 {
		t.Errorf("%d switchover series left after Forget", n)
	}
}

// TestSwitchoverReady: 1 ready, 0 not ready with one reason series per
// failed condition, absent when unknown or not applicable, and gone when
// the device leaves the inventory.
func TestSwitchoverReady(t *testing.T) {
	m := New()
	h := m.Handler(nil)
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	m.ObserveReadiness("mx1", "ams1", readiness.Verdict{Verdict: readiness.NotReady, CheckedAt: at, Reasons: []readiness.Reason{
		{Code: readiness.CodeReleaseMismatch, Text: "backup runs 21.4R3-S5.4, master 22.2R3.15"},
		{Code: readiness.CodeNSROff, Text: "nonstop-routing is not configured"}}})
	m.ObserveReadiness("mx2", "ams1", readiness.Verdict{Verdict: readiness.Ready, CheckedAt: at})
	m.ObserveReadiness("mx3", "ams1", readiness.Verdict{Verdict: readiness.Unknown, CheckedAt: at})
	m.ObserveReadiness("mx204", "ams1", readiness.Verdict{Verdict: readiness.NotApplicable, CheckedAt: at})
	f := scrape(t, h)
	want(t, f, 0, "mastership_switchover_ready", "device", "mx1", "site", "ams1")
	want(t, f, 1, "mastership_switchover_ready", "device", "mx2", "site", "ams1")
	absent(t, f, "mastership_switchover_ready", "device", "mx3", "site", "ams1")
	absent(t, f, "mastership_switchover_ready", "device", "mx204", "site", "ams1")
	want(t, f, 1, "mastership_switchover_ready_reason", "device", "mx1", "site", "ams1", "reason", "release-mismatch")
	want(t, f, 1, "mastership_switchover_ready_reason", "device", "mx1", "site", "ams1", "reason", "nsr-off")
	if n := len(f["mastership_switchover_ready_reason"].GetMetric()); n != 2 {
		t.Errorf("%d reason series, want 2", n)
	}
	// Fixed: the reasons go; a device that left the inventory goes.
	m.ObserveReadiness("mx1", "ams1", readiness.Verdict{Verdict: readiness.Ready, CheckedAt: at.Add(time.Hour)})
	m.Forget([]string{"mx1"})
	f = scrape(t, h)
	want(t, f, 1, "mastership_switchover_ready", "device", "mx1", "site", "ams1")
	if n := len(f["mastership_switchover_ready"].GetMetric()); n != 1 {
		t.Errorf("%d ready series after Forget, want 1", n)
	}
	if n := len(f["mastership_switchover_ready_reason"].GetMetric()); n != 0 {
		t.Errorf("%d reason series once ready, want 0", n)
	}
}
