package netconf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/mastership/mastership/devices"
)

// Credentials say how to log in to a router. Several may be set; they are
// tried in the order key, agent, password, as the inventory documents.
type Credentials struct {
	KeyFile     string         // private key file (PEM/OpenSSH); "~/" expanded
	Passphrase  devices.Secret // for an encrypted KeyFile
	Agent       bool           // use ssh-agent
	AgentSocket string         // default $SSH_AUTH_SOCK
	Password    devices.Secret // password auth, and keyboard-interactive answering the password prompt (which Junos uses)
}

// authMethods returns the SSH auth methods in the order key, agent,
// password, and close, which releases the agent connection; close is never
// nil, so callers may defer it even when err is set.
//
// The key and the agent share one "publickey" method because x/crypto
// tries each method name once: a second publickey method after a rejected
// key would be skipped, and the agent never asked. Within that method the
// key file's signer comes first, then the agent's.
//
// Password is offered twice, as "password" and as "keyboard-interactive",
// because Junos (and sshd with PAM) often allows only the latter.
//
// Errors name files and sockets, never a password or passphrase.
func (c Credentials) authMethods() (methods []ssh.AuthMethod, close func(), err error) {
	noop := func() {}
	if c.KeyFile == "" && !c.Agent && c.Password == "" {
		return nil, noop, errors.New("netconf: no SSH authentication configured: set private_key, agent or password_env/password_file")
	}

	var signers []ssh.Signer
	if c.KeyFile != "" {
		s, err := c.keySigner()
		if err != nil {
			return nil, noop, err
		}
		signers = append(signers, s)
	}

	closeFn := noop
	var agentClient agent.ExtendedAgent
	if c.Agent {
		sock := c.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
			return nil, noop, errors.New("netconf: ssh-agent auth is enabled but SSH_AUTH_SOCK is not set and no agent socket is configured")
		}
		sock, err = expandHome(sock)
		if err != nil {
			return nil, noop, fmt.Errorf("netconf: ssh-agent socket: %w", err)
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, noop, fmt.Errorf("netconf: connecting to ssh-agent at %s: %w", sock, err)
		}
		agentClient = agent.NewClient(conn)
		closeFn = func() { _ = conn.Close() }
	}

	if len(signers) > 0 || agentClient != nil {
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			if agentClient == nil {
				return signers, nil
			}
			fromAgent, err := agentClient.Signers()
			if err != nil {
				if len(signers) > 0 {
					// An agent failure must not stop the key file
					// from being tried: x/crypto abandons the whole
					// publickey method when this callback fails.
					return signers, nil
				}
				return nil, fmt.Errorf("netconf: listing ssh-agent keys: %w", err)
			}
			return append(append([]ssh.Signer(nil), signers...), fromAgent...), nil
		}))
	}

	if c.Password != "" {
		pw := c.Password
		methods = append(methods,
			ssh.PasswordCallback(func() (string, error) { return pw.Reveal(), nil }),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				// Junos asks a single "Password:" with echo off. Echoed
				// questions are not secrets (a banner-like prompt), so
				// they get an empty answer rather than the password.
				answers := make([]string, len(questions))
				for i := range questions {
					if i < len(echos) && !echos[i] {
						answers[i] = pw.Reveal()
					}
				}
				return answers, nil
			}),
		)
	}
	return methods, closeFn, nil
}

// keySigner reads and parses KeyFile, decrypting it with Passphrase when
// it is encrypted.
func (c Credentials) keySigner() (ssh.Signer, error) {
	path, err := expandHome(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("netconf: private key file: %w", err)
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("netconf: reading private key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return signer, nil
	case !errors.As(err, &missing):
		return nil, fmt.Errorf("netconf: parsing private key file %s: %w", path, err)
	case c.Passphrase == "":
		return nil, fmt.Errorf("netconf: key file %s is encrypted: set passphrase_env", path)
	}
	signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(c.Passphrase.Reveal()))
	switch {
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("netconf: key file %s: wrong passphrase", path)
	case err != nil:
		return nil, fmt.Errorf("netconf: decrypting private key file %s: %w", path, err)
	}
	return signer, nil
}
