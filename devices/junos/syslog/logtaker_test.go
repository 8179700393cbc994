package syslog

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
)

// takeStreamed is TakeNewLines through a Taker fed line by line, read
// again thoroughly when it asks.
func takeStreamed(t testing.TB, content string, cur devices.LogCursor, opt TakeOptions) ([]string, devices.LogCursor, TakeInfo, bool) {
	t.Helper()
	feed := func(opt TakeOptions) ([]string, devices.LogCursor, TakeInfo, error) {
		tk := NewTaker(cur, opt)
		for line := range strings.Lines(content) {
			tk.Add([]byte(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")))
		}
		return tk.Finish()
	}
	lines, next, info, err := feed(opt)
	again := errors.Is(err, ErrReadAgain)
	if again {
		opt.Thorough = true
		lines, next, info, err = feed(opt)
	}
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return lines, next, info, again
}

// FuzzTakerAgrees holds the streaming Taker to TakeNewLines on the same
// file, for a first read, an append, a replacement and a re-read.
func FuzzTakerAgrees(f *testing.F) {
	f.Add(logFile(commits(0, 5)), logFile(commits(5, 8)), logFile(commits(2, 4)), uint16(0), uint8(0))
	f.Add(logFile(logLines(mClear, mRecv, mSend, mSend)), logFile(logLines(mSend, mSend, mEvent)), "x\n", uint16(100), uint8(2))
	f.Add("a\nb\na\nb\n", "a\nb\na\nb", "a\nc\n", uint16(3), uint8(1))
	f.Add(logFile(commits(0, 9)), "", logFile(commits(0, 2), commits(7, 9)), uint16(60), uint8(3))
	f.Add("", "x", "", uint16(1), uint8(0))
	f.Add("x\r", "\n\n y \r\n", "\t\n", uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, prev, extra, other string, maxBytes uint16, firstTail uint8) {
		opt := TakeOptions{FirstTail: int(firstTail), MaxBytes: int(maxBytes), Parse: parseMastership}
		_, cur, _ := TakeNewLines(prev, devices.LogCursor{}, opt)
		for _, c := range []struct {
			what    string
			content string
			cur     devices.LogCursor
		}{
			{"first read", prev, devices.LogCursor{}},
			{"append", prev + "\n" + extra, cur},
			{"replaced", other, cur},
			{"replaced, same first line", firstLine(prev) + "\n" + other, cur},
			{"unchanged", prev, cur},
		} {
			want, wantNext, wantInfo := TakeNewLines(c.content, c.cur, opt)
			got, next, info, _ := takeStreamed(t, c.content, c.cur, opt)
			if !slices.Equal(got, want) || fmt.Sprint(next) != fmt.Sprint(wantNext) || info != wantInfo {
				t.Fatalf("%s of %q after %q:\nTaker        %q %+v %+v\nTakeNewLines %q %+v %+v",
					c.what, c.content, prev, got, next, info, want, wantNext, wantInfo)
			}
		}
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestTakerKeepsOnlyTheNewLines: reading an 8 MB log past a cursor near
// its end, the taker holds the new lines and the fingerprints, not the
// file: what it allocates stays far below the file's size.
func TestTakerKeepsOnlyTheNewLines(t *testing.T) {
	lines := make([][]byte, 0, 80_000)
	size := 0
	for n := 0; size < 8<<20; n++ {
		l := fmt.Appendf(nil, "Jan 12 %02d:%02d:%02d re0 chassisd[2190]: CHASSISD_SNMP_TRAP7: SNMP trap generated: FRU insertion (jnxFruContentsIndex %d)",
			n/3600%24, n/60%60, n%60, n)
		lines = append(lines, l)
		size += len(l) + 1
	}
	var old strings.Builder
	for _, l := range lines[:len(lines)-100] {
		old.Write(l)
		old.WriteByte('\n')
	}
	opt := TakeOptions{Parse: parseMastership, MaxBytes: 64 << 10}
	_, cur, _ := TakeNewLines(old.String(), devices.LogCursor{}, opt)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tk := NewTaker(cur, opt)
	for _, l := range lines {
		tk.Add(l)
	}
	got, next, info, err := tk.Finish()
	runtime.ReadMemStats(&after)
	if err != nil || info.Rotated || info.First || len(got) != 100 || got[0] != string(lines[len(lines)-100]) {
		t.Fatalf("took %d lines (%v, %+v), want the last 100", len(got), err, info)
	}
	if next.Lines != cur.Lines+100 {
		t.Errorf("Lines %d, want %d", next.Lines, cur.Lines+100)
	}
	// 8 bytes of fingerprint a line (80,000 lines) plus 64 KiB of text,
	// with growth: about 2 MiB. Holding the file would be 8 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3<<20 {
		t.Errorf("the taker allocated %d bytes over an %d-byte file, want under 3 MiB", alloc, size)
	}
}

// TestTakerReadAgain: a file that kept its first line but lost its place
// after the lines before the cursor's line N streamed past cannot be
// answered in one pass; the thorough read agrees with TakeNewLines.
func TestTakerReadAgain(t *testing.T) {
	opt := TakeOptions{Parse: parseMastership, MaxBytes: 200}
	prev := logFile(commits(0, 20))
	_, cur, _ := TakeNewLines(prev, devices.LogCursor{}, opt)
	// The same first line, then other lines: replaced in place.
	content := logFile(commits(0, 1), commits(30, 60))
	tk := NewTaker(cur, opt)
	for line := range strings.Lines(content) {
		tk.Add([]byte(strings.TrimSuffix(line, "\n")))
	}
	if _, _, _, err := tk.Finish(); !errors.Is(err, ErrReadAgain) {
		t.Fatalf("Finish = %v, want ErrReadAgain", err)
	}
	want, wantNext, _ := TakeNewLines(content, cur, opt)
	got, next, info, again := takeStreamed(t, content, cur, opt)
	if !again || !info.Rotated || !slices.Equal(got, want) || fmt.Sprint(next) != fmt.Sprint(wantNext) {
		t.Errorf("thorough read: %q %+v, want %q %+v", got, info, want, wantNext)
	}
}

// BenchmarkTaker is BenchmarkTakeNewLines' append case through a Taker.
func BenchmarkTaker(b *testing.B) {
	var lines [][]byte
	size := 0
	for n := 0; size < 5<<20; n++ {
		l := fmt.Appendf(nil, "Jan 12 %02d:%02d:%02d re0 chassisd[2190]: CHASSISD_SNMP_TRAP7: SNMP trap generated: FRU insertion (jnxFruContentsIndex %d)",
			n/3600%24, n/60%60, n%60, n)
		lines = append(lines, l)
		size += len(l) + 1
	}
	var old strings.Builder
	for _, l := range lines[:len(lines)-100] {
		old.Write(l)
		old.WriteByte('\n')
	}
	opt := TakeOptions{Parse: parseMastership}
	_, cur, _ := TakeNewLines(old.String(), devices.LogCursor{}, opt)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		tk := NewTaker(cur, opt)
		for _, l := range lines {
			tk.Add(l)
		}
		if got, _, _, _ := tk.Finish(); len(got) != 100 {
			b.Fatalf("took %d lines", len(got))
		}
	}
}
