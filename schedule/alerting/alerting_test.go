package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

func poll(name string, alive, expected int) devices.Poll {
	s := &devices.Snapshot{}
	for i := 0; i < expected; i++ {
		st := "Present"
		if i < alive {
			st = "OK"
		}
		s.RouteEngines = append(s.RouteEngines, devices.RouteEngine{Name: fmt.Sprintf("re%d", i), Status: st})
	}
	return devices.Poll{Device: name, Site: "ams1", Outcome: devices.OutcomeOK, ExpectedREs: expected, Snapshot: s}
}

func names(as []Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Labels["alertname"]+"/"+a.Labels["device"]+"/"+a.Labels["cause"]+"/"+a.Labels["severity"])
	}
	return out
}

func TestDesired(t *testing.T) {
	crit := devices.Finding{RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical, Remedy: "replace the RE", Evidence: []string{"a", "b"}}
	warn := devices.Finding{RE: "re1", Cause: devices.CauseNetwork, Severity: devices.SeverityWarning, Remedy: "check em0"}
	quiet := devices.Finding{RE: "re1", Cause: devices.CauseSoftware, Severity: devices.SeverityCritical, Maintenance: true}
	failed := devices.Poll{Device: "r4", Site: "ams1", Outcome: devices.OutcomeTimeout}
	tests := []struct {
		name   string
		audit  Audit
		want   []string
		polled Polled
	}{
		{"healthy", Audit{Polls: []devices.Poll{poll("r1", 2, 2)}}, nil, Polled{"r1": true}},
		{"alive set short", Audit{Polls: []devices.Poll{poll("r1", 1, 2)}},
			[]string{"MastershipAliveSetShort/r1//critical"}, Polled{"r1": true}},
		{"short but in maintenance", Audit{Polls: []devices.Poll{poll("r1", 1, 2)}, InMaintenance: map[string]bool{"r1": true}}, nil, Polled{"r1": true}},
		{"findings by cause; maintenance left out", Audit{Polls: []devices.Poll{poll("r2", 2, 2)},
			Findings: map[string][]devices.Finding{"r2": {warn, crit, quiet, warn}}},
			[]string{"MastershipFindingCritical/r2/hardware/critical", "MastershipFindingOpen/r2/network/warning"}, Polled{"r2": true}},
		{"not ready for a switchover; ready and unknown are not alerted", Audit{Polls: []devices.Poll{poll("r5", 2, 2), poll("r6", 2, 2), poll("r7", 2, 2)},
			Readiness: map[string]readiness.Verdict{
				"r5": {Verdict: readiness.NotReady, Reasons: []readiness.Reason{{Code: readiness.CodeBackupDown, Text: "re1 is down"}}},
				"r6": {Verdict: readiness.Ready}, "r7": {Verdict: readiness.Unknown}}},
			[]string{"MastershipSwitchoverNotReady/r5//warning"}, Polled{"r5": true, "r6": true, "r7": true}},
		{"failed poll: findings still, no alive set", Audit{Polls: []devices.Poll{failed, {}},
			Findings: map[string][]devices.Finding{"r4": {warn}}},
			[]string{"MastershipFindingOpen/r4/network/warning"}, Polled{"r4": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, polled := Desired(tt.audit)
			if g, w := strings.Join(names(got), " "), strings.Join(tt.want, " "); g != w {
				t.Errorf("alerts\n got %s\nwant %s", g, w)
			}
			if len(polled) != len(tt.polled) {
				t.Errorf("polled = %v, want %v", polled, tt.polled)
			}
			for k, v := range tt.polled {
				if r, ok := polled[k]; !ok || r != v {
					t.Errorf("polled = %v, want %v", polled, tt.polled)
				}
			}
		})
	}
}

func TestDesiredAnnotations(t *testing.T) {
	var ev []string
	for i := 0; i < 8; i++ {
		ev = append(ev, strings.Repeat("x", 300)+string(rune('a'+i)))
	}
	f := devices.Finding{RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical, Remedy: "replace the RE", Evidence: ev}
	got, _ := Desired(Audit{Polls: []devices.Poll{poll("r1", 2, 2)}, Findings: map[string][]devices.Finding{"r1": {f}}, GeneratorURL: "http://127.0.0.1:9728/"})
	if len(got) != 1 {
		t.Fatalf("alerts = %v", names(got))
	}
	a := got[0].Annotations
	if a["remedy"] != "replace the RE" || !strings.Contains(a["summary"], "r1: Routing Engines flapping (hardware)") {
		t.Errorf("annotations = %q", a)
	}
	lines := strings.Split(a["evidence"], "\n")
	if len(lines) != 1+maxEvidenceLines || lines[0] != "(3 earlier line(s) left out)" || len([]rune(lines[1])) != maxEvidenceLine+1 {
		t.Errorf("evidence cut wrong: %d lines, first %q", len(lines), lines[0])
	}
	if got[0].GeneratorURL != "http://127.0.0.1:9728/" {
		t.Errorf("generatorURL = %q", got[0].GeneratorURL)
	}
}

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	resend := time.Minute
	short := func(dev string) Alert {
		return Alert{Labels: map[string]string{"alertname": NameAliveSetShort, "device": dev, "site": "ams1", "severity": "critical"}}
	}
	type step struct {
		desired []Alert
		polled  Polled
		at      time.Duration
		want    []string // device:startsAt offset:endsAt offset, in key order
	}
	stamp := func(a Alert) string {
		return a.Labels["device"] + ":" + a.StartsAt.Sub(t0).String() + ":" + a.EndsAt.Sub(t0).String()
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fires, stays with its first startsAt, resolves at the clearing time", []step{
			{[]Alert{short("r1")}, Polled{"r1": true}, 0, []string{"r1:0s:3m0s"}},
			{[]Alert{short("r1")}, Polled{"r1": true}, time.Minute, []string{"r1:0s:4m0s"}},
			{nil, Polled{"r1": true}, 2 * time.Minute, []string{"r1:0s:2m0s"}},
			{nil, Polled{"r1": true}, 3 * time.Minute, nil}, // resolved once, not again
		}},
		{"a failed poll keeps the alive set alert firing", []step{
			{[]Alert{short("r1")}, Polled{"r1": true}, 0, []string{"r1:0s:3m0s"}},
			{nil, Polled{"r1": false}, time.Minute, []string{"r1:0s:4m0s"}},
			{nil, Polled{"r1": true}, 2 * time.Minute, []string{"r1:0s:2m0s"}},
		}},
		{"a device not polled is forgotten, to expire on its own", []step{
			{[]Alert{short("r1"), short("r2")}, Polled{"r1": true, "r2": true}, 0, []string{"r1:0s:3m0s", "r2:0s:3m0s"}},
			{[]Alert{short("r1")}, Polled{"r1": true}, time.Minute, []string{"r1:0s:4m0s"}},
			{[]Alert{short("r1")}, Polled{"r1": true, "r2": true}, 2 * time.Minute, []string{"r1:0s:5m0s"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent Sent
			for i, s := range tt.steps {
				var post []Alert
				post, sent = Plan(sent, s.desired, s.polled, t0.Add(s.at), resend)
				var got []string
				for _, a := range post {
					got = append(got, stamp(a))
				}
				if strings.Join(got, " ") != strings.Join(s.want, " ") {
					t.Errorf("step %d: posted %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func TestResendMovesEndsAt(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	a := Alert{Labels: map[string]string{"alertname": NameAliveSetShort, "device": "r1"}}
	_, sent := Plan(nil, []Alert{a}, Polled{"r1": true}, t0, time.Minute)
	post, sent := Resend(sent, t0.Add(90*time.Second), time.Minute)
	if len(post) != 1 || !post[0].StartsAt.Equal(t0) || !post[0].EndsAt.Equal(t0.Add(270*time.Second)) || len(sent) != 1 {
		t.Errorf("resend = %+v", post)
	}
	if post, _ := Resend(Sent{}, t0, time.Minute); len(post) != 0 {
		t.Errorf("resend of nothing posted %v", post)
	}
}

func TestParseURLs(t *testing.T) {
	us, err := ParseURLs([]string{"http://am1:9093, http://u:secret@am2:9093/prefix", "https://am3"})
	if err != nil || len(us) != 3 {
		t.Fatalf("ParseURLs = %v, %v", us, err)
	}
	if got := Target(us[1]); strings.Contains(got, "secret") || !strings.Contains(got, "am2:9093") {
		t.Errorf("Target = %q", got)
	}
	for _, bad := range []string{"am1:9093", "ftp://am1", "http://u:secret@/x"} {
		_, err := ParseURLs([]string{bad})
		if err == nil {
			t.Errorf("ParseURLs(%q) took it", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestClientPost: the body is the v2 API's array of postableAlerts, on
// /api/v2/alerts under the base's path, with basic auth from the URL's
// userinfo; a refusal is an error naming the target without its password.
func TestClientPost(t *testing.T) {
	var got []map[string]any
	var path, user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		user, pass, _ = r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
	}))
	defer srv.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maxFailedNoAlerts", http.StatusBadRequest)
	}))
	defer bad.Close()
	withAuth := strings.Replace(srv.URL, "http://", "http://ops:s3cret@", 1) + "/am"
	badAuth := strings.Replace(bad.URL, "http://", "http://ops:s3cret@", 1)
	us, err := ParseURLs([]string{withAuth + "," + badAuth})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	errs := NewClient(us).Post(context.Background(), []Alert{{
		Labels: map[string]string{"alertname": NameAliveSetShort}, Annotations: map[string]string{"summary": "s"},
		StartsAt: t0, EndsAt: t0.Add(time.Minute), GeneratorURL: "http://x/",
	}})
	if path != "/am/api/v2/alerts" || user != "ops" || pass != "s3cret" {
		t.Errorf("path %q, auth %q:%q", path, user, pass)
	}
	if len(got) != 1 || got[0]["startsAt"] != "2026-12-08T10:00:00Z" || got[0]["endsAt"] != "2026-12-08T10:01:00Z" ||
		got[0]["generatorURL"] != "http://x/" || got[0]["labels"].(map[string]any)["alertname"] != NameAliveSetShort {
		t.Errorf("body = %v", got)
	}
	if len(errs) != 1 {
		t.Fatalf("errors = %v", errs)
	}
	for target, err := range errs {
		if strings.Contains(target+err.Error(), "s3cret") || !strings.Contains(err.Error(), "400") {
			t.Errorf("error %s: %v", target, err)
		}
	}
}
