package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// benchSimReady is the line the simulator child prints once its fleet is
// up, followed by the inventory path.
const benchSimReady = "junossim inventory "

// benchSimReply starts every line the simulator child answers a command
// with on stdout.
const benchSimReply = "junossim reply "

// benchSimStats is what the simulator child answers "stats" with: the
// fleet's cost to the routers so far (netconftest.SessionStats summed over
// the fleet) and the child's own CPU time, getrusage(RUSAGE_SELF) user+sys.
// The parent takes it before and after an audit: the difference is what
// the audit cost the routers.
type benchSimStats struct {
	Sessions   int64 `json:"sessions"`
	RPCs       int64 `json:"rpcs"`
	ReplyBytes int64 `json:"reply_bytes"`
	CPUNanos   int64 `json:"cpu_ns"`
}

func (s benchSimStats) add(o benchSimStats) benchSimStats {
	return benchSimStats{Sessions: s.Sessions + o.Sessions, RPCs: s.RPCs + o.RPCs,
		ReplyBytes: s.ReplyBytes + o.ReplyBytes, CPUNanos: s.CPUNanos + o.CPUNanos}
}

func (s benchSimStats) sub(o benchSimStats) benchSimStats {
	return benchSimStats{Sessions: s.Sessions - o.Sessions, RPCs: s.RPCs - o.RPCs,
		ReplyBytes: s.ReplyBytes - o.ReplyBytes, CPUNanos: s.CPUNanos - o.CPUNanos}
}

// benchSimLogLine is what "log N" writes N times into every router's
// messages file: a real line shape (sshd's accepted login, as in the
// samples' re-crash-context.log, and as each fresh session leaves on a
// real router), which no rule of the agent's matches.
const benchSimLogLine = "sshd[4242]: Accepted publickey for netconf from 192.0.2.10 port 50022 ssh2"

// newBenchSimCommand is `mastership-bench sim`, hidden: the simulator
// child. It runs junossim.Generate(devices, seed) on loopback, writes the
// inventory into --dir, prints where, and then answers the commands the
// parent writes on its stdin, one a line, until stdin reaches EOF (the
// parent closed it, or died) or it is interrupted:
//
//	stats   one line "junossim reply {benchSimStats as JSON}"
//	log N   N lines appended to every router's messages, then
//	        "junossim reply {}"
func newBenchSimCommand(a *app) *cobra.Command {
	var (
		n       int
		seed    int64
		dir     string
		timeout time.Duration
		fill    int
		rtt     time.Duration
	)
	cmd := &cobra.Command{
		Use:    "sim --devices N --dir DIR",
		Short:  "The simulator child of bench (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n <= 0 || dir == "" {
				return usageError(errors.New("--devices and --dir are required"))
			}
			if fill < 0 || rtt < 0 {
				return usageError(errors.New("--log-fill-bytes and --rtt must not be negative"))
			}
			// A listener per router and a connection per session.
			if _, err := benchRaiseFileLimit(uint64(2*n + 256)); err != nil {
				a.log.Debug("open files limit not raised", "error", err)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			sc := junossim.Generate(n, seed)
			for i := range sc.Devices {
				sc.Devices[i].LogFillBytes = fill
				if rtt > 0 {
					sc.Devices[i].Faults = &junossim.Faults{RTT: rtt}
				}
			}
			fleet, err := junossim.Start(ctx, sc, junossim.Options{Logger: a.log, InventoryTimeout: timeout})
			if err != nil {
				return fmt.Errorf("start %d simulated routers: %w", n, err)
			}
			defer fleet.Close()
			inv := filepath.Join(dir, "devices.yaml")
			if err := fleet.WriteInventory(inv); err != nil {
				return fmt.Errorf("write the simulator's inventory: %w", err)
			}
			fmt.Fprintln(a.stdout, benchSimReady+inv)
			go func() {
				defer cancel() // EOF on stdin: the parent is done or gone.
				sc := bufio.NewScanner(os.Stdin)
				for sc.Scan() {
					reply, err := benchSimAnswer(fleet, sc.Text())
					if err != nil {
						a.log.Error("bench simulator: command refused", "command", sc.Text(), "error", err)
						reply = []byte(`{"error":` + strconv.Quote(err.Error()) + `}`)
					}
					fmt.Fprintf(a.stdout, "%s%s\n", benchSimReply, reply)
				}
			}()
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "devices", 0, "routers to simulate")
	f.Int64Var(&seed, "seed", 1, "seed of junossim.Generate")
	f.StringVar(&dir, "dir", "", "directory of the inventory")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "per-device timeout written in the inventory")
	f.IntVar(&fill, "log-fill-bytes", 0, "fill every router's messages file to about this many bytes (Device.LogFillBytes)")
	f.DurationVar(&rtt, "rtt", 0, "added round-trip time of every router (the rtt fault)")
	return cmd
}

// benchSimAnswer runs one command of the parent's on fleet.
func benchSimAnswer(fleet *junossim.Fleet, line string) ([]byte, error) {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case "stats":
		t := fleet.Totals()
		return json.Marshal(benchSimStats{Sessions: t.ID, RPCs: int64(t.RPCs), ReplyBytes: t.ReplyBytes,
			CPUNanos: int64(benchProcessCPU())})
	case "log":
		lines, err := strconv.Atoi(arg)
		if err != nil || lines < 0 {
			return nil, fmt.Errorf("log %q: want a number of lines", arg)
		}
		for _, d := range fleet.Devices() {
			r := fleet.Router(d.Name)
			if r == nil {
				continue
			}
			for range lines {
				if err := r.Apply(junossim.Event{Kind: junossim.EventLog, Text: benchSimLogLine}); err != nil {
					return nil, fmt.Errorf("%s: log a line: %w", d.Name, err)
				}
			}
		}
		return []byte("{}"), nil
	}
	return nil, fmt.Errorf("unknown command %q", verb)
}

// benchChild is a child process of bench: this binary re-executed.
type benchChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the child has exited
	err   error         // Wait's result, set before done closes
	// replies are the simulator's answers to its commands, in order;
	// askMu keeps one command in flight.
	replies chan string
	askMu   sync.Mutex
}

// benchCommand is this binary with args, ending when ctx does.
func benchCommand(ctx context.Context, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("re-execute this binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second // then killed
	return cmd, nil
}

// benchSimSpec is what a scenario's routers are like beyond
// junossim.Generate's healthy fleet.
type benchSimSpec struct {
	logFillBytes int           // messages filled to about this size
	rtt          time.Duration // the rtt fault on every router
}

// startSim starts a simulator child of n routers, junossim.Generate(n,
// seed) as spec says, whose inventory goes in dir, and returns it with the
// inventory path once the fleet is up.
func (b *bencher) startSim(ctx context.Context, dir string, n int, seed int64, spec benchSimSpec) (*benchChild, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	cmd, err := benchCommand(ctx, "sim", "--devices", strconv.Itoa(n),
		"--seed", strconv.FormatInt(seed, 10), "--dir", dir, "--log-level", b.level,
		"--log-fill-bytes", strconv.Itoa(spec.logFillBytes), "--rtt", spec.rtt.String())
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = b.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start simulator: %w", err)
	}
	c := &benchChild{cmd: cmd, stdin: stdin, done: make(chan struct{}), replies: make(chan string, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if inv, ok := strings.CutPrefix(sc.Text(), benchSimReady); ok {
				lines <- inv
			} else if reply, ok := strings.CutPrefix(sc.Text(), benchSimReply); ok {
				c.replies <- reply // ask holds askMu until it has taken it
			}
		}
		// Wait must not run before the pipe has been read to the end.
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		b.countChild(cmd)
		close(c.done)
	}()
	// Ten thousand routers start in seconds; a loaded machine is slower.
	timer := time.NewTimer(3*time.Minute + time.Duration(n)*time.Millisecond)
	defer timer.Stop()
	select {
	case inv := <-lines:
		return c, inv, nil
	case <-c.done:
		return nil, "", fmt.Errorf("simulator of %d routers exited before it was ready: %v", n, c.err)
	case <-timer.C:
		c.stop()
		return nil, "", fmt.Errorf("simulator of %d routers not ready in time", n)
	case <-ctx.Done():
		c.stop()
		return nil, "", ctx.Err()
	}
}

// ask sends the simulator child one command and returns its answer.
func (c *benchChild) ask(ctx context.Context, command string) (string, error) {
	c.askMu.Lock()
	defer c.askMu.Unlock()
	if _, err := io.WriteString(c.stdin, command+"\n"); err != nil {
		return "", fmt.Errorf("simulator: %s: %w", command, err)
	}
	t := time.NewTimer(2 * time.Minute) // log writes to every router
	defer t.Stop()
	select {
	case reply := <-c.replies:
		if strings.HasPrefix(reply, `{"error":`) {
			return "", fmt.Errorf("simulator: %s: %s", command, reply)
		}
		return reply, nil
	case <-c.done:
		return "", fmt.Errorf("simulator: %s: it exited: %v", command, c.err)
	case <-t.C:
		return "", fmt.Errorf("simulator: %s: no answer in time", command)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// stats is the simulator child's cost so far: RPCs, reply bytes, CPU.
func (c *benchChild) stats(ctx context.Context) (benchSimStats, error) {
	reply, err := c.ask(ctx, "stats")
	if err != nil {
		return benchSimStats{}, err
	}
	var st benchSimStats
	if err := json.Unmarshal([]byte(reply), &st); err != nil {
		return st, fmt.Errorf("simulator: stats %q: %w", reply, err)
	}
	return st, nil
}

// countChild adds an exited child's CPU time to the children's.
func (b *bencher) countChild(cmd *exec.Cmd) {
	if ps := cmd.ProcessState; ps != nil {
		b.childCPU.Add(int64(ps.UserTime() + ps.SystemTime()))
	}
}

// stop ends the child: EOF on its stdin asks it to stop; it is killed if
// it has not within 30 s.
func (c *benchChild) stop() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}
