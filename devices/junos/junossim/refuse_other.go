//go:build !unix

package junossim

import (
	"fmt"
	"io"
	"net"
	"strconv"
)

// reservePort checks that host:port is free by listening on it and closes
// the listener, so connects are refused. Without raw sockets the port is
// not held: another listener may take it later, which the unix version
// prevents.
func reservePort(host string, port int) (io.Closer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if err := ln.Close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	return io.NopCloser(nil), nil
}
