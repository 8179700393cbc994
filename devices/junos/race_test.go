//go:build race

package junos

// raceEnabled: the race detector slows encoding/xml several times, and the
// byte-mutation agreement test, which runs in one goroutine, gains
// nothing from it; it then takes a coarser stride.
const raceEnabled = true
