package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

func query(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var n int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&n)
}

// A database answers, stops answering when paused, and answers again with
// its data after Resume.
func TestPauseResume(t *testing.T) {
	url := pg.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (n INT); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := query(ctx, url); err == nil {
		t.Fatal("a paused server answered")
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after resume: %d, %v", n, err)
	}
}

// Two databases are separate.
func TestNewDatabaseIsFresh(t *testing.T) {
	a, b := pg.NewDatabase(t), pg.NewDatabase(t)
	if a == b {
		t.Fatalf("the same database twice: %s", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, url := range []string{a, b} {
		if err := query(ctx, url); err != nil {
			t.Fatal(err)
		}
	}
}

// CreateDatabase makes a database that answers; a bad name is refused.
func TestCreateDatabase(t *testing.T) {
	if pg == nil {
		pg.NewDatabase(t) // fails under CI=true, else skips
	}
	url, err := pg.CreateDatabase("bench_created")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := query(ctx, url); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.CreateDatabase("x; DROP DATABASE postgres"); err == nil {
		t.Error("a name with SQL in it was accepted")
	}
}
