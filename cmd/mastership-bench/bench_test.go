package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMain lets the bench re-execute this test binary as its children
// (the simulator, the filler, the export): with MASTERSHIP_TEST_MAIN=1 it
// is mastership-bench's main.
func TestMain(m *testing.M) {
	if os.Getenv("MASTERSHIP_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestBenchQuick runs `mastership-bench --quick` as CI would: the
// simulator and the export in children (this test binary re-executed,
// which TestMain turns into main), every scenario once at tiny sizes. It
// checks that every row is there with sane figures, not what they are.
func TestBenchQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes and simulated fleets")
	}
	// The children are this test binary: TestMain runs main in them.
	t.Setenv("MASTERSHIP_TEST_MAIN", "1")
	samples := filepath.Join("..", "..", "..", "shared", "junos-samples", "rpc")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"--quick", "--json", "--dir", dir, "--samples", samples}, &out, &errb)
	if code != 0 {
		t.Fatalf("bench --quick exited %d\nstderr:\n%s", code, errb.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out.String())
	}
	rows := map[string]benchResult{}
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Errorf("%s: %s", r.Scenario, r.Error)
		}
		rows[r.Scenario] = r
	}
	linux := runtime.GOOS == "linux"
	if r, ok := rows["memory-20"]; !ok {
		t.Error("no memory-20 row")
	} else if r.OK != 18 || linux && (r.PeakRSSBytes <= 0 || len(r.Targets) != 1) {
		// Two of the twenty routers send oversized replies.
		t.Errorf("memory-20: %d ok, peak RSS %d, targets %v; want 18 ok, a peak and its target", r.OK, r.PeakRSSBytes, r.Targets)
	}
	for _, name := range []string{"fresh-50", "persistent-50"} {
		r, ok := rows[name]
		if !ok {
			t.Errorf("no %s row", name)
			continue
		}
		if r.OK != r.Size || r.Failed != 0 || r.RefOK != r.Size || r.RefFailed != 0 {
			t.Errorf("%s: agent %d ok, %d failed; reference %d ok, %d failed; want all %d ok (%s)",
				name, r.OK, r.Failed, r.RefOK, r.RefFailed, r.Size, r.Note)
		}
		if r.Rate <= 0 || r.WallSeconds <= 0 || r.CPUPerOpMS <= 0 || r.RefCPUPerOpMS <= 0 || r.RefRatio <= 0 || r.AllocsPerOp <= 0 {
			t.Errorf("%s: implausible figures: %+v", name, r)
		}
		if linux && r.PeakRSSBytes <= 0 {
			t.Errorf("%s: no peak RSS", name)
		}
		if len(r.Targets) == 0 {
			t.Errorf("%s: no targets", name)
		}
	}
	// Every audit row gives the router side; the steady rows and the WAN
	// row have their targets, and the steady pairs their CPU ratio.
	for _, name := range []string{"fresh-50", "persistent-50", "steady-5mb-3/fresh", "steady-5mb-3/persistent",
		"steady-500b-3/fresh", "steady-500b-3/persistent", "few-lines-3/fresh", "few-lines-3/persistent", "wan-50"} {
		r, ok := rows[name]
		if !ok {
			t.Errorf("no %s row", name)
			continue
		}
		if r.OK != r.Size || r.RouterRPCsPerPoll < 1 || r.RouterReplyBytesPerPoll <= 0 || (linux && r.RouterCPUPerPollMS <= 0) {
			t.Errorf("%s: %d/%d ok, router side %.1f RPCs, %.0f bytes, %.3f ms per poll: want all ok and a router cost",
				name, r.OK, r.Size, r.RouterRPCsPerPoll, r.RouterReplyBytesPerPoll, r.RouterCPUPerPollMS)
		}
		if strings.HasPrefix(name, "steady") && len(r.Targets) != 2 || name == "wan-50" && len(r.Targets) != 1 {
			t.Errorf("%s: targets %+v", name, r.Targets)
		}
	}
	// A few new lines in a 5 MB file are read: more reply bytes than
	// the unchanged file costs.
	if few, steady := rows["few-lines-3/persistent"], rows["steady-5mb-3/persistent"]; few.RouterReplyBytesPerPoll <= steady.RouterReplyBytesPerPoll {
		t.Errorf("few-lines replies %.0f bytes per poll, steady-5mb %.0f: the changed file was not read",
			few.RouterReplyBytesPerPoll, steady.RouterReplyBytesPerPoll)
	}
	for _, mode := range []string{"fresh", "persistent"} {
		if r, ok := rows["steady-5mb/500b-3/"+mode]; !ok || len(r.Targets) != 1 || r.Targets[0].Value <= 0 {
			t.Errorf("steady 5 MB/500 B ratio (%s): %+v", mode, r)
		}
	}
	if r := rows["persistent-50"]; linux && (r.RSSPerSessionBytes == 0 || r.RefRSSPerSessionBytes == 0) {
		t.Errorf("persistent-50: no RSS per session: %+v", r)
	}
	// ncclient-20 runs where python3-ncclient is installed and is a
	// skipped row elsewhere, unless the interop tests are required.
	if r, ok := rows["ncclient-20"]; !ok {
		t.Errorf("no ncclient-20 row")
	} else if strings.HasPrefix(r.Note, "skipped") {
		if os.Getenv("MASTERSHIP_REQUIRE_INTEROP") == "1" {
			t.Errorf("ncclient-20: %s (MASTERSHIP_REQUIRE_INTEROP=1)", r.Note)
		}
		t.Logf("ncclient-20: %s", r.Note)
	} else {
		if r.OK != r.Size || r.Failed != 0 || r.RefOK != r.Size || r.RefFailed != 0 {
			t.Errorf("ncclient-20: ncclient %d ok, %d failed; reference %d ok, %d failed; want all %d ok (%s)",
				r.OK, r.Failed, r.RefOK, r.RefFailed, r.Size, r.Note)
		}
		if r.Rate <= 0 || r.WallSeconds <= 0 || r.CPUPerOpMS <= 0 || r.RefCPUPerOpMS <= 0 || len(r.Targets) != 1 || !strings.Contains(r.Note, "less CPU per poll") {
			t.Errorf("ncclient-20: implausible figures: %+v", r)
		}
	}
	if r := rows["correlate-100"]; r.OK != 100 || r.Rate <= 0 || r.WallSeconds <= 0 || !strings.Contains(r.Note, "findings") {
		t.Errorf("correlate-100: %+v", r)
	}
	if r := rows["csv-2000"]; r.OK != 2000 || r.Rate <= 0 || (linux && r.PeakRSSBytes <= 0) {
		t.Errorf("csv-2000: %+v", r)
	}
	if _, err := os.Stat(samples); err == nil {
		r := rows["decode get-route-engine-information"]
		if r.Size == 0 || r.Rate <= 0 || r.CPUPerOpMS <= 0 {
			t.Errorf("decode get-route-engine-information: %+v", r)
		}
	} else if r := rows["decode"]; !strings.Contains(r.Note, "skipped") {
		t.Errorf("decode without samples: %+v", r)
	}

	var table bytes.Buffer
	if err := writeBenchTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fresh-50", "persistent-50", "correlate-100", "csv-2000", "polls/s", "PASS", "ref "} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, table.String())
		}
	}
	if t.Failed() {
		t.Logf("table:\n%s\nstderr:\n%s", table.String(), errb.String())
	}
}

func TestBenchPlan(t *testing.T) {
	names := func(o benchOptions) string {
		plan, err := benchPlan(&o)
		if err != nil {
			return "error: " + err.Error()
		}
		var s []string
		for _, sc := range plan {
			s = append(s, sc.name())
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		o    benchOptions
		want string
	}{
		{benchOptions{}, "fresh-1000,fresh-5000,ncclient-200,persistent-1000,persistent-10000,steady-5mb-100,steady-500b-100,few-lines-100,wan-5000,decode,correlate-10000,csv-1000000,memory-100"},
		{benchOptions{quick: true}, "fresh-50,ncclient-20,persistent-50,steady-5mb-3,steady-500b-3,few-lines-3,wan-50,decode,correlate-100,csv-2000,memory-20"},
		// Group names with a dash: the whole name is the group, or the
		// group and a size.
		{benchOptions{scenarios: []string{"wan-5000", "steady-5mb", "few-lines-3", "steady-500b-7"}}, "steady-5mb-100,steady-500b-7,few-lines-3,wan-5000"},
		{benchOptions{scenarios: []string{"steady-5mb-0"}}, `error: --scenarios: "steady-5mb-0": the size must be a positive number`},
		{benchOptions{scenarios: []string{"steady"}}, `error: --scenarios: unknown scenario "steady" (want fresh, ncclient, persistent, steady-5mb, steady-500b, few-lines, wan, decode, correlate, csv, memory, or group-N)`},
		{benchOptions{scenarios: []string{"steady-5gb"}}, `error: --scenarios: unknown scenario "steady-5gb" (want fresh, ncclient, persistent, steady-5mb, steady-500b, few-lines, wan, decode, correlate, csv, memory, or group-N)`},
		{benchOptions{scenarios: []string{"wan-"}}, `error: --scenarios: "wan-": the size must be a positive number`},
		{benchOptions{scenarios: []string{"csv", "fresh-200", "fresh-200"}, quick: true}, "fresh-200,csv-2000"},
		{benchOptions{scenarios: []string{"Persistent-7"}}, "persistent-7"},
		{benchOptions{scenarios: []string{"decode-3"}}, "error: --scenarios: decode takes no size"},
		{benchOptions{scenarios: []string{"fresh-x"}}, `error: --scenarios: "fresh-x": the size must be a positive number`},
		{benchOptions{scenarios: []string{"warm"}}, `error: --scenarios: unknown scenario "warm" (want fresh, ncclient, persistent, steady-5mb, steady-500b, few-lines, wan, decode, correlate, csv, memory, or group-N)`},
	}
	for _, tt := range tests {
		if got := names(tt.o); got != tt.want {
			t.Errorf("benchPlan(%v, quick %v) = %s, want %s", tt.o.scenarios, tt.o.quick, got, tt.want)
		}
	}
}

// TestBenchNcclientSkip checks that the ncclient scenario is a skipped
// row, not an error, where python3 or ncclient is missing: before any
// fleet is started.
func TestBenchNcclientSkip(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake python is a shell script")
	}
	dir := t.TempDir()
	// A python3 without ncclient, as the script reports it.
	fake := filepath.Join(dir, "python3")
	script := "#!/bin/sh\necho '{\"import_error\": \"No module named ncclient\"}'\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ python, want string }{
		{filepath.Join(dir, "no-such-python"), "not found"},
		{fake, "cannot import ncclient: No module named ncclient"},
	} {
		var out, errb bytes.Buffer
		code := run(t.Context(), []string{"--scenarios", "ncclient-3", "--json", "--dir", filepath.Join(dir, "bench"), "--python", tt.python}, &out, &errb)
		if code != 0 {
			t.Errorf("--python %s: bench exited %d\nstderr:\n%s", tt.python, code, errb.String())
			continue
		}
		var rep benchReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("bench --json: %v\n%s", err, out.String())
		}
		if len(rep.Results) != 1 {
			t.Fatalf("--python %s: %d rows, want 1: %+v", tt.python, len(rep.Results), rep.Results)
		}
		r := rep.Results[0]
		if r.Scenario != "ncclient-3" || r.Error != "" || r.WallSeconds != 0 || !strings.HasPrefix(r.Note, "skipped: ") || !strings.Contains(r.Note, tt.want) {
			t.Errorf("--python %s: row %+v, want a skipped row saying %q", tt.python, r, tt.want)
		}
		if strings.Contains(errb.String(), "simulated routers") {
			t.Errorf("--python %s: a fleet was started:\n%s", tt.python, errb.String())
		}
	}
}

func TestBenchFormat(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{benchNum(1.30), "1.3"},
		{benchNum(10), "10"},
		{benchNum(1234.5), "1234"},
		{benchNum(12345), "12.3k"},
		{benchNum(0.0123), "0.0123"},
		{benchMS(0.25), "250µs"},
		{benchSeconds(0.5), "500ms"},
		{benchBytes(96 << 10), "96 KiB"},
		{benchBytes(-3 << 20), "-3 MiB"},
		{atMost("cpu/ref", 1.42, 1.3, "×").String(), "MISS cpu/ref 1.42× ≤ 1.3×"},
		{atMost("wall", 0.5, 10, "s").String(), "PASS wall 500ms ≤ 10s"},
		{atLeast("MB/CPU-s", 247, 150, "").String(), "PASS MB/CPU-s 247 ≥ 150"},
		{atLeast("MB/CPU-s", 99.5, 100, "").String(), "MISS MB/CPU-s 99.5 ≥ 100"},
		{atMost("rpcs/poll", 7.6, 5, "").String(), "MISS rpcs/poll 7.6 ≤ 5"},
		{profilePath("/tmp/cpu.prof", "fresh-1000"), "/tmp/cpu.fresh-1000.prof"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
