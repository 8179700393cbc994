package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf/netconfdtest"
)

// TestCheckNetconfd points check at a real NETCONF server that is not
// Junos — Debian's netconfd (yuma123) behind OpenSSH: UNKNOWN (exit 3) at
// once, with one line saying why, not a crash or a wait for the timeout.
//
// On base:1.0 only: netconfd 2.13 on base:1.1 can leave a session's first
// RPC unanswered when it reads it together with the client's hello (its
// bug; see TestNetconfdInteropRPCRightAfterHello), and check then ends at
// its timeout. The netconf package's base:1.1 interop is tested in
// netconf/interop_netconfd_test.go, waiting for netconfd to take the hello.
func TestCheckNetconfd(t *testing.T) {
	const timeout = 10 * time.Second
	for _, tc := range []struct {
		name       string
		base10Only bool
	}{{"base1.0", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := netconfdtest.Start(t, netconfdtest.Options{Base10Only: tc.base10Only})
			inv := filepath.Join(t.TempDir(), "devices.yaml")
			yaml := fmt.Sprintf("defaults:\n  username: %q\n  port: %d\n  auth:\n    private_key: %q\n  known_hosts: %q\n"+
				"  host_key_policy: strict\n  timeout: %s\ndevices:\n  - name: netconfd\n    host: %q\n",
				srv.User, srv.Port, srv.KeyFile, srv.KnownHostsFile, timeout, srv.Host)
			if err := os.WriteFile(inv, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := runCLI(t, "check", "netconfd", "--inventory", inv)
			took := time.Since(start)
			if r.code != 3 {
				t.Errorf("exit code = %d, want 3\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			first, _, _ := strings.Cut(r.stdout, "\n")
			want := `^MASTERSHIP UNKNOWN - netconfd: cannot poll netconfd \(rpc-error\): the device speaks NETCONF but does not implement the Junos RPCs \(every RPC refused; unknown-element: definition not found\) \| `
			if !regexp.MustCompile(want).MatchString(first) {
				t.Errorf("status line = %q, want match for %q", first, want)
			}
			if took > timeout/2 {
				t.Errorf("check took %v, want well under the %v timeout", took, timeout)
			}
		})
	}
}
