package keysync

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHookRetriesAfterAFailure: a --exec that failed after a change runs
// again on the next, unchanged run, until it succeeds.
func TestHookRetriesAfterAFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.pem")
	count := filepath.Join(dir, "count")
	flag := filepath.Join(dir, "fail")
	os.WriteFile(flag, nil, 0o600)
	// Appends a line per run; fails while the flag file exists.
	cmd := `echo run >> "` + count + `"; test ! -e "` + flag + `"`
	var out bytes.Buffer
	runs := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "run")
	}
	ctx := context.Background()

	if ran, err := Hook(ctx, cmd, path, false, &out, &out); ran || err != nil {
		t.Fatalf("unchanged, nothing pending: ran=%v err=%v", ran, err)
	}
	if ran, err := Hook(ctx, cmd, path, true, &out, &out); !ran || err == nil {
		t.Fatalf("changed, failing hook: ran=%v err=%v", ran, err)
	}
	if _, err := os.Stat(path + pendingSuffix); err != nil {
		t.Fatal("no pending marker after a failed hook")
	}
	os.Remove(flag)
	if ran, err := Hook(ctx, cmd, path, false, &out, &out); !ran || err != nil {
		t.Fatalf("unchanged but pending: ran=%v err=%v", ran, err)
	}
	if ran, _ := Hook(ctx, cmd, path, false, &out, &out); ran {
		t.Fatal("ran again after it succeeded")
	}
	if n := runs(); n != 2 {
		t.Fatalf("hook ran %d times, want 2", n)
	}
}
