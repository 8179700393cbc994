//go:build !race

package junos

const raceEnabled = false
