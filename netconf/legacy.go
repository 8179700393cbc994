package netconf

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// LegacyAlgorithms returns what Config.LegacyAlgorithms adds to the
// algorithms a connection offers: the old key exchanges, ciphers, MAC and
// host key algorithm that Junos releases from before about 2016 may be
// limited to, as far as x/crypto implements them. They come after every
// default algorithm, so they are only chosen when the router has nothing
// better.
//
// Not available in x/crypto, so not offered even then: aes192-cbc,
// aes256-cbc, blowfish-cbc, cast128-cbc, hmac-md5, hmac-md5-96,
// hmac-ripemd160 and ssh-dss host keys. arcfour, arcfour128 and arcfour256
// are implemented but not offered: RC4 is broken, and releases that offer
// it also offer aes128-cbc or 3des-cbc.
func LegacyAlgorithms() ssh.Algorithms {
	return ssh.Algorithms{
		KeyExchanges: []string{
			ssh.InsecureKeyExchangeDH14SHA1,
			ssh.InsecureKeyExchangeDHGEXSHA1,
			ssh.InsecureKeyExchangeDH1SHA1,
		},
		Ciphers:  []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC},
		MACs:     []string{ssh.InsecureHMACSHA196},
		HostKeys: []string{ssh.KeyAlgoRSA}, // ssh-rsa: RSA host keys signing with SHA-1
	}
}

// algorithms is what one SSH connection offers.
type algorithms struct {
	config   ssh.Config // key exchanges, ciphers, MACs
	hostKeys []string
}

// clientAlgorithms returns the algorithms to offer a peer. By default
// that is x/crypto's SupportedAlgorithms, which leaves out
// diffie-hellman-group14-sha1, ssh-rsa (SHA-1) and hmac-sha1-96 that
// x/crypto's own defaults would still offer; legacy appends
// LegacyAlgorithms.
//
// known are the host key algorithms of the keys known_hosts holds for the
// peer (see hostKeyCheck). They come first, so that a peer with several
// host keys signs with the one we know; every other algorithm follows, so
// that a peer whose key type changed (ssh-rsa in known_hosts, only
// ssh-ed25519 now) still completes the key exchange and its key is
// reported as changed, not as "no common algorithm".
func clientAlgorithms(known []string, legacy bool) algorithms {
	sup := ssh.SupportedAlgorithms()
	a := algorithms{config: ssh.Config{
		KeyExchanges: sup.KeyExchanges,
		Ciphers:      sup.Ciphers,
		MACs:         sup.MACs,
	}}
	var old ssh.Algorithms
	if legacy {
		old = LegacyAlgorithms()
		a.config.KeyExchanges = append(a.config.KeyExchanges, old.KeyExchanges...)
		a.config.Ciphers = append(a.config.Ciphers, old.Ciphers...)
		a.config.MACs = append(a.config.MACs, old.MACs...)
	}
	add := func(algos ...string) {
		for _, x := range algos {
			if !slices.Contains(a.hostKeys, x) {
				a.hostKeys = append(a.hostKeys, x)
			}
		}
	}
	for _, k := range known {
		if k == ssh.KeyAlgoRSA && !legacy {
			continue
		}
		add(k)
		if k == ssh.KeyAlgoRSASHA256 && legacy {
			add(ssh.KeyAlgoRSA) // the same known key, signing with SHA-1
		}
	}
	// Plain keys before certificates: a router presents plain keys, and
	// known_hosts holds plain keys.
	var certs []string
	for _, x := range sup.HostKeys {
		if strings.Contains(x, "-cert-") {
			certs = append(certs, x)
		} else {
			add(x)
		}
	}
	add(old.HostKeys...)
	add(certs...)
	return a
}

// negotiationHint explains a failed algorithm negotiation with peer ("the
// router", "the jump host"): whether legacy_algorithms would help. Other
// errors are returned as they are.
func negotiationHint(err error, peer string, legacy, legacyAllowed bool) error {
	var ne *ssh.AlgorithmNegotiationError
	if !errors.As(err, &ne) {
		return err
	}
	var old []string
	l := LegacyAlgorithms()
	switch w := ne.What; {
	case w == "key exchange":
		old = l.KeyExchanges
	case w == "host key":
		old = l.HostKeys
	case strings.HasSuffix(w, "cipher"):
		old = l.Ciphers
	case strings.HasSuffix(w, "MAC"):
		old = l.MACs
	}
	// The peer's list without the pseudo-algorithms that announce
	// protocol extensions (kex-strict-s-v00@openssh.com, ext-info-s).
	offered := slices.DeleteFunc(slices.Clone(ne.RequestedAlgorithms), func(a string) bool {
		return strings.HasPrefix(a, "kex-strict-") || strings.HasPrefix(a, "ext-info-")
	})
	list := strings.Join(offered, ",")
	wouldHelp := slices.ContainsFunc(offered, func(a string) bool { return slices.Contains(old, a) })
	var hint string
	switch {
	case legacy:
		hint = fmt.Sprintf("no common %s algorithm, even with legacy_algorithms: %s offers %s", ne.What, peer, list)
	case wouldHelp && legacyAllowed:
		hint = fmt.Sprintf("no common %s algorithm: %s offers only old ones (%s); if it runs an old Junos release, set legacy_algorithms: true for it",
			ne.What, peer, list)
	case wouldHelp:
		hint = fmt.Sprintf("no common %s algorithm: %s offers only old ones (%s), and legacy_algorithms applies to routers only",
			ne.What, peer, list)
	default:
		hint = fmt.Sprintf("no common %s algorithm: %s offers %s, none of which is implemented here, not even with legacy_algorithms",
			ne.What, peer, list)
	}
	return fmt.Errorf("%s: %w", hint, err)
}
