package junos

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FileListRPC returns the request body for "file list detail PATH": one
// file's size and modification time, without its content. A poll asks it
// before reading a log so that an unchanged file is not transferred (a
// whole `messages` file is megabytes; this reply is a few hundred bytes).
//
// p may be a pattern (see FileListPattern): Junos expands it as the CLI's
// "file list /var/log/m* detail" does.
func FileListRPC(p string) string {
	return "<file-list><detail/><path>" + escapeText(LogPath(p)) + "</path></file-list>"
}

// FileInfo is what "file list detail" says about one file.
type FileInfo struct {
	// Exists is false when the device answered "No such file or
	// directory"; the other fields are then zero.
	Exists bool
	// Path is the file-name the device reported.
	Path string
	// Size is the file's size in bytes.
	Size int64
	// ModTime is the file's modification time, to the second
	// (<file-date>, Unix seconds).
	ModTime time.Time
}

// directoryList is <directory-list>, after the real reply
// (file-list.single-file-detail.pyez.xml): one <directory> holding a
// <file-information> per file. A missing file is an <output> "PATH: No
// such file or directory" directly under <directory-list>
// (get-system-core-dumps.none.pyez.xml).
type directoryList struct {
	Outputs     []string `xml:"output"`
	Directories []struct {
		Files []fileInformation `xml:"file-information"`
	} `xml:"directory"`
	inlineErrors
}

type fileInformation struct {
	Name string `xml:"file-name"`
	Size string `xml:"file-size"`
	Date string `xml:"file-date"`
}

func (d directoryList) files() []fileInformation {
	var out []fileInformation
	for _, dir := range d.Directories {
		out = append(out, dir.Files...)
	}
	return out
}

func (d directoryList) missing() bool {
	for _, o := range d.Outputs {
		if NoSuchFile(o) {
			return true
		}
	}
	return false
}

func (d directoryList) hasData() bool { return len(d.files()) > 0 || d.missing() }

// errorText is the nested errors, then any <output> notice that is not
// "no such file", so that a reply without data says what the device said.
func (d directoryList) errorText() string {
	msgs := []string{}
	if t := d.inlineErrors.errorText(); t != "" {
		msgs = append(msgs, t)
	}
	for _, o := range d.Outputs {
		if o = strings.TrimSpace(o); o != "" {
			msgs = append(msgs, o)
		}
	}
	return strings.Join(msgs, "; ")
}

// DecodeFileList decodes a reply to FileListRPC: every file listed, in
// reply order. A path that matched nothing ("No such file or directory")
// is an empty list and no error. A file-information without a numeric
// size or date is an error naming the field; a reply with neither files
// nor "no such file" is a *NoDataError carrying what the device said. In
// a multi-routing-engine reply the first member's answer is taken, as
// DecodeLogContent does.
func DecodeFileList(reply []byte) ([]FileInfo, error) {
	sections, err := decodeReply[directoryList](reply, "directory-list")
	if _, err = memberErrorOf(err); err != nil {
		return nil, err
	}
	s := sections[0]
	var out []FileInfo
	for _, f := range s.data.files() {
		info := FileInfo{Exists: true, Path: strings.TrimSpace(f.Name)}
		size, err := parseCount(strings.TrimSpace(f.Size), 1<<62)
		if err != nil {
			return nil, fmt.Errorf("decode directory-list: %sfile-size of %q: %w", memberPrefix(s.member), info.Path, err)
		}
		secs, err := strconv.ParseInt(strings.TrimSpace(f.Date), 10, 64)
		if err != nil || secs < 0 {
			return nil, fmt.Errorf("decode directory-list: %sfile-date of %q: not Unix seconds: %q", memberPrefix(s.member), info.Path, truncate(strings.TrimSpace(f.Date), 40))
		}
		info.Size, info.ModTime = size, time.Unix(secs, 0).UTC()
		out = append(out, info)
	}
	return out, nil
}

// FileListPattern returns one path that "file list" expands to every
// named log file, so that one RPC describes them all: the file itself
// for one file, else their common directory and the common start of
// their names followed by "*" (messages and mastership: /var/log/m*).
// ok is false when the files are in different directories.
func FileListPattern(files []string) (pattern string, ok bool) {
	if len(files) == 0 {
		return "", false
	}
	dir, prefix := "", ""
	for i, f := range files {
		full := LogPath(f)
		d, base := full[:strings.LastIndexByte(full, '/')+1], full[strings.LastIndexByte(full, '/')+1:]
		if strings.ContainsAny(base, "*?[") {
			return "", false
		}
		if i == 0 {
			dir, prefix = d, base
			continue
		}
		if d != dir {
			return "", false
		}
		prefix = commonPrefix(prefix, base)
	}
	if len(files) == 1 {
		return LogPath(files[0]), true
	}
	return dir + prefix + "*", true
}
