package correlate

import (
	"cmp"
	"slices"

	"github.com/mastership/mastership/devices"
)

// flap is a run of transitions of one RE, oldest first.
type flap struct {
	re          string
	transitions []devices.Transition
}

// flaps finds the flaps in merged transitions: per RE, runs in which each
// transition is at most s.FlapWindow after the one before it (a longer gap
// ends the run), keeping the runs of at least s.FlapMin transitions.
//
// The gap rule chains: an RE that leaves every 50 minutes all day is one
// long flap, not many; a finding should cover the whole episode.
func flaps(ts []devices.Transition, s Settings) []flap {
	byRE := make(map[string][]devices.Transition)
	for _, t := range ts {
		byRE[t.RE] = append(byRE[t.RE], t)
	}
	var out []flap
	for re, list := range byRE {
		sortTransitions(list)
		start := 0
		for i := 1; i <= len(list); i++ {
			if i < len(list) && list[i].Time.Sub(list[i-1].Time) <= s.FlapWindow {
				continue
			}
			if i-start >= s.FlapMin {
				out = append(out, flap{re: re, transitions: list[start:i]})
			}
			start = i
		}
	}
	slices.SortFunc(out, func(a, b flap) int {
		return cmp.Or(a.transitions[0].Time.Compare(b.transitions[0].Time), cmp.Compare(a.re, b.re))
	})
	return out
}
