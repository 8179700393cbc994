package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func mustOpen(t *testing.T, dir string, max int64) *Journal {
	t.Helper()
	j, err := Open(dir, max, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func data(i int) []byte { return fmt.Appendf(nil, "record %04d", i) }

// flat returns every entry of every pending group, in order.
func flat(t *testing.T, j *Journal) []Entry {
	t.Helper()
	gs, err := j.Peek(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, g := range gs {
		out = append(out, g...)
	}
	return out
}

func TestJournalOrderAcrossReopenAndSegments(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, dir, 1<<20) // segments of 128 KiB
	big := bytes.Repeat([]byte("x"), 10<<10)
	for i := range 40 {
		if _, err := j.Append(Record{Kind: 1, Data: append(data(i), big...)}, Record{Kind: 2, Data: data(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) < 3 {
		t.Fatalf("%d segments, want several: the test must cross segment boundaries", len(segs))
	}
	j.Close()
	j = mustOpen(t, dir, 1<<20)
	gs, err := j.Peek(1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 40 {
		t.Fatalf("%d groups after reopen, want 40", len(gs))
	}
	for i, g := range gs {
		if len(g) != 2 || g[0].Kind != 1 || g[1].Kind != 2 || !bytes.Equal(g[1].Data, data(i)) || !bytes.HasPrefix(g[0].Data, data(i)) {
			t.Fatalf("group %d = %d entries, kinds/data out of order", i, len(g))
		}
		if g[1].Seq != g[0].Seq+1 || (i > 0 && g[0].Seq != gs[i-1][1].Seq+1) {
			t.Fatalf("group %d: sequence numbers %d,%d not consecutive", i, g[0].Seq, g[1].Seq)
		}
	}
	// Taking the first 30 groups leaves the last 10, after a reopen too,
	// and deletes the segments holding only taken records.
	if err := j.Ack(gs[29][1].Seq); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = mustOpen(t, dir, 1<<20)
	rest := flat(t, j)
	if len(rest) != 20 || !bytes.Equal(rest[1].Data, data(30)) {
		t.Fatalf("after ack and reopen: %d entries, first %q; want 20 from record 30", len(rest), rest[0].Data)
	}
	if st := j.Stats(); st.ByKind[1] != 10 || st.ByKind[2] != 10 || st.Records != 20 {
		t.Fatalf("stats %+v", st)
	}
	// New appends continue the numbering.
	seq, err := j.Append(Record{Kind: 3, Data: []byte("after")})
	if err != nil {
		t.Fatal(err)
	}
	if want := rest[len(rest)-1].Seq + 1; seq != want {
		t.Fatalf("next seq %d, want %d", seq, want)
	}
	if err := j.Ack(seq); err != nil {
		t.Fatal(err)
	}
	if st := j.Stats(); st.Records != 0 || st.Bytes != 0 {
		t.Fatalf("everything taken, stats %+v: want no records and no bytes", st)
	}
}

func TestJournalTornTailIgnored(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, dir, 1<<20)
	for i := range 5 {
		if _, err := j.Append(Record{Kind: 1, Data: data(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A sixth group of two records whose second was cut by a crash in the
	// middle of the write.
	if _, err := j.Append(Record{Kind: 1, Data: data(5)}, Record{Kind: 2, Data: data(6)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	st, _ := os.Stat(segs[0])
	if err := os.Truncate(segs[0], st.Size()-3); err != nil {
		t.Fatal(err)
	}
	j = mustOpen(t, dir, 1<<20)
	got := flat(t, j)
	if len(got) != 5 {
		t.Fatalf("%d entries after a torn tail, want the 5 whole groups", len(got))
	}
	for i, e := range got {
		if !bytes.Equal(e.Data, data(i)) {
			t.Fatalf("entry %d = %q", i, e.Data)
		}
	}
	// The file was cut back to the last whole group: an append follows it.
	if _, err := j.Append(Record{Kind: 1, Data: data(7)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = mustOpen(t, dir, 1<<20)
	if got := flat(t, j); len(got) != 6 || !bytes.Equal(got[5].Data, data(7)) {
		t.Fatalf("after append past the torn tail: %d entries", len(got))
	}
}

func TestJournalCorruptRecordEndsSegment(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, dir, 1<<20)
	for i := range 4 {
		if _, err := j.Append(Record{Kind: 1, Data: data(i)}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	b, _ := os.ReadFile(segs[0])
	frame := len(b) / 4
	b[2*frame+headerSize+fixedSize] ^= 0xff // a flipped bit in the third record's data
	if err := os.WriteFile(segs[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	j = mustOpen(t, dir, 1<<20)
	if got := flat(t, j); len(got) != 2 {
		t.Fatalf("%d entries, want the 2 before the corrupt one", len(got))
	}
}

func TestJournalBoundDropsLogLinesFirst(t *testing.T) {
	dir := t.TempDir()
	const max = 1 << 20
	j := mustOpen(t, dir, max)
	logs := bytes.Repeat([]byte("l"), 20<<10)
	poll := bytes.Repeat([]byte("p"), 2<<10)
	// Polls (kind 1) and their log lines (kind 2, droppable) until the
	// bound is reached.
	var appended int
	for i := 0; ; i++ {
		_, err := j.Append(Record{Kind: 1, Data: append(data(i), poll...)},
			Record{Kind: 2, Data: logs, Droppable: true, Stub: fmt.Appendf(nil, "stub %d", i)})
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		appended++
		if i > 10000 {
			t.Fatal("the bound was never reached")
		}
	}
	st := j.Stats()
	if !st.Full || st.Bytes > max {
		t.Fatalf("stats %+v: want full within %d bytes", st, max)
	}
	if st.Dropped == 0 {
		t.Fatal("no log lines were dropped before the journal refused a poll")
	}
	// Every poll is still there; the log lines dropped are the oldest,
	// each replaced by its stub, and those kept are whole.
	got, err := j.Peek(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != appended {
		t.Fatalf("%d groups, want every one of the %d appended", len(got), appended)
	}
	// With nothing droppable left, a poll (even a small one) is refused.
	if _, err := j.Append(Record{Kind: 1, Data: bytes.Repeat([]byte("p"), 40<<10)}); !errors.Is(err, ErrFull) {
		t.Fatalf("append past the bound: %v, want ErrFull", err)
	}
	seenKept := false
	for i, g := range got {
		if !bytes.HasPrefix(g[0].Data, data(i)) {
			t.Fatalf("poll %d = %q", i, g[0].Data)
		}
		switch {
		case g[1].Dropped:
			if seenKept {
				t.Fatalf("group %d: log lines dropped after newer ones were kept", i)
			}
			if want := fmt.Sprintf("stub %d", i); string(g[1].Data) != want {
				t.Fatalf("stub %q, want %q", g[1].Data, want)
			}
		default:
			seenKept = true
			if !bytes.Equal(g[1].Data, logs) {
				t.Fatalf("group %d: kept log lines changed", i)
			}
		}
	}
	// The drop survives a reopen, and taking records makes room again.
	j.Close()
	j = mustOpen(t, dir, max)
	if n := len(flat(t, j)); n != 2*appended {
		t.Fatalf("%d entries after reopen, want %d", n, 2*appended)
	}
	if err := j.Ack(got[len(got)/2][1].Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(Record{Kind: 1, Data: data(99999)}); err != nil {
		t.Fatalf("append after the store took half: %v", err)
	}
	if j.Stats().Full {
		t.Fatal("still full after an append succeeded")
	}
}

func TestDecodeFrameRoundTrip(t *testing.T) {
	fr := encodeFrame(42, flagMore, 7, []byte("payload"))
	seq, flags, kind, payload, err := DecodeFrame(fr[:headerSize], fr[headerSize:])
	if err != nil || seq != 42 || flags != flagMore || kind != 7 || string(payload) != "payload" {
		t.Fatalf("decode = %d %d %d %q %v", seq, flags, kind, payload, err)
	}
	fr[len(fr)-1] ^= 1
	if _, _, _, _, err := DecodeFrame(fr[:headerSize], fr[headerSize:]); err == nil {
		t.Fatal("a flipped bit decoded without error")
	}
}

// FuzzDecodeFrame: any bytes on disk give a record or an error, never a
// panic, and whatever decodes re-encodes to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodeFrame(1, 0, 1, []byte("poll")))
	f.Add(encodeFrame(2, flagDroppable, 2, append([]byte{4, 0, 0, 0}, "stublines"...)))
	f.Add(encodeFrame(3, flagDropped|flagMore, 2, []byte("stub")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < headerSize {
			return
		}
		seq, flags, kind, payload, err := DecodeFrame(b[:headerSize], b[headerSize:])
		if err != nil {
			return
		}
		if data, _ := split(flags, payload); len(data) > len(payload) {
			t.Fatal("split longer than its payload")
		}
		if again := encodeFrame(seq, flags, kind, payload); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
		// And the reader over the same bytes agrees.
		if _, _, _, _, err := readFrame(bytes.NewReader(b)); err != nil {
			t.Fatalf("DecodeFrame accepted what readFrame refuses: %v", err)
		}
	})
}

// BenchmarkJournalAppend is the cost of spooling one poll (4 KiB) with
// its log lines (2 KiB): one synced append of a group of two records.
func BenchmarkJournalAppend(b *testing.B) {
	j, err := Open(b.TempDir(), 256<<20, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	poll, logs := bytes.Repeat([]byte("p"), 4<<10), bytes.Repeat([]byte("l"), 2<<10)
	b.SetBytes(int64(len(poll) + len(logs)))
	for b.Loop() {
		if _, err := j.Append(Record{Kind: 1, Data: poll}, Record{Kind: 2, Data: logs, Droppable: true, Stub: []byte("stub")}); err != nil {
			b.Fatal(err)
		}
	}
}
