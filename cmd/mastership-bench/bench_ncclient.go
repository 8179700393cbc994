package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos"
)

// The ncclient scenario measures a NETCONF client people actually use
// beside the agent: Debian's python3-ncclient (the library under Juniper's
// PyEZ) polling a simulated fleet with a new session per poll, from one
// python3 child running bench_ncclient.py with a thread pool of
// --concurrency, at most benchNcclientMaxThreads. Its CPU is the child's user+sys (os.ProcessState, the
// child only), less what the interpreter spent starting and importing
// before the first connect (the script reports it).
//
// The agent's CPU per poll it is compared with is always measured in the
// scenario itself: an agent audit of the same fleet, a new session per
// poll, just before ncclient polls it, so both figures come from the same
// fleet under the same load. (A fresh-N row of the same run would be a
// different fleet at a different moment; the extra audit costs a few
// milliseconds of CPU per device.) The reference client polls the fleet
// too, for the REF column: ×REF is ncclient's CPU per poll over the floor.

//go:embed bench_ncclient.py
var benchNcclientScript string // a string: embedded, immutable

const (
	// benchNcclientMinRatio is the target of issue 7: the agent needs at
	// least 20× less client CPU per fresh poll than ncclient.
	benchNcclientMinRatio = 20.0
	// benchNcclientPython is Debian's interpreter, which sees
	// python3-ncclient; a python3 earlier on PATH (pyenv, a venv) may not.
	benchNcclientPython = "/usr/bin/python3"
	// benchNcclientImportExit is the script's exit status when ncclient,
	// paramiko or lxml cannot be imported.
	benchNcclientImportExit = 3
	// benchNcclientTimeout is ncclient's connect and RPC timeout, in
	// seconds.
	benchNcclientTimeout = 30
)

// benchNcclientDevice is one device of the script's request.
type benchNcclientDevice struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	SSHConfig string `json:"ssh_config"`
}

// benchNcclientRequest is what the script reads on stdin.
type benchNcclientRequest struct {
	Concurrency int                   `json:"concurrency"`
	Timeout     int                   `json:"timeout"`
	RPCs        []string              `json:"rpcs"`
	Replication string                `json:"replication"` // asked after RPCs where the agent would
	Devices     []benchNcclientDevice `json:"devices"`
}

// benchNcclientLine is one JSON line the script prints on stdout.
type benchNcclientLine struct {
	ImportError string            `json:"import_error"`
	Error       string            `json:"error"`
	Traceback   string            `json:"traceback"`
	Versions    map[string]string `json:"versions"`
	Python      string            `json:"python"`
	Ready       bool              `json:"ready"`
	Done        bool              `json:"done"`
	CPU         float64           `json:"cpu"` // seconds, the script's so far
	PeakRSS     int64             `json:"peak_rss"`
	Results     []struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"results"`
}

// benchNcclientRun is what one ncclient pass measured.
type benchNcclientRun struct {
	wall, cpu, startCPU time.Duration
	peakRSS             int64
	ok, failed          int
	firstErr            string
}

// pythonPath is the interpreter of the ncclient scenario: --python, else
// Debian's /usr/bin/python3, else python3 on PATH; "" when there is none.
func (b *bencher) pythonPath() string {
	if b.o.python != "" {
		if p, err := exec.LookPath(b.o.python); err == nil {
			return p
		}
		return ""
	}
	if _, err := os.Stat(benchNcclientPython); err == nil {
		return benchNcclientPython
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	return ""
}

// ncclientCommand is python running script with args, in a clean
// environment: HOME in dir (ncclient also reads ~/.ssh/known_hosts, which
// must not decide anything), no site packages of the caller's but
// PYTHONPATH.
func (b *bencher) ncclientCommand(ctx context.Context, python, script, dir string, args ...string) (*exec.Cmd, error) {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	if pp := os.Getenv("PYTHONPATH"); pp != "" {
		cmd.Env = append(cmd.Env, "PYTHONPATH="+pp)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// probeNcclient writes the script into dir and checks that python can
// import ncclient. skip says why the scenario cannot run on this machine
// (no python3, no ncclient): a note, not an error.
func (b *bencher) probeNcclient(ctx context.Context, dir string) (python, script, versions, skip string, err error) {
	python = b.pythonPath()
	if python == "" {
		what := "python3"
		if b.o.python != "" {
			what = "--python " + b.o.python
		}
		return "", "", "", fmt.Sprintf("skipped: %s not found (Debian: apt-get install python3-ncclient)", what), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", "", err
	}
	script = filepath.Join(dir, "bench_ncclient.py")
	if err := os.WriteFile(script, []byte(benchNcclientScript), 0o600); err != nil {
		return "", "", "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd, err := b.ncclientCommand(ctx, python, script, dir, "--probe")
	if err != nil {
		return "", "", "", "", err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	b.countChild(cmd)
	var line benchNcclientLine
	jerr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &line)
	var exit *exec.ExitError
	switch {
	case jerr == nil && line.ImportError != "" && errors.As(runErr, &exit) && exit.ExitCode() == benchNcclientImportExit:
		return "", "", "", fmt.Sprintf("skipped: %s cannot import ncclient: %s (Debian: apt-get install python3-ncclient, or .ci/interop/install.sh)", python, line.ImportError), nil
	case runErr != nil:
		return "", "", "", "", fmt.Errorf("%s %s --probe: %v: %s%s", python, script, runErr, bytes.TrimSpace(stdout.Bytes()), benchTail(stderr.Bytes()))
	case jerr != nil:
		return "", "", "", "", fmt.Errorf("%s %s --probe: output is not JSON (%v): %s%s", python, script, jerr, bytes.TrimSpace(stdout.Bytes()), benchTail(stderr.Bytes()))
	}
	v := line.Versions
	versions = fmt.Sprintf("ncclient %s (paramiko %s, lxml %s) on %s %s", v["ncclient"], v["paramiko"], v["lxml"], python, line.Python)
	return python, script, versions, "", nil
}

// runNcclient polls a fleet of fresh-session devices with the reference
// client, the agent and ncclient, one after the other, and gives
// ncclient's row: its rate and CPU per poll, the reference's beside it,
// and how many times less CPU per poll the agent needed.
// benchNcclientMaxThreads caps ncclient's threads: Python's run one at a
// time (the GIL), so more only contend, and its figures stay comparable
// with those measured at 32 before the agent's default concurrency rose.
const benchNcclientMaxThreads = 32

// ncclientThreads is how many threads the ncclient child polls with.
func (b *bencher) ncclientThreads() int { return min(b.o.concurrency, benchNcclientMaxThreads) }

func (b *bencher) runNcclient(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "devices", Concurrency: b.o.concurrency}
	dir := filepath.Join(b.dir, sc.name())
	python, script, versions, skip, err := b.probeNcclient(ctx, filepath.Join(dir, "ncclient"))
	if err != nil || skip != "" {
		r.Note = skip
		return r, err
	}

	fl, err := b.fleet(ctx, sc, benchSimSpec{}, uint64(b.o.concurrency)*2+256)
	if err != nil {
		return r, err
	}
	defer fl.stop()
	devs := fl.devs
	ctx, stopGuard := benchGuard(ctx, b.maxRSS, nil)
	defer stopGuard()

	refRun, err := b.refFresh(ctx, sc, devs, &r)
	if err != nil {
		return r, err
	}
	r.RefCPUPerOpMS = refRun.span.CPU.Seconds() * 1000 / float64(len(devs))

	b.logf("%s: agent audit, a session per poll", sc.name())
	var agent benchResult
	if err := b.agentFresh(ctx, sc, fl, &agent); err != nil {
		return r, fmt.Errorf("agent audit: %w", err)
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	if agent.Failed > 0 {
		r.Note = benchJoin(r.Note, fmt.Sprintf("agent: %d of %d polls failed: %s", agent.Failed, len(devs), agent.Note))
	}

	b.logf("%s: ncclient, %d threads (python child)", sc.name(), b.ncclientThreads())
	before, err := fl.cost(ctx)
	if err != nil {
		return r, err
	}
	run, err := b.ncclientPoll(ctx, python, script, filepath.Join(dir, "ncclient"), devs)
	if err != nil {
		return r, fmt.Errorf("ncclient: %w", err)
	}
	after, err := fl.cost(ctx)
	if err != nil {
		return r, err
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	n := float64(len(devs))
	router := after.sub(before)
	r.RouterRPCsPerPoll = float64(router.RPCs) / n
	r.RouterReplyBytesPerPoll = float64(router.ReplyBytes) / n
	r.RouterCPUPerPollMS = float64(router.CPUNanos) / 1e6 / n
	r.WallSeconds = run.wall.Seconds()
	r.CPUSeconds = run.cpu.Seconds()
	r.Rate, r.RateUnit = n/run.wall.Seconds(), "polls"
	r.CPUPerOpMS, r.OpName = run.cpu.Seconds()*1000/n, "poll"
	r.PeakRSSBytes = run.peakRSS
	r.OK, r.Failed = run.ok, run.failed
	if r.RefCPUPerOpMS > 0 {
		r.RefRatio = r.CPUPerOpMS / r.RefCPUPerOpMS
	}
	if run.firstErr != "" {
		r.Note = benchJoin(r.Note, "first failed ncclient poll: "+run.firstErr)
	}
	// The target as a share, so that it reads "≤" as the others do:
	// needing 20× less CPU is using at most 5% of ncclient's.
	if agent.CPUPerOpMS > 0 && r.CPUPerOpMS > 0 {
		less := r.CPUPerOpMS / agent.CPUPerOpMS
		r.Targets = append(r.Targets, atMost("agent/ncclient cpu/poll", 100*agent.CPUPerOpMS/r.CPUPerOpMS, 100/benchNcclientMinRatio, "%"))
		r.Note = benchJoin(r.Note, fmt.Sprintf("the agent needs %s× less CPU per poll than ncclient (target ≥ %s×): %s/poll in its audit of the same fleet just before, %d/%d ok, %s wall",
			benchNum(less), benchNum(benchNcclientMinRatio), benchMS(agent.CPUPerOpMS), agent.OK, len(devs), benchSeconds(agent.WallSeconds)))
	}
	r.Note = benchJoin(r.Note, fmt.Sprintf("%s, Junos handler, %d threads; CPU and wall are the python child's after its start and imports (%s CPU, not counted)",
		versions, b.ncclientThreads(), benchSeconds(run.startCPU.Seconds())))
	b.logf("%s: ncclient took %s; stopping the simulator", sc.name(), benchSeconds(r.WallSeconds))
	return r, nil
}

// ncclientPoll runs the script against devs and measures it: wall time
// from its ready line to its exit, CPU (os.ProcessState) less what it had
// used when ready.
func (b *bencher) ncclientPoll(ctx context.Context, python, script, dir string, devs []inventory.Device) (benchNcclientRun, error) {
	var run benchNcclientRun
	req := benchNcclientRequest{Concurrency: b.ncclientThreads(), Timeout: benchNcclientTimeout, RPCs: benchRefFirstRPCs(), Replication: junos.RPCReplicationState}
	// ncclient reads known_hosts through an OpenSSH client config, as a
	// user pointing it at the fleet would: one config per known_hosts
	// file.
	configs := map[string]string{}
	passwords := map[inventory.Auth]string{}
	for _, d := range devs {
		cfg, ok := configs[d.KnownHosts]
		if !ok {
			cfg = filepath.Join(dir, fmt.Sprintf("ssh_config.%d", len(configs)))
			if err := os.WriteFile(cfg, fmt.Appendf(nil, "Host *\n    UserKnownHostsFile %s\n", d.KnownHosts), 0o600); err != nil {
				return run, err
			}
			configs[d.KnownHosts] = cfg
		}
		pw, ok := passwords[d.Auth]
		if !ok {
			s, err := d.Auth.Password()
			if err != nil {
				return run, fmt.Errorf("%s: %w", d.Name, err)
			}
			pw = s.Reveal()
			passwords[d.Auth] = pw
		}
		req.Devices = append(req.Devices, benchNcclientDevice{
			Name: d.Name, Host: d.Host, Port: d.Port, Username: d.Username, Password: pw, SSHConfig: cfg,
		})
	}
	in, err := json.Marshal(req)
	if err != nil {
		return run, err
	}

	// At the 35 polls/s, 200 devices take 6 s: give a loaded
	// machine ten times that, and the start.
	ctx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(len(devs))*300*time.Millisecond)
	defer cancel()
	cmd, err := b.ncclientCommand(ctx, python, script, dir)
	if err != nil {
		return run, err
	}
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run, err
	}
	if err := cmd.Start(); err != nil {
		return run, err
	}
	var (
		ready, done benchNcclientLine
		readyAt     time.Time
		scanErr     error
	)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		var line benchNcclientLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			scanErr = fmt.Errorf("output is not JSON (%v): %.300s", err, sc.Bytes())
			break
		}
		switch {
		case line.Ready:
			ready, readyAt = line, time.Now()
		case line.Done:
			done = line
		case line.Error != "":
			scanErr = fmt.Errorf("%s\n%s", line.Error, line.Traceback)
		}
	}
	if scanErr == nil {
		scanErr = sc.Err()
	}
	// Wait must not run before the pipe has been read to the end.
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	end := time.Now()
	b.countChild(cmd)
	switch {
	case scanErr != nil:
		return run, fmt.Errorf("%v%s", scanErr, benchTail(stderr.Bytes()))
	case waitErr != nil:
		return run, fmt.Errorf("%v%s", waitErr, benchTail(stderr.Bytes()))
	case !ready.Ready || !done.Done:
		return run, fmt.Errorf("the script ended without its results%s", benchTail(stderr.Bytes()))
	}
	ps := cmd.ProcessState
	run.startCPU = time.Duration(ready.CPU * float64(time.Second))
	run.cpu = ps.UserTime() + ps.SystemTime() - run.startCPU
	run.wall = end.Sub(readyAt)
	run.peakRSS = done.PeakRSS

	seen := map[string]bool{}
	for _, res := range done.Results {
		seen[res.Name] = true
		if res.OK {
			run.ok++
			continue
		}
		run.failed++
		if run.firstErr == "" {
			run.firstErr = res.Name + ": " + res.Error
		}
	}
	for _, d := range devs {
		if !seen[d.Name] {
			run.failed++
			if run.firstErr == "" {
				run.firstErr = d.Name + ": not polled"
			}
		}
	}
	return run, nil
}

// benchTail is the end of a child's stderr, for an error message.
func benchTail(stderr []byte) string {
	s := strings.TrimSpace(string(stderr))
	if s == "" {
		return ""
	}
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return "\nstderr:\n" + s
}
