//go:build !linux

package main

import "errors"

// benchRaiseFileLimit is Linux only; elsewhere the limit stays as it is.
func benchRaiseFileLimit(uint64) (uint64, error) { return 0, errors.ErrUnsupported }
