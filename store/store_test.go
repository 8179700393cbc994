package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		dsn    string
		engine engine
		path   string
		err    string
	}{
		{dsn: "/var/lib/mastership/m.db", path: "/var/lib/mastership/m.db"},
		{dsn: "m.db", path: "m.db"},
		{dsn: "sqlite:/var/lib/m.db", path: "/var/lib/m.db"},
		{dsn: "sqlite:rel/m.db", path: "rel/m.db"},
		{dsn: "SQLite:/x.db", path: "/x.db"},
		{dsn: "file:/var/lib/m.db", path: "/var/lib/m.db"},
		{dsn: "file:///var/lib/m%20x.db", path: "/var/lib/m x.db"},
		{dsn: "sqlite://localhost/var/lib/m.db", path: "/var/lib/m.db"},
		{dsn: "/tmp/odd?name#.db", path: "/tmp/odd?name#.db"}, // a plain path is literal
		{dsn: "postgres://u:p@h/db", engine: enginePostgres},
		{dsn: "postgresql://h/db", engine: enginePostgres},
		{dsn: "dbname=m sslmode=disable", engine: enginePostgres},
		{dsn: "", err: "empty"},
		{dsn: "sqlite:", err: "empty SQLite file path"},
		{dsn: ":memory:", err: "in-memory"},
		{dsn: "file::memory:?cache=shared", err: "query parameters"},
		{dsn: "sqlite::memory:", err: "in-memory"},
		{dsn: "sqlite:/x.db?mode=ro", err: "query parameters"},
		{dsn: "file:///x.db?_pragma=foo", err: "query parameters"},
		{dsn: "file://db.example.net/x.db", err: "only local files"},
		{dsn: "mysql://h/db", err: `unknown store scheme "mysql"`},
		{dsn: "/var/lib/mastership/", err: "directory"},
	} {
		engine, path, err := parseDSN(c.dsn)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseDSN(%q) = %v, want an error containing %q", c.dsn, err, c.err)
			}
			continue
		}
		if err != nil || engine != c.engine || path != c.path {
			t.Errorf("parseDSN(%q) = %v, %q, %v; want %v, %q", c.dsn, engine, path, err, c.engine, c.path)
		}
	}
}

func TestOpenPathWithURISpecialCharacters(t *testing.T) {
	// '?', '#' and '%' in a plain path name the file, not URI parts.
	dir := filepath.Join(t.TempDir(), "a%20b")
	path := filepath.Join(dir, "fleet?x#y.db")
	st := mustOpen(t, path)
	p := fullPoll("mx1", 0, base)
	mustSave(t, st, &p)
	mustClose(t, st)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
	st = mustOpen(t, path)
	defer mustClose(t, st)
	diffPoll(t, p, *mustLatest(t, st, "mx1"))
}

func TestOpenDirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(context.Background(), dir)
	if err == nil {
		_ = st.Close()
		t.Fatal("Open(directory) succeeded")
	}
	if !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open(directory) = %q, want it to say so", err)
	}
}
