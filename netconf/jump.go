package netconf

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// DefaultJumpPort is the port of a jump host that names none: a jump host
// is an SSH server, not a NETCONF one.
const DefaultJumpPort = 22

// JumpHost is one SSH server on the way to the router, as a hop of
// OpenSSH's ProxyJump: the connection to the next hop (or the router) is a
// "direct-tcpip" channel through it. Each hop authenticates and has its
// host key checked on its own. Fields left empty are taken from
// Config.SSHConfigFile for Name, if set, and then from the router's
// Config, except Port, which defaults to 22.
type JumpHost struct {
	// Name is the hop as the inventory or ProxyJump names it: a host name
	// or address, or an alias that ssh_config or Host resolves.
	Name string
	// Host is the address to connect to; "": ssh_config's HostName for
	// Name, else Name.
	Host string
	// Port is the SSH port; 0: ssh_config's Port, else DefaultJumpPort.
	Port int
	// User is the login; "": ssh_config's User, else Config.User.
	User string
	// Credentials are the hop's own; nil: Config.Credentials (with
	// ssh_config's IdentityFile for Name first, when KeyFile is empty).
	Credentials *Credentials
	// KnownHostsFile holds the hop's key, under its own host and port;
	// "": ssh_config's UserKnownHostsFile, else the router's file.
	KnownHostsFile string
	// HostKeyPolicy: "" means Config.HostKeyPolicy.
	HostKeyPolicy HostKeyPolicy
}

// endpoint is one SSH server of a route, every setting resolved.
type endpoint struct {
	name       string // as configured, before ssh_config's HostName
	host       string // what is connected to
	port       int
	user       string
	creds      Credentials
	knownHosts string
	policy     HostKeyPolicy
	legacy     bool
	hop        bool // a jump host, not the router
}

func (e *endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// label names a jump host in messages: its address, and the name it was
// given when that differs ("ams-bastion (192.0.2.1:22)").
func (e *endpoint) label() string {
	if e.name != "" && e.name != e.host {
		return e.name + " (" + e.addr() + ")"
	}
	return e.addr()
}

// peer is how negotiation hints name the endpoint.
func (e *endpoint) peer() string {
	if e.hop {
		return "the jump host"
	}
	return "the router"
}

// wrap says which step failed where. The router's messages keep the
// wording they have without jump hosts ("ssh handshake with
// 192.0.2.1:830: …"); a jump host's start with it ("jump host
// bastion.example.net:22: ssh handshake: …").
func (e *endpoint) wrap(routerOp, hopOp string, err error) error {
	if e.hop {
		return fmt.Errorf("jump host %s: %s: %w", e.label(), hopOp, err)
	}
	return fmt.Errorf("%s %s: %w", routerOp, e.addr(), err)
}

// route is the path to a router: the jump hosts in order, then the router.
type route struct {
	hops   []endpoint
	target endpoint
}

// first is the endpoint the TCP connection goes to.
func (r *route) first() *endpoint {
	if len(r.hops) > 0 {
		return &r.hops[0]
	}
	return &r.target
}

// via lists the jump hosts, for logs.
func (r *route) via() string {
	s := make([]string, len(r.hops))
	for i := range r.hops {
		s[i] = r.hops[i].label()
	}
	return strings.Join(s, ", ")
}

// resolveRoute turns cfg into endpoints: ssh_config applied where cfg
// leaves a setting empty, then the defaults. Errors are configuration
// errors, found before any connection.
func resolveRoute(cfg Config) (*route, error) {
	port := cfg.Port
	if port == 0 && cfg.SSHConfigFile == "" {
		port = DefaultPort
	}
	// addr names the router in errors until ssh_config has said where it
	// is: without a port when ssh_config is still to give it.
	addr := cfg.Host
	if port != 0 {
		addr = net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	}
	if cfg.Host == "" {
		return nil, fmt.Errorf("dial %s: no host given", addr)
	}
	var sc *sshConfigFile
	if cfg.SSHConfigFile != "" {
		var err error
		if sc, err = loadSSHConfig(cfg.SSHConfigFile); err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
	}
	t := endpoint{
		name: cfg.Host, host: cfg.Host, port: port, user: cfg.User, creds: cfg.Credentials,
		knownHosts: cfg.KnownHostsFile, policy: cfg.HostKeyPolicy, legacy: cfg.LegacyAlgorithms,
	}
	jump := cfg.Jump
	if sc != nil {
		r, err := sc.resolve(cfg.Host, sshResolved{
			port: cfg.Port, user: cfg.User, keyFile: cfg.Credentials.KeyFile, knownHosts: cfg.KnownHostsFile,
		}, DefaultPort)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		t.host, t.port, t.user, t.creds.KeyFile, t.knownHosts = r.host, r.port, r.user, r.keyFile, r.knownHosts
		if jump == nil && r.proxyJump != "" {
			hops, err := ParseJump(r.proxyJump)
			if err != nil {
				return nil, fmt.Errorf("dial %s: ssh_config %s: Host %s: ProxyJump %q: %w", addr, sc.path, cfg.Host, r.proxyJump, err)
			}
			for _, h := range hops {
				j := h
				if cfg.ProxyJumpHost != nil {
					known, ok, err := cfg.ProxyJumpHost(h.Name)
					if err != nil {
						return nil, fmt.Errorf("dial %s: %w: %w", addr, ErrNoCredentials, err)
					}
					if ok {
						known.Name = h.Name
						known.Port = cmp.Or(h.Port, known.Port)
						known.User = cmp.Or(h.User, known.User)
						j = known
					}
				}
				jump = append(jump, j)
			}
		}
	}
	if t.user == "" {
		msg := "no user name given"
		if sc != nil {
			msg += " (set username in the inventory, or User in " + sc.path + ")"
		}
		return nil, fmt.Errorf("dial %s: %s", t.addr(), msg)
	}
	rt := &route{target: t}
	for i, h := range jump {
		e := endpoint{
			name: h.Name, host: h.Host, port: h.Port, user: h.User, creds: cfg.Credentials,
			knownHosts: h.KnownHostsFile, policy: h.HostKeyPolicy, hop: true,
		}
		if h.Credentials != nil {
			e.creds = *h.Credentials
		} else {
			// The router's credentials, but a key file named for this
			// hop in ssh_config comes before the router's.
			e.creds.KeyFile = ""
		}
		if e.name == "" {
			e.name = e.host
		}
		if e.name == "" {
			return nil, fmt.Errorf("dial %s: jump host %d has no name", t.addr(), i+1)
		}
		if sc != nil {
			r, err := sc.resolve(e.name, sshResolved{
				host: e.host, port: e.port, user: e.user, keyFile: e.creds.KeyFile, knownHosts: e.knownHosts,
			}, DefaultJumpPort)
			if err != nil {
				return nil, fmt.Errorf("dial %s: jump host %s: %w", t.addr(), e.name, err)
			}
			e.host, e.port, e.user, e.creds.KeyFile, e.knownHosts = r.host, r.port, r.user, r.keyFile, r.knownHosts
		}
		// What neither the hop nor ssh_config set comes from the router.
		if e.host == "" {
			e.host = e.name
		}
		if e.port == 0 {
			e.port = DefaultJumpPort
		}
		if e.user == "" {
			e.user = t.user
		}
		if h.Credentials == nil && e.creds.KeyFile == "" {
			e.creds.KeyFile = t.creds.KeyFile
		}
		if e.knownHosts == "" {
			e.knownHosts = t.knownHosts
		}
		if e.policy == "" {
			e.policy = t.policy
		}
		rt.hops = append(rt.hops, e)
	}
	return rt, nil
}

// prepared is what an endpoint needs for its SSH handshake, built before
// any connection so that a bad key file or known_hosts fails first.
type prepared struct {
	user      string
	methods   []ssh.AuthMethod
	hostKey   ssh.HostKeyCallback
	algos     algorithms
	closeAuth func()
}

func (e *endpoint) prepare(cache *KnownHostsCache, log *slog.Logger) (*prepared, error) {
	cb, known, err := hostKeyCheckCached(cache, e.host, e.port, e.knownHosts, e.policy, log)
	if err != nil {
		return nil, e.wrap("host key check for", "host key check", err)
	}
	methods, closeAuth, err := e.creds.authMethods()
	if err != nil {
		closeAuth()
		return nil, e.wrap("credentials for", "credentials", fmt.Errorf("%w: %w", ErrNoCredentials, err))
	}
	if len(methods) == 0 {
		closeAuth()
		return nil, e.wrap("credentials for", "credentials", ErrNoCredentials)
	}
	return &prepared{
		user: e.user, methods: methods, hostKey: cb,
		algos: clientAlgorithms(known, e.legacy), closeAuth: closeAuth,
	}, nil
}

// clientConfig is the x/crypto configuration of the handshake.
func (p *prepared) clientConfig() *ssh.ClientConfig {
	return &ssh.ClientConfig{
		Config:            p.algos.config,
		User:              p.user,
		Auth:              p.methods,
		HostKeyCallback:   p.hostKey,
		HostKeyAlgorithms: p.algos.hostKeys,
	}
}

// sshHandshake runs SSH on conn with e, bounded by ctx through the
// connection under it (which the caller closes when ctx ends).
func (e *endpoint) sshHandshake(ctx context.Context, conn net.Conn, p *prepared) (ssh.Conn, <-chan ssh.NewChannel, <-chan *ssh.Request, error) {
	c, chans, reqs, err := ssh.NewClientConn(conn, e.addr(), p.clientConfig())
	if err != nil {
		err = negotiationHint(ctxError(ctx, err), e.peer(), e.legacy, !e.hop)
		return nil, nil, nil, e.wrap("ssh handshake with", "ssh handshake", err)
	}
	return c, chans, reqs, nil
}

// throughJumps runs SSH to every jump host of rt over base (the TCP
// connection to the first) and opens the channel to the router through the
// last. It returns that channel and the jump hosts' clients, first hop
// first. On error it closes what it opened; the caller closes base.
func throughJumps(ctx context.Context, base net.Conn, rt *route, preps []*prepared, log *slog.Logger) (net.Conn, []*ssh.Client, error) {
	conn := base
	var clients []*ssh.Client
	fail := func(err error) (net.Conn, []*ssh.Client, error) {
		closeClients(clients)
		return nil, nil, err
	}
	for i := range rt.hops {
		hop := &rt.hops[i]
		c, chans, reqs, err := hop.sshHandshake(ctx, conn, preps[i])
		if err != nil {
			return fail(err)
		}
		client := ssh.NewClient(c, chans, reqs)
		clients = append(clients, client)
		next := &rt.target
		if i+1 < len(rt.hops) {
			next = &rt.hops[i+1]
		}
		// The jump host resolves the name: the router's name may only
		// resolve on the far side.
		conn, err = client.DialContext(ctx, "tcp", next.addr())
		if err != nil {
			var oce *ssh.OpenChannelError
			if errors.As(err, &oce) {
				return fail(fmt.Errorf("jump host %s: %w", hop.label(),
					&ForwardError{Target: next.addr(), Reason: oce.Reason, Message: oce.Message}))
			}
			return fail(hop.wrap("", "forward to "+next.addr(), ctxError(ctx, err)))
		}
		log.Debug("jump host forwarding", "jump_host", hop.label(), "to", next.addr())
	}
	return conn, clients, nil
}

func closeClients(clients []*ssh.Client) {
	for i := len(clients) - 1; i >= 0; i-- {
		_ = clients[i].Close()
	}
}

// ForwardError is a jump host refusing to open a connection onward
// ("direct-tcpip"), with the reason it gave.
type ForwardError struct {
	Target  string              // host:port asked for
	Reason  ssh.RejectionReason // ssh.Prohibited, ssh.ConnectFailed, ...
	Message string              // the jump host's own words
}

func (e *ForwardError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot reach %s: %s", e.Target, e.Reason)
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	switch e.Reason {
	case ssh.Prohibited:
		b.WriteString("; the jump host does not allow TCP forwarding there for this user (OpenSSH: AllowTcpForwarding, PermitOpen)")
	case ssh.ConnectionFailed:
		b.WriteString("; the jump host could not connect to it: a wrong address or port, or the router is down or filtered")
	}
	return b.String()
}

// Unwrap makes a jump host's failure to connect onward a refused
// connection, as the same failure without a jump host is: Classify
// reports it as refused (and the poll may be retried), where a
// forwarding the jump host forbids stays a protocol error.
func (e *ForwardError) Unwrap() error {
	if e.Reason == ssh.ConnectionFailed {
		return syscall.ECONNREFUSED
	}
	return nil
}

// chainConn is the router's SSH connection when it runs through jump
// hosts. Closing it closes the jump hosts' connections and the TCP
// connection under them too, so that a Session, which closes only its own
// client, releases the whole path.
type chainConn struct {
	ssh.Conn
	below []*ssh.Client
	base  net.Conn
}

func (c *chainConn) Close() error {
	err := c.Conn.Close()
	closeClients(c.below)
	_ = c.base.Close()
	return err
}
