package netconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// JumpNone is the ProxyJump value (and the inventory's jump value) that
// means "connect directly".
const JumpNone = "none"

// ParseJump parses a jump host chain the way OpenSSH reads ProxyJump:
// "none", or one or more "[user@]host[:port]" separated by commas, first
// hop first. An IPv6 address is written in brackets ("[2001:db8::1]:22"),
// and an "ssh://" prefix is allowed. "none" gives an empty, non-nil chain.
// Only Name, User and Port are set. The syntax is OpenSSH's, so it lives
// with the SSH client; the inventory's jump setting is parsed here too.
func ParseJump(s string) ([]JumpHost, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if s == JumpNone {
		return []JumpHost{}, nil
	}
	parts := strings.Split(s, ",")
	hops := make([]JumpHost, 0, len(parts))
	for i, part := range parts {
		h, err := ParseHop(strings.TrimSpace(part))
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("hop %d (%s): %w", i+1, strconv.Quote(part), err)
			}
			return nil, err
		}
		if hops, err = AppendHop(hops, h); err != nil {
			return nil, err
		}
	}
	return hops, nil
}

// AppendHop adds h to a chain, refusing a jump host the chain already
// goes through (*DuplicateHopError).
func AppendHop(hops []JumpHost, h JumpHost) ([]JumpHost, error) {
	for _, prev := range hops {
		if prev.Name == h.Name && prev.Port == h.Port {
			return hops, &DuplicateHopError{Name: h.Name}
		}
	}
	return append(hops, h), nil
}

// DuplicateHopError is a chain that goes through the same jump host twice.
type DuplicateHopError struct{ Name string }

func (e *DuplicateHopError) Error() string { return quoteCut(e.Name) + " is listed twice" }

// ParseHop parses one "[ssh://][user@]host[:port]".
func ParseHop(s string) (JumpHost, error) {
	var h JumpHost
	s = strings.TrimPrefix(s, "ssh://")
	switch {
	case s == "":
		return h, errors.New("empty jump host")
	case s == JumpNone:
		return h, errors.New(`"none" cannot be part of a chain`)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return h, errors.New("must not contain spaces")
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		h.User, s = s[:at], s[at+1:]
		if h.User == "" {
			return h, errors.New(`empty user name before "@"`)
		}
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return h, errors.New(`"[" without "]"`)
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return h, fmt.Errorf("unexpected %s after \"]\"", quoteCut(port))
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && strings.HasSuffix(s, ":") {
			return h, errors.New(`empty port after ":"`)
		}
	case strings.Count(s, ":") > 1:
		return h, errors.New("write an IPv6 address in brackets, e.g. [2001:db8::1]:22")
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return h, errors.New(`empty port after ":"`)
		}
	}
	switch {
	case host == "":
		return h, errors.New("empty host")
	case strings.HasPrefix(host, "-"):
		return h, errors.New("host must not start with -")
	case strings.ContainsAny(host, "/@[]*?!#,"):
		return h, fmt.Errorf("%s is not a host name or address", quoteCut(host))
	}
	h.Name = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return h, fmt.Errorf("port %s is not a number in 1..65535", quoteCut(port))
		}
		h.Port = n
	}
	return h, nil
}

// quoteCut quotes s for a message, cut to 64 bytes so that a pasted blob
// cannot flood it.
func quoteCut(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
