package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/mastership/mastership/devices"
)

// The daemon's HTTP authentication (issue 18): a bearer token read from a
// file and TLS, for the JSON API and the live page, and for /metrics with
// --protect-metrics. Beyond loopback the API and the page are served only
// with one of them (apiExposure). net/http and crypto/tls do the
// protocol; this file only reads the files and checks the header.

// httpOptions are run's --http-token-file, --tls-cert, --tls-key and
// --protect-metrics.
type httpOptions struct {
	tokenFile      string
	tlsCert        string
	tlsKey         string
	protectMetrics bool
}

func (o *httpOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.tokenFile, "http-token-file", "", "require 'Authorization: Bearer TOKEN' for the JSON API and the live page, TOKEN read from this file (re-read on SIGHUP)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs --tls-key (both re-read on SIGHUP)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.BoolVar(&o.protectMetrics, "protect-metrics", false, "put /metrics behind the --http-token-file token too (/healthz and /readyz stay open)")
}

// maxTokenFile bounds how much of a token file is read: a token is short,
// and a large file means the path names the wrong file.
const maxTokenFile = 64 << 10

// readTokenFile reads a bearer token from path: surrounding white space
// (the editor's newline) is trimmed, and what is left must be one word of
// printable characters, as an Authorization header carries it. Errors
// name flag and file, never the content.
func readTokenFile(flag, path string) (devices.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err) // the error names the file
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("%s %s: larger than %d bytes, not a token", flag, path, maxTokenFile)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s %s: the file is empty", flag, path)
	}
	if strings.IndexFunc(tok, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 {
		return "", fmt.Errorf("%s %s: the token must be one line of printable ASCII without spaces", flag, path)
	}
	return devices.Secret(tok), nil
}

// secretFileWarning is a warning when others than the owner may read the
// secret file at path, else "". A warning and not an error, as for the
// inventory's password_file: root:mastership with mode 0640 is a sound
// way to give the service user a file it must not change.
func secretFileWarning(flag, path string) string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s is readable by group or others (mode %04o); run: chmod 600 %s", flag, path, fi.Mode().Perm(), path)
}

// httpGuard is the daemon's HTTP authentication as last read: the token
// and the certificate, each swapped whole when a SIGHUP re-reads them.
type httpGuard struct {
	o     httpOptions
	token atomic.Pointer[devices.Secret]  // nil without --http-token-file
	cert  atomic.Pointer[tls.Certificate] // nil without --tls-cert
	log   *slog.Logger
}

// newHTTPGuard checks the flags and reads the files; every error is the
// operator's to fix (a usage error).
func newHTTPGuard(o httpOptions, log *slog.Logger) (*httpGuard, error) {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if o.protectMetrics && o.tokenFile == "" {
		return nil, errors.New("--protect-metrics needs --http-token-file: /metrics is protected by that token")
	}
	g := &httpGuard{o: o, log: log}
	if err := g.reload(); err != nil {
		return nil, err
	}
	return g, nil
}

// reload re-reads the token and the certificate. On an error nothing is
// replaced: the daemon goes on with what it had.
func (g *httpGuard) reload() error {
	var tok *devices.Secret
	if g.o.tokenFile != "" {
		t, err := readTokenFile("--http-token-file", g.o.tokenFile)
		if err != nil {
			return err
		}
		tok = &t
	}
	var cert *tls.Certificate
	if g.o.tlsCert != "" {
		c, err := tls.LoadX509KeyPair(g.o.tlsCert, g.o.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", g.o.tlsCert, g.o.tlsKey, err)
		}
		cert = &c
	}
	for _, w := range []string{secretFileWarning("--http-token-file", g.o.tokenFile), secretFileWarning("--tls-key", g.o.tlsKey)} {
		if w != "" {
			g.log.Warn(w)
		}
	}
	if tok != nil {
		g.token.Store(tok)
	}
	if cert != nil {
		g.cert.Store(cert)
	}
	return nil
}

func (g *httpGuard) hasToken() bool { return g.o.tokenFile != "" }
func (g *httpGuard) hasTLS() bool   { return g.o.tlsCert != "" }

// scheme is the URL scheme the daemon serves.
func (g *httpGuard) scheme() string {
	if g.hasTLS() {
		return "https"
	}
	return "http"
}

// tlsConfig is the listener's TLS, nil without --tls-cert. The
// certificate is fetched at each handshake, so a SIGHUP that re-read it
// serves the new one from the next connection on.
func (g *httpGuard) tlsConfig() *tls.Config {
	if !g.hasTLS() {
		return nil
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return g.cert.Load(), nil
		},
	}
}

// require wraps next so that it answers only requests carrying the
// token: others get 401 with WWW-Authenticate: Bearer (RFC 6750). Without
// --http-token-file it is next.
func (g *httpGuard) require(next http.Handler) http.Handler {
	if !g.hasToken() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given, present := bearerToken(r)
		if present && g.matches(given) {
			next.ServeHTTP(w, r)
			return
		}
		challenge, msg := `Bearer realm="mastership"`, "this needs a bearer token: Authorization: Bearer TOKEN (the daemon's --http-token-file)"
		if present {
			challenge += `, error="invalid_token"`
			msg = "the bearer token is not the daemon's"
			g.log.Warn("http: wrong bearer token", "path", r.URL.Path, "remote", r.RemoteAddr)
		} else {
			g.log.Debug("http: no bearer token", "path", r.URL.Path, "remote", r.RemoteAddr)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeAPI(w, http.StatusUnauthorized, apiError{Error: msg})
			return
		}
		http.Error(w, msg, http.StatusUnauthorized)
	})
}

// matches compares in constant time: the hashes have one length, so not
// even the token's length leaks through the time a comparison takes.
func (g *httpGuard) matches(given string) bool {
	tok := g.token.Load()
	if tok == nil {
		return false
	}
	want, got := sha256.Sum256([]byte(tok.Reveal())), sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// bearerToken is the credentials of an "Authorization: Bearer …" header
// (the scheme's case does not matter, RFC 7235), and whether the request
// had one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(cred), true
}

// apiExposure decides whether the JSON API and the live page are served on
// listen, and what to warn the operator of. They show the whole fleet's
// state: on loopback they are served as they are; beyond it only with a
// token or TLS, and with only one of them the daemon says what the other
// would add.
func apiExposure(listen string, token, tls bool) (serve bool, warning string) {
	switch {
	case loopbackOnly(listen) || (token && tls):
		return true, ""
	case token:
		return true, "the JSON API and the live page on " + listen + " are served over plain HTTP: the bearer token crosses the network in clear (add --tls-cert and --tls-key)"
	case tls:
		return true, "the JSON API and the live page on " + listen + " are served over TLS without a token: whoever can reach the port can read them (add --http-token-file)"
	}
	return false, "the JSON API and the live page are not served on " + listen + ": beyond loopback they need --http-token-file or --tls-cert/--tls-key; only /metrics, /healthz and /readyz answer"
}
