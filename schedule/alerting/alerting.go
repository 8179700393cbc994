// Package alerting turns the daemon's last audit into the alerts it
// pushes to Alertmanager (run --alertmanager), and posts them.
//
// The computation is pure: Desired names what should be firing from an
// audit's polls and findings, and Plan compares that with what was sent
// before to say what to post now, with the times filled in. The HTTP
// client (Client) is the only part that does I/O.
//
// The alert names and labels are those of the shipped Prometheus rules
// (deploy/prometheus/mastership.rules.yml) where the two overlap, so an
// Alertmanager route written for one works for the other. Use one or the
// other for the same alerts, not both: both give duplicate notifications.
package alerting

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

// The alert names, as in mastership.rules.yml.
const (
	NameAliveSetShort      = "MastershipAliveSetShort"
	NameFindingCritical    = "MastershipFindingCritical"
	NameFindingOpen        = "MastershipFindingOpen"
	NameSwitchoverNotReady = "MastershipSwitchoverNotReady"
)

// Limits of the evidence annotation: a notification is read on a phone,
// the whole story is in `mastership check`.
const (
	maxEvidenceLines = 5
	maxEvidenceLine  = 200
)

// Alert is one alert as Alertmanager's v2 API takes it (postableAlert in
// api/v2/openapi.yaml): labels identify it, startsAt and endsAt bound it.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Key identifies an alert by its label set, as Alertmanager does.
func (a Alert) Key() string {
	names := make([]string, 0, len(a.Labels))
	for n := range a.Labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%q,", n, a.Labels[n])
	}
	return b.String()
}

// Audit is what Desired reads of the last audit.
type Audit struct {
	// Polls are the audit's polls; a zero Poll (Device "") is a device
	// the audit did not reach, or another agent's in a shared fleet.
	Polls []devices.Poll
	// Findings are each device's open findings (nil: none judged).
	Findings map[string][]devices.Finding
	// Readiness is each polled device's switchover readiness verdict.
	Readiness map[string]readiness.Verdict
	// InMaintenance names the devices in a maintenance window now: their
	// alive set is not alerted on, as the rules leave them out.
	InMaintenance map[string]bool
	// GeneratorURL is set on every alert (the daemon's address).
	GeneratorURL string
}

// Polled says, of each device the audit polled, whether the poll read its
// RE table (true) or decoded nothing of it (false).
type Polled map[string]bool

// Desired is the alerts that should be firing after audit, without their
// times, and which devices it polled with what result (see Plan).
func Desired(audit Audit) (alerts []Alert, polled Polled) {
	polled = Polled{}
	for _, p := range audit.Polls {
		if p.Device == "" {
			continue
		}
		read := p.Snapshot != nil && len(p.Snapshot.RouteEngines) > 0
		polled[p.Device] = read
		// The alive set needs the RE table; findings come from the stored
		// history and count even when this poll failed.
		alive := 0
		if read {
			alive = len(p.Snapshot.AliveSet())
		}
		if read && alive < p.ExpectedREs && !audit.InMaintenance[p.Device] {
			alerts = append(alerts, Alert{
				Labels: map[string]string{"alertname": NameAliveSetShort, "device": p.Device, "site": p.Site, "severity": string(devices.SeverityCritical)},
				Annotations: map[string]string{
					"summary":     fmt.Sprintf("%s: %d Routing Engine(s) alive, fewer than expected (%d)", p.Device, alive, p.ExpectedREs),
					"description": fmt.Sprintf("Alive set: %s. Run `mastership check %s` for the RE table and the evidence.", strings.Join(p.Snapshot.AliveSet(), ","), p.Device),
				},
				GeneratorURL: audit.GeneratorURL,
			})
		}
		alerts = append(alerts, findingAlerts(p, audit.Findings[p.Device], audit.GeneratorURL)...)
		if v, ok := audit.Readiness[p.Device]; ok && v.Verdict == readiness.NotReady {
			alerts = append(alerts, notReadyAlert(p, v, audit.GeneratorURL))
		}
	}
	return alerts, polled
}

// notReadyAlert says the router would not survive a switchover now, with
// the failed conditions. Unlike the rule it has no 15-minute hold: the
// verdict is the last audit's.
func notReadyAlert(p devices.Poll, v readiness.Verdict, generator string) Alert {
	var why []string
	for _, r := range v.Reasons {
		why = append(why, r.Code+": "+r.Text)
	}
	return Alert{
		Labels: map[string]string{"alertname": NameSwitchoverNotReady, "device": p.Device, "site": p.Site, "severity": string(devices.SeverityWarning)},
		Annotations: map[string]string{
			"summary":     p.Device + ": not ready for a switchover",
			"description": strings.Join(why, "\n"),
		},
		GeneratorURL: generator,
	}
}

// findingAlerts is one alert per cause of the device's findings outside
// maintenance, critical when any of them is, as the rules count them.
func findingAlerts(p devices.Poll, fs []devices.Finding, generator string) []Alert {
	byCause := map[devices.Cause][]devices.Finding{}
	var causes []devices.Cause
	for _, f := range fs {
		if f.Maintenance {
			continue
		}
		if _, ok := byCause[f.Cause]; !ok {
			causes = append(causes, f.Cause)
		}
		byCause[f.Cause] = append(byCause[f.Cause], f)
	}
	slices.Sort(causes)
	var out []Alert
	for _, c := range causes {
		group := byCause[c]
		name, sev, what := NameFindingOpen, devices.SeverityWarning, ""
		var res []string
		remedy := ""
		var evidence []string
		for _, f := range group {
			if f.Severity == devices.SeverityCritical {
				name, sev, what = NameFindingCritical, devices.SeverityCritical, ", with a change of master"
			}
			if !slices.Contains(res, f.RE) {
				res = append(res, f.RE)
			}
			if remedy == "" {
				remedy = f.Remedy
			}
			evidence = append(evidence, f.Evidence...)
		}
		out = append(out, Alert{
			Labels: map[string]string{"alertname": name, "device": p.Device, "site": p.Site, "cause": string(c), "severity": string(sev)},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("%s: Routing Engines flapping (%s)%s", p.Device, c, what),
				"description": fmt.Sprintf("%d finding(s) on %s; the whole story: `mastership check %s`.", len(group), strings.Join(res, ","), p.Device),
				"remedy":      remedy,
				"evidence":    evidenceSummary(evidence),
			},
			GeneratorURL: generator,
		})
	}
	return out
}

// evidenceSummary is the last few evidence lines, each cut, newest last,
// with a note of how many were left out.
func evidenceSummary(lines []string) string {
	skipped := 0
	if len(lines) > maxEvidenceLines {
		skipped = len(lines) - maxEvidenceLines
		lines = lines[skipped:]
	}
	var b strings.Builder
	if skipped > 0 {
		fmt.Fprintf(&b, "(%d earlier line(s) left out)\n", skipped)
	}
	for i, l := range lines {
		if r := []rune(l); len(r) > maxEvidenceLine {
			l = string(r[:maxEvidenceLine]) + "…"
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Sent is the alerts last posted as firing, by Key. The zero value is
// "nothing sent".
type Sent map[string]Alert

// Plan says what to post at now: every desired alert, firing, with its
// first startsAt kept and endsAt three resend intervals ahead (so that the
// alerts of an agent that died expire by themselves), and every alert
// sent before that is no longer desired, resolved with endsAt now: the
// clearing time. Previous alerts of a device whose poll read nothing
// (polled false) for its alive set or readiness are kept firing as they were: a router we cannot reach
// has not healed. Those of a device the audit did not poll at all
// (another agent's in a shared fleet, or cut off by a stop) are neither
// resent nor resolved but forgotten: whoever polls it refreshes or
// resolves them, else they expire at their endsAt. It returns the alerts
// to post and the new Sent.
func Plan(prev Sent, desired []Alert, polled Polled, now time.Time, resend time.Duration) ([]Alert, Sent) {
	next := Sent{}
	ends := now.Add(3 * resend)
	for _, a := range desired {
		k := a.Key()
		a.StartsAt = now
		if p, ok := prev[k]; ok {
			a.StartsAt = p.StartsAt
		}
		a.EndsAt = ends
		next[k] = a
	}
	var resolved []Alert
	for k, p := range prev {
		if _, ok := next[k]; ok {
			continue
		}
		read, ok := polled[p.Labels["device"]]
		if !ok {
			continue
		}
		if n := p.Labels["alertname"]; !read && (n == NameAliveSetShort || n == NameSwitchoverNotReady) {
			p.EndsAt = ends
			next[k] = p
			continue
		}
		p.EndsAt = now
		resolved = append(resolved, p)
	}
	post := make([]Alert, 0, len(next)+len(resolved))
	for _, a := range next {
		post = append(post, a)
	}
	post = append(post, resolved...)
	sort.Slice(post, func(i, j int) bool { return post[i].Key() < post[j].Key() })
	return post, next
}

// Resend is Plan with nothing changed: the firing alerts again, with
// endsAt moved ahead.
func Resend(prev Sent, now time.Time, resend time.Duration) ([]Alert, Sent) {
	desired := make([]Alert, 0, len(prev))
	for _, a := range prev {
		desired = append(desired, a)
	}
	return Plan(prev, desired, Polled{}, now, resend)
}
