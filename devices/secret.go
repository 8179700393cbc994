package devices

import (
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Secret holds a password or passphrase. Every way of printing it —
// fmt verbs, JSON, YAML, slog — shows "<secret>", so a secret that reaches
// a log line, an error or a report by mistake does not leak. Use Reveal at
// the one place that needs the value (the SSH auth callback).
type Secret string

const redacted = "<secret>"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, so %#v is redacted too.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML, CSV via text).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Masked is what stands for a password inside a shown URL or DSN.
const Masked = "xxxxx"

var (
	dsnURLPassword = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?#]*:)([^@/?#]*)(@)`)
	dsnKVPassword  = regexp.MustCompile(`((?:^|\s)password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)
	dsnQueryPass   = regexp.MustCompile(`([?&]password=)([^&#]*)`)
)

// MaskDSN is a store URL, libpq keyword string or any other URL as it may
// be shown: in errors, logs, --help and reports. The password of a URL's
// user info, a libpq password=… and a ?password=… query parameter become
// xxxxx ("postgres://u:xxxxx@host/db"); everything else is kept so that
// the operator can still tell which database is meant. It is the one
// function every command uses to show a store.
func MaskDSN(dsn string) string {
	s := dsnURLPassword.ReplaceAllString(dsn, "${1}"+Masked+"${3}")
	s = dsnKVPassword.ReplaceAllString(s, "${1}"+Masked)
	return dsnQueryPass.ReplaceAllString(s, "${1}"+Masked)
}

// DSNPasswords returns every string in dsn that may be a password: a
// URL's user info, libpq "password=" values and a "password" query
// parameter, raw and unescaped. RedactError masks them in messages that
// quote the DSN in some other form (a driver's own error text).
func DSNPasswords(dsn string) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if m := dsnURLPassword.FindStringSubmatch(dsn); m != nil {
		add(m[2])
		if p, err := url.PathUnescape(m[2]); err == nil {
			add(p)
		}
	}
	for _, m := range dsnKVPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		add(v)
		if len(v) >= 2 && v[0] == '\'' {
			add(strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1 : len(v)-1]))
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				add(url.QueryEscape(p))
			}
		}
		add(u.Query().Get("password"))
	}
	return out
}

// RedactError is err with each of secrets masked in its message. Unwrap
// still reaches err, so errors.Is and errors.As see through it. It
// returns err itself when its message holds none of them.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, Masked)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
