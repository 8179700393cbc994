package junossim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// This test runs the simulator against a NETCONF client it was not written
// with: ncclient (Debian package python3-ncclient), the library under
// Juniper's PyEZ, driven by testdata/ncclient/poll.py. It skips when
// ncclient is missing, unless MASTERSHIP_REQUIRE_INTEROP=1.

const (
	// python is Debian's interpreter, which sees python3-ncclient; a
	// python3 earlier on PATH (pyenv, a venv) may not.
	python     = "/usr/bin/python3"
	requireEnv = "MASTERSHIP_REQUIRE_INTEROP"
)

func skipInterop(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (%s=1 requires the interop tests to run)", msg, requireEnv)
	}
	t.Skip(msg)
}

// ncclientRPC is one request poll.py sends.
type ncclientRPC struct {
	Name   string   `json:"name"`
	Body   string   `json:"body"`
	Expect []string `json:"expect,omitempty"`
}

type ncclientRequest struct {
	Host      string        `json:"host"`
	Port      int           `json:"port"`
	Username  string        `json:"username"`
	Password  string        `json:"password"`
	SSHConfig string        `json:"ssh_config"`
	Handler   string        `json:"handler"`
	Timeout   int           `json:"timeout"`
	RPCs      []ncclientRPC `json:"rpcs"`
	BadRPC    *ncclientRPC  `json:"bad_rpc,omitempty"`
}

type ncclientResult struct {
	OK           bool   `json:"ok"`
	ImportError  string `json:"import_error"`
	Error        string `json:"error"`
	Traceback    string `json:"traceback"`
	Handler      string `json:"handler"`
	Version      string `json:"ncclient"`
	SessionID    any    `json:"session_id"`
	ServerBase11 bool   `json:"server_base11"`
	ClientBase11 bool   `json:"client_base11"`
	Base11       bool   `json:"base11"`
	RPCs         []struct {
		Name    string `json:"name"`
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Root    string `json:"root"`
		Bytes   int    `json:"bytes"`
		Found   int    `json:"found"`
		TextLen int    `json:"text_len"`
	} `json:"rpcs"`
	BadRPC struct {
		Raised   bool   `json:"raised"`
		Tag      string `json:"tag"`
		Type     string `json:"type"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
		Error    string `json:"error"`
	} `json:"bad_rpc"`
	AfterErrorOK bool   `json:"after_error_ok"`
	AfterError   string `json:"after_error"`
	Closed       bool   `json:"closed"`
	CloseError   string `json:"close_error"`
}

// agentRPCs are the request bodies the agent sends in a poll
// (schedule/poll.go: pollSteps, then each default log file by get-log and,
// when a router refuses get-log, file-show), with the elements each
// decoder needs in the reply.
func agentRPCs() []ncclientRPC {
	return []ncclientRPC{
		{"get-system-uptime-information", junos.RPCSystemUptime, []string{"system-uptime-information", "current-time", "date-time"}},
		{"get-route-engine-information", junos.RPCRouteEngine, []string{"route-engine-information", "route-engine", "status"}},
		{"get-alarm-information", junos.RPCChassisAlarms, []string{"alarm-information", "alarm-summary"}},
		{"get-system-alarm-information", junos.RPCSystemAlarms, []string{"alarm-information", "alarm-summary"}},
		{"get-configuration", junos.RPCRedundancyConfig, []string{"configuration", "chassis", "redundancy"}},
		{"get-software-information", junos.RPCSoftware, []string{"software-information", "junos-version"}},
		{"get-log messages", junos.GetLogRPC("messages"), []string{"file-content"}},
		{"get-log mastership", junos.GetLogRPC("mastership"), []string{"file-content"}},
		{"file-show /var/log/messages", junos.FileShowRPC("messages"), []string{"file-content"}},
		{"file-show /var/log/mastership", junos.FileShowRPC("mastership"), []string{"file-content"}},
	}
}

func TestNcclientInterop(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		skipInterop(t, "interop: %s is not installed (Debian: apt-get install python3-ncclient, or run .ci/interop/install.sh)", python)
	}
	probe, cancelProbe := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancelProbe()
	if out, err := exec.CommandContext(probe, python, "-c", "import ncclient, lxml").CombinedOutput(); err != nil {
		skipInterop(t, "interop: python3-ncclient is not installed: %s -c 'import ncclient' failed: %v: %s (Debian: apt-get install python3-ncclient, or run .ci/interop/install.sh)",
			python, err, bytes.TrimSpace(out))
	}
	script, err := filepath.Abs(filepath.Join("testdata", "ncclient", "poll.py"))
	if err != nil {
		t.Fatal(err)
	}

	// One router per framing, and an MX Virtual Chassis, whose replies
	// wrap each member in multi-routing-engine-results.
	sc := junossim.Scenario{
		Seed: 3,
		Devices: []junossim.Device{
			{Name: "eom-dual", Topology: junossim.TopologyDual, Framing: "1.0"},
			{Name: "chunked-dual", Topology: junossim.TopologyDual, Framing: "1.1"},
			{Name: "chunked-mxvc", Topology: junossim.TopologyMXVC, Framing: "1.1"},
		},
	}
	startCtx, cancelStart := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancelStart()
	fleet, err := junossim.Start(startCtx, sc, junossim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Close() })

	dir := t.TempDir()
	if err := fleet.WriteInventory(filepath.Join(dir, "devices.yaml")); err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, junossim.KnownHostsFile)
	// ncclient reads known_hosts through an OpenSSH client configuration,
	// as a user pointing it at the simulator would.
	sshConfig := filepath.Join(dir, "ssh_config")
	cfg := fmt.Sprintf("Host 127.0.0.1\n    UserKnownHostsFile %s\n", knownHosts)
	if err := os.WriteFile(sshConfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// HOME in the temp dir: ncclient also reads ~/.ssh/known_hosts, which
	// must not decide anything here.
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}

	for _, d := range fleet.Devices() {
		for _, handler := range []string{"junos", "default"} {
			t.Run(d.Name+"/"+handler, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
				defer cancel()
				req := ncclientRequest{
					Host: d.Host, Port: d.Port, Username: junossim.User, Password: fleet.Password(),
					SSHConfig: sshConfig, Handler: handler, Timeout: 15,
					RPCs:   agentRPCs(),
					BadRPC: &ncclientRPC{Name: "get-interface-information", Body: "<get-interface-information/>"},
				}
				res := runPoll(t, ctx, script, home, req)

				if res.Handler != handler {
					t.Errorf("handler = %q, want %q", res.Handler, handler)
				}
				wantBase11 := d.Framing == "1.1"
				if res.ServerBase11 != wantBase11 {
					t.Errorf("server advertises base:1.1 = %v, want %v (framing %s)", res.ServerBase11, wantBase11, d.Framing)
				}
				if !res.ClientBase11 {
					t.Errorf("ncclient does not offer base:1.1; the framing check proves nothing")
				}
				if res.Base11 != wantBase11 {
					t.Errorf("ncclient session base:1.1 = %v, want %v (framing %s)", res.Base11, wantBase11, d.Framing)
				}
				if len(res.RPCs) != len(req.RPCs) {
					t.Fatalf("poll.py ran %d RPCs, want %d", len(res.RPCs), len(req.RPCs))
				}
				for i, r := range res.RPCs {
					if r.Name != req.RPCs[i].Name {
						t.Errorf("RPC %d is %q, want %q", i, r.Name, req.RPCs[i].Name)
					}
					if !r.OK {
						t.Errorf("%s: %s", r.Name, r.Error)
						continue
					}
					if strings.HasPrefix(r.Name, "get-log") || strings.HasPrefix(r.Name, "file-show") {
						if r.TextLen == 0 {
							t.Errorf("%s: empty file-content", r.Name)
						}
					}
				}
				if !res.BadRPC.Raised {
					t.Errorf("unknown RPC did not raise ncclient's RPCError: %+v", res.BadRPC)
				} else if res.BadRPC.Severity != "error" || res.BadRPC.Tag == "" || res.BadRPC.Message == "" {
					t.Errorf("unknown RPC: RPCError %+v, want severity error, a tag and a message", res.BadRPC)
				}
				if !res.AfterErrorOK {
					t.Errorf("session unusable after an rpc-error: %s", res.AfterError)
				}
				if !res.Closed {
					t.Errorf("close-session: %s", res.CloseError)
				}
			})
		}
	}

	// The host key is really checked: with a known_hosts file that does
	// not list the router, ncclient refuses to connect.
	t.Run("unknown-host-key", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
		defer cancel()
		emptyKnown := filepath.Join(dir, "empty_known_hosts")
		if err := os.WriteFile(emptyKnown, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		otherConfig := filepath.Join(dir, "ssh_config_empty")
		if err := os.WriteFile(otherConfig, fmt.Appendf(nil, "Host 127.0.0.1\n    UserKnownHostsFile %s\n", emptyKnown), 0o600); err != nil {
			t.Fatal(err)
		}
		d := fleet.Devices()[0]
		res, stderr, err := execPoll(t, ctx, script, home, ncclientRequest{
			Host: d.Host, Port: d.Port, Username: junossim.User, Password: fleet.Password(),
			SSHConfig: otherConfig, Handler: "default", Timeout: 15, RPCs: agentRPCs()[:1],
		})
		if res.ImportError != "" {
			skipInterop(t, "interop: python3-ncclient is not usable: %s", res.ImportError)
		}
		if err == nil || res.OK {
			t.Fatalf("ncclient connected to %s without its host key in known_hosts: %+v", d.Addr, res)
		}
		if !strings.Contains(res.Error, "SSHUnknownHostError") {
			t.Errorf("error = %q, want ncclient's SSHUnknownHostError\nstderr: %s", res.Error, stderr)
		}
	})
}

// runPoll runs poll.py with req on stdin and returns its JSON summary,
// failing t unless the session ran.
func runPoll(t *testing.T, ctx context.Context, script, home string, req ncclientRequest) ncclientResult {
	t.Helper()
	res, stderr, err := execPoll(t, ctx, script, home, req)
	var exit *exec.ExitError
	switch {
	case res.ImportError != "":
		skipInterop(t, "interop: python3-ncclient is not usable: %s", res.ImportError)
	case err != nil && !errors.As(err, &exit):
		t.Fatalf("poll.py: %v\nstderr: %s", err, stderr)
	case err != nil || !res.OK:
		t.Fatalf("poll.py (%s handler) failed: %v: %s\n%s\nstderr: %s", req.Handler, err, res.Error, res.Traceback, stderr)
	}
	t.Logf("ncclient %s, %s handler: session %v, base:1.1 %v, %d RPCs", res.Version, res.Handler, res.SessionID, res.Base11, len(res.RPCs))
	return res
}

// execPoll runs poll.py and parses its output, failing t only when the
// output is not poll.py's JSON.
func execPoll(t *testing.T, ctx context.Context, script, home string, req ncclientRequest) (ncclientResult, []byte, error) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Stdin = bytes.NewReader(in)
	// Only what ncclient needs: no PYTHONPATH or site packages of the
	// caller's environment, HOME away from the user's ~/.ssh.
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var res ncclientResult
	if jerr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); jerr != nil {
		t.Fatalf("poll.py: %v; output is not JSON (%v):\nstdout: %s\nstderr: %s", err, jerr, stdout.Bytes(), stderr.Bytes())
	}
	return res, stderr.Bytes(), err
}
