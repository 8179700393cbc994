package junos

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// takeReference is what the agent did before replies streamed:
// DecodeLogContent, then TakeNewLines.
func takeReference(reply []byte, cur devices.LogCursor, opt syslog.TakeOptions) (LogTake, error) {
	content, err := DecodeLogContent(reply)
	if err != nil {
		return LogTake{}, err
	}
	lines, next, info := syslog.TakeNewLines(content, cur, opt)
	return LogTake{Lines: lines, Next: next, Info: info, Size: int64(len(content))}, nil
}

// takeStreamed feeds reply to a LogTaker in writes of step bytes, holding
// hold bytes of text before streaming it, and reads again thoroughly when
// it asks. skip is set for replies it does not stream (errNotStreamable).
func takeStreamed(t testing.TB, reply []byte, cur devices.LogCursor, opt syslog.TakeOptions, hold, step int) (take LogTake, err error, skip bool) {
	t.Helper()
	feed := func(opt syslog.TakeOptions) (LogTake, error) {
		lt := NewLogTaker(cur, opt)
		lt.hold = hold
		for rest := reply; len(rest) > 0; {
			n := min(len(rest), max(step, 1))
			_, _ = lt.Write(rest[:n])
			rest = rest[n:]
		}
		return lt.Finish()
	}
	take, err = feed(opt)
	if errors.Is(err, syslog.ErrReadAgain) {
		opt.Thorough = true
		take, err = feed(opt)
	}
	return take, err, errors.Is(err, errNotStreamable)
}

// checkTakeAgrees fails unless streaming reply gives the reference's
// lines and cursor, or an error where it gives one.
func checkTakeAgrees(t *testing.T, reply []byte, cur devices.LogCursor, opt syslog.TakeOptions, hold, step int) {
	t.Helper()
	want, wantErr := takeReference(reply, cur, opt)
	got, err, skip := takeStreamed(t, reply, cur, opt, hold, step)
	if skip {
		return
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("hold %d, step %d: streamed error %v, reference error %v", hold, step, err, wantErr)
	}
	if err != nil {
		return
	}
	if !slices.Equal(got.Lines, want.Lines) || fmt.Sprint(got.Next) != fmt.Sprint(want.Next) || got.Info != want.Info {
		t.Fatalf("hold %d, step %d:\nstreamed  %q %+v %+v\nreference %q %+v %+v", hold, step,
			got.Lines, got.Next, got.Info, want.Lines, want.Next, want.Info)
	}
}

// logReply is a get-log reply carrying content.
func logReply(content string) []byte {
	var b strings.Builder
	b.WriteString(`<rpc-reply xmlns:junos="http://xml.juniper.net/junos/18.2R1/junos" message-id="3">` + "\n")
	b.WriteString(`<file-content filename="/var/log/messages" junos:seconds="1765165705" filesize="` + fmt.Sprint(len(content)) + `" encoding="text">` + "\n")
	b.WriteString(escapeLog(content))
	b.WriteString("</file-content>\n</rpc-reply>\n")
	return []byte(b.String())
}

// escapeLog escapes text as Junos does in a reply: markup characters
// only, newlines as they are.
func escapeLog(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestLogTakerAgreesOnSamples: every real get-log and file-show reply, fed
// in pieces of several sizes with several amounts held back, gives what
// DecodeLogContent and TakeNewLines give, on a first read and on a read
// past a cursor.
func TestLogTakerAgreesOnSamples(t *testing.T) {
	opt := syslog.TakeOptions{FirstTail: 5, MaxBytes: 300}
	n := 0
	for _, name := range sampleNames(t) {
		if !strings.HasPrefix(name, "get-log.") && !strings.HasPrefix(name, "file-show.") {
			continue
		}
		n++
		reply := readSample(t, name)
		t.Run(name, func(t *testing.T) {
			first, err := takeReference(reply, devices.LogCursor{}, opt)
			for _, hold := range []int{0, 7, holdBytes} {
				for _, step := range []int{1, 13, 4096, len(reply)} {
					checkTakeAgrees(t, reply, devices.LogCursor{}, opt, hold, step)
					if err == nil {
						checkTakeAgrees(t, reply, first.Next, opt, hold, step)
					}
				}
			}
		})
	}
	if n == 0 {
		t.Skip("no get-log or file-show sample")
	}
}

// TestLogTakerShapes: indented (pretty-printed) text, notices in
// <output>, multi-RE replies, references and CRs, pieces split by
// comments, as streamed and as held.
func TestLogTakerShapes(t *testing.T) {
	lines := []string{
		"Dec  8 03:48:25  re0 mgd[7729]: UI_COMMIT: User 'luke' requested 'commit' operation",
		"Dec  8 03:48:26  re0 sshd[42]: Accepted publickey for lab from 10.0.0.1 port 5222 ssh2",
		"Dec  8 03:48:27  re0 chassisd[2190]: CHASSISD_SNMP_TRAP7: SNMP trap generated: <&>",
	}
	content := strings.Join(lines, "\n") + "\n"
	indented := "\n      " + strings.Join(lines, "\n      ") + "\n    "
	replies := map[string][]byte{
		"plain":    logReply(content),
		"indented": logReply(indented),
		"crlf":     logReply(strings.ReplaceAll(content, "\n", "\r\n")),
		"uneven":   logReply("  " + lines[0] + "\n" + lines[1] + "\n"),
		"deeper":   logReply("    " + lines[0] + "\n  " + lines[1] + "\n"),
		"nbsp":     logReply("\u00a0\n" + content),
		"comment":  []byte(`<rpc-reply><file-content>` + lines[0] + "\n" + `Dec  8 03:4<!-- x -->8:26  re0 a]]<!---->> b` + "\n</file-content></rpc-reply>"),
		"refs":     []byte(`<rpc-reply><file-content>` + lines[0] + "&#10;" + lines[1] + "&#13;\r" + lines[2] + "</file-content></rpc-reply>"),
		"output":   []byte("<rpc-reply><output>\n" + escapeLog(content) + "</output></rpc-reply>"),
		"aborted": []byte(`<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>re0</re-name>` +
			`<file-content encoding="text">` + escapeLog(content) + `</file-content></multi-routing-engine-item>` +
			`<multi-routing-engine-item><re-name>re1</re-name><output>Aborted! This command can only be used on the master routing engine.</output>` +
			`</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`),
		"two members": []byte(`<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>re0</re-name>` +
			`<file-content>` + escapeLog(content) + `</file-content></multi-routing-engine-item>` +
			`<multi-routing-engine-item><re-name>re1</re-name><file-content>` + escapeLog(lines[2]) +
			`</file-content></multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`),
		"newline refs": []byte("<rpc-reply><file-content>" + escapeText(content) + "</file-content></rpc-reply>"),
		"mark":         []byte("<rpc-reply><file-content>\uF8FF1</file-content><output>" + escapeLog(content) + "</output></rpc-reply>"),
		"bad":          []byte("<rpc-reply><file-content>" + lines[0] + "\n\x01</file-content></rpc-reply>"),
	}
	opt := syslog.TakeOptions{FirstTail: 2, MaxBytes: 200, Parse: func(s string) devices.LogLine {
		return syslog.ParseLine("messages", s, syslog.DeviceClock{})
	}}
	for name, reply := range replies {
		t.Run(name, func(t *testing.T) {
			first, err := takeReference(reply, devices.LogCursor{}, opt)
			for _, hold := range []int{0, 5, holdBytes} {
				for _, step := range []int{1, 3, 64, len(reply)} {
					checkTakeAgrees(t, reply, devices.LogCursor{}, opt, hold, step)
					if err == nil {
						checkTakeAgrees(t, reply, first.Next, opt, hold, step)
					}
				}
			}
		})
	}
}

// FuzzLogTakerAgrees holds the streaming log reader to DecodeLogContent
// and TakeNewLines (themselves held to encoding/xml by
// FuzzLogContentAgree) on arbitrary replies, fed in arbitrary pieces.
func FuzzLogTakerAgrees(f *testing.F) {
	for _, name := range sampleNames(f) {
		if strings.HasPrefix(name, "get-log.") || strings.HasPrefix(name, "file-show.") {
			f.Add(readSample(f, name), uint8(3), uint16(4096))
		}
	}
	f.Add([]byte("<rpc-reply><file-content>a&#xA;b&#xA;c</file-content></rpc-reply>"), uint8(0), uint16(2))
	f.Add(logReply("a\nb\n  c\n"), uint8(0), uint16(1))
	f.Add([]byte("<rpc-reply><output>\n  x\n  y</output><file-content>\n\t\n</file-content></rpc-reply>"), uint8(2), uint16(3))
	f.Fuzz(func(t *testing.T, reply []byte, hold uint8, step uint16) {
		opt := syslog.TakeOptions{FirstTail: 3, MaxBytes: 64}
		checkTakeAgrees(t, reply, devices.LogCursor{}, opt, int(hold), int(step))
		if first, err := takeReference(reply, devices.LogCursor{}, opt); err == nil {
			checkTakeAgrees(t, reply, first.Next, opt, int(hold), int(step))
		}
	})
}

// TestLogTakerKeepsOnlyLinesPastTheCursor: a 5 MB log reply read past a
// cursor near its end, in the 4 KiB pieces a session hands over, costs
// the new lines and a fingerprint per line, not the file: the heap
// allocated stays far below the reply's size (DecodeLogContent alone
// allocates the file's text).
func TestLogTakerKeepsOnlyLinesPastTheCursor(t *testing.T) {
	var content strings.Builder
	var all []string
	for n := 0; content.Len() < 5<<20; n++ {
		l := fmt.Sprintf("Dec  8 %02d:%02d:%02d  re0 cron[%d]: (root) CMD (newsyslog) <&> ok", n/3600%24, n/60%60, n%60, n)
		all = append(all, l)
		content.WriteString(l + "\n")
	}
	reply := logReply(content.String())
	old := logReply(strings.Join(all[:len(all)-100], "\n") + "\n")
	opt := syslog.TakeOptions{MaxBytes: 64 << 10}
	first, err := TakeLogContent(old, devices.LogCursor{}, opt)
	if err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lt := NewLogTaker(first.Next, opt)
	for rest := reply; len(rest) > 0; {
		n := min(len(rest), 4096)
		_, _ = lt.Write(rest[:n])
		rest = rest[n:]
	}
	take, err := lt.Finish()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(take.Lines, all[len(all)-100:]) || take.Info.Rotated {
		t.Fatalf("took %d lines (%+v), want the last 100", len(take.Lines), take.Info)
	}
	// Fingerprints of ~70,000 lines and 64 KiB of text, with growth:
	// about 2 MiB, against 5 MiB of reply.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3<<20 {
		t.Errorf("reading a %d-byte log reply allocated %d bytes, want under 3 MiB", len(reply), alloc)
	}
	// For contrast, and to show the measure can fail: holding it whole.
	runtime.ReadMemStats(&before)
	if _, err := takeReference(reply, first.Next, opt); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc < 4<<20 {
		t.Errorf("the reference allocated only %d bytes", alloc)
	}
}

// BenchmarkLogTaker reads a 5 MB log reply past a cursor near its end, as
// a poll does, in 4 KiB writes.
func BenchmarkLogTaker(b *testing.B) {
	var content strings.Builder
	var all []string
	for n := 0; content.Len() < 5<<20; n++ {
		l := fmt.Sprintf("Dec  8 %02d:%02d:%02d  re0 chassisd[2190]: CHASSISD_SNMP_TRAP7: SNMP trap generated: FRU insertion (jnxFruContentsIndex %d)", n/3600%24, n/60%60, n%60, n)
		all = append(all, l)
		content.WriteString(l + "\n")
	}
	reply := logReply(content.String())
	opt := syslog.TakeOptions{}
	first, err := TakeLogContent(logReply(strings.Join(all[:len(all)-100], "\n")+"\n"), devices.LogCursor{}, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(reply)))
	b.ReportAllocs()
	for b.Loop() {
		lt := NewLogTaker(first.Next, opt)
		for rest := reply; len(rest) > 0; {
			n := min(len(rest), 4096)
			_, _ = lt.Write(rest[:n])
			rest = rest[n:]
		}
		if take, err := lt.Finish(); err != nil || len(take.Lines) != 100 {
			b.Fatalf("took %d lines, %v", len(take.Lines), err)
		}
	}
}
