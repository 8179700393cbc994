package strictyaml

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDocument(t *testing.T) {
	tests := []struct {
		name, in  string
		wantEmpty bool
		wantErr   string // "" for none
	}{
		{"empty", "", true, ""},
		{"comment only", "# nothing\n", true, ""},
		{"one mapping", "a: 1\n", false, ""},
		{"second document", "a: 1\n---\nb: 2\n", false, "f.yml:2: a second YAML document (---): a test is one document"},
		// yaml.v3 says "line 1" for this; the search finds line 3.
		{"syntax error line", "a: 1\nb: 2\nc: [\n", false, "f.yml:3: YAML syntax error:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reader{File: "f.yml"}
			root, empty := r.Document([]byte(tt.in), "a test")
			if empty != tt.wantEmpty {
				t.Errorf("empty = %v, want %v", empty, tt.wantEmpty)
			}
			err := r.Err()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want prefix %q", err, tt.wantErr)
			case tt.wantErr == "" && !tt.wantEmpty && (root == nil || root.Kind != yaml.MappingNode):
				t.Fatalf("root = %+v, want the mapping", root)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	r := Reader{File: "f.yml", MergeHint: "use groups"}
	root, _ := r.Document([]byte("name: a\nhots: b\nname: c\n<<: {x: 1}\n[1]: 2\n"), "a test")
	var seen []string
	r.EachKey(root, "dev", func(key string, k, v *yaml.Node) {
		seen = append(seen, key)
		if key != "name" {
			r.UnknownKey(k, "dev", key, []string{"name", "host"}, "unknown key")
		}
	})
	if !reflect.DeepEqual(seen, []string{"name", "hots"}) {
		t.Errorf("keys seen %v, want the first name and hots", seen)
	}
	want := []string{
		"f.yml:2: dev: hots: unknown key; did you mean host?",
		"f.yml:3: dev: name: duplicate key (first at line 1)",
		"f.yml:4: dev: <<: YAML merge keys are not supported; use groups",
		"f.yml:5: dev: a key must be a plain word, got a list",
	}
	var got []string
	for _, e := range r.Errs {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValues(t *testing.T) {
	r := Reader{File: "f.yml"}
	root, _ := r.Document([]byte("s: x\nempty: ''\nlist: [a, b]\nn: 7\nb: true\nbad: [1]\nnull:\n"), "a test")
	v := map[string]*yaml.Node{}
	r.EachKey(root, "", func(key string, _, n *yaml.Node) { v[key] = n })
	if s := r.Str(v["s"], "", "s", false); s == nil || *s != "x" {
		t.Errorf("Str(s) = %v", s)
	}
	if s := r.Str(v["null"], "", "null", false); s != nil {
		t.Errorf("Str(null) = %q, want not set", *s)
	}
	if l := r.StrList(v["list"], "", "list"); l == nil || !reflect.DeepEqual(*l, []string{"a", "b"}) {
		t.Errorf("StrList = %v", l)
	}
	if n, ok := r.Integer(v["n"], "n"); !ok || n != 7 {
		t.Errorf("Integer = %d, %v", n, ok)
	}
	if b := r.Boolean(v["b"], "b"); b == nil || !*b {
		t.Errorf("Boolean = %v", b)
	}
	if len(r.Errs) != 0 {
		t.Fatalf("errors on good values: %v", r.Err())
	}
	r.Str(v["empty"], "", "empty", false)
	r.Str(v["bad"], "", "bad", false)
	r.Integer(v["s"], "s")
	want := "f.yml:2: empty: empty\nf.yml:6: bad: want a string, got a list\nf.yml:1: s: want an integer, got a string"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("errors %v, want\n%s", err, want)
	}
}

func TestErrCapsAtMaxErrors(t *testing.T) {
	r := Reader{File: "f.yml"}
	for i := range MaxErrors + 5 {
		r.Errorf(i+1, "", "bad")
	}
	err := r.Err()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != MaxErrors+1 {
		t.Fatalf("Err() = %v, want %d errors and a count", err, MaxErrors)
	}
	if !strings.HasSuffix(err.Error(), "f.yml: 5 more errors not shown") {
		t.Errorf("last line of %q does not count the rest", err)
	}
}

type scenario struct {
	Devices []struct {
		Name   string `yaml:"name"`
		Status string `yaml:"status"`
	} `yaml:"devices"`
}

func TestCheckKeys(t *testing.T) {
	r := Reader{File: "s.yml"}
	root, _ := r.Document([]byte("base: &b {name: x}\ndevices:\n  - <<: *b\n    statuss: ok\n"), "a scenario")
	lines := r.CheckKeys(root, reflect.TypeFor[scenario]())
	want := []string{
		`s.yml:1:1: unknown key "base" in the top level (known: devices)`,
		`s.yml:4:5: unknown key "statuss" in devices[0]; did you mean status? (known: name, status)`,
	}
	var got []string
	for _, e := range r.Errs {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lines["devices[0]"] != 3 {
		t.Errorf("line of devices[0] = %d, want 3", lines["devices[0]"])
	}
}

func TestShow(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                 "plain",
		"two words":             `"two words"`,
		"":                      `""`,
		strings.Repeat("é", 40): strings.Repeat("é", 32) + "…",
	} {
		if got := Show(in); got != want {
			t.Errorf("Show(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzDocument: no input makes the reader panic, and every error it
// records names the file.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a: [\n", "---\n---\n", "a: &x [*x]\n", "<<: {}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Reader{File: "f.yml"}
		root, _ := r.Document(data, "a test")
		if root != nil && root.Kind == yaml.MappingNode {
			r.EachKey(root, "", func(string, *yaml.Node, *yaml.Node) {})
			r.CheckKeys(root, reflect.TypeFor[scenario]())
		}
		for _, e := range r.Errs {
			if !strings.HasPrefix(e.Error(), "f.yml") {
				t.Fatalf("error %q does not name the file", e)
			}
		}
	})
}
