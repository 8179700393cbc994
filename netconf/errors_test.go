package netconf_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mastership/mastership/netconf"
)

// refusedErr dials a port nobody listens on.
func refusedErr(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		_ = c.Close()
		t.Skip("port was reused before the test dialed it")
	}
	return err
}

// resetErr reads from a connection the peer aborted with an RST.
func resetErr(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*net.TCPConn).SetLinger(0) // close with RST
			err = c.Close()
		}
		accepted <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		// The RST can beat connect's return: that is a reset too.
		<-accepted
		return err
	}
	defer c.Close()
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err
}

// ioTimeoutErr reads from a connection whose deadline has passed.
func ioTimeoutErr(t *testing.T) error {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_ = a.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := a.Read(make([]byte, 1))
	return err
}

func TestClassify(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	var d net.Dialer
	_, dialTimeout := d.DialContext(expired, "tcp", "127.0.0.1:9")
	xmlErr := xml.Unmarshal([]byte("<a></b>"), new(struct{}))
	unreachable := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.EHOSTUNREACH}}
	netUnreachable := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ENETUNREACH}}
	// x/crypto's own wording, as Dial wraps it.
	sshAuth := fmt.Errorf("ssh handshake with 10.0.0.1:830: %w",
		fmt.Errorf("ssh: handshake failed: %w", errors.New("ssh: unable to authenticate, attempted methods [none password], no supported methods remain")))

	tests := []struct {
		name string
		err  error
		want netconf.Kind
	}{
		{"nil", nil, netconf.KindNone},
		{"connection refused", refusedErr(t), netconf.KindRefused},
		{"connection reset", resetErr(t), netconf.KindRefused},
		{"host unreachable", fmt.Errorf("dial r1:830: %w", unreachable), netconf.KindRefused},
		{"network unreachable", fmt.Errorf("dial r1:830: %w", netUnreachable), netconf.KindRefused},
		{"context deadline", expired.Err(), netconf.KindTimeout},
		{"context cancelled", fmt.Errorf("rpc x: %w", cancelled.Err()), netconf.KindTimeout},
		{"dial with expired context", dialTimeout, netconf.KindTimeout},
		{"i/o timeout", fmt.Errorf("ssh handshake with r1:830: %w", ioTimeoutErr(t)), netconf.KindTimeout},
		{"deadline over EOF", fmt.Errorf("%w: %w", context.DeadlineExceeded, &netconf.ProtocolError{Op: "read message", Err: io.ErrUnexpectedEOF}), netconf.KindTimeout},
		{"ssh auth", sshAuth, netconf.KindAuth},
		{"no credentials", fmt.Errorf("credentials for r1:830: %w: %w", netconf.ErrNoCredentials, errors.New("no SSH authentication configured")), netconf.KindAuth},
		{"host key", fmt.Errorf("ssh handshake with r1:830: %w", &netconf.HostKeyError{Host: "[r1]:830", Unknown: true}), netconf.KindHostKey},
		{"rpc error", fmt.Errorf("rpc get-x on r1:830: %w", &netconf.RPCError{Severity: "error", Message: "boom"}), netconf.KindRPCError},
		{"too large", fmt.Errorf("rpc get-log on r1:830: %w", &netconf.ErrReplyTooLarge{Limit: 10}), netconf.KindTooLarge},
		{"bad framing", &netconf.ProtocolError{Op: "read message", Err: errors.New("malformed chunked framing")}, netconf.KindProtocol},
		{"bad xml", fmt.Errorf("rpc: %w", &netconf.ProtocolError{Op: "parse reply", Err: xmlErr}), netconf.KindProtocol},
		{"eof", io.EOF, netconf.KindProtocol},
		{"session closed", netconf.ErrSessionClosed, netconf.KindProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := netconf.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	e := &netconf.RPCError{Type: "protocol", Tag: "operation-failed", Severity: "error", DaemonSource: "chassisd", Message: "syntax error"}
	if got, want := e.Error(), "netconf rpc-error (severity error, tag operation-failed, type protocol, daemon chassisd): syntax error"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	tl := &netconf.ErrReplyTooLarge{Limit: 1024}
	if !strings.Contains(tl.Error(), "1024") || !errors.Is(fmt.Errorf("x: %w", tl), &netconf.ErrReplyTooLarge{}) {
		t.Errorf("ErrReplyTooLarge: %v", tl)
	}
	pe := &netconf.ProtocolError{Op: "parse hello", Err: io.ErrUnexpectedEOF}
	if !errors.Is(pe, io.ErrUnexpectedEOF) || !strings.Contains(pe.Error(), "parse hello") {
		t.Errorf("ProtocolError: %v", pe)
	}
}
