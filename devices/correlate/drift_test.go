package correlate

import (
	"reflect"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func TestDrift(t *testing.T) {
	std := devices.RedundancyConfig{Known: true, GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, FailoverOnLossOfKeepalives: true, CommitSynchronize: true, NonstopRouting: true}
	fleet := func(n int) map[string]devices.RedundancyConfig {
		m := make(map[string]devices.RedundancyConfig)
		for i := range n {
			m[string(rune('a'+i))+"-mx"] = std
		}
		return m
	}
	tests := []struct {
		name string
		cfg  map[string]devices.RedundancyConfig
		want map[string][]string
	}{
		{name: "empty"},
		{name: "uniform fleet", cfg: fleet(5)},
		{
			name: "two devices without GRES in fifteen",
			cfg: func() map[string]devices.RedundancyConfig {
				m := fleet(13)
				odd := std
				odd.GracefulSwitchover = false
				odd.KeepaliveTime = 0
				m["zz-mx"] = odd
				m["yy-mx"] = odd
				return m
			}(),
			want: map[string][]string{
				"yy-mx": {"graceful-switchover: off (fleet majority: on, 13 of 15 devices)", "keepalive-time: not set (fleet majority: 300s, 13 of 15 devices)"},
				"zz-mx": {"graceful-switchover: off (fleet majority: on, 13 of 15 devices)", "keepalive-time: not set (fleet majority: 300s, 13 of 15 devices)"},
			},
		},
		{
			name: "unknown configs neither count nor drift",
			cfg: func() map[string]devices.RedundancyConfig {
				m := fleet(3)
				m["x-unreachable"] = devices.RedundancyConfig{}
				m["y-unreachable"] = devices.RedundancyConfig{}
				odd := std
				odd.FailoverOnDiskFailure = true
				m["c-mx"] = odd
				return m
			}(),
			want: map[string][]string{"c-mx": {"failover on-disk-failure: on (fleet majority: off, 2 of 3 devices)"}},
		},
		{
			name: "fewer than three known devices: no drift",
			cfg: func() map[string]devices.RedundancyConfig {
				m := fleet(1)
				odd := std
				odd.NonstopRouting = false
				m["b-mx"] = odd
				m["c-unknown"] = devices.RedundancyConfig{}
				return m
			}(),
		},
		{
			name: "a tie has no majority",
			cfg: func() map[string]devices.RedundancyConfig {
				m := fleet(2)
				odd := std
				odd.CommitSynchronize = false
				m["y-mx"], m["z-mx"] = odd, odd
				return m
			}(),
		},
		{
			name: "keepalive-times all over the place: no majority, no drift on that knob",
			cfg: func() map[string]devices.RedundancyConfig {
				m := map[string]devices.RedundancyConfig{}
				for i, k := range []time.Duration{10, 20, 30, 300} {
					c := std
					c.KeepaliveTime = k * time.Second
					m[string(rune('a'+i))] = c
				}
				return m
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Drift(tt.cfg); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Drift:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
