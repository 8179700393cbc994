package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

var updateTables = flag.Bool("update-tables", false, "rewrite the golden CSV/JSON/JSONL files in testdata/tables")

// TestTablesGolden writes every kind in every table format from the fixed
// scenario and compares with testdata/tables/KIND.FORMAT.
func TestTablesGolden(t *testing.T) {
	st := fixtureStore(t)
	ctx := context.Background()
	for _, k := range Kinds() {
		for _, f := range []Format{FormatCSV, FormatJSON, FormatJSONL} {
			t.Run(string(k)+"."+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				if err := WriteTable(ctx, st, &buf, k, f, Query{}); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "tables", string(k)+"."+string(f)), buf.Bytes())
				checkShape(t, k, f, buf.Bytes())
			})
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateTables {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./store/report -run Golden -update-tables to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// checkShape checks what every report of kind in format must be, whatever
// the golden file says: the header, parseable rows of the header's width,
// no "null"/"<nil>" text in CSV, and JSON objects with exactly the
// header's keys.
func checkShape(t *testing.T, k Kind, f Format, out []byte) {
	t.Helper()
	header, _ := Header(k)
	var objects []map[string]any
	switch f {
	case FormatCSV:
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse: %v", err)
		}
		if strings.Join(recs[0], ",") != strings.Join(header, ",") {
			t.Errorf("CSV header %v, want %v", recs[0], header)
		}
		if len(recs) < 2 {
			t.Errorf("CSV of %s has no rows: the fixture has some of every kind", k)
		}
		for _, r := range recs[1:] {
			for i, c := range r {
				if c == "null" || strings.Contains(c, "<nil>") {
					t.Errorf("column %s holds %q: unknown values must be empty", header[i], c)
				}
			}
		}
		return
	case FormatJSON:
		if err := json.Unmarshal(out, &objects); err != nil {
			t.Fatalf("JSON does not parse: %v", err)
		}
	case FormatJSONL:
		for i, line := range bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n")) {
			var o map[string]any
			if err := json.Unmarshal(line, &o); err != nil {
				t.Fatalf("JSON line %d does not parse: %v", i+1, err)
			}
			objects = append(objects, o)
		}
	}
	for _, o := range objects {
		if len(o) != len(header) {
			t.Errorf("object has %d keys, want the %d of the header", len(o), len(header))
		}
		for _, h := range header {
			if _, ok := o[h]; !ok {
				t.Errorf("object lacks key %q", h)
			}
		}
	}
}

// TestCSVDefusesFormulas: a hostile log line and error message come out
// prefixed with ', so a spreadsheet shows them as text.
func TestCSVDefusesFormulas(t *testing.T) {
	st := fixtureStore(t)
	for _, k := range []Kind{KindEvents, KindPolls, KindDevices} {
		var buf bytes.Buffer
		if err := WriteTable(context.Background(), st, &buf, k, FormatCSV, Query{}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range recs {
			for _, c := range r {
				if strings.Contains(c, "HYPERLINK") {
					found = true
					if c[0] != '\'' {
						t.Errorf("%s: cell %q is not prefixed with '", k, c)
					}
				}
			}
		}
		if !found && k != KindEvents {
			t.Errorf("%s: the hostile error message is missing", k)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"}, {"re1", "re1"}, {"", ""}, {"a=b", "a=b"},
	} {
		if got := SafeCell(c.in); got != c.want {
			t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestQueryFilters(t *testing.T) {
	st := fixtureStore(t)
	ctx := context.Background()
	rows := func(k Kind, q Query) int {
		t.Helper()
		var buf bytes.Buffer
		if err := WriteTable(ctx, st, &buf, k, FormatJSONL, q); err != nil {
			t.Fatalf("%s %+v: %v", k, q, err)
		}
		return bytes.Count(buf.Bytes(), []byte("\n"))
	}
	for _, c := range []struct {
		k    Kind
		q    Query
		want int
	}{
		{KindDevices, Query{}, 4},
		{KindDevices, Query{Devices: []string{"mx1", "ex1"}}, 2},
		{KindPolls, Query{}, 7},
		{KindPolls, Query{Devices: []string{"mx1"}}, 2},
		{KindPolls, Query{Since: t0.Add(time.Minute)}, 3},
		{KindTransitions, Query{Devices: []string{"mx2"}}, 2},
		{KindTransitions, Query{Until: t0.Add(20 * time.Minute)}, 3},
		{KindAlarms, Query{Since: t0.Add(31 * time.Minute)}, 1}, // the PEM alarm cleared at 09:30
		{KindEvents, Query{Devices: []string{"mx3"}}, 1},
		{KindFindings, Query{Cause: devices.CauseHardware}, 1},
		{KindFindings, Query{Cause: devices.CauseNetwork}, 0},
		{KindRuns, Query{Since: t0.Add(time.Minute)}, 1},
	} {
		if got := rows(c.k, c.q); got != c.want {
			t.Errorf("%s %+v: %d rows, want %d", c.k, c.q, got, c.want)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	for _, c := range []struct {
		k    Kind
		f    Format
		q    Query
		want string
	}{
		{"nodes", FormatCSV, Query{}, `unknown kind "nodes"`},
		{KindDevices, "xlsx", Query{}, `unknown format "xlsx"`},
		{KindDevices, FormatCSV, Query{Since: t0}, "--since and --until do not apply"},
		{KindRuns, FormatCSV, Query{Devices: []string{"mx1"}}, "device selection does not apply"},
		{KindEvents, FormatCSV, Query{Cause: devices.CauseHardware}, "--cause selects findings"},
	} {
		err := Check(c.k, c.f, c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s, %s, %+v) = %v, want an error containing %q", c.k, c.f, c.q, err, c.want)
		}
	}
}

type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errDiskFull
	}
	return len(p), nil
}

// TestWriteErrorStops: a writer that fails ends the export with its error.
func TestWriteErrorStops(t *testing.T) {
	st := fixtureStore(t)
	err := WriteTable(context.Background(), st, &failingWriter{n: 10}, KindPolls, FormatJSON, Query{})
	if !errors.Is(err, errDiskFull) {
		t.Errorf("WriteTable to a full disk = %v, want %v", err, errDiskFull)
	}
}
