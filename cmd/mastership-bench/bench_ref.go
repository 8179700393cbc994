package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/devices/junos"
)

// The reference client is the floor the agent is measured against: what
// any NETCONF poller must do to get the same bytes. x/crypto/ssh, password
// auth, the netconf subsystem, a base:1.0 hello, the agent's RPCs with
// end-of-message framing, close-session; no decoding, no storing, no
// per-dial known_hosts reading (the keys are read once, before measuring).
//
// "The agent's RPCs" is the set the bench's agent sends in the same
// scenario, as the simulator counts it (TestBenchRefSendsTheAgentsRPCs):
// a first poll (fresh audits, and the poll that opens a persistent
// session) asks everything; a steady-state poll on an open session asks
// only what may have changed (schedule's refresh cache and readiness
// memory, file-list saying the logs are unchanged).

// benchRefFirstRPCs are the bodies the agent sends in a first poll, in its
// order: schedule's poll steps (the steady-state ones with software and
// configuration before the file listing), get-log of its default log
// files (the replication state follows, see benchRefSession.poll).
func benchRefFirstRPCs() []string {
	steady := benchRefSteadyRPCs()
	first := append(steady[:4:4], junos.RPCRedundancyConfig, junos.RPCSoftwareAllREs)
	return append(append(first, steady[4:]...), junos.GetLogRPC("messages"), junos.GetLogRPC("mastership"))
}

// benchRefSteadyRPCs are the bodies of the agent's steady-state poll of an
// unchanged router: software, configuration, logs and replication state
// are not asked again.
func benchRefSteadyRPCs() []string {
	return []string{
		junos.RPCSystemUptime,
		junos.RPCRouteEngine,
		junos.RPCChassisAlarms,
		junos.RPCSystemAlarms,
		benchRefFileList(),
	}
}

// benchRefFileList is the agent's one file-list RPC for its default logs.
func benchRefFileList() string {
	pattern, _ := junos.FileListPattern([]string{"messages", "mastership"})
	return junos.FileListRPC(pattern)
}

const (
	benchRefHello   = `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>`
	benchRefEOM     = "]]>]]>"
	benchRefTimeout = 30 * time.Second
)

// benchRef polls devs with the minimal client, conc at a time.
type benchRef struct {
	devs      []inventory.Device
	conc      int
	passwords map[string]string        // by password file
	keys      map[string]ssh.PublicKey // by known_hosts label, "[host]:port"
	first     []string                 // benchRefFirstRPCs, built once
	steady    []string                 // benchRefSteadyRPCs, built once
}

// benchRefRun is what one reference pass measured.
type benchRefRun struct {
	span          benchSpan
	ok, failed    int
	firstErr      error
	rssPerSession int64
	// goroutinesPerSession is how many goroutines an idle open session
	// keeps.
	goroutinesPerSession float64
}

func newBenchRef(devs []inventory.Device, conc int) (*benchRef, error) {
	if len(devs) == 0 {
		return nil, errors.New("reference client: no devices")
	}
	r := &benchRef{devs: devs, conc: conc, passwords: map[string]string{}, keys: map[string]ssh.PublicKey{}, first: benchRefFirstRPCs(), steady: benchRefSteadyRPCs()}
	read := map[string]bool{}
	for _, d := range devs {
		if _, ok := r.passwords[d.Auth.PasswordFile]; !ok {
			pw, err := d.Auth.Password()
			if err != nil {
				return nil, fmt.Errorf("reference client: %w", err)
			}
			r.passwords[d.Auth.PasswordFile] = pw.Reveal()
		}
		if read[d.KnownHosts] {
			continue
		}
		read[d.KnownHosts] = true
		data, err := os.ReadFile(d.KnownHosts)
		if err != nil {
			return nil, fmt.Errorf("reference client: %w", err)
		}
		for len(data) > 0 {
			_, hosts, key, _, rest, err := ssh.ParseKnownHosts(data)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reference client: known_hosts %s: %w", d.KnownHosts, err)
			}
			for _, h := range hosts {
				r.keys[h] = key
			}
			data = rest
		}
	}
	return r, nil
}

// each runs fn for 0..n-1, conc at a time, and counts the failures.
func (r *benchRef) each(ctx context.Context, n int, fn func(i int) error) (ok, failed int, firstErr error) {
	var (
		next     atomic.Int64
		nok, nf  atomic.Int64
		once     sync.Once
		wg       sync.WaitGroup
		errFirst error
	)
	for range min(r.conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					nf.Add(1)
					once.Do(func() { errFirst = err })
					continue
				}
				nok.Add(1)
			}
		})
	}
	wg.Wait()
	return int(nok.Load()), int(nf.Load()), errFirst
}

// fresh polls every device once on a new session.
func (r *benchRef) fresh(ctx context.Context) benchRefRun {
	benchSettle()
	m := startMeter()
	ok, failed, err := r.each(ctx, len(r.devs), func(i int) error {
		s, err := r.dial(ctx, r.devs[i])
		if err != nil {
			return err
		}
		defer s.close()
		return s.poll(r.first)
	})
	return benchRefRun{span: m.stop(), ok: ok, failed: failed, firstErr: err}
}

// persistent opens a session per device and polls on it (as a first
// audit would), measures the RSS of the idle sessions, measures a second
// poll of every device on its open session, and closes them.
func (r *benchRef) persistent(ctx context.Context) benchRefRun {
	sessions := make([]*benchRefSession, len(r.devs))
	defer func() {
		_, _, _ = r.each(context.WithoutCancel(ctx), len(sessions), func(i int) error {
			if s := sessions[i]; s != nil {
				s.close()
			}
			return nil
		})
	}()
	benchSettle()
	before, goBefore := benchRSS(), runtime.NumGoroutine()
	_, _, err := r.each(ctx, len(r.devs), func(i int) error {
		s, err := r.dial(ctx, r.devs[i])
		if err != nil {
			return err
		}
		if err := s.poll(r.first); err != nil {
			s.close()
			return err
		}
		sessions[i] = s
		return nil
	})
	var run benchRefRun
	run.firstErr = err
	benchSettle()
	open := 0
	for _, s := range sessions {
		if s != nil {
			open++
		}
	}
	if after := benchRSS(); open > 0 && before > 0 {
		run.rssPerSession = (after - before) / int64(open)
	}
	if open > 0 {
		run.goroutinesPerSession = float64(runtime.NumGoroutine()-goBefore) / float64(open)
	}
	m := startMeter()
	run.ok, run.failed, err = r.each(ctx, len(sessions), func(i int) error {
		if sessions[i] == nil {
			return fmt.Errorf("%s: no session", r.devs[i].Name)
		}
		return sessions[i].poll(r.steady)
	})
	run.span = m.stop()
	if run.firstErr == nil {
		run.firstErr = err
	}
	return run
}

// benchRefSession is one open NETCONF session of the reference client.
type benchRefSession struct {
	name   string
	conn   net.Conn
	client *ssh.Client
	ch     ssh.Channel
	buf    []byte // bytes read; the last message read is buf[:off]
	off    int
	id     int
}

func (r *benchRef) dial(ctx context.Context, d inventory.Device) (*benchRefSession, error) {
	addr := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	key, ok := r.keys[knownhosts.Normalize(addr)]
	if !ok {
		return nil, fmt.Errorf("%s: no host key in known_hosts", d.Name)
	}
	cfg := &ssh.ClientConfig{
		User:              d.Username,
		Auth:              []ssh.AuthMethod{ssh.Password(r.passwords[d.Auth.PasswordFile])},
		HostKeyCallback:   ssh.FixedHostKey(key),
		HostKeyAlgorithms: []string{key.Type()},
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	_ = conn.SetDeadline(time.Now().Add(benchRefTimeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	ch, chReqs, err := client.OpenChannel("session", nil)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	go ssh.DiscardRequests(chReqs)
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"netconf"})); err != nil || !ok {
		client.Close()
		return nil, fmt.Errorf("%s: netconf subsystem refused (%v)", d.Name, err)
	}
	s := &benchRefSession{name: d.Name, conn: conn, client: client, ch: ch}
	if _, err := io.WriteString(ch, benchRefHello); err != nil {
		s.client.Close()
		return nil, fmt.Errorf("%s: hello: %w", d.Name, err)
	}
	if _, err := s.read(); err != nil {
		s.client.Close()
		return nil, fmt.Errorf("%s: hello: %w", d.Name, err)
	}
	_ = conn.SetDeadline(time.Time{})
	s.idle()
	return s, nil
}

// poll sends rpcs one after the other and reads each reply. After a first
// poll's RPCs it asks the replication state where the agent does: two REs
// and graceful-switchover configured (the only bytes it looks at).
func (s *benchRefSession) poll(rpcs []string) error {
	_ = s.conn.SetDeadline(time.Now().Add(benchRefTimeout))
	dual, gres := false, false
	for _, body := range rpcs {
		msg, err := s.rpc(body)
		if err != nil {
			return err
		}
		switch body {
		case junos.RPCRouteEngine:
			dual = bytes.Count(msg, []byte("<route-engine>")) >= 2
		case junos.RPCRedundancyConfig:
			gres = bytes.Contains(msg, []byte("<graceful-switchover/>"))
		}
	}
	if dual && gres {
		if _, err := s.rpc(junos.RPCReplicationState); err != nil {
			return err
		}
	}
	_ = s.conn.SetDeadline(time.Time{})
	s.idle()
	return nil
}

// idle drops the read buffer between polls: an idle session holds none.
func (s *benchRefSession) idle() {
	if len(s.buf) == s.off {
		s.buf, s.off = nil, 0
	}
}

// rpc sends body and returns its reply, valid until the next read.
func (s *benchRefSession) rpc(body string) ([]byte, error) {
	s.id++
	msg := `<rpc message-id="` + strconv.Itoa(s.id) + `">` + body + `</rpc>` + benchRefEOM
	if _, err := io.WriteString(s.ch, msg); err != nil {
		return nil, fmt.Errorf("%s: send: %w", s.name, err)
	}
	reply, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("%s: reply: %w", s.name, err)
	}
	return reply, nil
}

// read drops the last message and reads the next one, up to and
// including "]]>]]>".
func (s *benchRefSession) read() ([]byte, error) {
	s.buf, s.off = s.buf[:copy(s.buf, s.buf[s.off:])], 0
	scan := 0
	for {
		if i := bytes.Index(s.buf[scan:], []byte(benchRefEOM)); i >= 0 {
			s.off = scan + i + len(benchRefEOM)
			return s.buf[:s.off], nil
		}
		scan = max(0, len(s.buf)-len(benchRefEOM)+1)
		if cap(s.buf)-len(s.buf) < 4096 {
			s.buf = append(s.buf, make([]byte, 32<<10)...)[:len(s.buf)]
		}
		n, err := s.ch.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil && n == 0 {
			return nil, err
		}
	}
}

// close ends the session with close-session and closes the connection.
func (s *benchRefSession) close() {
	_ = s.conn.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = s.rpc("<close-session/>")
	_ = s.client.Close()
}
