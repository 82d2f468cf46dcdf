package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fault (c): with the database present and the KEK file gone, serve wrote
// a brand-new KEK, told the operator to back it up, then refused to start.
func TestServeMissingKEKWritesNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "keyroll.db")
	none := func(string) string { return "" }
	s := startServe(t, none, "--store", "sqlite:"+db)
	s.stop()
	kekFile := filepath.Join(dir, "keyroll.kek")
	if err := os.Remove(kekFile); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, none, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db)
	if code == 0 || !strings.Contains(errs, "refusing to start") || !strings.Contains(errs, kekFile) || strings.Contains(out, "created a new key-encryption key") {
		t.Fatalf("missing KEK: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(kekFile); !os.IsNotExist(err) {
		t.Fatalf("a new KEK was written beside a store made under another: %v", err)
	}
	// An explicit file that does not exist is named too.
	missing := filepath.Join(dir, "elsewhere.kek")
	_, errs, code = runCmd(t, func(k string) string {
		if k == "KEYROLL_KEK_FILE" {
			return missing
		}
		return ""
	}, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db)
	if code == 0 || !strings.Contains(errs, missing) {
		t.Fatalf("missing KEYROLL_KEK_FILE: exit %d %s", code, errs)
	}
}

// Fault (d): --issuer was not checked.
func TestServeChecksIssuerURL(t *testing.T) {
	none := func(string) string { return "" }
	for _, bad := range []string{"notaurl", "https://host/?x=1#frag", "https://host/?x=1", "https://host/#frag", "https://host/?",
		"ftp://host/", "https://user:pw@host/", "http://login.example.com", "https:///path", "//host/x"} {
		db := filepath.Join(t.TempDir(), "keyroll.db")
		_, errs, code := runCmd(t, none, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:"+db, "--issuer", bad)
		if code == 0 || !strings.Contains(errs, "--issuer") {
			t.Errorf("--issuer %q: exit %d %s", bad, code, errs)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("--issuer %q created the store", bad)
		}
	}
	for _, good := range []string{"https://login.example.com", "https://login.example.com/tenant/v2", "http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:8080/x"} {
		if err := checkIssuerURL(good, false); err != nil {
			t.Errorf("checkIssuerURL(%q) = %v", good, err)
		}
	}
	if err := checkIssuerURL("http://login.example.com", true); err != nil {
		t.Errorf("--insecure-http-issuer: %v", err)
	}
}
