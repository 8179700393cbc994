package netconftest

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// rttPair is a loopback TCP connection whose server end is delayed by rtt.
func rttPair(t *testing.T, rtt time.Duration) (client net.Conn, server *rttConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	server = newRTTConn(raw, rtt)
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}

// readN reads exactly n bytes and the time the first of them arrived.
func readN(t *testing.T, c net.Conn, n int) ([]byte, time.Time) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		t.Fatalf("read: %v", err)
	}
	first := time.Now()
	if _, err := io.ReadFull(c, buf[1:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf, first
}

// TestRTTConnDelaysBothDirectionsInOrder: what the client sends is
// readable by the server only half a round trip after it was sent, what
// the server writes reaches the client half a round trip after Write, and
// many small writes arrive in the order they were made.
func TestRTTConnDelaysBothDirectionsInOrder(t *testing.T) {
	const rtt = 200 * time.Millisecond
	client, server := rttPair(t, rtt)

	sent := time.Now()
	for _, b := range []string{"a", "b", "c"} {
		if _, err := client.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	got, at := readN(t, server, 3)
	if string(got) != "abc" {
		t.Errorf("server read %q, want abc", got)
	}
	if d := at.Sub(sent); d < rtt/2 {
		t.Errorf("client → server took %v, want at least %v", d, rtt/2)
	}

	written := time.Now()
	var want []byte
	for i := range 200 {
		b := []byte{byte('0' + i%10)}
		want = append(want, b...)
		if _, err := server.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	got, at = readN(t, client, len(want))
	if string(got) != string(want) {
		t.Errorf("client read %q, want %q", got, want)
	}
	if d := at.Sub(written); d < rtt/2 {
		t.Errorf("server → client took %v, want at least %v", d, rtt/2)
	}
}

// TestRTTConnReadDeadline: a read deadline that passes while bytes are in
// flight fails the read without losing them; the next read, without a
// deadline, still waits for them to be due.
func TestRTTConnReadDeadline(t *testing.T) {
	const rtt = 400 * time.Millisecond
	client, server := rttPair(t, rtt)
	sent := time.Now()
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = server.SetReadDeadline(sent.Add(rtt / 8))
	buf := make([]byte, 16)
	if n, err := server.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read before the bytes are due: %d bytes, %v; want the deadline's error", n, err)
	}
	_ = server.SetReadDeadline(time.Time{})
	n, err := server.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read after the deadline was lifted: %q, %v", buf[:n], err)
	}
	if d := time.Since(sent); d < rtt/2 {
		t.Errorf("bytes read after %v, before they were due (%v)", d, rtt/2)
	}
}

// TestRTTConnCloseFlushes: what the server wrote before Close reaches the
// client, then EOF.
func TestRTTConnCloseFlushes(t *testing.T) {
	client, server := rttPair(t, 100*time.Millisecond)
	if _, err := server.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "bye" {
		t.Fatalf("client read %q, %v; want bye then EOF", got, err)
	}
	if _, err := server.Write([]byte("more")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
}
