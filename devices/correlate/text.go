package correlate

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// fold lowercases and collapses whitespace, so that the same alarm text
// from the alarm table, alarmd and craftd compares equal ("Minor alarm
// set,  CB 2 Removed" carries two spaces on craftd lines).
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// words splits text into its words, keeping their case: runs of letters
// and runs of digits are separate words, anything else separates them.
// "FPC0: PEM 0 Not Powered" gives FPC 0 PEM 0 Not Powered, so a FRU name
// is found whether or not the device put a space before its number.
func words(s string) []string {
	var out []string
	start, kind := -1, 0
	flush := func(end int) {
		if start >= 0 {
			out = append(out, s[start:end])
		}
		start, kind = -1, 0
	}
	for i, r := range s {
		k := 0
		switch {
		case unicode.IsLetter(r):
			k = 1
		case unicode.IsDigit(r):
			k = 2
		}
		if k != kind {
			flush(i)
			if k != 0 {
				start, kind = i, k
			}
		}
	}
	flush(len(s))
	return out
}

// isNumber reports whether w is a run of ASCII digits.
func isNumber(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// span prints a duration the way an operator reads an up-time: the two
// largest units, "9d22h", "4h43m", "6m25s", "45s".
func span(d time.Duration) string {
	if d < 0 {
		return "-" + span(-d)
	}
	d = d.Round(time.Second)
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var b strings.Builder
	parts := 0
	for _, u := range units {
		n := d / u.size
		if n == 0 && parts == 0 {
			continue
		}
		d -= n * u.size
		if n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
		parts++
		if parts == 2 {
			break
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// stamp prints a device time for evidence and remedies: UTC RFC 3339,
// like every time in the reports.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
