package inventory

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/mastership/mastership/devices"
)

// maxPasswordFile bounds how much of a password_file is read: a password
// is short, and a large file means the path points at the wrong file.
const maxPasswordFile = 64 << 10

// Password returns the password from PasswordEnv or PasswordFile, or ("",
// nil) when neither is set. Errors name the variable or file, never the
// value. It is read at each call, not at load, so a rotated password is
// picked up without a restart.
func (a Auth) Password() (devices.Secret, error) {
	switch {
	case a.PasswordEnv != "":
		return secretFromEnv("password_env", a.PasswordEnv)
	case a.PasswordFile != "":
		return secretFromFile(a.PasswordFile)
	}
	return "", nil
}

// Passphrase returns the private key's passphrase from PassphraseEnv, or
// ("", nil) when it is not set.
func (a Auth) Passphrase() (devices.Secret, error) {
	if a.PassphraseEnv == "" {
		return "", nil
	}
	return secretFromEnv("passphrase_env", a.PassphraseEnv)
}

func secretFromEnv(field, name string) (devices.Secret, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("%s: environment variable %s is not set", field, name)
	}
	if v == "" {
		return "", fmt.Errorf("%s: environment variable %s is empty", field, name)
	}
	return devices.Secret(v), nil
}

func secretFromFile(path string) (devices.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password_file %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	// Read one byte past the limit to tell "exactly at the limit" from
	// "too large".
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("password_file %s: %w", path, unwrapPath(err))
	}
	if len(b) > maxPasswordFile {
		return "", fmt.Errorf("password_file %s: larger than %d bytes, not a password", path, maxPasswordFile)
	}
	// Only one trailing newline goes: editors add it, but any other
	// whitespace may be part of the password.
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fmt.Errorf("password_file %s: file is empty", path)
	}
	return devices.Secret(s), nil
}

// unwrapPath drops the *fs.PathError wrapper, whose message repeats the
// path the caller already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
