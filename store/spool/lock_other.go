//go:build !unix

package spool

import "errors"

// ErrLocked is returned by Lock when another process holds the spool.
var ErrLocked = errors.New("spool is in use by another process")

// Lock is a no-op where flock(2) is not available: one daemon per spool
// directory is then the operator's to ensure.
func Lock(dir string) (unlock func(), err error) { return func() {}, nil }
