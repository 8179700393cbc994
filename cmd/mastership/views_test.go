package main

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		42 * time.Second:                     "42s",
		3*time.Minute + 5*time.Second:        "3m",
		4*time.Hour + 43*time.Minute:         "4h 43m",
		(9*24+22)*time.Hour + 27*time.Minute: "9d 22h 27m",
		(267*24)*time.Hour + 48*time.Minute:  "267d 0h 48m",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSafeCells(t *testing.T) {
	in := []string{`=HYPERLINK("http://x","y")`, "+1", "-1", "@SUM(A1)", "\tx", "\rx", "re0 re1", ""}
	want := []string{`'=HYPERLINK("http://x","y")`, "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "re0 re1", ""}
	got := safeCells(append([]string{}, in...))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("safeCells(%q) = %q, want %q", in[i], got[i], want[i])
		}
	}
}
