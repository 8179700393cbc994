//go:build race

package main

// raceEnabled: the race detector slows the daemon's audits several times.
const raceEnabled = true
