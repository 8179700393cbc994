package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestClusterStopStart(t *testing.T) {
	s := Cluster(t)
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.DSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("new cluster: %v", err)
	}
	s.Stop(t)
	if err := ping(); err == nil {
		t.Fatal("the stopped server still answers")
	}
	s.Start(t)
	if err := ping(); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}
