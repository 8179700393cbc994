package junossim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/netconf/netconftest"
)

// User is the one account every simulated router accepts.
const User = "netconf"

// File names WriteInventory puts beside the inventory.
const (
	KnownHostsFile = "junossim.known_hosts"
	PasswordFile   = "junossim.password"
)

// helloComments are the two comments Junos sends before its hello
// (MANIFEST pitfall 16), for the class a NETCONF automation user has;
// netconftest wraps each in <!-- -->.
var helloComments = []string{
	"No zombies were killed during the creation of this user interface",
	"user " + User + ", class super-user",
}

// Options configure a fleet.
type Options struct {
	// Host is the loopback address the routers listen on; default
	// 127.0.0.1. Anything that is not loopback is refused: the simulator
	// accepts a password known to anyone who can read the inventory.
	Host string
	// Clock drives every router's up-times, alarm times and timeline;
	// default time.Now.
	Clock func() time.Time
	// Logger receives server and timeline logs; default discards.
	Logger *slog.Logger
	// InventoryTimeout is the per-device timeout WriteInventory puts in the
	// inventory defaults; default 10s.
	InventoryTimeout time.Duration
}

// DeviceInfo describes one running simulated router.
type DeviceInfo struct {
	Name        string
	Host        string
	Port        int
	Addr        string // host:port
	Site        string
	Tags        []string
	Model       string
	Version     string
	Topology    Topology
	Framing     string // "1.0" or "1.1"
	ExpectedREs int
	Faults      Faults
	// Maintenance is the device's maintenance windows, as the inventory
	// gets them.
	Maintenance []MaintenanceWindow
	// HostKey is the key the server presents; nil for a refusing device.
	HostKey ssh.PublicKey
	// KnownHostsKey is the key the written known_hosts holds for it; it
	// differs from HostKey when Faults.WrongHostKey is set.
	KnownHostsKey ssh.PublicKey
}

// Fleet is a set of running simulated routers.
type Fleet struct {
	password string
	opts     Options
	devs     []*fleetDevice
	byName   map[string]*fleetDevice

	// mu guards fleetDevice.info.Faults, which SetFaults changes.
	mu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

type fleetDevice struct {
	info     DeviceInfo
	router   *Router
	srv      *netconftest.Server // nil when refusing
	closer   io.Closer           // the reserved port of a refusing device
	lossSeed uint64
}

// Start starts one NETCONF-over-SSH server per device of the scenario on
// the loopback address, each with its own ed25519 host key, all sharing
// one random password for User. ctx bounds the start-up only; the fleet
// runs until Close. Servers start in parallel so that a fleet of 10,000
// comes up in about a second; there is no goroutine per device beyond each
// server's own.
func Start(ctx context.Context, sc Scenario, opts Options) (*Fleet, error) {
	devs, err := sc.Resolved()
	if err != nil {
		return nil, fmt.Errorf("junossim: %w", err)
	}
	opts.Host = cmp.Or(opts.Host, "127.0.0.1")
	ip, err := netip.ParseAddr(opts.Host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("junossim: host %q is not a loopback address; the simulator only listens on loopback", opts.Host)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.InventoryTimeout = cmp.Or(opts.InventoryTimeout, 10*time.Second)
	f := &Fleet{
		// 26 base32 characters, 128 bits from crypto/rand.
		password: rand.Text(),
		opts:     opts,
		devs:     make([]*fleetDevice, len(devs)),
		byName:   make(map[string]*fleetDevice, len(devs)),
	}
	began := time.Now()
	ports := newPortPicker()
	err = parallel(ctx, len(devs), func(i int) error {
		fd, err := f.startDevice(devs[i], sc.Seed, ports)
		if err != nil {
			return fmt.Errorf("junossim: device %s: %w", devs[i].Name, err)
		}
		f.devs[i] = fd
		return nil
	})
	for _, fd := range f.devs {
		if fd != nil {
			f.byName[fd.info.Name] = fd
		}
	}
	if err != nil {
		f.devs = slices.DeleteFunc(f.devs, func(fd *fleetDevice) bool { return fd == nil })
		return nil, errors.Join(err, f.Close())
	}
	opts.Logger.Info("junossim: fleet started", "devices", len(devs), "took", time.Since(began).Round(time.Millisecond))
	return f, nil
}

// parallel runs fn(0..n-1) on a few workers and returns the first error;
// after an error or cancellation no new index starts.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		errOnce  sync.Once
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	for range min(n, 2*runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(fmt.Errorf("junossim: start interrupted: %w", err))
					return
				}
				if err := fn(i); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

func (f *Fleet) startDevice(d Device, seed int64, ports *portPicker) (*fleetDevice, error) {
	logger := f.opts.Logger.With("device", d.Name)
	router, err := NewRouter(d, seed, f.opts.Clock, f.opts.Logger)
	if err != nil {
		return nil, err
	}
	var faults Faults
	if d.Faults != nil {
		faults = *d.Faults
	}
	fd := &fleetDevice{router: router, lossSeed: lossSeed(d.Name, seed), info: DeviceInfo{
		Name: d.Name, Site: d.Site, Tags: slices.Clone(d.Tags), Model: router.Model(), Version: router.Version(),
		Topology: d.Topology, Framing: d.Framing, ExpectedREs: d.Topology.ExpectedREs(), Faults: faults,
		Maintenance: slices.Clone(d.Maintenance),
	}}
	if faults.Refuse {
		err := ports.bind(func(port int) error {
			closer, err := reservePort(f.opts.Host, port)
			if err == nil {
				fd.closer = closer
				fd.info.Host, fd.info.Port = f.opts.Host, port
				fd.info.Addr = net.JoinHostPort(f.opts.Host, strconv.Itoa(port))
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reserve a refusing port: %w", err)
		}
		return fd, nil
	}
	signer, err := newHostKey()
	if err != nil {
		return nil, err
	}
	var srv *netconftest.Server
	err = ports.bind(func(port int) error {
		var err error
		srv, err = netconftest.NewServer(netconftest.Config{
			Addr:          net.JoinHostPort(f.opts.Host, strconv.Itoa(port)),
			HostKey:       signer,
			Users:         map[string]string{User: f.password},
			Base11:        d.Framing == "1.1",
			HelloComments: helloComments,
			// netconftest itself advertises the Junos 17.3 capabilities,
			// and base:1.1 with Base11.
			Handler: router,
			Fault:   serverFault(faults, fd.lossSeed),
			Logger:  logger,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	fd.srv = srv
	fd.info.Host, fd.info.Port, fd.info.Addr = srv.Host(), srv.Port(), srv.Addr()
	fd.info.HostKey = srv.HostKey()
	fd.info.KnownHostsKey = fd.info.HostKey
	if faults.WrongHostKey {
		// A key of the same type, so a client that pins the algorithm from
		// known_hosts sees "key mismatch", not "no matching algorithm".
		other, err := newHostKey()
		if err != nil {
			return nil, errors.Join(err, srv.Close())
		}
		fd.info.KnownHostsKey = other.PublicKey()
	}
	return fd, nil
}

// portPicker hands out ports for the servers to listen on. Listening on
// port 0 is what one would do, but Linux's search for a free port slows to
// seconds per bind once some 7,000 loopback ports are taken (measured: a
// 10,000-listener fleet took over a minute), while binding a named port
// stays constant-time (half a second for 10,000). So the fleet walks the
// ephemeral port range from a random point, skipping ports in use.
type portPicker struct {
	lo, span int
	start    int
	n        atomic.Int64
}

func newPortPicker() *portPicker {
	lo, hi := ephemeralPortRange()
	p := &portPicker{lo: lo, span: hi - lo + 1}
	p.start = mrand.IntN(p.span)
	return p
}

// ephemeralPortRange is the kernel's range for automatic ports, where
// nothing expects a fixed service to live.
func ephemeralPortRange() (lo, hi int) {
	lo, hi = 32768, 60999 // Linux default
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	var l, h int
	if _, err := fmt.Sscan(string(b), &l, &h); err != nil || l < 1024 || h > 65535 || h-l < 1000 {
		return lo, hi
	}
	return l, h
}

// bind calls try with successive ports until one is not in use.
func (p *portPicker) bind(try func(port int) error) error {
	for range p.span {
		port := p.lo + (p.start+int(p.n.Add(1)-1))%p.span
		err := try(port)
		if err == nil || !isAddrInUse(err) {
			return err
		}
	}
	return fmt.Errorf("no free port in %d..%d", p.lo, p.lo+p.span-1)
}

func isAddrInUse(err error) bool {
	// The string test covers a server that reports the bind error
	// without wrapping it.
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

func newHostKey() (ssh.Signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	return s, nil
}

// serverFault is the session-level part of f; lossSeed seeds the device's
// reply loss.
func serverFault(f Faults, lossSeed uint64) netconftest.Fault {
	return netconftest.Fault{
		SilentAfterAccept:   f.SilentAfterAccept,
		RejectAuth:          f.RejectAuth,
		StallAfterHandshake: f.StallAfterHandshake,
		HangAfterHello:      f.HangAfterHello,
		StallMidReply:       f.StallMidReply,
		ResetMidReply:       f.ResetMidReply,
		Drip:                f.Drip,
		SplitDelimiter:      f.SplitDelimiter,
		MalformedXML:        f.MalformedXML,
		InvalidUTF8:         f.InvalidUTF8,
		WrongMessageID:      f.WrongMessageID,
		HugeReply:           int64(f.HugeReply),
		Loss:                f.Loss,
		LossSeed:            lossSeed,
		Latency:             f.Latency,
		RTT:                 f.RTT,
	}
}

// lossSeed is a device's seed for reply loss: the same scenario seed and
// name drop the same replies every run, whatever the fleet's order.
func lossSeed(name string, seed int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() ^ uint64(seed)*0x9e3779b97f4a7c15
}

// Password is the password of User on every router.
func (f *Fleet) Password() string { return f.password }

// Devices describes the routers in scenario order.
func (f *Fleet) Devices() []DeviceInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]DeviceInfo, len(f.devs))
	for i, fd := range f.devs {
		out[i] = fd.info
		out[i].Tags = slices.Clone(fd.info.Tags)
	}
	return out
}

// Device describes one router.
func (f *Fleet) Device(name string) (DeviceInfo, bool) {
	fd, ok := f.byName[name]
	if !ok {
		return DeviceInfo{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	info := fd.info
	info.Tags = slices.Clone(info.Tags)
	return info, true
}

// Router returns the named router, so tests can change its state while the
// fleet runs; nil if there is none.
func (f *Fleet) Router(name string) *Router {
	if fd, ok := f.byName[name]; ok {
		return fd.router
	}
	return nil
}

// Sessions returns what each NETCONF session to the named router cost it
// (RPCs answered, reply bytes; see netconftest.SessionStats), oldest
// first; nil for a refusing device or an unknown name.
func (f *Fleet) Sessions(name string) []netconftest.SessionStats {
	if fd, ok := f.byName[name]; ok && fd.srv != nil {
		return fd.srv.Sessions()
	}
	return nil
}

// Totals sums the cost of every session to every router of the fleet;
// ID is the number of sessions.
func (f *Fleet) Totals() netconftest.SessionStats {
	t := netconftest.SessionStats{Operations: map[string]int{}}
	for _, fd := range f.devs {
		if fd.srv == nil {
			continue
		}
		s := fd.srv.Totals()
		t.ID += s.ID
		t.RPCs += s.RPCs
		t.ReplyBytes += s.ReplyBytes
		for op, n := range s.Operations {
			t.Operations[op] += n
		}
	}
	return t
}

// OpenConnections is how many connections the fleet's routers hold open
// now (see netconftest.Server.OpenConnections).
func (f *Fleet) OpenConnections() int {
	n := 0
	for _, fd := range f.devs {
		if fd.srv != nil {
			n += fd.srv.OpenConnections()
		}
	}
	return n
}

// SetFaults changes a running device's faults: the session faults for
// new connections or the next request (see netconftest.Server.SetFault),
// the RPC faults (rpc_error_on, backup_aborted) for the next RPC. Refuse
// and WrongHostKey are fixed at start (they decide the port and
// known_hosts) and cannot change.
func (f *Fleet) SetFaults(name string, faults Faults) error {
	fd, ok := f.byName[name]
	if !ok {
		return fmt.Errorf("junossim: no device %q", name)
	}
	var errs []error
	faults.validate("faults", fd.info.Topology, func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("junossim: device %s: %w", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if faults.Refuse != fd.info.Faults.Refuse || faults.WrongHostKey != fd.info.Faults.WrongHostKey {
		return fmt.Errorf("junossim: device %s: refuse and wrong_host_key are fixed when the fleet starts", name)
	}
	if fd.srv != nil {
		fd.srv.SetFault(serverFault(faults, fd.lossSeed))
	}
	fd.router.setFaults(faults)
	fd.info.Faults = faults
	return nil
}

// KnownHosts returns the known_hosts file WriteInventory writes: one line
// per device that listens, with the key the fleet claims it has.
func (f *Fleet) KnownHosts() []byte {
	var b bytes.Buffer
	for _, fd := range f.devs {
		if fd.info.KnownHostsKey == nil {
			continue
		}
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(fd.info.Addr)}, fd.info.KnownHostsKey))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Inventory file shape, as the agent's loader reads it.
type inventory struct {
	Defaults inventoryDefaults `yaml:"defaults"`
	Devices  []inventoryDevice `yaml:"devices"`
}

type inventoryDefaults struct {
	Username      string        `yaml:"username"`
	Auth          inventoryAuth `yaml:"auth,flow"`
	KnownHosts    string        `yaml:"known_hosts"`
	HostKeyPolicy string        `yaml:"host_key_policy"`
	Timeout       string        `yaml:"timeout"`
}

type inventoryAuth struct {
	PasswordFile string `yaml:"password_file"`
}

type inventoryDevice struct {
	Name        string   `yaml:"name"`
	Host        string   `yaml:"host"`
	Port        int      `yaml:"port"`
	Site        string   `yaml:"site,omitempty"`
	Tags        []string `yaml:"tags,omitempty,flow"`
	ExpectedREs int      `yaml:"expected_res"`
	// Maintenance is the inventory's maintenance: list (docs/inventory.md).
	Maintenance []inventoryWindow `yaml:"maintenance,omitempty"`
}

// inventoryWindow is a maintenance window as the inventory writes it:
// cron and duration, or from and until in RFC 3339.
type inventoryWindow struct {
	Cron     string `yaml:"cron,omitempty"`
	Duration string `yaml:"duration,omitempty"`
	From     string `yaml:"from,omitempty"`
	Until    string `yaml:"until,omitempty"`
}

func inventoryWindows(ws []MaintenanceWindow) []inventoryWindow {
	var out []inventoryWindow
	for _, w := range ws {
		iw := inventoryWindow{Cron: w.Cron}
		if w.Duration != 0 {
			iw.Duration = w.Duration.String()
		}
		if !w.From.IsZero() {
			iw.From = w.From.UTC().Format(time.RFC3339)
		}
		if !w.Until.IsZero() {
			iw.Until = w.Until.UTC().Format(time.RFC3339)
		}
		out = append(out, iw)
	}
	return out
}

// Inventory renders the inventory WriteInventory writes; the password and
// known_hosts files it names are relative to the inventory's directory.
func (f *Fleet) Inventory() ([]byte, error) {
	inv := inventory{Defaults: inventoryDefaults{
		Username:      User,
		Auth:          inventoryAuth{PasswordFile: PasswordFile},
		KnownHosts:    KnownHostsFile,
		HostKeyPolicy: "strict",
		Timeout:       f.opts.InventoryTimeout.String(),
	}}
	for _, fd := range f.devs {
		inv.Devices = append(inv.Devices, inventoryDevice{
			Name: fd.info.Name, Host: fd.info.Host, Port: fd.info.Port,
			Site: fd.info.Site, Tags: fd.info.Tags, ExpectedREs: fd.info.ExpectedREs,
			Maintenance: inventoryWindows(fd.info.Maintenance),
		})
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Simulated Junos fleet of %d routers, written by junossim.\n", len(f.devs))
	b.WriteString("# Ports, host keys and the password change every time junossim starts.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(inv); err != nil {
		return nil, fmt.Errorf("junossim: encode inventory: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("junossim: encode inventory: %w", err)
	}
	return b.Bytes(), nil
}

// WriteInventory writes the inventory to path, and beside it
// KnownHostsFile and PasswordFile (mode 0600, no trailing newline). Each
// file is replaced atomically, so an agent reading them never sees half.
func (f *Fleet) WriteInventory(path string) error {
	inv, err := f.Inventory()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := writeFileAtomic(filepath.Join(dir, PasswordFile), []byte(f.password), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, KnownHostsFile), f.KnownHosts(), 0o644); err != nil {
		return err
	}
	return writeFileAtomic(path, inv, 0o644)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("junossim: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	// CreateTemp makes the file 0600; set the final mode before any data
	// is in it.
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("junossim: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("junossim: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("junossim: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("junossim: write %s: %w", path, err)
	}
	return nil
}

// Close stops every server and releases every reserved port, waiting for
// the servers to finish. It is safe to call more than once.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		errs := make([]error, len(f.devs))
		_ = parallel(context.Background(), len(f.devs), func(i int) error {
			fd := f.devs[i]
			if fd.srv != nil {
				errs[i] = fd.srv.Close()
			}
			if fd.closer != nil {
				errs[i] = errors.Join(errs[i], fd.closer.Close())
			}
			if errs[i] != nil {
				errs[i] = fmt.Errorf("junossim: close %s: %w", fd.info.Name, errs[i])
			}
			return nil
		})
		f.closeErr = errors.Join(errs...)
	})
	return f.closeErr
}
