package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/netconf"
)

// The memory scenario (issue 19, part 5): the agent's peak RSS over an
// audit of a fleet where one router in ten answers every RPC with a reply
// far over the reply limit and one in ten has a 5 MB /var/log/messages,
// at --concurrency. Replies are streamed, so neither costs more than a
// read buffer and the lines kept.
const (
	benchMemory = "memory"
	// benchMemoryMaxRSSMiB is the target.
	benchMemoryMaxRSSMiB = 256
	// benchMemoryHuge is the oversized routers' reply: over the default
	// 64 MiB limit, so each is cut at the limit.
	benchMemoryHuge = 100_000_000
	// benchMemoryLog is the big-log routers' messages file.
	benchMemoryLog = 5_000_000
	// benchSimMemoryReady is the line the memory simulator prints once
	// its fleet is up, followed by the inventory path.
	benchSimMemoryReady = "junossim memory inventory "
)

// benchMemoryScenario is junossim.Generate(n, seed) with the memory
// scenario's routers: every tenth (from the first) oversized, every tenth
// (from the sixth) with a big log.
func benchMemoryScenario(n int, seed int64) junossim.Scenario {
	sc := junossim.Generate(n, seed)
	for i := range sc.Devices {
		d := &sc.Devices[i]
		switch i % 10 {
		case 0:
			d.Faults = &junossim.Faults{HugeReply: benchMemoryHuge}
		case 5:
			d.LogFillBytes = benchMemoryLog
		}
	}
	return sc
}

// newBenchSimMemoryCommand is `mastership-bench sim-memory`, hidden: the
// memory scenario's simulator child. Like sim, it runs until its stdin
// reaches EOF or it is interrupted.
func newBenchSimMemoryCommand(a *app) *cobra.Command {
	var (
		n    int
		seed int64
		dir  string
	)
	cmd := &cobra.Command{
		Use:    "sim-memory --devices N --dir DIR",
		Short:  "The simulator child of the memory scenario (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n <= 0 || dir == "" {
				return usageError(errors.New("--devices and --dir are required"))
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go func() {
				_, _ = io.Copy(io.Discard, os.Stdin)
				cancel()
			}()
			fleet, err := junossim.Start(ctx, benchMemoryScenario(n, seed), junossim.Options{Logger: a.log})
			if err != nil {
				return fmt.Errorf("start %d simulated routers: %w", n, err)
			}
			defer fleet.Close()
			inv := filepath.Join(dir, "devices.yaml")
			if err := fleet.WriteInventory(inv); err != nil {
				return fmt.Errorf("write the simulator's inventory: %w", err)
			}
			fmt.Fprintln(a.stdout, benchSimMemoryReady+inv)
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "devices", 0, "routers to simulate")
	f.Int64Var(&seed, "seed", 1, "seed of junossim.Generate")
	f.StringVar(&dir, "dir", "", "directory of the inventory")
	return cmd
}

// startMemorySim starts the memory simulator child and returns it with
// its inventory path once the fleet is up.
func (b *bencher) startMemorySim(ctx context.Context, dir string, n int) (*benchChild, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	cmd, err := benchCommand(ctx, "sim-memory", "--devices", strconv.Itoa(n),
		"--seed", strconv.FormatInt(b.o.seed, 10), "--dir", dir, "--log-level", b.level)
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
		return nil, "", fmt.Errorf("start the memory simulator: %w", err)
	}
	c := &benchChild{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if inv, ok := strings.CutPrefix(sc.Text(), benchSimMemoryReady); ok {
				ready <- inv
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		b.countChild(cmd)
		close(c.done)
	}()
	timer := time.NewTimer(3 * time.Minute)
	defer timer.Stop()
	select {
	case inv := <-ready:
		return c, inv, nil
	case <-c.done:
		return nil, "", fmt.Errorf("the memory simulator exited before it was ready: %v", c.err)
	case <-timer.C:
		c.stop()
		return nil, "", errors.New("the memory simulator was not ready in time")
	case <-ctx.Done():
		c.stop()
		return nil, "", ctx.Err()
	}
}

// runMemory audits the memory scenario's fleet twice (the first audit
// reads every log whole, the second past its cursor) and reports the peak
// RSS of both against the target.
func (b *bencher) runMemory(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "devices", Concurrency: b.o.concurrency}
	if _, err := benchRaiseFileLimit(uint64(b.o.concurrency)*2 + 256); err != nil {
		b.log.Debug("open files limit not raised", "error", err)
	}
	b.logf("%s: starting %d simulated routers (%d with %s replies, %d with %s logs)", sc.name(), sc.size,
		(sc.size+9)/10, benchBytes(benchMemoryHuge), (sc.size+4)/10, benchBytes(benchMemoryLog))
	sim, invPath, err := b.startMemorySim(ctx, filepath.Join(b.dir, sc.name(), "sim"), sc.size)
	if err != nil {
		return r, err
	}
	defer sim.stop()
	inv, err := b.app.loadInventory(invPath)
	if err != nil {
		return r, err
	}
	st, err := openStore(ctx, b.storeFor(sc.name()))
	if err != nil {
		return r, err
	}
	defer st.Close()
	auditor, err := b.auditor(st, nil)
	if err != nil {
		return r, err
	}
	ctx, stopGuard := benchGuard(ctx, b.maxRSS, nil)
	defer stopGuard()

	var peak int64
	var wall, cpu float64
	for pass := 1; pass <= 2; pass++ {
		b.logf("%s: agent audit %d", sc.name(), pass)
		var one benchResult
		if err := b.measureAudit(ctx, nil, auditor, inv.Devices, sc.name(), &one); err != nil {
			return r, err
		}
		if err := context.Cause(ctx); err != nil {
			return r, err
		}
		peak = max(peak, one.PeakRSSBytes)
		wall, cpu = wall+one.WallSeconds, cpu+one.CPUSeconds
		r.OK, r.Failed, r.Note = one.OK, one.Failed, one.Note
	}
	n := float64(2 * len(inv.Devices))
	r.PeakRSSBytes = peak
	r.WallSeconds, r.CPUSeconds = wall, cpu
	r.Rate, r.RateUnit = n/wall, "polls"
	r.CPUPerOpMS, r.OpName = cpu*1000/n, "poll"
	r.Targets = append(r.Targets, atMost("peak rss", float64(peak)/(1<<20), benchMemoryMaxRSSMiB, "MiB"))
	r.Note = benchJoin(fmt.Sprintf("two audits; reply limit %s; OK counts the second", benchBytes(netconf.DefaultMaxReplyBytes)), r.Note)
	return r, nil
}
