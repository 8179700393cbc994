package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// writeFile writes content to dir/name with mode and returns the path.
func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	const secret = "tok-3f9a1c0d"
	if tok, err := readTokenFile("--http-token-file", writeFile(t, dir, "ok", "\n  "+secret+"\r\n", 0o600)); err != nil || tok.Reveal() != secret {
		t.Errorf("trimmed token: %q, %v", tok.Reveal(), err)
	}
	// Held as a devices.Secret: printed, it is <secret>.
	if tok, _ := readTokenFile("--http-token-file", writeFile(t, dir, "ok2", secret, 0o600)); strings.Contains(fmt.Sprintf("%v %+v %#v", tok, tok, tok), secret) {
		t.Error("the token prints as itself")
	}
	big := strings.Repeat("a", maxTokenFile+1)
	for name, content := range map[string]string{
		"empty":  "",
		"blank":  " \n\t\n",
		"spaces": secret + " " + secret,
		"lines":  secret + "\n" + secret,
		"ctrl":   secret + "\x00",
		"big":    big,
	} {
		p := writeFile(t, dir, name, content, 0o600)
		_, err := readTokenFile("--http-token-file", p)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "--http-token-file "+p) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "aaaa") {
			t.Errorf("%s: %v: want the flag and file named, never the content", name, err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "missing"), dir} {
		if _, err := readTokenFile("--via-token-file", p); err == nil || !strings.Contains(err.Error(), "--via-token-file") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the flag and the file", p, err)
		}
	}
}

func TestSecretFileWarning(t *testing.T) {
	dir := t.TempDir()
	if w := secretFileWarning("--http-token-file", writeFile(t, dir, "tight", "x", 0o600)); w != "" {
		t.Errorf("mode 0600: %q", w)
	}
	if w := secretFileWarning("--http-token-file", writeFile(t, dir, "owner", "x", 0o400)); w != "" {
		t.Errorf("mode 0400: %q", w)
	}
	p := writeFile(t, dir, "loose", "x", 0o640)
	if w := secretFileWarning("--http-token-file", p); !strings.Contains(w, p) || !strings.Contains(w, "0640") || !strings.Contains(w, "chmod 600") {
		t.Errorf("mode 0640: %q, want the file, the mode and the fix", w)
	}
}

// TestHTTPGuard: with a token the guarded handler answers only requests
// that carry it; others get 401 with a Bearer challenge, a JSON body under
// /api/. Neither the token nor a wrong one reaches the log, even at debug.
func TestHTTPGuard(t *testing.T) {
	const token, wrong = "right-9c1e44", "wrong-77b0aa"
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := newHTTPGuard(httpOptions{tokenFile: writeFile(t, t.TempDir(), "token", token+"\n", 0o600)}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := g.require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "served") }))
	for _, tt := range []struct {
		path, auth string
		code       int
		invalid    bool // error="invalid_token" in the challenge
	}{
		{"/api/v1/status", "", 401, false},
		{"/api/v1/status", "Bearer " + wrong, 401, true},
		{"/api/v1/status", "Bearer " + token + "x", 401, true},
		{"/api/v1/status", "Bearer", 401, false},
		{"/api/v1/status", "Basic " + token, 401, false},
		{"/api/v1/status", token, 401, false},
		{"/api/v1/status", "Bearer " + token, 200, false},
		{"/api/v1/status", "bearer  " + token, 200, false},
		{"/", "", 401, false},
		{"/", "Bearer " + token, 200, false},
	} {
		r := httptest.NewRequest("GET", tt.path, nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("%s with %q: %d, want %d", tt.path, tt.auth, w.Code, tt.code)
		}
		if tt.code == 200 {
			if w.Body.String() != "served" {
				t.Errorf("%s with the token: %q", tt.path, w.Body.String())
			}
			continue
		}
		ch := w.Header().Get("WWW-Authenticate")
		if !strings.HasPrefix(ch, "Bearer ") || strings.Contains(ch, "invalid_token") != tt.invalid {
			t.Errorf("%s with %q: WWW-Authenticate %q", tt.path, tt.auth, ch)
		}
		if w.Body.String() == "served" {
			t.Errorf("%s with %q: served", tt.path, tt.auth)
		}
		var e apiError
		if isAPI := strings.HasPrefix(tt.path, "/api/"); isAPI != (json.Unmarshal(w.Body.Bytes(), &e) == nil && e.Error != "") {
			t.Errorf("%s: body %q (JSON wanted under /api/ only)", tt.path, w.Body.String())
		}
	}
	if s := logged.String(); !strings.Contains(s, "wrong bearer token") || strings.Contains(s, token) || strings.Contains(s, wrong) {
		t.Errorf("log:\n%s\nwant the wrong token noted, and neither token in it", s)
	}
	// Without a token the handler is served as it is.
	open, err := newHTTPGuard(httpOptions{}, log)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	open.require(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/status", nil))
	if w.Code != 404 {
		t.Errorf("no token: %d, want the handler's 404", w.Code)
	}
}

func TestNewHTTPGuardErrors(t *testing.T) {
	dir := t.TempDir()
	_, cert, key := writeTestPKI(t, dir)
	empty := writeFile(t, dir, "empty", "", 0o600)
	garbage := writeFile(t, dir, "garbage.pem", "not a certificate", 0o600)
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		o    httpOptions
		want string
	}{
		{httpOptions{tlsCert: cert}, "--tls-key"},
		{httpOptions{tlsKey: key}, "--tls-cert"},
		{httpOptions{protectMetrics: true}, "--protect-metrics needs --http-token-file"},
		{httpOptions{tokenFile: empty}, empty + ": the file is empty"},
		{httpOptions{tlsCert: garbage, tlsKey: key}, garbage},
		{httpOptions{tlsCert: cert, tlsKey: cert}, "--tls-key " + cert},
	} {
		if _, err := newHTTPGuard(tt.o, log); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
	if g, err := newHTTPGuard(httpOptions{tlsCert: cert, tlsKey: key}, log); err != nil || g.tlsConfig() == nil || g.scheme() != "https" {
		t.Errorf("cert and key: %v", err)
	}
}

// TestAPIExposure is the beyond-loopback rule: the decision alone, so no
// test binds anything but loopback.
func TestAPIExposure(t *testing.T) {
	for _, tt := range []struct {
		listen     string
		token, tls bool
		serve      bool
		warn       string // in the warning; "" none
	}{
		{"127.0.0.1:9728", false, false, true, ""},
		{"[::1]:9728", true, false, true, ""},
		{"localhost:9728", false, true, true, ""},
		{"0.0.0.0:9728", false, false, false, "not served on 0.0.0.0:9728"},
		{"192.0.2.1:9728", false, false, false, "--http-token-file or --tls-cert"},
		{"metrics.example.net:9728", false, false, false, "not served"},
		{"192.0.2.1:9728", true, true, true, ""},
		{"[::]:9728", true, false, true, "in clear"},
		{"192.0.2.1:9728", false, true, true, "without a token"},
	} {
		serve, warn := apiExposure(tt.listen, tt.token, tt.tls)
		if serve != tt.serve || (tt.warn == "") != (warn == "") || !strings.Contains(warn, tt.warn) {
			t.Errorf("apiExposure(%q, token %v, tls %v) = %v, %q; want %v, %q", tt.listen, tt.token, tt.tls, serve, warn, tt.serve, tt.warn)
		}
	}
}

// writeTestPKI writes a private CA and a server certificate it signed
// for the loopback names (127.0.0.1, ::1, localhost), PEM, into dir.
func writeTestPKI(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mastership test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mastership daemon"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	return writeFile(t, dir, "ca.pem", pemOf("CERTIFICATE", caDER), 0o644),
		writeFile(t, dir, "cert.pem", pemOf("CERTIFICATE", leafDER), 0o644),
		writeFile(t, dir, "key.pem", pemOf("PRIVATE KEY", keyDER), 0o600)
}

// TestDaemonTokenAndTLS runs the daemon with a token, TLS and
// --protect-metrics against the simulator: the API, the page and /metrics
// answer only with the token, the probes without; check --via reads the
// verdict over verified HTTPS with the CA file and the token; a SIGHUP
// rotates the token; and no token, right or wrong, reaches the daemon's
// log (at debug) or check's output.
func TestDaemonTokenAndTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a daemon audit")
	}
	gone := junossim.Device{Name: "backup-gone", Model: "mx960", Topology: junossim.TopologyDual, Site: "lab",
		REStates: map[string]junossim.RESpec{"re1": {Status: junossim.StatusAbsent}}}
	_, inv := startFleet(t, junossim.Scenario{Devices: []junossim.Device{gone}})
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTestPKI(t, dir)
	const token, rotated, wrong = "first-5d2c9e1b", "second-a41f07c3", "wrong-00e2b9d4"
	tokenFile := writeFile(t, dir, "token", token+"\n", 0o600)
	wrongFile := writeFile(t, dir, "wrong", wrong+"\n", 0o600)
	d := startDaemon(t, "--inventory", inv, "--db", filepath.Join(dir, "m.db"), "--schedule", "@every 10s", "--listen", "127.0.0.1:0",
		"--spread", "0", "--log-level", "debug", "--http-token-file", tokenFile, "--tls-cert", certFile, "--tls-key", keyFile, "--protect-metrics")

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(caFile)
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("read the test CA", err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + d.addr
	get := func(path, tok string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if !within(30*time.Second, func() bool { code, _, _ := get("/readyz", ""); return code == 200 }) {
		t.Fatalf("no audit in 30 s; stderr:\n%s", lastLines(d.stderr.String(), 20))
	}
	if code, _, _ := get("/healthz", ""); code != 200 {
		t.Errorf("/healthz without a token: %d, want 200", code)
	}
	for _, path := range []string{"/api/v1/status", "/api/v1/devices/backup-gone", "/api/v1/nope", "/", "/metrics"} {
		for _, tok := range []string{"", wrong} {
			code, hdr, body := get(path, tok)
			if code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") || strings.Contains(body, "mastership_") || strings.Contains(body, "backup-gone") {
				t.Errorf("%s with token %q: %d, WWW-Authenticate %q, body %.80q; want 401 and nothing served", path, tok, code, hdr.Get("WWW-Authenticate"), body)
			}
		}
	}
	for path, want := range map[string]string{"/api/v1/status": `"schedule"`, "/": "backup-gone", "/metrics": "mastership_alive_res"} {
		if code, _, body := get(path, token); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s with the token: %d, want 200 with %q", path, code, want)
		}
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + d.addr + "/api/v1/status"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP: %d, want 400", resp.StatusCode)
		}
	}

	// check --via over verified HTTPS with the token: the plugin line.
	outputs := ""
	check := func(args ...string) result {
		t.Helper()
		r := runCLI(t, append([]string{"check", "backup-gone"}, args...)...)
		outputs += r.stdout + r.stderr
		return r
	}
	ok := check("--via", base, "--via-ca-file", caFile, "--via-token-file", tokenFile)
	if first, _, _ := strings.Cut(ok.stdout, "\n"); ok.code != 2 || !strings.HasPrefix(first, "MASTERSHIP CRITICAL - backup-gone: 1 of 2 REs alive") {
		t.Errorf("check --via https with CA and token: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--via", base, "--via-token-file", tokenFile}, "--via-ca-file"}, // the test CA is no system CA: verified, refused
		{[]string{"--via", base, "--via-ca-file", caFile}, "401 Unauthorized: this needs a bearer token"},
		{[]string{"--via", base, "--via-ca-file", caFile, "--via-token-file", wrongFile}, "not the daemon's"},
		{[]string{"--via", base, "--via-ca-file", tokenFile, "--via-token-file", tokenFile}, "no PEM certificate"},
		{[]string{"--via", base, "--via-token-file", filepath.Join(dir, "none")}, "--via-token-file: open " + filepath.Join(dir, "none")},
		{[]string{"--via-token-file", tokenFile, "--inventory", inv}, "go with --via"},
		{[]string{"--via", "ftp://nagios:" + token + "@" + d.addr}, "nagios:xxxxx@"},
	} {
		r := check(tt.args...)
		if r.code != 3 || !strings.HasPrefix(r.stdout, "MASTERSHIP UNKNOWN - ") || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("check %q: exit %d, want UNKNOWN with %q\n%s%s", tt.args, r.code, tt.want, r.stdout, r.stderr)
		}
	}

	// A SIGHUP re-reads the token: the new one works, the old one no more.
	writeFile(t, dir, "token", rotated+"\n", 0o600)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !within(30*time.Second, func() bool { code, _, _ := get("/api/v1/status", rotated); return code == 200 }) {
		t.Fatalf("the rotated token is refused after SIGHUP; stderr:\n%s", lastLines(d.stderr.String(), 20))
	}
	if code, _, _ := get("/api/v1/status", token); code != 401 {
		t.Errorf("the old token after SIGHUP: %d, want 401", code)
	}
	// An empty token file on SIGHUP keeps the token the daemon has.
	writeFile(t, dir, "token", "\n", 0o600)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(d.stderr.String(), "token or certificate not reloaded") })
	if code, _, _ := get("/api/v1/status", rotated); code != 200 {
		t.Errorf("after a SIGHUP with an empty token file: %d, want the old token kept", code)
	}
	if code := d.stop(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}

	logs := d.stderr.String()
	if !strings.Contains(logs, "wrong bearer token") {
		t.Errorf("the daemon did not log the wrong token's request:\n%s", lastLines(logs, 20))
	}
	for _, secret := range []string{token, rotated, wrong} {
		if strings.Contains(logs, secret) {
			t.Errorf("the daemon's log holds a token (%s)", secret)
		}
		if strings.Contains(outputs, secret) {
			t.Errorf("check's output holds a token (%s)", secret)
		}
	}
}

// TestRunHTTPFlagErrors: bad authentication flags are usage errors (exit
// 2) naming the flag or file, before anything listens.
func TestRunHTTPFlagErrors(t *testing.T) {
	_, inv := startFleet(t, junossim.Generate(1, 1))
	dir := t.TempDir()
	_, cert, key := writeTestPKI(t, dir)
	empty := writeFile(t, dir, "empty", "  \n", 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", cert}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", key}, "--tls-cert and --tls-key go together"},
		{[]string{"--protect-metrics"}, "--protect-metrics needs --http-token-file"},
		{[]string{"--http-token-file", empty}, empty + ": the file is empty"},
		{[]string{"--http-token-file", filepath.Join(dir, "none")}, "--http-token-file: open " + filepath.Join(dir, "none")},
		{[]string{"--tls-cert", key, "--tls-key", key}, "--tls-cert " + key},
	} {
		args := append([]string{"run", "--inventory", inv, "--schedule", "@every 1m", "--dry-run"}, tt.args...)
		if r := runCLI(t, args...); r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
