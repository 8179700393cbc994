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
