package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// benchSimReady is the line the simulator child prints once its fleet is
// up, followed by the inventory path.
const benchSimReady = "junossim inventory "

// newBenchSimCommand is `mastership-bench sim`, hidden: the simulator
// child. It runs junossim.Generate(devices, seed) on loopback, writes the
// inventory into --dir, prints where, and runs until its stdin reaches EOF
// (the parent closed it, or died) or it is interrupted.
func newBenchSimCommand(a *app) *cobra.Command {
	var (
		n       int
		seed    int64
		dir     string
		timeout time.Duration
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
			// A listener per router and a connection per session.
			if _, err := benchRaiseFileLimit(uint64(2*n + 256)); err != nil {
				a.log.Debug("open files limit not raised", "error", err)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go func() {
				// EOF on stdin: the parent is done or gone.
				_, _ = io.Copy(io.Discard, os.Stdin)
				cancel()
			}()
			fleet, err := junossim.Start(ctx, junossim.Generate(n, seed), junossim.Options{Logger: a.log, InventoryTimeout: timeout})
			if err != nil {
				return fmt.Errorf("start %d simulated routers: %w", n, err)
			}
			defer fleet.Close()
			inv := filepath.Join(dir, "devices.yaml")
			if err := fleet.WriteInventory(inv); err != nil {
				return fmt.Errorf("write the simulator's inventory: %w", err)
			}
			fmt.Fprintln(a.stdout, benchSimReady+inv)
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "devices", 0, "routers to simulate")
	f.Int64Var(&seed, "seed", 1, "seed of junossim.Generate")
	f.StringVar(&dir, "dir", "", "directory of the inventory")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "per-device timeout written in the inventory")
	return cmd
}

// benchChild is a child process of bench: this binary re-executed.
type benchChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the child has exited
	err   error         // Wait's result, set before done closes
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

// startSim starts a simulator child of n routers, junossim.Generate(n,
// seed), whose inventory goes in dir, and returns it with the inventory
// path once the fleet is up.
func (b *bencher) startSim(ctx context.Context, dir string, n int, seed int64) (*benchChild, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	cmd, err := benchCommand(ctx, "sim", "--devices", strconv.Itoa(n),
		"--seed", strconv.FormatInt(seed, 10), "--dir", dir, "--log-level", b.level)
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
	c := &benchChild{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if inv, ok := strings.CutPrefix(sc.Text(), benchSimReady); ok {
				lines <- inv
				break
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
