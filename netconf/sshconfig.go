package netconf

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfigFile is a parsed OpenSSH client configuration (ssh_config(5)).
// Only the keywords that say where and as whom to connect are read:
// HostName, Port, User, IdentityFile, ProxyJump and UserKnownHostsFile.
// Anything else in the file (ciphers, StrictHostKeyChecking, ProxyCommand,
// ...) is ignored: the inventory decides those.
type sshConfigFile struct {
	path string // as expanded, for messages
	dir  string // base of relative IdentityFile and UserKnownHostsFile paths
	cfg  *ssh_config.Config
}

// maxSSHConfigSize bounds what is read: an OpenSSH client config is
// small, and a large file means the path names the wrong file.
const maxSSHConfigSize = 4 << 20

// loadSSHConfig reads and parses an OpenSSH client config file. It is read
// at every dial, as ssh(1) reads it at every connection, so an edit applies
// to the next poll.
func loadSSHConfig(path string) (*sshConfigFile, error) {
	p, err := expandHome(path)
	if err != nil {
		return nil, fmt.Errorf("ssh_config %s: %w", path, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	if fi.Size() > maxSSHConfigSize {
		return nil, fmt.Errorf("ssh_config %s: larger than %d bytes, not an ssh_config file", p, maxSSHConfigSize)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	cfg, err := ssh_config.DecodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("ssh_config %s: %w", p, err)
	}
	return &sshConfigFile{path: p, dir: filepath.Dir(p), cfg: cfg}, nil
}

// sshHostConfig is what an ssh_config says about one host, raw: "%"
// tokens are expanded by resolve, once the values they refer to are known.
// Empty means not set.
type sshHostConfig struct {
	hostName, user, proxyJump string
	port                      int
	identityFiles             []string
	knownHostsFiles           []string
}

// lookup returns the settings of the first Host (or Match host) blocks
// matching alias, with OpenSSH's rule that the first value obtained for a
// keyword wins. Only values the file gives are returned: none of
// ssh_config's defaults (Port 22 in particular; NETCONF's port is 830).
func (f *sshConfigFile) lookup(alias string) (sshHostConfig, error) {
	var hc sshHostConfig
	var errs []error
	get := func(key string) string {
		v, err := f.cfg.Get(alias, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		return strings.TrimSpace(v)
	}
	getAll := func(key string) []string {
		vs, err := f.cfg.GetAll(alias, key)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		return vs
	}
	hc.hostName = get("HostName")
	hc.user = get("User")
	hc.proxyJump = get("ProxyJump")
	if p := get("Port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("invalid Port %q: not a port number", p))
		}
		hc.port = n
	}
	for _, v := range getAll("IdentityFile") {
		if v = strings.TrimSpace(v); v != "" && !strings.EqualFold(v, "none") {
			hc.identityFiles = append(hc.identityFiles, v)
		}
	}
	// UserKnownHostsFile takes several files on one line; the first one
	// found wins, as for every keyword.
	if v := get("UserKnownHostsFile"); v != "" {
		hc.knownHostsFiles = strings.Fields(v)
	}
	if len(errs) > 0 {
		return sshHostConfig{}, fmt.Errorf("ssh_config %s: Host %s: %w", f.path, alias, errors.Join(errs...))
	}
	return hc, nil
}

// sshTokens are the values of ssh_config's "%" tokens (TOKENS in
// ssh_config(5)) for one connection. Tokens whose value is not known yet
// when a keyword is expanded (%r in User) are missing from the map, and
// using them is an error.
type sshTokens map[byte]string

// localTokens returns the tokens that do not depend on the connection:
// %d (home directory), %u (local user), %i (uid), %l (local host name).
func localTokens() sshTokens {
	t := sshTokens{'i': strconv.Itoa(os.Getuid())}
	if home, err := os.UserHomeDir(); err == nil {
		t['d'] = home
	}
	if u, err := user.Current(); err == nil {
		t['u'] = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		t['L'], _, _ = strings.Cut(h, ".")
		t['l'] = h
	}
	return t
}

// with returns a copy of t with more tokens set.
func (t sshTokens) with(kv ...string) sshTokens {
	out := make(sshTokens, len(t)+len(kv)/2)
	for k, v := range t {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i][0]] = kv[i+1]
	}
	return out
}

// expand replaces the "%" tokens in the value of keyword.
func (t sshTokens) expand(keyword, s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("%s %q ends with a lone %%", keyword, s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := t[s[i]]
		if !ok {
			return "", fmt.Errorf("%s %q: token %%%c is not supported there", keyword, s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// path expands tokens and "~/" in a file name from the config, and makes a
// relative one absolute against the config file's directory.
func (f *sshConfigFile) filePath(keyword, s string, t sshTokens) (string, error) {
	s, err := t.expand(keyword, s)
	if err != nil {
		return "", err
	}
	if s, err = expandHome(s); err != nil {
		return "", fmt.Errorf("%s: %w", keyword, err)
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(f.dir, s)
	}
	return s, nil
}

// sshResolved is one host's connection settings after applying an
// ssh_config: what the caller left empty is filled from the file.
type sshResolved struct {
	host, user, keyFile, knownHosts, proxyJump string
	port                                       int
}

// resolve applies the file's settings for alias to the values the caller
// already has (set: from the inventory, they win). Tokens are expanded the
// way ssh(1) does, in its order: HostName (%h is alias), then Port and
// User, then the file names and ProxyJump, which see the final host (%h),
// port (%p) and user (%r). Of several IdentityFile lines the first file
// that exists is used; if none exists, none is.
func (f *sshConfigFile) resolve(alias string, set sshResolved, defaultPort int) (sshResolved, error) {
	hc, err := f.lookup(alias)
	if err != nil {
		return sshResolved{}, err
	}
	fail := func(err error) (sshResolved, error) {
		return sshResolved{}, fmt.Errorf("ssh_config %s: Host %s: %w", f.path, alias, err)
	}
	r := set
	t := localTokens().with("n", alias, "h", alias)
	if r.host == "" {
		r.host = alias
		if hc.hostName != "" {
			if r.host, err = t.expand("HostName", hc.hostName); err != nil {
				return fail(err)
			}
		}
	}
	if r.port == 0 {
		r.port = hc.port
	}
	if r.port == 0 {
		r.port = defaultPort
	}
	t = t.with("h", r.host, "p", strconv.Itoa(r.port))
	if r.user == "" && hc.user != "" {
		if r.user, err = t.expand("User", hc.user); err != nil {
			return fail(err)
		}
	}
	if r.user != "" {
		t = t.with("r", r.user)
	}
	if r.keyFile == "" {
		for _, v := range hc.identityFiles {
			p, err := f.filePath("IdentityFile", v, t)
			if err != nil {
				return fail(err)
			}
			if _, err := os.Stat(p); err == nil {
				r.keyFile = p
				break
			}
		}
	}
	if r.knownHosts == "" && len(hc.knownHostsFiles) > 0 {
		v := hc.knownHostsFiles[0]
		if strings.EqualFold(v, "none") || v == os.DevNull {
			return fail(fmt.Errorf("UserKnownHostsFile %s would turn host key checking off; set known_hosts in the inventory for this device (or host_key_policy: off, if that is really meant)", v))
		}
		if r.knownHosts, err = f.filePath("UserKnownHostsFile", v, t); err != nil {
			return fail(err)
		}
	}
	if r.proxyJump == "" && hc.proxyJump != "" {
		if r.proxyJump, err = t.expand("ProxyJump", hc.proxyJump); err != nil {
			return fail(err)
		}
	}
	return r, nil
}
