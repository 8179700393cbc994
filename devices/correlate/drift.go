package correlate

import (
	"fmt"
	"slices"
	"time"

	"github.com/mastership/mastership/devices"
)

// knob is one redundancy setting, named as in the Junos configuration,
// and how a device's value reads.
type knob struct {
	name  string
	value func(devices.RedundancyConfig) string
}

// redundancyKnobs lists the settings that decide how REs fail over, in
// the order drift lines are given. A function, not a package variable, so
// the package holds no mutable state.
func redundancyKnobs() []knob {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	return []knob{
		{"graceful-switchover", func(c devices.RedundancyConfig) string { return onOff(c.GracefulSwitchover) }},
		{"keepalive-time", func(c devices.RedundancyConfig) string {
			if c.KeepaliveTime <= 0 {
				return "not set"
			}
			return fmt.Sprintf("%ds", c.KeepaliveTime/time.Second)
		}},
		{"failover on-loss-of-keepalives", func(c devices.RedundancyConfig) string { return onOff(c.FailoverOnLossOfKeepalives) }},
		{"failover on-disk-failure", func(c devices.RedundancyConfig) string { return onOff(c.FailoverOnDiskFailure) }},
		{"commit synchronize", func(c devices.RedundancyConfig) string { return onOff(c.CommitSynchronize) }},
		{"nonstop-routing", func(c devices.RedundancyConfig) string { return onOff(c.NonstopRouting) }},
	}
}

// minFleetForDrift is the fewest devices with a known configuration
// for drift to mean anything: with two, a disagreement cannot say which
// one is the odd one out.
const minFleetForDrift = 3

// Drift compares each device's redundancy configuration with the fleet's
// and returns, per device that differs, one line per knob:
//
//	graceful-switchover: off (fleet majority: on, 12 of 14 devices)
//
// The majority of a knob is the value held by more than half of the
// devices whose configuration is known (Known=false devices are left out
// of the count and never get lines). A knob with no such value (a tie,
// or keepalive-times all over the place) has no majority and gives no
// drift: there is no fleet standard to return to. Fewer than three known
// devices give no drift at all. Devices without drift are not in the map.
func Drift(configs map[string]devices.RedundancyConfig) map[string][]string {
	var names []string
	for name, c := range configs {
		if c.Known {
			names = append(names, name)
		}
	}
	if len(names) < minFleetForDrift {
		return nil
	}
	slices.Sort(names)
	out := make(map[string][]string)
	for _, k := range redundancyKnobs() {
		count := make(map[string]int)
		for _, name := range names {
			count[k.value(configs[name])]++
		}
		majority, held := "", 0
		for v, n := range count {
			if 2*n > len(names) {
				majority, held = v, n
			}
		}
		if held == 0 {
			continue
		}
		for _, name := range names {
			if v := k.value(configs[name]); v != majority {
				out[name] = append(out[name], fmt.Sprintf("%s: %s (fleet majority: %s, %d of %d devices)", k.name, v, majority, held, len(names)))
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
