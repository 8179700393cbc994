package devices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const pw = "hunter2-unique-9f3a"
	s := Secret(pw)
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("dial", "password", s)
	js, err := json.Marshal(struct{ P Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s),
		//lint:ignore S1025 the fmt verb path itself is under test
		"%s":   fmt.Sprintf("%s", s),
		"%+v":  fmt.Sprintf("%+v", struct{ P Secret }{s}),
		"%#v":  fmt.Sprintf("%#v", s),
		"%q":   fmt.Sprintf("%q", s),
		"json": string(js),
		"slog": logBuf.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, "<secret>") && !strings.Contains(out, `\u003csecret\u003e`) {
			t.Errorf("%s = %q, want <secret>", name, out)
		}
	}
	if s.Reveal() != pw {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}

func TestMaskDSN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://u:SECRETPW@db.example.net:5432/mastership?sslmode=require", "postgres://u:xxxxx@db.example.net:5432/mastership?sslmode=require"},
		{"postgresql://u:p%40ss@h/db", "postgresql://u:xxxxx@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?user=u&password=SECRETPW&sslmode=disable", "postgres://h/db?user=u&password=xxxxx&sslmode=disable"},
		{"host=h dbname=m user=u password=SECRETPW sslmode=disable", "host=h dbname=m user=u password=xxxxx sslmode=disable"},
		{"host=h password='SECRET PW' dbname=m", "host=h password=xxxxx dbname=m"},
		{"password = SECRETPW", "password = xxxxx"},
		{"/var/lib/mastership/mastership.db", "/var/lib/mastership/mastership.db"},
		{"sqlite:/tmp/m.db", "sqlite:/tmp/m.db"},
		{"https://user:tok@netbox.example.net/api", "https://user:xxxxx@netbox.example.net/api"},
	} {
		if got := MaskDSN(tt.in); got != tt.want {
			t.Errorf("MaskDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDSNPasswordsAndRedactError(t *testing.T) {
	for dsn, want := range map[string][]string{
		"postgres://u:p%40ss@h/db":      {"p%40ss", "p@ss"},
		"postgres://h/db?password=q2":   {"q2"},
		`host=h password='a\'b' user=u`: {`'a\'b'`, "a'b"},
	} {
		got := DSNPasswords(dsn)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("DSNPasswords(%q) = %q: %q missing", dsn, got, w)
			}
		}
	}
	got := DSNPasswords("postgres://u:p%40ss@h/db")
	inner := fmt.Errorf("connect as u with p@ss: %w", context.Canceled)
	err := RedactError(inner, got...)
	if strings.Contains(err.Error(), "p@ss") || !errors.Is(err, context.Canceled) {
		t.Errorf("RedactError = %q: want the password masked and errors.Is kept", err)
	}
	if plain := errors.New("nothing secret"); RedactError(plain, got...) != plain {
		t.Error("RedactError wrapped an error that held no secret")
	}
}
