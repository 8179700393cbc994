//go:build unix

package junossim

import (
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
)

// reservePort binds a TCP socket to host:port and never listens on it. The
// kernel answers a SYN to a bound but not listening port with RST, so
// connects get ECONNREFUSED, while the port stays ours: unlike listening
// and closing, nothing else in the process or on the machine can take the
// port and start answering it. SO_REUSEADDR is deliberately not set, so
// another socket cannot bind it either.
func reservePort(host string, port int) (io.Closer, error) {
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("bad host %q", host)
	}
	family := syscall.AF_INET6
	var sa syscall.Sockaddr
	if ip4 := ip.To4(); ip4 != nil {
		family = syscall.AF_INET
		sa4 := &syscall.SockaddrInet4{Port: port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		sa6 := &syscall.SockaddrInet6{Port: port}
		copy(sa6.Addr[:], ip.To16())
		sa = sa6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind %s:%d: %w", host, port, err)
	}
	return &fdCloser{fd: fd}, nil
}

type fdCloser struct {
	once sync.Once
	fd   int
	err  error
}

func (c *fdCloser) Close() error {
	c.once.Do(func() { c.err = syscall.Close(c.fd) })
	return c.err
}
