package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// writeBenchTable prints the results: one row per scenario, the targets
// beside the figures, then the notes and errors.
func writeBenchTable(w io.Writer, rep benchReport) error {
	fmt.Fprintf(w, "mastership-bench, %s\n", rep.Started.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", rep.Machine)
	if rep.LoadEnd != "" {
		fmt.Fprintf(w, "load average at the end: %s; took %s\n", rep.LoadEnd, time.Duration(rep.Duration*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tSIZE\tCONC\tWALL\tRATE\tCPU\tCPU/OP\tREF CPU/OP\t×REF\tALLOCS/OP\tPEAK RSS\tRSS/SESSION\tRPCS/POLL\tREPLY/POLL\tRTR CPU/POLL\tOK\tTARGETS")
	for _, r := range rep.Results {
		if r.Unit == benchUnitRatio {
			targets := make([]string, len(r.Targets))
			for i, c := range r.Targets {
				targets[i] = c.String()
			}
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", r.Scenario, strings.Join(targets, "; "))
			continue
		}
		if r.Error != "" || r.WallSeconds == 0 {
			what := "ERROR (below)"
			if r.Error == "" {
				what = "skipped (below)"
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", r.Scenario, benchSize(r), what)
			continue
		}
		conc := "-"
		if r.Concurrency > 0 {
			conc = strconv.Itoa(r.Concurrency)
		}
		ref, ratio := "-", "-"
		if r.RefCPUPerOpMS > 0 {
			ref = benchMS(r.RefCPUPerOpMS)
			ratio = benchNum(r.RefRatio) + "×"
		}
		allocs := "-"
		if r.AllocsPerOp > 0 {
			allocs = benchNum(r.AllocsPerOp)
		}
		perSession := "-"
		if r.RSSPerSessionBytes != 0 {
			perSession = benchBytes(r.RSSPerSessionBytes)
			if r.RefRSSPerSessionBytes != 0 {
				perSession += " (ref " + benchBytes(r.RefRSSPerSessionBytes) + ")"
			}
		}
		peak := "-"
		if r.PeakRSSBytes > 0 {
			peak = benchBytes(r.PeakRSSBytes)
		}
		rpcs, reply, rtrCPU := "-", "-", "-"
		if r.RouterRPCsPerPoll > 0 {
			rpcs = benchNum(r.RouterRPCsPerPoll)
			reply = benchBytes(int64(r.RouterReplyBytesPerPoll))
			rtrCPU = benchMS(r.RouterCPUPerPollMS)
		}
		ok := "-"
		if r.Unit == "devices" && r.Scenario != "" && !strings.HasPrefix(r.Scenario, benchCorrelate) {
			ok = fmt.Sprintf("%d/%d", r.OK, r.Size)
		}
		targets := make([]string, len(r.Targets))
		for i, c := range r.Targets {
			targets[i] = c.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s/s\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Scenario, benchSize(r), conc,
			benchSeconds(r.WallSeconds), benchNum(r.Rate), r.RateUnit,
			benchSeconds(r.CPUSeconds), benchMS(r.CPUPerOpMS), r.OpName,
			ref, ratio, allocs, peak, perSession, rpcs, reply, rtrCPU, ok, strings.Join(targets, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, r := range rep.Results {
		note := r.Note
		if r.OtherCores >= 0.25 {
			note = benchJoin(fmt.Sprintf("NOISY: other processes kept %.2f cores busy", r.OtherCores), note)
		}
		if note != "" {
			notes = append(notes, fmt.Sprintf("  %s: %s", r.Scenario, note))
		}
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("  %s: ERROR: %s", r.Scenario, r.Error))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	_, err := fmt.Fprintln(w, `
CPU is getrusage(RUSAGE_SELF) user+sys of this process (the simulator runs in
another); REF is the minimal reference client against the same fleet, run
beside the agent; RSS/SESSION is the VmRSS growth per idle open session.
RPCS/POLL, REPLY/POLL and RTR CPU/POLL are the router side of the measured
audit: RPCs the simulated routers answered (close-session not counted),
reply bytes they sent, and the simulator processes' CPU (their getrusage,
taken before and after the audit), per poll.`)
	return err
}

func benchSize(r benchResult) string {
	if r.Size == 0 {
		return "-"
	}
	return strconv.Itoa(r.Size) + " " + r.Unit
}

// benchNum formats v with about three significant digits.
func benchNum(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1e6:
		return benchTrim(strconv.FormatFloat(v/1e6, 'f', 2, 64)) + "M"
	case a >= 1e4:
		return benchTrim(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return benchTrim(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 1:
		return benchTrim(strconv.FormatFloat(v, 'f', 2, 64))
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// benchTrim drops the zeros that end a decimal fraction: 1.30 → 1.3.
func benchTrim(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// benchValue formats a target's figure in its unit.
func benchValue(v float64, unit string) string {
	switch unit {
	case "s":
		return benchSeconds(v)
	case "ms":
		return benchMS(v)
	case "%", "×", "":
		return benchNum(v) + unit
	}
	return benchNum(v) + " " + unit
}

// benchMS formats milliseconds, as µs below one.
func benchMS(ms float64) string {
	if ms > 0 && ms < 1 {
		return benchNum(ms*1000) + "µs"
	}
	return benchNum(ms) + "ms"
}

func benchSeconds(s float64) string {
	if s < 1 {
		return benchMS(s * 1000)
	}
	return benchNum(s) + "s"
}

func benchBytes(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	switch {
	case n >= 1<<30:
		return sign + benchNum(float64(n)/(1<<30)) + " GiB"
	case n >= 1<<20:
		return sign + benchNum(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return sign + benchNum(float64(n)/(1<<10)) + " KiB"
	}
	return sign + strconv.FormatInt(n, 10) + " B"
}
