// Package strictyaml is the one strict YAML loader of the project: the
// inventory, the log rule files and the simulator's scenarios are all read
// through it.
//
// Operators write these files by hand, so a mistake must never be taken
// silently: unknown keys, repeated keys, a second document and values of
// the wrong kind are errors. Every error names the file, the line and the
// field, unknown keys get a "did you mean", and all errors of a file are
// reported at once (up to MaxErrors) rather than one per attempt.
//
// yaml.v3's Node API is used instead of struct decoding because struct
// decoding cannot reject unknown keys with their line, cannot report more
// than one error, and gives no line for most type mismatches.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// MaxErrors is how many errors of one file are reported; the rest are
// counted in a last "N more errors not shown".
const MaxErrors = 20

// maxSearchedSize bounds the syntax error line search (about twenty
// parses): past a size no hand-written file reaches, yaml.v3's own line
// number has to do.
const maxSearchedSize = 1 << 20

// Error is one problem in a file the operator wrote. Its message is one
// self-contained line: file, line (and column where known), field, what
// is wrong.
type Error struct {
	File   string
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when not given
	Field  string // e.g. "devices[3] (ams1-core-1): timeout"; empty for a YAML syntax error
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Reader collects the errors found while reading one file. The readers of
// the inventory and the rule files embed it and add their own fields.
type Reader struct {
	// File names the file in errors.
	File string
	// MergeHint follows "YAML merge keys are not supported" (e.g. "use
	// defaults or groups"); empty for none.
	MergeHint string
	// Errs are the errors so far, all *Error.
	Errs []error
}

// Errorf records an error at line (0: unknown) in field.
func (r *Reader) Errorf(line int, field, format string, args ...any) {
	r.Errs = append(r.Errs, &Error{File: r.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Err is nil without errors, the error itself when there is one, else
// the first MaxErrors joined with errors.Join and a count of the rest.
func (r *Reader) Err() error {
	switch len(r.Errs) {
	case 0:
		return nil
	case 1:
		return r.Errs[0]
	}
	errs := r.Errs
	if len(errs) > MaxErrors {
		more := len(errs) - MaxErrors
		errs = append(errs[:MaxErrors:MaxErrors], &Error{File: r.File, Msg: fmt.Sprintf("%d more errors not shown", more)})
	}
	return errors.Join(errs...)
}

// Document decodes data, which must hold exactly one YAML document, and
// returns its root node with aliases resolved. empty reports that data
// holds no document at all, which each caller words its own way. A nil
// root without empty means an error was recorded. what names the kind of
// file in the second-document message ("an inventory").
func (r *Reader) Document(data []byte, what string) (root *yaml.Node, empty bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		r.syntaxError(data, err)
		return nil, false
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); err == nil {
		r.Errorf(extra.Line, "", "a second YAML document (---): %s is one document", what)
		return nil, false
	} else if !errors.Is(err, io.EOF) {
		r.syntaxError(data, err)
		return nil, false
	}
	root = Resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = Resolve(root.Content[0])
	}
	return root, false
}

// safeDecode is dec.Decode made safe: yaml.v3 is not ours, and whatever it
// does with hostile input, a file must give an error, never bring the
// agent down. Only the decoder is guarded, so that a bug of this
// project's own still shows as a panic in tests and fuzzing.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cannot read the YAML: %v", v)
		}
	}()
	return dec.Decode(n)
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// syntaxError records a yaml.v3 error with the line it is really on.
func (r *Reader) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1 // yaml.v3 leaves the line out when its 0-based mark is 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if len(data) <= maxSearchedSize {
		line = syntaxErrorLine(data, err.Error())
	}
	r.Errorf(line, "", "YAML syntax error: %s", OneLine(msg))
}

// syntaxErrorLine finds the line of a YAML syntax error. yaml.v3's own
// "line N" is often wrong for parser errors: it is the 0-based line where
// the enclosing block starts, and it is left out when that is 0. The
// parser stops at the first bad token, so the shortest prefix of whole
// lines that fails with the same message ends on the offending line, and
// prefixes fail from there on: a binary search finds it.
func syntaxErrorLine(data []byte, want string) int {
	var ends []int // ends[i] is the offset just past line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	lo, hi := 0, len(ends)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if err := decodeAll(data[:ends[mid]]); err != nil && err.Error() == want {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo + 1
}

// decodeAll decodes the way Document does, for syntaxErrorLine.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	for range 2 {
		if err := safeDecode(dec, &n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// EachKey calls fn for each key of mapping m, in order, after checking
// that keys are plain strings and not repeated. yaml.v3 keeps duplicates
// in a Node, and silently taking the last would hide a mistake.
func (r *Reader) EachKey(m *yaml.Node, ctx string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := Resolve(m.Content[i]), Resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			r.Errorf(k.Line, ctx, "a key must be a plain word, got %s", Kind(k))
			continue
		}
		f := JoinField(ctx, Show(k.Value))
		if k.Value == "<<" {
			msg := "YAML merge keys are not supported"
			if r.MergeHint != "" {
				msg += "; " + r.MergeHint
			}
			r.Errorf(k.Line, f, "%s", msg)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			r.Errorf(k.Line, f, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

// UnknownKey records key as not one of allowed, with the closest allowed
// key as a suggestion, or the whole list when none is close.
func (r *Reader) UnknownKey(k *yaml.Node, ctx, key string, allowed []string, msg string) {
	f := JoinField(ctx, Show(key))
	if best := Closest(key[strings.LastIndex(key, ".")+1:], allowed); best != "" {
		r.Errorf(k.Line, f, "%s; did you mean %s?", msg, best)
		return
	}
	r.Errorf(k.Line, f, "%s; allowed: %s", msg, strings.Join(allowed, ", "))
}

// Closest is the word of allowed within an edit distance of 2 of word,
// the closest first; "" when none is.
func Closest(word string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := levenshtein.ComputeDistance(word, a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

// Mapping returns v (resolved) if it is a mapping; nil after recording an
// error otherwise.
func (r *Reader) Mapping(v *yaml.Node, field string) *yaml.Node {
	v = Resolve(v)
	if v.Kind != yaml.MappingNode {
		r.Errorf(v.Line, field, "want a mapping, got %s", Kind(v))
		return nil
	}
	return v
}

// Sequence returns v (resolved) if it is a list; nil after recording an
// error otherwise.
func (r *Reader) Sequence(v *yaml.Node, field string) *yaml.Node {
	v = Resolve(v)
	if v.Kind != yaml.SequenceNode {
		r.Errorf(v.Line, field, "want a list, got %s", Kind(v))
		return nil
	}
	return v
}

// Str reads a string. A null value (a key with nothing after it) counts
// as not set. canBeEmpty allows "" (to clear an inherited value).
func (r *Reader) Str(v *yaml.Node, ctx, key string, canBeEmpty bool) *string {
	v = Resolve(v)
	f := JoinField(ctx, key)
	if IsNull(v) {
		return nil
	}
	if v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.ShortTag(), "!!") {
		r.Errorf(v.Line, f, "want a string, got %s", Kind(v))
		return nil
	}
	s := v.Value
	if s == "" && !canBeEmpty {
		r.Errorf(v.Line, f, "empty")
		return nil
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		r.Errorf(v.Line, f, "contains control characters")
		return nil
	}
	return &s
}

// StrList reads a list of non-empty strings; nil when not set.
func (r *Reader) StrList(v *yaml.Node, ctx, key string) *[]string {
	f := JoinField(ctx, key)
	if IsNull(Resolve(v)) {
		return nil
	}
	seq := r.Sequence(v, f)
	if seq == nil {
		return nil
	}
	out := []string{}
	for i, it := range seq.Content {
		if s := r.Str(it, ctx, fmt.Sprintf("%s[%d]", key, i), false); s != nil {
			out = append(out, *s)
		}
	}
	return &out
}

// Integer reads an integer.
func (r *Reader) Integer(v *yaml.Node, field string) (int, bool) {
	v = Resolve(v)
	var n int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		r.Errorf(v.Line, field, "want an integer, got %s", Kind(v))
		return 0, false
	}
	return n, true
}

// Boolean reads true or false.
func (r *Reader) Boolean(v *yaml.Node, field string) *bool {
	v = Resolve(v)
	var b bool
	if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
		r.Errorf(v.Line, field, "want true or false, got %s", Kind(v))
		return nil
	}
	return &b
}

// CheckKeys walks n against the Go type t the way yaml.v3 would decode it
// and records an error for every mapping key that names no field of the
// struct it would fill (by its yaml tag), so that a later plain Decode
// into t is strict. Merge keys (<<) are followed. It returns the line of
// every path it visited ("devices[2].faults"), for errors found later
// when the decoded value is validated.
func (r *Reader) CheckKeys(n *yaml.Node, t reflect.Type) map[string]int {
	lines := map[string]int{}
	r.checkKeys(n, t, "", lines, 0)
	return lines
}

// maxDepth bounds CheckKeys' walk: a hostile file must not exhaust the
// stack through nested merges.
const maxDepth = 64

func (r *Reader) checkKeys(n *yaml.Node, t reflect.Type, path string, lines map[string]int, depth int) {
	if depth > maxDepth {
		return
	}
	n = Resolve(n)
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			r.checkKeys(c, t, path, lines, depth+1)
		}
		return
	}
	if _, seen := lines[path]; path != "" && !seen {
		lines[path] = n.Line // the node's own line, not that of a merged anchor
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch with its line
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				r.checkKeys(v, t, path, lines, depth+1)
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				where := path
				if where == "" {
					where = "the top level"
				}
				known := slices.Sorted(mapKeys(fields))
				msg := fmt.Sprintf("unknown key %q in %s", k.Value, where)
				if best := Closest(k.Value, known); best != "" {
					msg += "; did you mean " + best + "?"
				}
				r.Errs = append(r.Errs, &Error{File: r.File, Line: k.Line, Column: k.Column,
					Msg: msg + " (known: " + strings.Join(known, ", ") + ")"})
				continue
			}
			r.checkKeys(v, ft, join(k.Value), lines, depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			r.checkKeys(n.Content[i+1], t.Elem(), join(n.Content[i].Value), lines, depth+1)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			r.checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines, depth+1)
		}
	}
}

// yamlFields maps the YAML keys of a struct to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func mapKeys(m map[string]reflect.Type) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Resolve follows YAML aliases (*name) to the anchored node. Aliases never
// point at aliases, but the bound keeps a malformed tree from looping.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports a key given with nothing after it.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Kind describes a YAML node for "want X, got Y" messages without echoing
// its value, which may be long or a secret.
func Kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!str":
			return "a string"
		}
		return "a value tagged " + Show(n.Tag)
	}
	return "an empty value"
}

// JoinField joins a context and a key the way errors name a field
// ("defaults: auth").
func JoinField(ctx, key string) string {
	if ctx == "" {
		return key
	}
	if key == "" {
		return ctx
	}
	return ctx + ": " + key
}

// Show returns s as is when it is a plain word, quoted otherwise, so that
// an odd name cannot break the one-line error format; long values are cut.
func Show(s string) string {
	if len(s) > 64 {
		s = cut(s, 64)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == '"' }) {
		return s
	}
	return strconv.Quote(s)
}

// Quote quotes s, cut to 64 bytes.
func Quote(s string) string {
	if len(s) > 64 {
		s = cut(s, 64)
	}
	return strconv.Quote(s)
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	for n > 0 && n < len(s) && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// OneLine folds white space, so a message stays on one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
