package netconf_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/netconf/netconftest"
)

// TestLegacyAlgorithmNames checks the documented lists against the
// x/crypto in go.mod: every legacy algorithm is one x/crypto implements
// and calls insecure, and the ones documented as unavailable are not
// implemented at all.
func TestLegacyAlgorithmNames(t *testing.T) {
	sup, insecure, legacy := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms(), netconf.LegacyAlgorithms()
	check := func(kind string, legacy, insecure, supported []string) {
		for _, a := range legacy {
			if !slices.Contains(insecure, a) {
				t.Errorf("%s %s is not in x/crypto's InsecureAlgorithms: %v", kind, a, insecure)
			}
			if slices.Contains(supported, a) {
				t.Errorf("%s %s is in SupportedAlgorithms: not legacy", kind, a)
			}
		}
	}
	check("key exchange", legacy.KeyExchanges, insecure.KeyExchanges, sup.KeyExchanges)
	check("cipher", legacy.Ciphers, insecure.Ciphers, sup.Ciphers)
	check("MAC", legacy.MACs, insecure.MACs, sup.MACs)
	check("host key", legacy.HostKeys, insecure.HostKeys, sup.HostKeys)
	want := netconf.LegacyAlgorithms()
	if !slices.Equal(want.KeyExchanges, []string{"diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1", "diffie-hellman-group1-sha1"}) ||
		!slices.Equal(want.Ciphers, []string{"aes128-cbc", "3des-cbc"}) ||
		!slices.Equal(want.MACs, []string{"hmac-sha1-96"}) ||
		!slices.Equal(want.HostKeys, []string{"ssh-rsa"}) {
		t.Errorf("LegacyAlgorithms() = %+v; update docs/inventory.md and devices.example.yaml with it", want)
	}
	all := slices.Concat(sup.KeyExchanges, sup.Ciphers, sup.MACs, sup.HostKeys,
		insecure.KeyExchanges, insecure.Ciphers, insecure.MACs, insecure.HostKeys)
	for _, a := range []string{"aes192-cbc", "aes256-cbc", "blowfish-cbc", "cast128-cbc", "hmac-md5", "hmac-md5-96", "hmac-ripemd160", "ssh-dss"} {
		if slices.Contains(all, a) {
			t.Errorf("%s is documented as not available, but x/crypto has it now", a)
		}
	}
}

func rsaSigner(t *testing.T) ssh.AlgorithmSigner {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s.(ssh.AlgorithmSigner)
}

func ed25519Signer(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDialLegacyRouter: a router that offers only old algorithms, of one
// kind or of all, is refused by default with an error naming
// legacy_algorithms, and polled with it.
func TestDialLegacyRouter(t *testing.T) {
	rsaKey := rsaSigner(t)
	sha1Only, err := ssh.NewSignerWithAlgorithms(rsaKey, []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	old := netconf.LegacyAlgorithms()
	tests := []struct {
		name    string
		crypto  ssh.Config
		hostKey ssh.Signer
		what    string // in the hint: "no common <what> algorithm"
	}{
		{"group1 key exchange", ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH1SHA1}}, nil, "key exchange"},
		{"group14-sha1 key exchange", ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1}}, nil, "key exchange"},
		{"cbc ciphers", ssh.Config{Ciphers: []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}}, nil, "client to server cipher"},
		{"3des-cbc only", ssh.Config{Ciphers: []string{ssh.InsecureCipherTripleDESCBC}}, nil, "client to server cipher"},
		{"hmac-sha1-96", ssh.Config{Ciphers: []string{ssh.CipherAES128CTR}, MACs: []string{ssh.InsecureHMACSHA196}}, nil, "client to server MAC"},
		{"ssh-rsa host key", ssh.Config{}, sha1Only, "host key"},
		{"all old", ssh.Config{KeyExchanges: old.KeyExchanges, Ciphers: old.Ciphers, MACs: []string{ssh.HMACSHA1}}, sha1Only, "key exchange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, netconftest.Config{Crypto: tt.crypto, HostKey: tt.hostKey})
			cfg := clientConfig(t, srv)
			err := dialErr(t, cfg, 5*time.Second)
			wantOutcome(t, err, netconf.KindProtocol)
			want := "ssh handshake with " + srv.Addr() + ": no common " + tt.what + " algorithm: the router offers only old ones ("
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "set legacy_algorithms: true for it") {
				t.Errorf("error\n got: %s\nwant: %s… set legacy_algorithms: true for it…", err, want)
			}

			cfg.LegacyAlgorithms = true
			wantEcho(t, dial(t, cfg))
		})
	}
}

// TestDialLegacyNotEnough: a router whose algorithms x/crypto lacks
// altogether is refused even with legacy_algorithms, saying so.
func TestDialLegacyNotEnough(t *testing.T) {
	srv := newServer(t, netconftest.Config{Crypto: ssh.Config{Ciphers: []string{ssh.InsecureCipherRC4}}})
	cfg := clientConfig(t, srv)
	err := dialErr(t, cfg, 5*time.Second)
	wantOutcome(t, err, netconf.KindProtocol)
	if !strings.Contains(err.Error(), "none of which is implemented here, not even with legacy_algorithms") {
		t.Errorf("without legacy: %v", err)
	}
	cfg.LegacyAlgorithms = true
	err = dialErr(t, cfg, 5*time.Second)
	if !strings.Contains(err.Error(), "no common client to server cipher algorithm, even with legacy_algorithms: the router offers arcfour") {
		t.Errorf("with legacy: %v", err)
	}
}

// TestDialHostKeyTypeChanged: known_hosts holds a key of one type, the
// router now has only a key of another. The key exchange must still
// complete, so that the outcome is a changed host key naming both keys,
// not "no common algorithm".
func TestDialHostKeyTypeChanged(t *testing.T) {
	rsaKey, edKey := rsaSigner(t), ed25519Signer(t)
	tests := []struct {
		name       string
		known, now ssh.Signer
		legacy     bool
	}{
		{"ssh-rsa to ssh-ed25519", rsaKey, edKey, false},
		{"ssh-rsa to ssh-ed25519, legacy", rsaKey, edKey, true},
		{"ssh-ed25519 to ssh-rsa", edKey, rsaKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, netconftest.Config{HostKey: tt.now})
			cfg := clientConfig(t, srv)
			cfg.KnownHostsFile = writeKnownHosts(t, knownhosts.Line([]string{srv.Addr()}, tt.known.PublicKey()))
			cfg.LegacyAlgorithms = tt.legacy
			err := dialErr(t, cfg, 5*time.Second)
			wantOutcome(t, err, netconf.KindHostKey)
			for _, want := range []string{
				"has CHANGED",
				"expected " + tt.known.PublicKey().Type() + " " + ssh.FingerprintSHA256(tt.known.PublicKey()),
				"offered " + tt.now.PublicKey().Type() + " " + ssh.FingerprintSHA256(tt.now.PublicKey()),
				"the key type changed too",
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestDialRSAKnownModernRouter: an RSA key in known_hosts and a router
// that signs with SHA-2: no legacy algorithm needed.
func TestDialRSAKnownModernRouter(t *testing.T) {
	srv := newServer(t, netconftest.Config{HostKey: rsaSigner(t)})
	wantEcho(t, dial(t, clientConfig(t, srv)))
}
