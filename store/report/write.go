// Package report exports what the store knows: one kind of record (devices,
// findings, transitions, alarms, events, polls, runs) as CSV, JSON or JSON
// Lines, streamed so memory stays flat however many rows there are, or the
// whole fleet as one self-contained HTML file with a timeline per device.
//
// Every kind has one fixed header (Header) shared by CSV and JSON. CSV is
// RFC 4180 through encoding/csv, times are UTC RFC 3339, an unknown value
// is an empty cell, and a cell a spreadsheet would run as a formula is
// prefixed with ' (log lines and error messages come from devices and can
// be hostile). JSON writes the same fields with typed values: numbers as
// numbers, lists as arrays, unknown as null.
package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Format is how a report is written.
type Format string

const (
	FormatCSV   Format = "csv"
	FormatJSON  Format = "json"  // one array of objects
	FormatJSONL Format = "jsonl" // one object per line
	FormatHTML  Format = "html"  // the fleet with timelines (see RenderHTML)
)

// Formats lists the formats in the order help texts show them.
func Formats() []Format { return []Format{FormatCSV, FormatJSON, FormatJSONL, FormatHTML} }

// Check tells whether kind and format can be written for q, with an
// error a user can act on.
func Check(k Kind, f Format, q Query) error {
	if !slices.Contains(Formats(), f) {
		return fmt.Errorf("unknown format %q: use %s", f, joinWords(Formats()))
	}
	if f == FormatHTML {
		return nil // the HTML report shows the whole fleet, whatever the kind
	}
	t, ok := tables[k]
	if !ok {
		return fmt.Errorf("unknown kind %q: use %s", k, joinWords(Kinds()))
	}
	if !t.timeBound && (!q.Since.IsZero() || !q.Until.IsZero()) {
		return fmt.Errorf("kind %s is the latest state of each device: --since and --until do not apply", k)
	}
	if k == KindRuns && len(q.Devices) > 0 {
		return fmt.Errorf("kind runs is about whole audits: a device selection does not apply")
	}
	if q.Cause != "" && k != KindFindings {
		return fmt.Errorf("--cause selects findings: it does not apply to kind %s", k)
	}
	return nil
}

func joinWords[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// WriteFile writes a report to path atomically (a temporary file beside
// it, then a rename), so a failed export never leaves half a report in
// place. write produces the report.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// WriteTable writes the rows of kind selected by q to w in format (csv,
// json or jsonl), streaming them from src.
func WriteTable(ctx context.Context, src Source, w io.Writer, k Kind, f Format, q Query) error {
	if f == FormatHTML {
		return fmt.Errorf("format html is not a table: use WriteHTML")
	}
	if err := Check(k, f, q); err != nil {
		return err
	}
	t := tables[k]
	site, err := sites(ctx, src, k)
	if err != nil {
		return fmt.Errorf("%s report: %w", k, err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var rw rowWriter
	switch f {
	case FormatCSV:
		rw = newCSVWriter(bw, t.header)
	default:
		rw = newJSONWriter(bw, t.header, f == FormatJSONL)
	}
	if err := rw.begin(); err != nil {
		return err
	}
	if err := t.rows(ctx, src, q, site, rw.row); err != nil {
		return fmt.Errorf("%s report: %w", k, err)
	}
	if err := rw.end(); err != nil {
		return err
	}
	return bw.Flush()
}

// sites returns each device's site as its latest poll gave it; the
// history tables do not repeat it on every row.
func sites(ctx context.Context, src Source, k Kind) (func(string) string, error) {
	if k == KindDevices || k == KindPolls || k == KindRuns {
		return func(string) string { return "" }, nil // not used: polls carry their site
	}
	polls, err := src.LatestPolls(ctx)
	if err != nil {
		return nil, fmt.Errorf("sites: %w", err)
	}
	m := make(map[string]string, len(polls))
	for _, p := range polls {
		m[p.Device] = p.Site
	}
	return func(d string) string { return m[d] }, nil
}

type rowWriter interface {
	begin() error
	row([]cell) error
	end() error
}

type csvWriter struct {
	w      *csv.Writer
	header []string
	rec    []string
}

func newCSVWriter(w io.Writer, header []string) *csvWriter {
	return &csvWriter{w: csv.NewWriter(w), header: header, rec: make([]string, len(header))}
}

func (c *csvWriter) begin() error { return c.w.Write(c.header) }

func (c *csvWriter) row(cells []cell) error {
	for i := range c.rec {
		c.rec[i] = ""
		if i < len(cells) {
			c.rec[i] = SafeCell(cells[i].text)
		}
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) end() error {
	c.w.Flush()
	return c.w.Error()
}

// SafeCell defuses a cell a spreadsheet would evaluate as a formula (or
// whose leading tab or carriage return hides one) by prefixing ', the
// OWASP advice for CSV injection.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type jsonWriter struct {
	w     *bufio.Writer
	keys  [][]byte // `"name":` per column, quoted once
	lines bool
	n     int
}

func newJSONWriter(w *bufio.Writer, header []string, lines bool) *jsonWriter {
	keys := make([][]byte, len(header))
	for i, h := range header {
		b, _ := json.Marshal(h) // a string always marshals
		keys[i] = append(b, ':')
	}
	return &jsonWriter{w: w, keys: keys, lines: lines}
}

func (j *jsonWriter) begin() error {
	if j.lines {
		return nil
	}
	_, err := j.w.WriteString("[")
	return err
}

func (j *jsonWriter) row(cells []cell) error {
	switch {
	case j.lines:
	case j.n == 0:
		j.w.WriteString("\n")
	default:
		j.w.WriteString(",\n")
	}
	j.n++
	j.w.WriteByte('{')
	for i, k := range j.keys {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.Write(k)
		var v any
		if i < len(cells) {
			v = cells[i].value
		}
		if err := writeJSONValue(j.w, v); err != nil {
			return fmt.Errorf("column %s: %w", j.keys[i], err)
		}
	}
	j.w.WriteByte('}')
	if j.lines {
		j.w.WriteByte('\n')
	}
	// bufio.Writer keeps its first error and returns it from every call.
	_, err := j.w.Write(nil)
	return err
}

func (j *jsonWriter) end() error {
	if j.lines {
		return nil
	}
	if j.n > 0 {
		j.w.WriteString("\n")
	}
	_, err := j.w.WriteString("]\n")
	return err
}

// writeJSONValue writes the values cells hold without reflection for the
// common ones: a million-row export spends its time here.
func writeJSONValue(w *bufio.Writer, v any) error {
	switch v := v.(type) {
	case nil:
		w.WriteString("null")
	case string:
		writeJSONString(w, v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w.Write(b)
	}
	return nil
}

// writeJSONString quotes s as encoding/json does (invalid UTF-8 becomes
// U+FFFD, <, > and & are escaped so the output is safe inside HTML), with
// a fast path for the plain ASCII most fields are.
func writeJSONString(w *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			w.Write(b)
			return
		}
	}
	w.WriteByte('"')
	w.WriteString(s)
	w.WriteByte('"')
}
