package junos

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFileListRPC(t *testing.T) {
	for in, want := range map[string]string{
		"messages":            "<file-list><detail/><path>/var/log/messages</path></file-list>",
		"/var/log/mastership": "<file-list><detail/><path>/var/log/mastership</path></file-list>",
		"a&b":                 "<file-list><detail/><path>/var/log/a&amp;b</path></file-list>",
	} {
		if got := FileListRPC(in); got != want {
			t.Errorf("FileListRPC(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDecodeFileList(t *testing.T) {
	file := func(size, date string) string {
		return `<rpc-reply><directory-list root-path="/var/log/messages"><directory name="">` +
			`<file-information><file-name>/var/log/messages</file-name><file-size>` + size +
			`</file-size><file-date junos:format="Mar 13 06:54">` + date + `</file-date></file-information>` +
			`<total-files>1</total-files></directory></directory-list></rpc-reply>`
	}
	tests := []struct {
		name    string
		reply   string
		want    []FileInfo
		wantErr string // substring; "" means no error
		noData  bool
	}{
		{name: "real sample", reply: string(readSample(t, "file-list.single-file-detail.pyez.xml")),
			want: []FileInfo{{Exists: true, Path: "/var/abc.sh", Size: 2, ModTime: time.Unix(1394693680, 0).UTC()}}},
		{name: "log file", reply: file("5242880", "1700000000"),
			want: []FileInfo{{Exists: true, Path: "/var/log/messages", Size: 5242880, ModTime: time.Unix(1700000000, 0).UTC()}}},
		{name: "padded values", reply: file(" 12 ", "\n1700000000\n"),
			want: []FileInfo{{Exists: true, Path: "/var/log/messages", Size: 12, ModTime: time.Unix(1700000000, 0).UTC()}}},
		{name: "missing file",
			reply: `<rpc-reply><directory-list root-path="/var/log/mastership"><output>/var/log/mastership: No such file or directory</output></directory-list></rpc-reply>`,
			want:  nil},
		{name: "missing, core-dump sample shape", reply: string(readSample(t, "get-system-core-dumps.none.pyez.xml")), want: nil},
		{name: "bad size", reply: file("big", "1700000000"), wantErr: `file-size of "/var/log/messages"`},
		{name: "negative size", reply: file("-1", "1700000000"), wantErr: "file-size"},
		{name: "bad date", reply: file("1", "Mar 13"), wantErr: `file-date of "/var/log/messages"`},
		{name: "other notice", reply: `<rpc-reply><directory-list><output>permission denied</output></directory-list></rpc-reply>`,
			wantErr: "permission denied", noData: true},
		{name: "no directory-list", reply: `<rpc-reply><ok/></rpc-reply>`, wantErr: "directory-list", noData: true},
		{name: "malformed", reply: `<rpc-reply><directory-list>`, wantErr: "directory-list"},
		{name: "multi-RE takes the first member",
			reply: `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>re0</re-name>` +
				strings.TrimSuffix(strings.TrimPrefix(file("7", "1"), "<rpc-reply>"), "</rpc-reply>") +
				`</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`,
			want: []FileInfo{{Exists: true, Path: "/var/log/messages", Size: 7, ModTime: time.Unix(1, 0).UTC()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFileList([]byte(tc.reply))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if _, nd := errors.AsType[*NoDataError](err); nd != tc.noData {
					t.Errorf("NoDataError = %v, want %v (%v)", nd, tc.noData, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzDecodeFileList(f *testing.F) {
	addSampleSeeds(f, "file-list.", "get-system-core-dumps.")
	for _, s := range []string{
		"", "<",
		`<directory-list><output>x: No such file or directory</output></directory-list>`,
		`<directory-list><directory><file-information><file-size>1</file-size><file-date>2</file-date></file-information></directory></directory-list>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		infos, err := DecodeFileList(reply)
		if err != nil {
			if infos != nil {
				t.Fatalf("infos %+v with error %v", infos, err)
			}
			return
		}
		for _, info := range infos {
			if !info.Exists || info.Size < 0 || info.ModTime.Unix() < 0 {
				t.Fatalf("bad file: %+v", info)
			}
		}
	})
}

func TestFileListPattern(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
		ok    bool
	}{
		{[]string{"messages", "mastership"}, "/var/log/m*", true},
		{[]string{"messages"}, "/var/log/messages", true},
		{[]string{"mastership-events", "/var/log/mastership"}, "/var/log/mastership*", true},
		{[]string{"messages", "/var/tmp/x"}, "", false},
		{[]string{"messages", "chassisd"}, "/var/log/*", true},
		{[]string{"m*"}, "", false},
		{nil, "", false},
	} {
		got, ok := FileListPattern(tc.files)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FileListPattern(%q) = %q, %v; want %q, %v", tc.files, got, ok, tc.want, tc.ok)
		}
	}
}
