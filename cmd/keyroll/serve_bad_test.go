package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestServeRefusesBadInput: a contradictory policy, a wrong KEK and a
// corrupted row each stop serve with a message that says what is wrong, and
// leave the store as it was.
func TestServeRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "keyroll.db")
	none := func(string) string { return "" }

	out, errs, code := runCmd(t, none, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db, "--promotion-threshold", "30d")
	if code == 0 || !strings.Contains(errs, "CertificatePromotionThreshold") {
		t.Fatalf("contradictory policy: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("a rejected policy created the store: %v", err)
	}
	_, errs, code = runCmd(t, func(k string) string {
		if k == "KEYROLL_GENERATION_THRESHOLD" {
			return "soon"
		}
		return ""
	}, "serve", "--store", "sqlite:"+db)
	if code != exitUsage || !strings.Contains(errs, "KEYROLL_GENERATION_THRESHOLD") {
		t.Fatalf("bad environment variable: exit %d %s", code, errs)
	}

	// A store made under one KEK, then opened under another.
	s := startServe(t, none, "--store", "sqlite:"+db)
	s.stop()
	kekFile := filepath.Join(dir, "keyroll.kek")
	kek, _ := os.ReadFile(kekFile)
	other := "00" + strings.TrimSpace(string(kek))[2:]
	if other == strings.TrimSpace(string(kek)) {
		other = "11" + other[2:]
	}
	_, errs, code = runCmd(t, func(k string) string {
		if k == "KEYROLL_KEK" {
			return other
		}
		return ""
	}, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db)
	if code == 0 || !strings.Contains(errs, "refusing to start") || !strings.Contains(errs, "key-encryption key") || strings.Contains(errs, other) {
		t.Fatalf("wrong KEK: exit %d %s", code, errs)
	}
	if after, _ := os.ReadFile(kekFile); string(after) != string(kek) {
		t.Fatal("the KEK file was overwritten")
	}

	// A corrupted row.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE keyroll_keys SET state = 'bogus'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, errs, code = runCmd(t, none, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db)
	if code == 0 || !strings.Contains(errs, "refusing to start") || !strings.Contains(errs, "bogus") {
		t.Fatalf("corrupted row: exit %d %s", code, errs)
	}
}
