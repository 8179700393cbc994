package netconf_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

// The benchmarks in this file run the simulator in a child process (this
// test binary again, as TestChildServer), so that what they measure is
// the client's alone: in-process, the server's half of every SSH
// connection would be counted with the client's.

const childServerEnv = "NETCONF_CHILD_SERVER"

var (
	// routeEngineInner is ~5 KB, the size of a dual-RE
	// get-route-engine-information reply (as in BenchmarkRPC).
	routeEngineInner = "<route-engine-information>" + strings.Repeat("<route-engine><slot>0</slot><mastership-state>master</mastership-state><status>OK</status><up-time junos:seconds=\"4233600\">49 days</up-time></route-engine>", 30) + "</route-engine-information>"
	// logInner is a 64 KiB log file, what a poll reads last before its
	// session idles.
	logInner = "<file-content filename=\"/var/log/messages\">\n" + strings.Repeat("Jan  1 00:00:00 re0 chassisd[1]: CHASSISD_FRU_OFFLINE_NOTICE: Taking FPC 3 offline\n", 64<<10/83) + "</file-content>"
)

// childHandler answers get-log with logInner and everything else with
// routeEngineInner.
func childHandler(_ context.Context, req *netconftest.Request) []byte {
	if req.Operation == "get-log" {
		return netconftest.Reply(req, logInner)
	}
	return netconftest.Reply(req, routeEngineInner)
}

// TestChildServer is the server side of the benchmarks below; it does
// nothing on its own. It prints "host port known-hosts-line" and serves
// until its stdin closes.
func TestChildServer(t *testing.T) {
	mode := os.Getenv(childServerEnv)
	if mode == "" {
		t.Skip("child process of the benchmarks in idle_bench_test.go")
	}
	srv, err := netconftest.NewServer(netconftest.Config{
		Users:   map[string]string{testUser: testPassword},
		Base11:  mode == "base11",
		Handler: netconftest.HandlerFunc(childHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s %d %s\n", srv.Host(), srv.Port(), srv.KnownHostsLine())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = srv.Close()
}

// childServer starts TestChildServer and returns a Config for it.
func childServer(tb testing.TB, base11 bool) netconf.Config {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	mode := "base10"
	if base11 {
		mode = "base11"
	}
	cmd := exec.Command(exe, "-test.run=^TestChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), childServerEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("child server: %v", err)
	}
	host, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	portStr, khLine, _ := strings.Cut(rest, " ")
	port, err := strconv.Atoi(portStr)
	if err != nil {
		tb.Fatalf("child server said %q", line)
	}
	kh := filepath.Join(tb.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(khLine+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return netconf.Config{
		Host:           host,
		Port:           port,
		User:           testUser,
		Credentials:    netconf.Credentials{Password: testPassword},
		KnownHostsFile: kh,
		HostKeyPolicy:  netconf.PolicyStrict,
		KnownHosts:     new(netconf.KnownHostsCache),
	}
}

// memNow returns heap and stack bytes in use after full GCs. Each GC
// halves the stacks of idle goroutines that use under a quarter of theirs
// (the SSH handshake grows them), so it runs GCs until the stacks stop
// shrinking, as they do in an agent that has run for a while.
func memNow() (heap, stack uint64) {
	var m runtime.MemStats
	for i := 0; i < 10; i++ {
		runtime.GC()
		runtime.ReadMemStats(&m)
		if i > 0 && m.StackInuse == stack {
			break
		}
		stack = m.StackInuse
	}
	return m.HeapInuse, m.StackInuse
}

// BenchmarkIdleSessions reports the heap and goroutine-stack bytes each
// idle persistent session keeps on the client: it opens idleSessions
// sessions to a simulator in a child process, runs one RPC on each (a 5
// KB reply, or a 64 KiB log), and compares memory after GC with the
// memory before dialling. Run it once per figure:
//
//	go test ./netconf -run '^$' -bench IdleSessions -benchtime 1x -count 3
func BenchmarkIdleSessions(b *testing.B) {
	const idleSessions = 200
	for _, tc := range []struct{ name, body string }{
		{"reply=5KB", "<get-route-engine-information/>"},
		{"reply=64KiB", "<get-log><filename>messages</filename></get-log>"},
	} {
		for _, base11 := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/base11=%v", tc.name, base11), func(b *testing.B) {
				cfg := childServer(b, base11)
				var heapPer, stackPer float64
				for b.Loop() {
					heapPer, stackPer = idleSessionBytes(b, cfg, idleSessions, tc.body)
				}
				b.ReportMetric(heapPer, "heap-B/session")
				b.ReportMetric(stackPer, "stack-B/session")
				b.ReportMetric(heapPer+stackPer, "B/session")
			})
		}
	}
}

func idleSessionBytes(b *testing.B, cfg netconf.Config, n int, body string) (heapPer, stackPer float64) {
	ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
	defer cancel()
	// A first session warms up what every session shares (the
	// known_hosts cache, crypto tables, the logger).
	warm, err := netconf.Dial(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.RPC(ctx, body); err != nil {
		b.Fatal(err)
	}
	heap0, stack0 := memNow()
	sessions := make([]*netconf.Session, n)
	for i := range sessions {
		s, err := netconf.Dial(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.RPC(ctx, body); err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	// Let the SSH goroutines settle into their idle waits.
	time.Sleep(200 * time.Millisecond)
	heap1, stack1 := memNow()
	runtime.KeepAlive(sessions)
	for _, s := range append(sessions, warm) {
		_ = s.Close(ctx)
	}
	return (float64(heap1) - float64(heap0)) / float64(n), (float64(stack1) - float64(stack0)) / float64(n)
}

// BenchmarkRPCChildServer is BenchmarkRPC with the server in a child
// process: B/op and allocs/op are the client's alone.
func BenchmarkRPCChildServer(b *testing.B) {
	for _, base11 := range []bool{false, true} {
		b.Run(fmt.Sprintf("base11=%v", base11), func(b *testing.B) {
			cfg := childServer(b, base11)
			s := dial(b, cfg)
			ctx := b.Context()
			b.ReportAllocs()
			b.SetBytes(int64(len(routeEngineInner)))
			for b.Loop() {
				if _, err := s.RPC(ctx, "<get-route-engine-information/>"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
