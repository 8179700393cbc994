package netconftest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mastership/mastership/netconf/netconftest"
)

// echoServer is a TCP server on loopback that echoes what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func newBastion(t *testing.T, cfg netconftest.BastionConfig) *netconftest.Bastion {
	t.Helper()
	b, err := netconftest.NewBastion(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func bastionClient(t *testing.T, b *netconftest.Bastion, user, pw string) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", b.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(pw)},
		HostKeyCallback: ssh.FixedHostKey(b.HostKey()),
		Timeout:         5 * time.Second,
	})
}

func TestBastionForwardsToLoopback(t *testing.T) {
	echo := echoServer(t)
	b := newBastion(t, netconftest.BastionConfig{
		Users: map[string]string{"jump": "jump-pw"},
		Hosts: map[string]string{"router.internal:830": echo},
	})
	c, err := bastionClient(t, b, "jump", "jump-pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{echo, "router.internal:830"} {
		conn, err := c.Dial("tcp", target)
		if err != nil {
			t.Fatalf("forward to %s: %v", target, err)
		}
		if _, err := conn.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "hello\n" {
			t.Fatalf("echo through %s: %q, %v", target, buf, err)
		}
		_ = conn.Close()
	}
	if got, want := b.Forwards(), []string{echo, "router.internal:830"}; !slices.Equal(got, want) {
		t.Errorf("Forwards() = %q, want %q", got, want)
	}
	_ = c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBastionRefuses(t *testing.T) {
	b := newBastion(t, netconftest.BastionConfig{Users: map[string]string{"jump": "jump-pw"}})
	if _, err := bastionClient(t, b, "jump", "wrong"); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("wrong password: %v", err)
	}
	c, err := bastionClient(t, b, "jump", "jump-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Nothing but loopback: the request is refused before any dial.
	_, err = c.Dial("tcp", "192.0.2.1:830")
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Errorf("forward to 192.0.2.1: %v, want administratively prohibited", err)
	}
	// A closed port: connect failed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	if _, err = c.Dial("tcp", closed); !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed {
		t.Errorf("forward to a closed port: %v, want connect failed", err)
	}
	// No shells.
	if _, err := c.NewSession(); !errors.As(err, &oce) || oce.Reason != ssh.UnknownChannelType {
		t.Errorf("session: %v, want unknown channel type", err)
	}
	if len(b.Forwards()) != 0 {
		t.Errorf("Forwards() = %q after refusals", b.Forwards())
	}
}

func TestBastionRefuseForwarding(t *testing.T) {
	echo := echoServer(t)
	b := newBastion(t, netconftest.BastionConfig{RefuseForwarding: true})
	c, err := bastionClient(t, b, "anyone", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Dial("tcp", echo)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Errorf("forward: %v, want administratively prohibited", err)
	}
}

func TestBastionCloseEndsForwards(t *testing.T) {
	echo := echoServer(t)
	b, err := netconftest.NewBastion(netconftest.BastionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := bastionClient(t, b, "anyone", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.Dial("tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	// Close returns once every goroutine of the bastion ended, with a
	// forward still open.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("forwarded connection still open after Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBastionLoopbackOnly(t *testing.T) {
	if _, err := netconftest.NewBastion(netconftest.BastionConfig{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("NewBastion listened on a non-loopback address")
	}
	if _, err := netconftest.NewBastion(netconftest.BastionConfig{Hosts: map[string]string{"r:830": "192.0.2.1:830"}}); err == nil {
		t.Error("NewBastion accepted a non-loopback Hosts entry")
	}
}

func TestBastionSilent(t *testing.T) {
	b := newBastion(t, netconftest.BastionConfig{Silent: true})
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if _, err := conn.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read from a silent bastion: %v, want a timeout", err)
	}
}
