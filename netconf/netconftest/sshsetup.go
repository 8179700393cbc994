package netconftest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// The SSH server set-up the simulated router (Server) and the jump host
// (Bastion) share.

// hostSigner returns key, or a new ed25519 host key when key is nil. what
// names the server in errors ("host key", "bastion host key").
func hostSigner(key ssh.Signer, what string) (ssh.Signer, error) {
	if key != nil {
		return key, nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("netconftest: generate %s: %w", what, err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("netconftest: %s: %w", what, err)
	}
	return signer, nil
}

// passwordOK reports whether users gives user this password, in constant
// time.
func passwordOK(users map[string]string, user string, password []byte) bool {
	want, ok := users[user]
	return ok && subtle.ConstantTimeCompare([]byte(want), password) == 1
}

// keyAuthorized reports whether key is one of keys.
func keyAuthorized(keys []ssh.PublicKey, key ssh.PublicKey) bool {
	blob := key.Marshal()
	for _, k := range keys {
		if bytes.Equal(k.Marshal(), blob) {
			return true
		}
	}
	return false
}
