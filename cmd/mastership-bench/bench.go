package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/schedule"
)

// benchOptions are the flags of mastership-bench.
type benchOptions struct {
	quick       bool
	scenarios   []string
	json        bool
	jsonFile    string
	concurrency int
	seed        int64
	samples     string
	dir         string
	keep        bool
	cpuprofile  string
	memprofile  string
	keepalive   time.Duration
	store       string
	maxRSSMiB   int64
	python      string
	// splitKnownHosts gives every device a known_hosts file of its own:
	// a diagnostic of what the agent's per-dial known_hosts cost is.
	splitKnownHosts bool
}

// benchSizes are the default sizes of the scenarios: of the full run, or
// of --quick.
func benchSizes(quick bool) map[string][]int {
	if quick {
		return map[string][]int{
			benchFresh:      {50},
			benchNcclient:   {20},
			benchPersistent: {50},
			benchSteady5MB:  {3},
			benchSteady500B: {3},
			benchFewLines:   {3},
			benchWAN:        {50},
			benchCorrelate:  {100},
			benchCSV:        {2000},
			benchMemory:     {20},
		}
	}
	return map[string][]int{
		benchFresh:      {1000, 5000},
		benchNcclient:   {200},
		benchPersistent: {1000, 10000},
		benchSteady5MB:  {100},
		benchSteady500B: {100},
		benchFewLines:   {100},
		benchWAN:        {5000},
		benchCorrelate:  {10000},
		benchCSV:        {1_000_000},
		benchMemory:     {100},
	}
}

// Scenario groups; a scenario's name is its group and its size
// ("fresh-1000"), except decode, which has none.
const (
	benchFresh      = "fresh"
	benchNcclient   = "ncclient"
	benchPersistent = "persistent"
	benchDecode     = "decode"
	benchCorrelate  = "correlate"
	benchCSV        = "csv"
	// The steady state of issue 17: second polls of routers whose
	// messages file is 5 MB or 500 B and unchanged, or has a few new
	// lines.
	benchSteady5MB  = "steady-5mb"
	benchSteady500B = "steady-500b"
	benchFewLines   = "few-lines"
	// wan-N: a fresh audit of routers behind a 50 ms round trip.
	benchWAN = "wan"
)

// benchGroups are the scenario groups in the order they run.
func benchGroups() []string {
	return []string{benchFresh, benchNcclient, benchPersistent, benchSteady5MB, benchSteady500B, benchFewLines,
		benchWAN, benchDecode, benchCorrelate, benchCSV, benchMemory}
}

func newBenchCommand(a *app) *cobra.Command {
	o := benchOptions{}
	cmd := &cobra.Command{
		Use:   "mastership-bench [flags]",
		Short: "Measure the agent against a simulated fleet and a minimal reference client",
		Long: `mastership-bench starts a simulated fleet of Junos routers in a child
process (this binary, re-executed; several when one cannot hold enough open
files), runs the agent's real code paths against it over SSH on loopback and
prints one table: wall time, polls per second, the agent's CPU per poll
(getrusage of this process only: the simulator is another process),
allocations per poll, peak RSS and RSS per idle persistent session. It is a
development tool: the mastership binary operators install does not contain
it.

Beside each audit it runs a minimal reference client — x/crypto/ssh, password
auth, the netconf subsystem, a hello and the same RPCs with end-of-message
framing, no decoding and no storing — against the same fleet, so the agent's
CPU is also shown as a multiple of that floor.

Scenarios (--scenarios, comma-separated; a group runs its default sizes, and
a size can be given as group-N):
  fresh-N        an audit of N devices, a new session per poll
  ncclient-N     Debian's python3-ncclient (a python3 child, --python, with
                 --concurrency threads) polling N devices as the agent's fresh
                 poll does, beside an agent audit and the reference client on
                 the same fleet: its CPU is the child's, and the target is the
                 agent needing 20× less CPU per poll. Skipped, with a note,
                 where python3 or ncclient is missing
  persistent-N   an audit of N devices on the sessions a first audit opened
  steady-5mb-N   the steady state: N routers whose messages file is 5 MB and
                 unchanged; a first audit, then the second one measured, once
                 with fresh sessions (row …/fresh) and once on the sessions
                 the first left open (…/persistent). Targets: ≤ 5 RPCs and
                 ≤ 32 KiB of replies per poll
  steady-500b-N  the same with 500-byte messages files; with steady-5mb of the
                 same N it adds a row per mode: agent CPU 5 MB/500 B ≤ 1.3×
  few-lines-N    as steady-5mb, but every router logs a few lines between the
                 two audits
  wan-N          a fresh audit of N routers, each behind 50 ms of added round
                 trip on every message (the simulator's rtt fault); target for
                 wan-5000: ≤ 60 s wall
  decode         decoder throughput on the real replies in --samples
  correlate-N    findings over N devices × 30 days of synthetic history
  csv-N          CSV export of N stored events (fill and export in children)

Every audit row also gives the router side, per poll of the measured audit:
RPCs answered, reply bytes sent and the simulator processes' CPU.

The full run (no --scenarios: fresh-1000, fresh-5000, ncclient-200,
persistent-1000, persistent-10000, steady-5mb-100, steady-500b-100,
few-lines-100, wan-5000, decode, correlate-10000, csv-1000000) takes about ten
minutes on two cores; --quick runs tiny sizes of every group. One scenario:
--scenarios wan-5000 (or a group, --scenarios steady-5mb, for its default
size). Targets are printed beside the figures as PASS or MISS. An audit
scenario whose RSS heads past --max-rss-mib is stopped and reported as an
error. Other processes' CPU use during each scenario is measured and the
scenario flagged NOISY when they used a quarter of a core or more. The exit
code is 0 whatever the targets say, 1 if a scenario could not run.`,
		Example: `  go run ./cmd/mastership-bench --json-file bench.json     # the full set, from the repository root
  go run ./cmd/mastership-bench --scenarios wan-5000        # one scenario
  go run ./cmd/mastership-bench --scenarios steady-5mb,steady-500b   # the steady-state targets
  mastership-bench --quick
  mastership-bench --scenarios fresh-1000,persistent --cpuprofile /tmp/cpu.prof
  mastership-bench --json > bench.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.bench(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "tiny sizes (CI): fresh-50, ncclient-20, persistent-50, steady-5mb-3, steady-500b-3, few-lines-3, wan-50, correlate-100, csv-2000")
	f.StringSliceVar(&o.scenarios, "scenarios", nil, "scenarios to run: fresh, ncclient, persistent, steady-5mb, steady-500b, few-lines, wan, decode, correlate, csv, or group-N (default: all)")
	f.BoolVar(&o.json, "json", false, "print the results as JSON instead of a table")
	f.StringVar(&o.jsonFile, "json-file", "", "also write the results as JSON to `FILE`")
	f.IntVar(&o.concurrency, "concurrency", schedule.DefaultConcurrency, "devices polled at once, by the agent and the reference client (as mastership's --concurrency); ncclient runs at most 32 threads")
	f.Int64Var(&o.seed, "seed", 1, "seed of the simulated fleets and the synthetic history")
	f.StringVar(&o.samples, "samples", filepath.Join("..", "shared", "junos-samples", "rpc"), "directory of real Junos replies for the decode scenario (the default is the shared checkout beside the repository, from its root)")
	f.StringVar(&o.dir, "dir", "", "working directory for databases and inventories (default: a new temporary directory, removed at the end)")
	f.BoolVar(&o.keep, "keep", false, "keep the working directory")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of each measured agent audit to `FILE` with the scenario name before the extension")
	f.StringVar(&o.memprofile, "memprofile", "", "write a heap profile of the idle persistent sessions to `FILE` with the scenario name before the extension")
	f.StringVar(&o.store, "store", "", "store the audit scenarios write to, e.g. postgres://… (default: an SQLite file per scenario in the working directory)")
	f.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "SSH keepalive interval of the idle persistent sessions (as mastership run)")
	f.BoolVar(&o.splitKnownHosts, "split-known-hosts", false, "diagnostic: give every device a one-line known_hosts file of its own, to measure what reading the whole file per dial costs")
	f.StringVar(&o.python, "python", "", "python3 with ncclient for the ncclient scenario (default: /usr/bin/python3, Debian's, else python3 on PATH)")
	f.Int64Var(&o.maxRSSMiB, "max-rss-mib", 0, "abort an audit scenario when this process's RSS passes this many MiB (default: half the RAM; -1: never)")
	cmd.AddCommand(newBenchSimCommand(a), newBenchFillCommand(a), newBenchExportCommand(a), newBenchSimMemoryCommand(a))
	return cmd
}

// benchScenario is one scenario to run.
type benchScenario struct {
	group string
	size  int // 0 for decode
}

func (s benchScenario) name() string {
	if s.group == benchDecode {
		return s.group
	}
	return s.group + "-" + strconv.Itoa(s.size)
}

// benchPlan turns --scenarios into the scenarios to run: by group in the
// order of benchGroups, each size once, in the order given.
func benchPlan(o *benchOptions) ([]benchScenario, error) {
	sizes, groups := benchSizes(o.quick), benchGroups()
	want := o.scenarios
	if len(want) == 0 {
		want = groups
	}
	picked := map[string][]int{}
	for _, w := range want {
		w = strings.ToLower(strings.TrimSpace(w))
		// Group names may hold a dash (steady-5mb): the group is the
		// longest one the name is, or starts with followed by "-".
		group, size, hasSize := "", "", false
		for _, g := range groups {
			if len(g) <= len(group) {
				continue
			}
			if w == g {
				group, size, hasSize = g, "", false
			} else if rest, ok := strings.CutPrefix(w, g+"-"); ok {
				group, size, hasSize = g, rest, true
			}
		}
		if group == "" {
			return nil, fmt.Errorf("--scenarios: unknown scenario %q (want %s, or group-N)", w, strings.Join(groups, ", "))
		}
		switch {
		case group == benchDecode && hasSize:
			return nil, fmt.Errorf("--scenarios: decode takes no size")
		case group == benchDecode:
			picked[group] = []int{0}
		case hasSize:
			n, err := strconv.Atoi(size)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("--scenarios: %q: the size must be a positive number", w)
			}
			picked[group] = append(picked[group], n)
		default:
			picked[group] = append(picked[group], sizes[group]...)
		}
	}
	var plan []benchScenario
	for _, g := range groups {
		seen := map[int]bool{}
		for _, n := range picked[g] {
			if !seen[n] {
				seen[n] = true
				plan = append(plan, benchScenario{group: g, size: n})
			}
		}
	}
	return plan, nil
}

// benchResult is one row of the table.
type benchResult struct {
	Scenario    string  `json:"scenario"`
	Size        int     `json:"size"`
	Unit        string  `json:"unit"` // what Size counts: devices, replies, rows
	Concurrency int     `json:"concurrency,omitempty"`
	WallSeconds float64 `json:"wall_seconds"`
	Rate        float64 `json:"rate"`
	RateUnit    string  `json:"rate_unit"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	// CPUPerOp is the client's CPU per poll (audits), per reply (decode),
	// per device (correlate) or per row (csv), in milliseconds.
	CPUPerOpMS float64 `json:"cpu_per_op_ms"`
	OpName     string  `json:"op"`
	// RefCPUPerOpMS is the reference client's CPU per poll, measured
	// against the same fleet at the same moment; RefRatio is
	// CPUPerOpMS/RefCPUPerOpMS.
	RefCPUPerOpMS float64 `json:"ref_cpu_per_op_ms,omitempty"`
	RefRatio      float64 `json:"ref_ratio,omitempty"`
	AllocsPerOp   float64 `json:"allocs_per_op,omitempty"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes,omitempty"`
	// RSSPerSessionBytes is the VmRSS growth per idle open session;
	// RefRSSPerSessionBytes the reference client's.
	// The router side of an audit, per poll: the RPCs the simulated
	// routers answered (close-session not counted), the reply bytes they
	// sent, and the simulator processes' CPU (getrusage of the children,
	// measured around the audit).
	RouterRPCsPerPoll       float64      `json:"router_rpcs_per_poll,omitempty"`
	RouterReplyBytesPerPoll float64      `json:"router_reply_bytes_per_poll,omitempty"`
	RouterCPUPerPollMS      float64      `json:"router_cpu_per_poll_ms,omitempty"`
	RSSPerSessionBytes      int64        `json:"rss_per_session_bytes,omitempty"`
	RefRSSPerSessionBytes   int64        `json:"ref_rss_per_session_bytes,omitempty"`
	OK                      int          `json:"ok"`
	Failed                  int          `json:"failed"`
	RefOK                   int          `json:"ref_ok,omitempty"`
	RefFailed               int          `json:"ref_failed,omitempty"`
	Targets                 []benchCheck `json:"targets,omitempty"`
	// OtherCores is how many cores other processes (not the bench, not
	// its children) kept busy on average during the scenario: the noise
	// in its figures.
	OtherCores float64 `json:"other_cores"`
	Note       string  `json:"note,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// benchCheck is one target and whether the figure met it.
type benchCheck struct {
	Name  string  `json:"name"`
	Limit float64 `json:"limit"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Pass  bool    `json:"pass"`
	// AtLeast: the figure must reach Limit, not stay under it.
	AtLeast bool `json:"at_least,omitempty"`
}

func (c benchCheck) String() string {
	verdict := "MISS"
	if c.Pass {
		verdict = "PASS"
	}
	op := "≤"
	if c.AtLeast {
		op = "≥"
	}
	return fmt.Sprintf("%s %s %s %s %s", verdict, c.Name, benchValue(c.Value, c.Unit), op, benchValue(c.Limit, c.Unit))
}

// atLeast returns the check value ≥ limit.
func atLeast(name string, value, limit float64, unit string) benchCheck {
	return benchCheck{Name: name, Limit: limit, Value: value, Unit: unit, Pass: value >= limit, AtLeast: true}
}

// atMost returns the check value ≤ limit.
func atMost(name string, value, limit float64, unit string) benchCheck {
	return benchCheck{Name: name, Limit: limit, Value: value, Unit: unit, Pass: value <= limit}
}

// benchReport is what --json prints.
type benchReport struct {
	Machine  benchMachine  `json:"machine"`
	Started  time.Time     `json:"started"`
	Command  string        `json:"command"`
	Results  []benchResult `json:"results"`
	Duration float64       `json:"duration_seconds"`
	LoadEnd  string        `json:"loadavg_end,omitempty"`
}

// bencher runs the scenarios of one mastership-bench.
type bencher struct {
	app   *app // the app whose logger writes through out's lock
	o     *benchOptions
	dir   string
	log   *slog.Logger
	out   *benchLockedWriter // stderr, shared with the children's stderr
	level string
	// maxRSS is the memory guard of the audit scenarios, in bytes; ≤ 0:
	// none.
	maxRSS int64
	// childCPU is the CPU time of the children that have exited.
	childCPU atomic.Int64
}

func (a *app) bench(ctx context.Context, o *benchOptions) error {
	if o.concurrency < 1 {
		return usageError(errors.New("--concurrency must be at least 1"))
	}
	plan, err := benchPlan(o)
	if err != nil {
		return usageError(err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		level = slog.LevelWarn
	}
	// The children's stderr is copied by exec's goroutines: everything
	// written to stderr from here on goes through one lock.
	lw := &benchLockedWriter{w: a.stderr}
	ba := *a
	ba.stderr = lw
	ba.log = slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level}))
	b := &bencher{app: &ba, o: o, log: ba.log, out: lw, level: a.logLevel, maxRSS: o.maxRSSMiB << 20}
	if o.maxRSSMiB == 0 {
		b.maxRSS = benchMemTotal() / 2
	}
	if lim, err := benchRaiseFileLimit(0); err == nil {
		b.log.Debug("open files limit", "limit", lim)
	}

	b.dir = o.dir
	if b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "mastership-bench-"); err != nil {
			return fmt.Errorf("bench directory: %w", err)
		}
		if !o.keep {
			defer os.RemoveAll(b.dir)
		}
	} else if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return fmt.Errorf("bench directory: %w", err)
	}

	rep := benchReport{Machine: benchMachineInfo(), Started: time.Now().UTC(), Command: benchCommandLine(a.args)}
	b.logf("machine: %s", rep.Machine)
	failed := 0
	for _, sc := range plan {
		if ctx.Err() != nil {
			break
		}
		b.logf("%s: start (load %s)", sc.name(), benchLoadAvg())
		began := time.Now()
		busy, self, children := benchSystemBusy(), benchProcessCPU(), b.childCPU.Load()
		rows, err := b.runScenario(ctx, sc)
		others := 0.0
		if busy > 0 {
			used := benchSystemBusy() - busy - (benchProcessCPU() - self) - time.Duration(b.childCPU.Load()-children)
			others = max(0, used.Seconds()/time.Since(began).Seconds())
		}
		if err != nil {
			failed++
			if len(rows) == 0 {
				rows = []benchResult{{}}
			}
			rows[len(rows)-1].Error = err.Error()
			b.logf("%s: FAILED after %s: %v", sc.name(), time.Since(began).Round(time.Millisecond), err)
		} else {
			b.logf("%s: done in %s", sc.name(), time.Since(began).Round(time.Millisecond))
		}
		for _, r := range rows {
			if r.Scenario == "" {
				r.Scenario = sc.name()
			}
			r.OtherCores = others
			rep.Results = append(rep.Results, r)
		}
		if others >= 0.25 {
			b.logf("%s: other processes kept %.2f cores busy meanwhile: its figures are noisy", sc.name(), others)
		}
	}
	rep.Results = append(rep.Results, benchSteadyRatios(rep.Results)...)
	rep.Duration = time.Since(rep.Started).Seconds()
	rep.LoadEnd = benchLoadAvg()
	if o.jsonFile != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(o.jsonFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			return fmt.Errorf("--json-file: %w", err)
		}
	}
	if o.json {
		if err := writeJSON(a.stdout, rep); err != nil {
			return err
		}
	} else if err := writeBenchTable(a.stdout, rep); err != nil {
		return err
	}
	if o.keep {
		b.logf("working directory kept: %s", b.dir)
	}
	if err := ctx.Err(); err != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("bench interrupted: %w", err)}
	}
	if failed > 0 {
		return &exitError{Code: 1, Err: fmt.Errorf("%d of %d scenarios failed", failed, len(plan))}
	}
	return nil
}

// runScenario runs one scenario; it gives one row, decode one per RPC.
func (b *bencher) runScenario(ctx context.Context, sc benchScenario) ([]benchResult, error) {
	var run func(context.Context, benchScenario) (benchResult, error)
	switch sc.group {
	case benchFresh:
		run = b.runFresh
	case benchNcclient:
		run = b.runNcclient
	case benchPersistent:
		run = b.runPersistent
	case benchDecode:
		return b.runDecode(ctx)
	case benchCorrelate:
		run = b.runCorrelate
	case benchCSV:
		run = b.runCSV
	case benchWAN:
		run = b.runFresh
	case benchSteady5MB, benchSteady500B, benchFewLines:
		return b.runSteady(ctx, sc)
	case benchMemory:
		run = b.runMemory
	default:
		return nil, fmt.Errorf("unknown scenario group %q", sc.group)
	}
	r, err := run(ctx, sc)
	return []benchResult{r}, err
}

// logf writes one progress line to stderr.
func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "bench: "+format+"\n", args...)
}

// benchLockedWriter serialises writes to w.
type benchLockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *benchLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// benchCommandLine is the command as run, for the record.
func benchCommandLine(args []string) string {
	return strings.Join(append([]string{"mastership-bench"}, args...), " ")
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// profilePath inserts the scenario name before path's extension:
// cpu.prof → cpu.fresh-1000.prof.
func profilePath(path, scenario string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + scenario + ext
}

// benchMachine describes where the figures were measured.
type benchMachine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	MemTotal  string `json:"mem_total,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
	LoadStart string `json:"loadavg_start,omitempty"`
}

func (m benchMachine) String() string {
	parts := []string{fmt.Sprintf("%d CPUs", m.CPUs)}
	for _, s := range []string{m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion + " " + m.Platform} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if m.LoadStart != "" {
		parts = append(parts, "load "+m.LoadStart)
	}
	return strings.Join(parts, ", ")
}

func benchMachineInfo() benchMachine {
	m := benchMachine{
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		LoadStart: benchLoadAvg(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if total := benchMemTotal(); total > 0 {
		m.MemTotal = fmt.Sprintf("%.1f GiB RAM", float64(total)/(1<<30))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// benchSystemBusy is the CPU time all processes have used since boot
// (/proc/stat: user, nice, system, irq, softirq, steal), 0 where unknown.
func benchSystemBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux the Go runtime supports.
	return time.Duration(ticks) * 10 * time.Millisecond
}

// benchMemTotal is the machine's RAM in bytes, 0 where unknown.
func benchMemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// benchLoadAvg is the 1, 5 and 15 minute load average, "" where unknown.
func benchLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// storeFor is the DSN a scenario's audit writes to: --store, else an
// SQLite file of its own.
func (b *bencher) storeFor(scenario string) string {
	if b.o.store != "" {
		return b.o.store
	}
	return filepath.Join(b.dir, scenario, "mastership.db")
}
