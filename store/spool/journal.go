// Package spool is the daemon's durable local journal in front of the
// store: what an audit saw is appended here first, synced to disk, and
// drained into the store by a flusher when the store answers, so an
// audit never waits on the store (issue 19).
//
// On disk a journal is a directory of segment files (NNNNNNNNNNNNNNNN.seg),
// each a sequence of framed records:
//
//	length  uint32 LE  bytes after the CRC
//	crc     uint32 LE  CRC-32C of those bytes
//	seq     uint64 LE  the record's sequence number, 1, 2, 3, …
//	flags   uint8      flagMore, flagDroppable, flagDropped
//	kind    uint8      the caller's record kind
//	payload            the caller's bytes (for a droppable record: a
//	                   uint32 LE stub length, the stub, then the data)
//
// A group of records appended together is synced as one batch and read
// back as one group (flagMore marks every record but a group's last), so a
// poll and its log lines are replayed together or not at all. The head
// file says which sequence number the store has taken up to.
//
// Crash safety: a record is only acknowledged to the caller after fsync.
// On open, a torn or corrupt record ends its segment: it and what follows
// it in that segment are dropped (truncated) and logged; a group cut short
// by that is dropped whole.
//
// The journal is bounded: when an append would pass the limit, droppable
// records (log lines) are replaced by their stubs, oldest first, by
// rewriting their segment; only when nothing is left to drop is the append
// refused with ErrFull.
package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Record flags.
const (
	flagMore      = 1 << 0 // the group goes on with the next record
	flagDroppable = 1 << 1 // payload is stub length, stub, data
	flagDropped   = 1 << 2 // the data was dropped: payload is the stub
)

const (
	headerSize = 4 + 4     // length, CRC
	fixedSize  = 8 + 1 + 1 // seq, flags, kind
	// MaxRecord bounds one record, so a corrupt length cannot make the
	// reader allocate gigabytes.
	MaxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrFull is returned by Append when the group does not fit in the
// journal's bound even after every droppable record was dropped.
var ErrFull = errors.New("spool is full")

// Record is one record to append.
type Record struct {
	Kind byte
	Data []byte
	// Droppable records may lose Data when the journal is full: Stub
	// (kept small) then stands for them, and Entry.Dropped is set.
	Droppable bool
	Stub      []byte
}

// Entry is a record read back.
type Entry struct {
	Seq     uint64
	Kind    byte
	Data    []byte // the data, or the stub when Dropped
	Dropped bool
}

// Stats says what the journal holds.
type Stats struct {
	Records int          // records not yet taken by the store
	ByKind  map[byte]int // the same, by kind
	Bytes   int64        // bytes on disk
	Max     int64        // the bound
	Dropped int64        // droppable records dropped since the journal was opened
	Full    bool         // the last append was refused
}

// index is where one pending record lives.
type index struct {
	seq   uint64
	seg   uint64 // segment number
	off   int64  // offset of the frame in the segment
	size  int64  // frame size
	kind  byte
	flags byte
}

// Journal is an append-only, bounded, crash-safe record journal. Its
// methods are safe for concurrent use.
type Journal struct {
	dir    string
	max    int64
	segMax int64
	log    *slog.Logger

	mu      sync.Mutex
	recs    []index // pending records (seq > head), in order
	segs    []uint64
	segSize map[uint64]int64
	active  *os.File // the last segment, open for append
	nextSeq uint64
	head    uint64 // the last sequence number the store took
	dropped int64
	full    bool
	scanned uint64 // the last sequence number seen while loading
}

// Open opens (creating if needed) the journal in dir, bounded to max
// bytes on disk (at least 1 MiB).
func Open(dir string, max int64, log *slog.Logger) (*Journal, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if max < 1<<20 {
		max = 1 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	j := &Journal{dir: dir, max: max, segMax: min(max/8, 16<<20), log: log, segSize: map[uint64]int64{}, nextSeq: 1}
	if err := j.load(); err != nil {
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	return j, nil
}

func (j *Journal) segPath(n uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%016d.seg", n))
}

func (j *Journal) headPath() string { return filepath.Join(j.dir, "head") }

// load reads the head and scans every segment.
func (j *Journal) load() error {
	b, err := os.ReadFile(j.headPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read head: %w", err)
	default:
		h, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return fmt.Errorf("read head: %q is not a sequence number", strings.TrimSpace(string(b)))
		}
		j.head = h
	}
	names, err := os.ReadDir(j.dir)
	if err != nil {
		return err
	}
	for _, e := range names {
		name := e.Name()
		if strings.HasSuffix(name, ".seg.tmp") {
			_ = os.Remove(filepath.Join(j.dir, name)) // an interrupted rewrite
			continue
		}
		n, ok := strings.CutSuffix(name, ".seg")
		if !ok {
			continue
		}
		num, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		j.segs = append(j.segs, num)
	}
	slices.Sort(j.segs)
	for _, n := range j.segs {
		if err := j.scan(n); err != nil {
			return err
		}
	}
	// A group whose last record is missing (its tail was torn) was never
	// acknowledged to the writer: drop it whole.
	for len(j.recs) > 0 && j.recs[len(j.recs)-1].flags&flagMore != 0 {
		last := j.recs[len(j.recs)-1]
		j.log.Warn("spool: incomplete group at the end of the journal ignored", "seq", last.seq)
		j.recs = j.recs[:len(j.recs)-1]
		if err := j.truncate(last.seg, last.off); err != nil {
			return err
		}
	}
	if j.nextSeq <= j.head {
		j.nextSeq = j.head + 1
	}
	j.removeTaken()
	return nil
}

// scan reads segment n into the index, truncating a torn tail.
func (j *Journal) scan(n uint64) error {
	f, err := os.Open(j.segPath(n))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r := &countingReader{r: bufio.NewReaderSize(f, 64<<10)}
	for {
		off := r.n
		seq, flags, kind, _, err := readFrame(r)
		if err == io.EOF {
			break
		}
		if err == nil && seq <= j.scanned {
			err = fmt.Errorf("sequence %d out of order", seq)
		}
		if err != nil {
			j.log.Warn("spool: torn or corrupt record ignored, with the rest of its segment",
				"segment", j.segPath(n), "offset", off, "error", err)
			f.Close()
			if err := j.truncate(n, off); err != nil {
				return err
			}
			j.segSize[n] = off
			return nil
		}
		j.scanned = seq
		if seq >= j.nextSeq {
			j.nextSeq = seq + 1
		}
		if seq > j.head {
			j.recs = append(j.recs, index{seq: seq, seg: n, off: off, size: r.n - off, kind: kind, flags: flags})
		}
	}
	j.segSize[n] = st.Size()
	return nil
}

func (j *Journal) truncate(n uint64, off int64) error {
	if err := os.Truncate(j.segPath(n), off); err != nil {
		return fmt.Errorf("truncate torn tail of %s: %w", j.segPath(n), err)
	}
	j.segSize[n] = off
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readFrame reads one frame. io.EOF means a clean end; any other error a
// torn or corrupt frame.
func readFrame(r io.Reader) (seq uint64, flags, kind byte, payload []byte, err error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return 0, 0, 0, nil, io.EOF
		}
		return 0, 0, 0, nil, fmt.Errorf("torn header: %w", err)
	}
	body, err := readBody(r, hdr)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	seq, flags, kind, payload, err = DecodeFrame(hdr[:], body)
	return
}

func readBody(r io.Reader, hdr [headerSize]byte) ([]byte, error) {
	n := binary.LittleEndian.Uint32(hdr[0:4])
	if n < fixedSize || n > MaxRecord {
		return nil, fmt.Errorf("record length %d out of range", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("torn record: %w", err)
	}
	return body, nil
}

// DecodeFrame checks and splits one frame: hdr is its 8-byte header
// (length, CRC) and body the length bytes after it.
func DecodeFrame(hdr, body []byte) (seq uint64, flags, kind byte, payload []byte, err error) {
	if len(hdr) != headerSize {
		return 0, 0, 0, nil, fmt.Errorf("header of %d bytes, want %d", len(hdr), headerSize)
	}
	n := binary.LittleEndian.Uint32(hdr[0:4])
	if int(n) != len(body) || n < fixedSize {
		return 0, 0, 0, nil, fmt.Errorf("record length %d, body %d bytes", n, len(body))
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:8]) {
		return 0, 0, 0, nil, errors.New("CRC mismatch")
	}
	seq = binary.LittleEndian.Uint64(body[0:8])
	flags, kind, payload = body[8], body[9], body[10:]
	if flags&^(flagMore|flagDroppable|flagDropped) != 0 {
		return 0, 0, 0, nil, fmt.Errorf("unknown flags %#x", flags)
	}
	if flags&flagDroppable != 0 && flags&flagDropped == 0 {
		if len(payload) < 4 || int64(binary.LittleEndian.Uint32(payload[:4])) > int64(len(payload)-4) {
			return 0, 0, 0, nil, errors.New("stub length out of range")
		}
	}
	return seq, flags, kind, payload, nil
}

// encodeFrame frames one record.
func encodeFrame(seq uint64, flags, kind byte, payload []byte) []byte {
	b := make([]byte, headerSize+fixedSize+len(payload))
	body := b[headerSize:]
	binary.LittleEndian.PutUint64(body[0:8], seq)
	body[8], body[9] = flags, kind
	copy(body[10:], payload)
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(body, castagnoli))
	return b
}

// split returns the entry's data (or stub) from a frame's payload.
func split(flags byte, payload []byte) (data []byte, dropped bool) {
	switch {
	case flags&flagDropped != 0:
		return payload, true
	case flags&flagDroppable != 0:
		n := binary.LittleEndian.Uint32(payload[:4])
		return payload[4+n:], false
	default:
		return payload, false
	}
}

func stubOf(payload []byte) []byte {
	n := binary.LittleEndian.Uint32(payload[:4])
	return payload[4 : 4+n]
}

// Append writes recs as one group and syncs it to disk. It returns the
// sequence number of the group's last record. ErrFull means nothing was
// written.
func (j *Journal) Append(recs ...Record) (uint64, error) {
	if len(recs) == 0 {
		return 0, errors.New("append: no records")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var frames [][]byte
	var total int64
	seq := j.nextSeq
	for i, r := range recs {
		var flags byte
		if i < len(recs)-1 {
			flags |= flagMore
		}
		payload := r.Data
		if r.Droppable {
			flags |= flagDroppable
			payload = make([]byte, 4+len(r.Stub)+len(r.Data))
			binary.LittleEndian.PutUint32(payload, uint32(len(r.Stub)))
			copy(payload[4:], r.Stub)
			copy(payload[4+len(r.Stub):], r.Data)
		}
		if len(payload)+fixedSize > MaxRecord {
			return 0, fmt.Errorf("append: record of %d bytes is over the %d-byte limit", len(payload), MaxRecord)
		}
		fr := encodeFrame(seq+uint64(i), flags, r.Kind, payload)
		frames = append(frames, fr)
		total += int64(len(fr))
	}
	if err := j.makeRoom(total); err != nil {
		j.full = true
		return 0, err
	}
	if j.active == nil || j.segSize[j.segs[len(j.segs)-1]] >= j.segMax {
		if err := j.roll(); err != nil {
			return 0, err
		}
	}
	n := j.segs[len(j.segs)-1]
	off := j.segSize[n]
	buf := slices.Concat(frames...)
	if _, err := j.active.Write(buf); err != nil {
		// Leave no partial group behind: the next open would drop it,
		// but the next append in this process would follow it.
		_ = j.active.Truncate(off)
		return 0, fmt.Errorf("append to spool %s: %w", j.segPath(n), err)
	}
	if err := j.active.Sync(); err != nil {
		_ = j.active.Truncate(off)
		return 0, fmt.Errorf("sync spool %s: %w", j.segPath(n), err)
	}
	for i, fr := range frames {
		flags := fr[headerSize+8]
		j.recs = append(j.recs, index{seq: seq + uint64(i), seg: n, off: off, size: int64(len(fr)), kind: recs[i].Kind, flags: flags})
		off += int64(len(fr))
	}
	j.segSize[n] = off
	j.nextSeq = seq + uint64(len(recs))
	j.full = false
	return j.nextSeq - 1, nil
}

// roll starts a new segment.
func (j *Journal) roll() error {
	if j.active != nil {
		if err := j.active.Close(); err != nil {
			return fmt.Errorf("close spool segment: %w", err)
		}
		j.active = nil
	}
	var n uint64 = 1
	if len(j.segs) > 0 {
		last := j.segs[len(j.segs)-1]
		if j.segSize[last] < j.segMax {
			n = last // reopen the last segment for append after a restart
		} else {
			n = last + 1
		}
	}
	f, err := os.OpenFile(j.segPath(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	if len(j.segs) == 0 || j.segs[len(j.segs)-1] != n {
		j.segs = append(j.segs, n)
		j.segSize[n] = 0
		if err := syncDir(j.dir); err != nil {
			f.Close()
			return err
		}
	}
	j.active = f
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	return nil
}

func (j *Journal) bytes() int64 {
	var t int64
	for _, n := range j.segs {
		t += j.segSize[n]
	}
	return t
}

// makeRoom drops droppable records, oldest segment first, until need
// more bytes fit under the bound.
func (j *Journal) makeRoom(need int64) error {
	if need > j.max {
		return fmt.Errorf("append %d bytes: %w (bound %d bytes)", need, ErrFull, j.max)
	}
	if j.bytes()+need <= j.max {
		return nil
	}
	// The segments holding log lines not dropped yet, oldest first.
	var segs []uint64
	for _, r := range j.recs {
		if r.flags&flagDroppable != 0 && r.flags&flagDropped == 0 && (len(segs) == 0 || segs[len(segs)-1] != r.seg) {
			segs = append(segs, r.seg)
		}
	}
	for _, n := range segs {
		if j.bytes()+need <= j.max {
			return nil
		}
		if err := j.compact(n); err != nil {
			return err
		}
	}
	if j.bytes()+need <= j.max {
		return nil
	}
	return fmt.Errorf("append %d bytes: %w (%d of %d bytes used by records the store has not taken)", need, ErrFull, j.bytes(), j.max)
}

// compact rewrites segment n without the records the store took and with
// its droppable records replaced by their stubs.
func (j *Journal) compact(n uint64) error {
	var keep []int // indexes into j.recs
	worth := false
	for i, r := range j.recs {
		if r.seg == n {
			keep = append(keep, i)
			if r.flags&flagDroppable != 0 && r.flags&flagDropped == 0 {
				worth = true
			}
		}
	}
	if !worth {
		return nil
	}
	isActive := j.active != nil && j.segs[len(j.segs)-1] == n
	if isActive {
		if err := j.active.Close(); err != nil {
			return fmt.Errorf("close spool segment: %w", err)
		}
		j.active = nil
	}
	src, err := os.Open(j.segPath(n))
	if err != nil {
		return fmt.Errorf("compact spool: %w", err)
	}
	defer src.Close()
	tmp := j.segPath(n) + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("compact spool: %w", err)
	}
	var off int64
	moved := make([]index, len(keep))
	var drops int64
	for k, i := range keep {
		r := j.recs[i]
		hdr := make([]byte, r.size)
		if _, err := src.ReadAt(hdr, r.off); err != nil {
			dst.Close()
			return fmt.Errorf("compact spool: read record %d: %w", r.seq, err)
		}
		var h [headerSize]byte
		copy(h[:], hdr)
		seq, flags, kind, payload, err := DecodeFrame(h[:], hdr[headerSize:])
		if err != nil {
			dst.Close()
			return fmt.Errorf("compact spool: record %d: %w", r.seq, err)
		}
		if flags&flagDroppable != 0 && flags&flagDropped == 0 {
			payload = stubOf(payload)
			flags = flags&^flagDroppable | flagDropped
			drops++
		}
		fr := encodeFrame(seq, flags, kind, payload)
		if _, err := dst.Write(fr); err != nil {
			dst.Close()
			return fmt.Errorf("compact spool: %w", err)
		}
		moved[k] = index{seq: seq, seg: n, off: off, size: int64(len(fr)), kind: kind, flags: flags}
		off += int64(len(fr))
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("compact spool: %w", err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compact spool: %w", err)
	}
	if err := os.Rename(tmp, j.segPath(n)); err != nil {
		return fmt.Errorf("compact spool: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return err
	}
	for k, i := range keep {
		j.recs[i] = moved[k]
	}
	j.segSize[n] = off
	j.dropped += drops
	j.log.Warn("spool full: oldest log lines dropped", "segment", j.segPath(n), "records", drops)
	if isActive {
		f, err := os.OpenFile(j.segPath(n), os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("compact spool: reopen: %w", err)
		}
		j.active = f
	}
	return nil
}

// Peek returns up to max whole groups from the oldest record the store
// has not taken, each in append order.
func (j *Journal) Peek(max int) ([][]Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out [][]Entry
	var group []Entry
	files := map[uint64]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, r := range j.recs {
		if len(out) >= max {
			break
		}
		f := files[r.seg]
		if f == nil {
			var err error
			if f, err = os.Open(j.segPath(r.seg)); err != nil {
				return nil, fmt.Errorf("read spool: %w", err)
			}
			files[r.seg] = f
		}
		b := make([]byte, r.size)
		if _, err := f.ReadAt(b, r.off); err != nil {
			return nil, fmt.Errorf("read spool record %d: %w", r.seq, err)
		}
		seq, flags, kind, payload, err := DecodeFrame(b[:headerSize], b[headerSize:])
		if err != nil {
			return nil, fmt.Errorf("read spool record %d: %w", r.seq, err)
		}
		data, dropped := split(flags, payload)
		group = append(group, Entry{Seq: seq, Kind: kind, Data: data, Dropped: dropped})
		if flags&flagMore == 0 {
			out = append(out, group)
			group = nil
		}
	}
	return out, nil
}

// Ack records that the store has taken every record up to seq: the head
// moves there (synced), and segments holding nothing newer are deleted.
func (j *Journal) Ack(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seq <= j.head {
		return nil
	}
	tmp := j.headPath() + ".tmp"
	if err := writeSynced(tmp, []byte(strconv.FormatUint(seq, 10)+"\n")); err != nil {
		return fmt.Errorf("spool head: %w", err)
	}
	if err := os.Rename(tmp, j.headPath()); err != nil {
		return fmt.Errorf("spool head: %w", err)
	}
	j.head = seq
	j.full = false
	i, _ := slices.BinarySearchFunc(j.recs, seq+1, func(r index, s uint64) int {
		switch {
		case r.seq < s:
			return -1
		case r.seq > s:
			return 1
		}
		return 0
	})
	j.recs = slices.Delete(j.recs, 0, i)
	j.removeTaken()
	return nil
}

// removeTaken deletes the segments before the oldest pending record's
// (and every segment but the active one when nothing is pending).
func (j *Journal) removeTaken() {
	keepFrom := uint64(0)
	if len(j.recs) > 0 {
		keepFrom = j.recs[0].seg
	} else if len(j.segs) > 0 {
		keepFrom = j.segs[len(j.segs)-1]
	}
	for len(j.segs) > 0 && j.segs[0] < keepFrom {
		n := j.segs[0]
		if err := os.Remove(j.segPath(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.log.Warn("spool: remove flushed segment", "segment", j.segPath(n), "error", err)
			return
		}
		delete(j.segSize, n)
		j.segs = j.segs[1:]
	}
	// The active segment with nothing pending: start it afresh so the
	// disk is given back.
	if len(j.recs) == 0 && len(j.segs) == 1 && j.segSize[j.segs[0]] > 0 {
		n := j.segs[0]
		if j.active != nil {
			if err := j.active.Truncate(0); err == nil {
				j.segSize[n] = 0
			}
		} else if err := os.Truncate(j.segPath(n), 0); err == nil {
			j.segSize[n] = 0
		}
	}
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Stats says what the journal holds now.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := Stats{Records: len(j.recs), ByKind: map[byte]int{}, Bytes: j.bytes(), Max: j.max, Dropped: j.dropped, Full: j.full}
	for _, r := range j.recs {
		s.ByKind[r.kind]++
	}
	return s
}

// Close closes the active segment.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.active == nil {
		return nil
	}
	err := j.active.Close()
	j.active = nil
	return err
}
