package pgtest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// fakeTB records how DSN ended the test instead of ending the real one.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runDSN calls DSN with a fake TB in its own goroutine, as Goexit needs.
func runDSN() (dsn string, tb *fakeTB) {
	tb = &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dsn = DSN(tb)
	}()
	<-done
	return dsn, tb
}

func TestDSNUnset(t *testing.T) {
	t.Setenv(EnvVar, "")
	t.Setenv("CI", "")
	_, tb := runDSN()
	if !strings.Contains(tb.skipped, "set "+EnvVar+"=postgres://") {
		t.Errorf("unset %s: skipped with %q, want a message saying how to run", EnvVar, tb.skipped)
	}
}

// unreachable is a URL nothing listens on (port 1 is reserved).
const unreachable = "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"

func TestDSNUnreachable(t *testing.T) {
	t.Setenv(EnvVar, unreachable)
	t.Setenv("CI", "")
	if _, tb := runDSN(); tb.skipped == "" || tb.failed != "" {
		t.Errorf("unreachable without CI: skipped %q, failed %q; want a skip", tb.skipped, tb.failed)
	}
	t.Setenv("CI", "true")
	if _, tb := runDSN(); tb.failed == "" {
		t.Errorf("unreachable under CI=true: skipped %q; want a failure", tb.skipped)
	}
}

func TestWithSearchPath(t *testing.T) {
	got, err := withSearchPath("postgres://u@h:5432/db?sslmode=disable", "s1")
	if err != nil || !strings.Contains(got, "search_path=s1") || !strings.Contains(got, "sslmode=disable") {
		t.Errorf("withSearchPath = (%q, %v)", got, err)
	}
	if _, err := withSearchPath("host=h user=u", "s1"); err == nil {
		t.Error("withSearchPath accepted a key=value string")
	}
}

// TestSchema: tables land in the fresh schema, and it is gone after the test.
func TestSchema(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := Schema(t)
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow(t.Context(), "SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema = current_schema()").Scan(&name)
		if err != nil || !strings.HasPrefix(name, "keyroll_test_") {
			t.Fatalf("table t is in schema %q (%v), want a keyroll_test_ schema", name, err)
		}
	})
	if name == "" {
		return // skipped
	}
	conn, err := pgx.Connect(t.Context(), DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still exists after the test (%d, %v)", name, n, err)
	}
}
