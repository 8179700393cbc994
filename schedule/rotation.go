package schedule

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/syslog"
	"github.com/mastership/mastership/netconf"
)

// Rotation (issue 19). Junos turns a log over when it reaches its size:
// "it closes the file, compresses it, and renames it logfile.0.gz" and
// older archives move up to logfile.1.gz (Junos "archive (All System Log
// Files)", juniper.net/documentation/en_US/junos13.2/topics/reference/
// configuration-statement/archive-edit-system-syslog.html). The lines
// written after the last poll and before the rotation are in
// messages.0.gz, which "show log messages.0.gz" prints decompressed (a
// public PyEZ script reads messages.0.gz..messages.9.gz that way:
// negima0-0/log_get_get_get_get, pyez.py); <get-log> is "show log" and
// answers with <file-content> (junos-samples/netconf/
// get-log-returns-file-content.api-mapping-excerpt.txt), so the archive
// is read with the same RPC and decoder as the live file
// (junos.DecodeArchiveContent also takes the compressed bytes, should a
// device send them base64-encoded).
//
// By default only root and users with the maintenance permission can
// read the archives ("The logging utility by default also limits the
// users who can read log files to the root user and users who have the
// JUNOS maintenance permission", same page, and "world-readable"). An
// archive that cannot be read is a gap note; the new file is still read
// from the first line after the cursor's time, so nothing else is lost.
//
// Cost: the archive is asked for only when the cursor's place is not in
// the live file (a rotation, clear-log, a replaced file), never on a
// steady poll. The poll's file listing already covers messages.0.gz when
// it lists /var/log/m* (messages and mastership): an archive it does not
// show, or one older than the last read, is not asked for. Otherwise
// get-log is asked directly; only when it answers "could not resolve
// file" does one file-list of the archive tell a missing archive (a
// clear-log, nothing lost) from one the login may not read (a gap): no
// public capture shows how Junos words a refused archive.

// archiveOf names the file a log is turned over into: messages →
// messages.0.gz, /var/log/messages → /var/log/messages.0.gz.
func archiveOf(file string) string { return file + ".0.gz" }

// rotationRead is what reading across a rotation gave.
type rotationRead struct {
	lines []string
	next  devices.LogCursor
	took  syslog.TakeInfo
	gap   *devices.LogGap
}

// acrossRotation is called when the cursor's place is not in content, the
// live file: it reads the file's archive and takes the lines past the
// cursor from it, then the new file's (syslog.TakeAcrossRotation).
// base is what TakeNewLines took from content alone; it stands when there
// is no archive to read (the file was cleared or replaced, not rotated)
// and, with a gap note, when the archive cannot be read. A broken session
// is an error: the cursor stays, and the next poll reads it all again.
func (p *Poller) acrossRotation(ctx context.Context, sess *netconf.Session, d inventory.Device, file, content string,
	cur devices.LogCursor, opt syslog.TakeOptions, listed map[string]junos.FileInfo, base rotationRead) (rotationRead, error) {
	archive := archiveOf(file)
	apath := junos.LogPath(archive)
	gap := func(reason string) (rotationRead, error) {
		base.gap = &devices.LogGap{File: junos.LogPath(file), Archive: apath, Reason: reason}
		return base, nil
	}
	listedNewer := false // the poll's listing shows an archive newer than the last read
	if listed != nil {
		if pattern, ok := junos.FileListPattern(logFiles(d)); ok {
			if covered, _ := path.Match(pattern, apath); covered {
				info, exists := listed[apath]
				if !exists || info.ModTime.Before(cur.ModTime) {
					return base, nil // no archive newer than the last read
				}
				listedNewer = true
			}
		}
	}
	raw, err := fetchLog(ctx, sess, archive)
	var rpcErr *netconf.RPCError
	switch {
	case errors.As(err, &rpcErr) && junos.NoSuchFile(rpcErr.Message):
		if !listedNewer && !p.archiveListed(ctx, sess, apath) {
			return base, nil
		}
		return gap("the device lists it but get-log answered: " + rpcErr.Message)
	case errors.As(err, &rpcErr):
		return gap(rpcErr.Message)
	case err != nil:
		return rotationRead{}, fmt.Errorf("get-log %s: %w", archive, err)
	}
	// The archive may not decompress past the reply limit: the same bound
	// the live file has.
	text, err := junos.DecodeArchiveContent(raw, cmp.Or(p.MaxReplyBytes, netconf.DefaultMaxReplyBytes))
	if err != nil {
		return gap("decode reply: " + err.Error())
	}
	var r rotationRead
	r.lines, r.next, r.took = syslog.TakeAcrossRotation(text, content, cur, opt)
	if r.took.Gap {
		r.gap = &devices.LogGap{File: junos.LogPath(file), Archive: apath,
			Reason: "the file was turned over more than once since the last poll: the last line read is not in " + apath + " and older archives are not read"}
	}
	return r, nil
}

// archiveListed reports whether "file list detail" shows apath. An
// answer that cannot be had counts as no: the archive is then taken to
// be missing, as get-log said.
func (p *Poller) archiveListed(ctx context.Context, sess *netconf.Session, apath string) bool {
	_, ok := p.listFiles(ctx, sess, apath)[apath]
	return ok
}

// fetchLog reads a log file with <get-log>, falling back to <file-show>
// on a device that refuses it, and returns the reply whole. It streams
// (RPCStream) into a buffer rather than using RPC, whose replies are
// capped at netconf.MaxHeldReplyBytes: an archive is as big as the file
// was when it turned over, often megabytes, and only the session's reply
// limit bounds it. It is asked only across a rotation.
func fetchLog(ctx context.Context, sess *netconf.Session, file string) ([]byte, error) {
	var buf bytes.Buffer
	_, err := sess.RPCStream(ctx, junos.GetLogRPC(file), &buf)
	var rpcErr *netconf.RPCError
	if errors.As(err, &rpcErr) {
		buf.Reset()
		_, err = sess.RPCStream(ctx, junos.FileShowRPC(file), &buf)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// heldLogBytes is how much of a streamed log reply is also held whole,
// for wholeLog: a file just turned over is short, so across a rotation
// the new file is nearly always in hand without a second read.
const heldLogBytes = 1 << 20

// heldReply keeps a streamed reply whole while it is no longer than
// limit, and only notes that it was once it grows past it.
type heldReply struct {
	limit int
	buf   []byte
	over  bool
}

func (h *heldReply) Write(b []byte) (int, error) {
	if !h.over {
		if len(h.buf)+len(b) > h.limit {
			h.over, h.buf = true, nil
		} else {
			h.buf = append(h.buf, b...)
		}
	}
	return len(b), nil
}

func (h *heldReply) reset() { h.buf, h.over = h.buf[:0], false }

// wholeLog is the live file's text across a rotation: from the reply
// takeLog held when it was short, else read again (one more read, and
// only when a file turned over and is already past heldLogBytes).
func (p *Poller) wholeLog(ctx context.Context, sess *netconf.Session, file string, held *heldReply) (string, error) {
	raw := held.buf
	if held.over {
		var err error
		if raw, err = fetchLog(ctx, sess, file); err != nil {
			return "", fmt.Errorf("get-log %s: %w", file, err)
		}
	}
	text, err := junos.DecodeLogContent(raw)
	if err != nil {
		return "", fmt.Errorf("get-log %s: %w", file, &decodeError{rpc: "get-log", err: err})
	}
	return text, nil
}
