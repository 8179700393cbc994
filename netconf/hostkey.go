package netconf

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says what to do with a router's SSH host key.
type HostKeyPolicy string

const (
	// PolicyStrict is the default: unknown and changed keys are refused.
	PolicyStrict HostKeyPolicy = "strict"
	// PolicyAcceptNew appends unknown keys to known_hosts (trust on first
	// use); changed keys are still refused.
	PolicyAcceptNew HostKeyPolicy = "accept-new"
	// PolicyOff disables checking; every connection logs a warning so the
	// setting cannot go unnoticed.
	PolicyOff HostKeyPolicy = "off"
)

// defaultKnownHosts is OpenSSH's per-user file, so keys the operator has
// already accepted with ssh(1) work without extra configuration.
const defaultKnownHosts = "~/.ssh/known_hosts"

// ParseHostKeyPolicy parses an inventory host_key_policy value. The empty
// string means strict. Case and surrounding blanks are ignored because the
// value is typed by people into YAML.
func ParseHostKeyPolicy(s string) (HostKeyPolicy, error) {
	switch p := HostKeyPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PolicyStrict, nil
	case PolicyStrict, PolicyAcceptNew, PolicyOff:
		return p, nil
	default:
		return "", fmt.Errorf("netconf: unknown host_key_policy %q (want %s, %s or %s)",
			s, PolicyStrict, PolicyAcceptNew, PolicyOff)
	}
}

// HostKeyError reports a host key that was refused: the host is unknown
// (Unknown is true) or its key changed (Expected lists the keys known_hosts
// holds for it). Expected and Offered entries read "<key type> SHA256:…".
type HostKeyError struct {
	Host     string   // "[host]:port", or "host" for port 22, as known_hosts writes it
	Unknown  bool     // no key is known for Host
	Expected []string // the known keys, when the key changed
	Offered  string   // the key the server offered

	// file is the known_hosts file consulted; fileMissing says it did not
	// exist; revoked says the offered key is marked @revoked. They only
	// shape the message, which is what an operator acts on.
	file        string
	fileMissing bool
	revoked     bool
}

// Error names the host, the fingerprints and the command that fixes it.
func (e *HostKeyError) Error() string {
	var b strings.Builder
	switch {
	case e.revoked:
		fmt.Fprintf(&b, "netconf: host key for %s is revoked: offered %s is marked @revoked", e.Host, e.Offered)
		if e.file != "" {
			fmt.Fprintf(&b, " in %s", e.file)
		}
		b.WriteString("; refusing to connect")
	case e.Unknown:
		fmt.Fprintf(&b, "netconf: host key for %s is unknown: offered %s", e.Host, e.Offered)
		switch {
		case e.fileMissing:
			fmt.Fprintf(&b, "; known_hosts file %s does not exist", e.file)
		case e.file != "":
			fmt.Fprintf(&b, "; not in %s", e.file)
		}
		b.WriteString("; verify the fingerprint out of band, then add it with ")
		b.WriteString(keyscanCommand(e.Host, e.file))
		b.WriteString(", or set host_key_policy: accept-new to trust it on first use")
	default:
		fmt.Fprintf(&b, "netconf: host key for %s has CHANGED: expected %s, offered %s",
			e.Host, strings.Join(e.Expected, " or "), e.Offered)
		if typ := keyType(e.Offered); typ != "" && !slices.ContainsFunc(e.Expected, func(x string) bool { return keyType(x) == typ }) {
			fmt.Fprintf(&b, " (the key type changed too: known_hosts has no %s key for it)", typ)
		}
		if e.file != "" {
			fmt.Fprintf(&b, " (known_hosts %s)", e.file)
		}
		b.WriteString("; this may be a man-in-the-middle attack; if the host's key was replaced on purpose, remove the old entry with ")
		b.WriteString(keygenRemoveCommand(e.Host, e.file))
		b.WriteString(" and add the new one")
	}
	return b.String()
}

// keyType is the type of a key as describeKey renders it.
func keyType(described string) string {
	t, _, _ := strings.Cut(described, " ")
	return t
}

// keyscanCommand suggests the ssh-keyscan line for a known_hosts label.
func keyscanCommand(label, file string) string {
	host, port := label, "22"
	if h, p, err := net.SplitHostPort(label); err == nil {
		host, port = h, p
	}
	cmd := "ssh-keyscan "
	if port != "22" {
		cmd += "-p " + port + " "
	}
	cmd += shellQuote(host)
	if file != "" {
		cmd += " >> " + shellQuote(file)
	}
	return cmd
}

// keygenRemoveCommand suggests the ssh-keygen -R line for a known_hosts label.
func keygenRemoveCommand(label, file string) string {
	cmd := "ssh-keygen -R " + shellQuote(label)
	if file != "" {
		cmd += " -f " + shellQuote(file)
	}
	return cmd
}

// shellQuote quotes s for copy-and-paste into a POSIX shell; "[h]:830"
// needs it because the brackets are a glob.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+,~", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hostKeyCheck returns the ssh.HostKeyCallback for host:port under policy,
// and the algorithms of the keys known_hosts holds for the host (nil when
// it holds none), which clientAlgorithms offers first. Without that
// preference x/crypto prefers ECDSA, and a router that has both an ECDSA
// and an Ed25519 key, with only the Ed25519 one known, would look like a
// changed key. They are a preference, not a restriction: a router whose
// key type changed must still get through the key exchange, so that its
// new key is reported as changed.
//
// The callback checks the key against host:port as given here, not the
// address the SSH library dialed: through a jump host, the router's key is
// looked up under the router's host and port (the address the jump host
// is asked to connect to), and each jump host's under its own.
func hostKeyCheck(host string, port int, knownHostsFile string, policy HostKeyPolicy, log *slog.Logger) (ssh.HostKeyCallback, []string, error) {
	return hostKeyCheckCached(nil, host, port, knownHostsFile, policy, log)
}

// hostKeyCheckCached is hostKeyCheck reading known_hosts through cache
// (nil: parse the file now).
func hostKeyCheckCached(cache *KnownHostsCache, host string, port int, knownHostsFile string, policy HostKeyPolicy, log *slog.Logger) (ssh.HostKeyCallback, []string, error) {
	policy, err := ParseHostKeyPolicy(string(policy))
	if err != nil {
		return nil, nil, err
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(host), "["), "]")
	if host == "" {
		return nil, nil, errors.New("netconf: host key check: empty host")
	}
	// Blanks and commas would split the known_hosts line accept-new
	// writes, and pattern characters would turn it into a wildcard entry
	// trusted for other hosts.
	if strings.ContainsAny(host, " \t\r\n,*?!#@") {
		return nil, nil, fmt.Errorf("netconf: host key check: invalid host name %q", host)
	}
	if port < 1 || port > 65535 {
		return nil, nil, fmt.Errorf("netconf: host key check for %s: invalid port %d", host, port)
	}
	if log == nil {
		log = slog.Default()
	}
	address := net.JoinHostPort(host, strconv.Itoa(port))
	c := &hostKeyChecker{
		address: address,
		label:   knownhosts.Normalize(address),
		policy:  policy,
		log:     log,
	}

	if policy == PolicyOff {
		return c.checkOff, nil, nil
	}

	if knownHostsFile == "" {
		knownHostsFile = defaultKnownHosts
	}
	c.file, err = expandHome(knownHostsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("netconf: known_hosts file for %s: %w", c.label, err)
	}
	c.db, err = cache.load(c.file)
	if err != nil {
		return nil, nil, err
	}
	var algos []string
	if c.db != nil {
		algos, err = knownAlgorithms(c.db, c.address)
		if err != nil {
			return nil, nil, fmt.Errorf("netconf: known_hosts %s: looking up %s: %w", c.file, c.label, err)
		}
	}
	return c.check, algos, nil
}

// hostKeyChecker is the state behind one host's callback. It is built per
// hostKeyCheck call, so nothing is shared between connections except the
// known_hosts file itself, which writers coordinate through flock.
type hostKeyChecker struct {
	address string // host:port handed to knownhosts
	label   string // "[host]:port" as known_hosts writes it
	policy  HostKeyPolicy
	file    string
	db      ssh.HostKeyCallback // nil: the file did not exist when read
	log     *slog.Logger
}

// checkOff accepts every key but says so on every connection, with the
// fingerprint, so a later investigation can see what was accepted.
func (c *hostKeyChecker) checkOff(_ string, _ net.Addr, key ssh.PublicKey) error {
	c.log.Warn("host key checking is off", "host", c.label,
		"key_type", key.Type(), "fingerprint", ssh.FingerprintSHA256(key))
	return nil
}

func (c *hostKeyChecker) check(_ string, _ net.Addr, key ssh.PublicKey) error {
	err := c.classify(c.db, key)
	if c.policy == PolicyAcceptNew && isUnknown(err) {
		return c.addKey(key)
	}
	return err
}

// classify checks key against db (nil: no file, so every host is unknown)
// and returns nil when it is accepted, a *HostKeyError when it is unknown,
// changed or revoked, or another error when knownhosts could not decide.
func (c *hostKeyChecker) classify(db ssh.HostKeyCallback, key ssh.PublicKey) error {
	if db == nil {
		return &HostKeyError{Host: c.label, Unknown: true, Offered: describeKey(key),
			file: c.file, fileMissing: true}
	}
	err := db(c.address, hostAddr(c.address), key)
	if err == nil {
		return nil
	}
	offered := describeKey(key)
	var keyErr *knownhosts.KeyError
	var revErr *knownhosts.RevokedError
	switch {
	case errors.As(err, &revErr):
		return &HostKeyError{Host: c.label, Offered: offered, file: c.file, revoked: true}
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return &HostKeyError{Host: c.label, Unknown: true, Offered: offered, file: c.file}
	case errors.As(err, &keyErr):
		expected := make([]string, 0, len(keyErr.Want))
		for _, w := range keyErr.Want {
			expected = append(expected, describeKey(w.Key))
		}
		return &HostKeyError{Host: c.label, Expected: expected, Offered: offered, file: c.file}
	default:
		// A certificate without a matching @cert-authority, or a
		// malformed address: not a trust decision to classify.
		return fmt.Errorf("netconf: checking host key %s for %s against %s: %w",
			offered, c.label, c.file, err)
	}
}

func isUnknown(err error) bool {
	var herr *HostKeyError
	return errors.As(err, &herr) && herr.Unknown
}

// addKey appends key for the host under an exclusive flock, after
// re-reading the file under that lock: many goroutines and processes may
// meet the same new router at once, and exactly one line must result. If
// another writer got there first with the same key the connection
// proceeds; with a different key it is a changed key.
func (c *hostKeyChecker) addKey(key ssh.PublicKey) error {
	f, err := lockKnownHosts(c.file)
	if err != nil {
		return fmt.Errorf("netconf: adding host key for %s: %w", c.label, err)
	}
	defer func() {
		// Closing the descriptor releases the flock.
		_ = f.Close()
	}()

	db, err := loadKnownHosts(c.file)
	if err != nil {
		return err
	}
	if err := c.classify(db, key); !isUnknown(err) {
		return err // nil: another writer added this very key
	}

	line := knownhosts.Line([]string{c.address}, key) + "\n"
	if newline, err := needsNewline(f); err != nil {
		return fmt.Errorf("netconf: adding host key for %s to %s: %w", c.label, c.file, err)
	} else if newline {
		line = "\n" + line
	}
	// One write on an O_APPEND descriptor: even a reader that ignores the
	// lock (ssh itself) sees either no line or the whole line.
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("netconf: adding host key for %s to %s: %w", c.label, c.file, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("netconf: adding host key for %s to %s: %w", c.label, c.file, err)
	}
	c.log.Info("added new host key to known_hosts", "host", c.label,
		"key_type", key.Type(), "fingerprint", ssh.FingerprintSHA256(key), "file", c.file)
	return nil
}

// lockKnownHosts opens (creating, 0600, in a 0700 directory) and
// exclusively flocks the known_hosts file. If the file was replaced while
// we waited for the lock (ssh-keygen -R writes a new file and renames it
// over the old one), the lock is on a dead inode, so it tries again.
func lockKnownHosts(file string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("creating directory for %s: %w", file, err)
	}
	const attempts = 10
	for range attempts {
		f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", file, err)
		}
		if err := flockExclusive(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", file, err)
		}
		held, err1 := f.Stat()
		onDisk, err2 := os.Stat(file)
		if err1 == nil && err2 == nil && os.SameFile(held, onDisk) {
			return f, nil
		}
		_ = f.Close()
		if err1 != nil {
			return nil, fmt.Errorf("locking %s: %w", file, err1)
		}
		if err2 != nil && !errors.Is(err2, fs.ErrNotExist) {
			return nil, fmt.Errorf("locking %s: %w", file, err2)
		}
	}
	return nil, fmt.Errorf("locking %s: file kept being replaced", file)
}

func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// needsNewline reports whether f is non-empty and does not end in a
// newline, so an appended entry would join a hand-edited last line.
func needsNewline(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() == 0 {
		return false, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// loadKnownHosts parses file; a missing file gives a nil callback and no
// error, because under strict that means "every host unknown" and under
// accept-new the file is about to be created.
func loadKnownHosts(file string) (ssh.HostKeyCallback, error) {
	db, err := knownhosts.New(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netconf: reading known_hosts %s: %w", file, err)
	}
	return db, nil
}

// knownAlgorithms asks the knownhosts database which keys it holds for
// address. knownhosts has no lookup function, so it checks a probe key that
// matches no entry: the resulting KeyError lists every key for the host.
func knownAlgorithms(db ssh.HostKeyCallback, address string) ([]string, error) {
	err := db(address, hostAddr(address), probeKey{})
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		// A probe can neither match nor be revoked; anything else is a
		// malformed address.
		if err == nil {
			return nil, errors.New("probe key unexpectedly accepted")
		}
		return nil, err
	}
	var algos []string
	add := func(a ...string) {
		for _, x := range a {
			if !slices.Contains(algos, x) {
				algos = append(algos, x)
			}
		}
	}
	for _, w := range keyErr.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			// An ssh-rsa key signs with SHA-2 on any current server.
			// Signing with SHA-1 (the algorithm named ssh-rsa) is for old
			// Junos releases, with legacy_algorithms (clientAlgorithms).
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		default:
			add(t)
		}
	}
	return algos, nil
}

// probeKey is a public key no known_hosts line can hold.
type probeKey struct{}

func (probeKey) Type() string    { return "mastership-probe@netconf" }
func (probeKey) Marshal() []byte { return []byte("\x00\x00\x00\x18mastership-probe@netconf") }
func (probeKey) Verify([]byte, *ssh.Signature) error {
	return errors.New("probe key cannot verify")
}

// hostAddr is the net.Addr given to knownhosts. It only needs to split into
// host and port; passing the real connection's address would break on
// connections that are not TCP (a jump host's channel, a pipe in tests).
type hostAddr string

func (a hostAddr) Network() string { return "tcp" }
func (a hostAddr) String() string  { return string(a) }

// describeKey renders a key as "<type> SHA256:…" for messages.
func describeKey(k ssh.PublicKey) string {
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}

// expandHome expands a leading "~/" (or a lone "~") to the user's home
// directory, as ssh does for paths in its configuration.
func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expanding %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}
