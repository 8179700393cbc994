// Package pgtest gives tests a PostgreSQL database of their own.
//
// The server is the one MASTERSHIP_TEST_POSTGRES names (a postgres://
// URL or a libpq keyword/value string; .ci/postgres/setup.sh starts one
// and writes it). Without it the tests that need it skip, saying so —
// unless MASTERSHIP_REQUIRE_POSTGRES=1, as CI sets, which makes them fail
// instead, so a broken setup cannot pass as a green run.
//
// Each test gets a fresh schema (CREATE SCHEMA, then a DSN whose
// search_path selects it), dropped with everything in it when the test
// ends: milliseconds, where CREATE DATABASE takes a checkpoint and
// serialises on template1, and just as isolated for a store that only
// ever names its tables unqualified.
//
// No DSN is ever written to a test's log: it may hold a password.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
)

const (
	// EnvDSN names the server the tests use.
	EnvDSN = "MASTERSHIP_TEST_POSTGRES"
	// EnvRequire set to 1 turns "no server" from a skip into a failure.
	EnvRequire = "MASTERSHIP_REQUIRE_POSTGRES"
)

// DSN returns the test server's DSN. When none is configured, it skips
// tb, or fails it when MASTERSHIP_REQUIRE_POSTGRES=1.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := strings.TrimSpace(os.Getenv(EnvDSN))
	if dsn != "" {
		return dsn
	}
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("%s is not set and %s=1: start a server with .ci/postgres/setup.sh and source the env file it writes",
			EnvDSN, EnvRequire)
	}
	tb.Skipf("PostgreSQL tests skipped: %s is not set (run .ci/postgres/setup.sh and source the env file it writes)", EnvDSN)
	return ""
}

// Schema creates an empty schema for tb in the test server and returns a
// DSN that uses it (its search_path names only that schema). The schema
// and everything in it are dropped when tb ends; anything using the DSN
// must be closed by then (a cleanup registered after Schema runs before
// its own).
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := DSN(tb)
	name := schemaName(tb.Name())
	exec(tb, dsn, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() {
		exec(tb, dsn, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	})
	out, err := WithSearchPath(dsn, name)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvDSN, err)
	}
	return out
}

// WithSearchPath returns dsn with its search_path set to schema: a query
// parameter of a URL, a keyword of a keyword/value string.
func WithSearchPath(dsn, schema string) (string, error) {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// url's error quotes the URL, password and all.
			return "", fmt.Errorf("not a valid URL")
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(schema) + "'", nil
}

// exec runs one statement on a connection of its own.
func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: connect to the %s server: %v", EnvDSN, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// schemaName makes a unique, valid schema name that says which test it
// belongs to: "t_" and the test's name in lower-case letters, digits and
// underscores, cut to fit, then a random suffix.
func schemaName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	return b.String() + "_" + hex.EncodeToString(rnd[:])
}
