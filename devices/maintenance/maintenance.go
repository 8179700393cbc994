// Package maintenance holds maintenance windows: the times in which an
// operator expects a router to flap (an upgrade, an RE replacement), so
// that its findings are still stored and reported but raise no alert.
// A window is either recurring — a cron spec and a duration, as in the
// inventory's maintenance field — or a fixed from/until span, as
// "mastership silence" stores. Everything here is pure: the time a
// window is judged at is always an argument.
package maintenance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mastership/mastership/devices"
)

// Window is one maintenance window of a device.
type Window struct {
	// Spec is the cron spec of a recurring window as written, "" for a
	// fixed one; Duration is how long each occurrence lasts.
	Spec     string
	Duration time.Duration
	// From and Until bound a fixed window: From <= t < Until.
	From, Until time.Time
	// Reason says why, in the operator's words; Who stored an ad-hoc
	// window ("" for the inventory's).
	Reason, Who string

	sched cron.Schedule
}

// parser is the cron grammar of schedule.ParseSpec: 5 fields, an
// optional leading seconds field, and descriptors.
func parser() cron.Parser {
	return cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// descriptors are the named schedules cron v3 knows. "@every" is not
// one a window can use: it counts from whenever it is asked, so it has
// no fixed occurrences.
func descriptors() []string {
	return []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
}

// ParseSpec parses the cron spec of a recurring window: "m h dom mon
// dow", "s m h dom mon dow" or a descriptor such as "@daily", optionally
// prefixed by "CRON_TZ=Zone " (or "TZ=Zone "), as in schedules; a spec
// without a zone is in UTC. The checks are schedule.ParseSpec's, made
// before robfig/cron sees the spec because v3.0.1 panics on some invalid
// forms ("CRON_TZ=" alone); a panic left in the library is an error too.
func ParseSpec(spec string) (sched cron.Schedule, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, errors.New("empty cron spec")
	}
	rest, zone := s, "UTC"
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if !strings.HasPrefix(rest, prefix) {
			continue
		}
		z, after, found := strings.Cut(rest[len(prefix):], " ")
		after = strings.TrimSpace(after)
		switch {
		case strings.TrimSpace(z) == "":
			return nil, fmt.Errorf("cron spec %q: %s names no time zone", spec, prefix)
		case !found || after == "":
			return nil, fmt.Errorf("cron spec %q: a time zone but no schedule after it", spec)
		case strings.HasPrefix(after, "CRON_TZ=") || strings.HasPrefix(after, "TZ="):
			return nil, fmt.Errorf("cron spec %q: more than one time zone", spec)
		}
		if _, err := time.LoadLocation(z); err != nil {
			return nil, fmt.Errorf("cron spec %q: unknown time zone %q", spec, z)
		}
		zone, rest = z, after
		break
	}
	if strings.HasPrefix(rest, "@") {
		d := strings.Fields(rest)[0]
		if strings.HasPrefix(d, "@every") {
			return nil, fmt.Errorf("cron spec %q: @every has no fixed start times; give the times, e.g. \"0 2 * * 0\"", spec)
		}
		known := false
		for _, k := range descriptors() {
			known = known || rest == k
		}
		if !known {
			return nil, fmt.Errorf("cron spec %q: unknown descriptor %s (want @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)", spec, d)
		}
	} else if n := len(strings.Fields(rest)); n != 5 && n != 6 {
		return nil, fmt.Errorf("cron spec %q: %d fields, want 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)", spec, n)
	}

	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cron spec %q: invalid (the cron parser panicked: %v)", spec, r)
		}
	}()
	// The zone always goes to the library, so a spec without one is UTC
	// whatever the agent's local zone is.
	sched, err = parser().Parse("CRON_TZ=" + zone + " " + rest)
	if err != nil {
		return nil, fmt.Errorf("cron spec %q: %w", spec, err)
	}
	// Any fixed time will do: the library looks five years ahead of it.
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("cron spec %q: never fires", spec)
	}
	return sched, nil
}

// Recurring returns the window that opens at each activation of spec and
// lasts d.
func Recurring(spec string, d time.Duration, reason string) (Window, error) {
	sched, err := ParseSpec(spec)
	if err != nil {
		return Window{}, err
	}
	if d <= 0 {
		return Window{}, fmt.Errorf("duration must be positive, got %s", d)
	}
	return Window{Spec: spec, Duration: d, Reason: reason, sched: sched}, nil
}

// Fixed returns the window from <= t < until.
func Fixed(from, until time.Time, reason string) (Window, error) {
	if from.IsZero() || until.IsZero() {
		return Window{}, errors.New("a fixed window needs both from and until")
	}
	if !until.After(from) {
		return Window{}, fmt.Errorf("until %s is not after from %s", until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	return Window{From: from.UTC(), Until: until.UTC(), Reason: reason}, nil
}

// Overlap returns the first occurrence of w that overlaps the span
// first..last (both included; last before first is taken as first):
// it opens at or before last and closes after first. ok is false when no
// occurrence does, or w is the zero Window.
func (w Window) Overlap(first, last time.Time) (from, until time.Time, ok bool) {
	if last.Before(first) {
		last = first
	}
	if w.sched == nil {
		if w.Until.IsZero() || w.From.After(last) || !w.Until.After(first) {
			return time.Time{}, time.Time{}, false
		}
		return w.From, w.Until, true
	}
	// Activations fall on whole seconds and Next returns the first one
	// strictly after its argument: that is the first occurrence still
	// open at first.
	start := w.sched.Next(first.Add(-w.Duration))
	if start.IsZero() || start.After(last) {
		return time.Time{}, time.Time{}, false
	}
	return start.UTC(), start.Add(w.Duration).UTC(), true
}

// Contains reports whether t is inside an occurrence of w, and that
// occurrence's end.
func (w Window) Contains(t time.Time) (until time.Time, ok bool) {
	_, until, ok = w.Overlap(t, t)
	return until, ok
}

// String describes w for a status line: its reason and, for a fixed
// window, who set it.
func (w Window) String() string {
	reason := w.Reason
	if reason == "" {
		reason = "maintenance"
		if w.Spec != "" {
			reason = "scheduled maintenance " + w.Spec
		}
	}
	if w.Who != "" {
		reason += " (by " + w.Who + ")"
	}
	return reason
}

// Mark marks maintenance the findings whose flap overlaps one of ws: it
// sets Maintenance and a note naming the window, and leaves the rest of
// each finding as the correlation judged it. The earliest-closing
// overlapping window names the note when several do.
func Mark(fs []devices.Finding, ws []Window) []devices.Finding {
	if len(ws) == 0 {
		return fs
	}
	out := make([]devices.Finding, len(fs))
	for i, f := range fs {
		out[i] = f
		var best Window
		var bestUntil time.Time
		for _, w := range ws {
			if _, until, ok := w.Overlap(f.First, f.Last); ok && (bestUntil.IsZero() || until.Before(bestUntil)) {
				best, bestUntil = w, until
			}
		}
		if !bestUntil.IsZero() {
			out[i].Maintenance = true
			out[i].MaintenanceNote = fmt.Sprintf("%s, until %s", best, bestUntil.UTC().Format(time.RFC3339))
		}
	}
	return out
}

// Active returns the window of ws that t is inside, closing last, and
// that occurrence's end.
func Active(ws []Window, t time.Time) (w Window, until time.Time, ok bool) {
	for _, c := range ws {
		if u, in := c.Contains(t); in && u.After(until) {
			w, until, ok = c, u, true
		}
	}
	return w, until, ok
}
