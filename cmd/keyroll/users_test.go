package main

import (
	"strings"
	"testing"
)

func TestUsersCLI(t *testing.T) {
	s := appServer(t)
	out, errs, code := runIn(t, "", "users", "create", "alice", "--server", s.url)
	if code != 0 || len(fieldAfter(out, "password:")) < 16 {
		t.Fatalf("users create: %d %s %s", code, out, errs)
	}
	generated := fieldAfter(out, "password:")
	out, errs, code = runIn(t, "s3cret pass phrase\nsecond line\n", "users", "create", "bob", "--password-stdin", "--server", s.url)
	if code != 0 || strings.Contains(out, "s3cret") || strings.Contains(out, "password:") {
		t.Fatalf("users create --password-stdin: %d %s %s", code, out, errs)
	}
	out, _, code = runIn(t, "", "users", "list", "--server", s.url)
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") || strings.Contains(out, generated) {
		t.Errorf("users list: %d %s", code, out)
	}
	if _, errs, code = runIn(t, "short\n", "users", "create", "carol", "--password-stdin", "--server", s.url); code != exitFail || !strings.Contains(errs, "8 to 1024") || strings.Contains(errs, "short\n") {
		t.Errorf("short password: %d %s", code, errs)
	}
	if _, errs, code = runIn(t, "", "users", "create", "carol", "--password-stdin", "--server", s.url); code != exitUsage || !strings.Contains(errs, "no password") {
		t.Errorf("empty stdin: %d %s", code, errs)
	}
	if _, errs, code = runIn(t, "", "users", "create", "ALICE", "--server", s.url); code != exitFail || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate: %d %s", code, errs)
	}
	if out, _, code = runIn(t, "", "users", "delete", "alice", "--server", s.url); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("users delete: %d %s", code, out)
	}
	if _, errs, code = runIn(t, "", "users", "delete", "alice", "--server", s.url); code != exitFail || !strings.Contains(errs, "no user") {
		t.Errorf("delete again: %d %s", code, errs)
	}
}
