package devices

import "log/slog"

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
