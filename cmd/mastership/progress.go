package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mastership/mastership/devices"
)

// Values of --progress.
const (
	progressAuto   = "auto"   // a bar when stderr is a terminal
	progressAlways = "always" // a bar whatever stderr is
	progressNever  = "never"
)

func checkProgressMode(mode string) error {
	switch mode {
	case progressAuto, progressAlways, progressNever:
		return nil
	}
	return fmt.Errorf("--progress must be auto, always or never, not %q", mode)
}

// auditProgress is the audit's progress bar on stderr: devices done of
// total, how many failed, and the time left. A nil *auditProgress shows
// nothing, so callers need not ask whether there is one.
type auditProgress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	failed int
}

// newAuditProgress returns the bar for an audit of total devices, or nil
// when mode (auto, on a stderr that is not a terminal; never) or the
// audit (no devices) wants none.
func newAuditProgress(w io.Writer, mode string, total int) *auditProgress {
	if total <= 0 || mode == progressNever || (mode == progressAuto && !isTerminal(w)) {
		return nil
	}
	p := &auditProgress{}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(p.description()),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),          // "(3/10)"
		progressbar.OptionSetPredictTime(true), // "[elapsed:left]"
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), // the last device always shows
		// Erase-line codes, where consoles understand them: the bar is
		// cleared whole whatever its width was.
		progressbar.OptionUseANSICodes(runtime.GOOS != "windows"),
		progressbar.OptionSetRenderBlankState(true),
	)
	return p
}

func (p *auditProgress) description() string {
	if p.failed == 1 {
		return "polling, 1 failed"
	}
	return fmt.Sprintf("polling, %d failed", p.failed)
}

// onPoll counts one device done; it is the Auditor's OnPoll hook.
func (p *auditProgress) onPoll(poll devices.Poll) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// As Run.Failed counts: a partial poll still read the RE table.
	if poll.Outcome != devices.OutcomeOK && poll.Outcome != devices.OutcomePartial {
		p.failed++
		p.bar.Describe(p.description())
	}
	_ = p.bar.Add(1) // a progress bar that cannot write is no reason to fail an audit
}

// clear erases the bar, so what follows starts on a clean line.
func (p *auditProgress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Clear()
}

// isTerminal tells whether w is a terminal a bar can redraw itself on.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return os.Getenv("TERM") != "dumb"
}
