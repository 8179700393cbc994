package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// benchDecoder is one RPC's decoder and the sample files of its replies.
type benchDecoder struct {
	rpc      string
	prefixes []string // sample file name prefixes
	decode   func([]byte) error
}

// benchDecoders are the decoders the decode scenario measures, one row
// each.
func benchDecoders() []benchDecoder {
	return []benchDecoder{
		{"get-route-engine-information", []string{"get-route-engine-information."}, func(b []byte) error {
			_, err := junos.DecodeRouteEngines(b)
			return err
		}},
		{"get-alarm-information", []string{"get-alarm-information."}, func(b []byte) error {
			_, err := junos.DecodeAlarms(b, devices.AlarmChassis)
			return err
		}},
		{"get-system-alarm-information", []string{"get-system-alarm-information."}, func(b []byte) error {
			_, err := junos.DecodeAlarms(b, devices.AlarmSystem)
			return err
		}},
		{"get-software-information", []string{"get-software-information."}, func(b []byte) error {
			_, err := junos.DecodeSoftware(b)
			return err
		}},
		{"get-system-uptime-information", []string{"get-system-uptime-information."}, func(b []byte) error {
			_, err := junos.DecodeSystemUptime(b)
			return err
		}},
		{"get-configuration", []string{"get-configuration."}, func(b []byte) error {
			_, err := junos.DecodeRedundancyConfig(b)
			return err
		}},
		{"get-log/file-show", []string{"get-log.", "file-show."}, func(b []byte) error {
			_, err := junos.DecodeLogContent(b)
			return err
		}},
		// What a poll does with a log reply: streamed through a LogTaker
		// in the 4 KiB pieces a session hands over, a first read.
		{"get-log/file-show streamed", []string{"get-log.", "file-show."}, func(b []byte) error {
			lt := junos.NewLogTaker(devices.LogCursor{}, syslog.TakeOptions{})
			for rest := b; len(rest) > 0; rest = rest[min(len(rest), 4096):] {
				_, _ = lt.Write(rest[:min(len(rest), 4096)])
			}
			_, err := lt.Finish()
			return err
		}},
	}
}

// runDecode measures each decoder over the real replies of its RPC in
// --samples, one row per RPC: MB of reply per second of wall time, CPU and
// allocations per reply.
// Issue 17's decoder target and floor, in MB per CPU second on the real
// replies of each decoder's RPC.
const (
	benchDecodeMinMBPerCPUs   = 150
	benchDecodeFloorMBPerCPUs = 100
)

func (b *bencher) runDecode(ctx context.Context) ([]benchResult, error) {
	entries, err := os.ReadDir(b.o.samples)
	if err != nil {
		return []benchResult{{Unit: "replies", Note: fmt.Sprintf("skipped: no samples (%v)", err)}}, nil
	}
	minRun := 300 * time.Millisecond
	if b.o.quick {
		minRun = 10 * time.Millisecond
	}
	var rows []benchResult
	for _, dec := range benchDecoders() {
		r := benchResult{Scenario: benchDecode + " " + dec.rpc, Unit: "replies", OpName: "reply"}
		var samples [][]byte
		var size int64
		for _, e := range entries {
			for _, p := range dec.prefixes {
				if strings.HasPrefix(e.Name(), p) && !e.IsDir() {
					data, err := os.ReadFile(filepath.Join(b.o.samples, e.Name()))
					if err != nil {
						return rows, err
					}
					samples = append(samples, data)
					size += int64(len(data))
				}
			}
		}
		if len(samples) == 0 {
			r.Note = "skipped: no sample of this RPC in " + b.o.samples
			rows = append(rows, r)
			continue
		}
		rejected := 0
		for _, s := range samples {
			if dec.decode(s) != nil {
				rejected++ // error captures: decoding them is work too
			}
		}
		m := startMeter()
		passes := 0
		for passes == 0 || time.Since(m.wall) < minRun {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			for _, s := range samples {
				_ = dec.decode(s)
			}
			passes++
		}
		span := m.stop()
		n := float64(passes * len(samples))
		r.Size = len(samples)
		r.OK = len(samples) - rejected
		r.Failed = rejected
		r.WallSeconds = span.Wall.Seconds()
		r.CPUSeconds = span.CPU.Seconds()
		r.Rate, r.RateUnit = float64(size)*float64(passes)/span.Wall.Seconds()/1e6, "MB"
		r.CPUPerOpMS = span.CPU.Seconds() * 1000 / n
		r.AllocsPerOp = float64(span.Mallocs) / n
		perCPU := float64(size) * float64(passes) / span.CPU.Seconds() / 1e6
		r.Note = fmt.Sprintf("%s of samples, %d rejected as errors by the decoder; %.1f MB per CPU second",
			benchBytes(size), rejected, perCPU)
		r.Targets = append(r.Targets, atLeast("MB/CPU-s", perCPU, benchDecodeMinMBPerCPUs, ""),
			atLeast("floor MB/CPU-s", perCPU, benchDecodeFloorMBPerCPUs, ""))
		rows = append(rows, r)
	}
	return rows, nil
}
