package main

import (
	"strings"
	"testing"
)

func TestAdminsCLI(t *testing.T) {
	s := appServer(t)
	out, errs, code := runIn(t, "", "admins", "create", "ada", "--server", s.url)
	if code != 0 || len(fieldAfter(out, "password:")) < 16 {
		t.Fatalf("admins create: %d %s %s", code, out, errs)
	}
	generated := fieldAfter(out, "password:")
	out, errs, code = runIn(t, "a long pass phrase\n", "admins", "create", "bob", "--password-stdin", "--server", s.url)
	if code != 0 || strings.Contains(out, "long pass") || strings.Contains(out, "password:") {
		t.Fatalf("admins create --password-stdin: %d %s %s", code, out, errs)
	}
	out, _, code = runIn(t, "", "admins", "list", "--server", s.url)
	if code != 0 || !strings.Contains(out, "ada") || !strings.Contains(out, "bob") || strings.Contains(out, generated) {
		t.Errorf("admins list: %d %s", code, out)
	}
	if _, errs, code = runIn(t, "only8chr\n", "admins", "create", "carol", "--password-stdin", "--server", s.url); code != exitFail || !strings.Contains(errs, "12 to 1024") {
		t.Errorf("short password: %d %s", code, errs)
	}
	if _, errs, code = runIn(t, "", "admins", "create", "ADA", "--server", s.url); code != exitFail || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate: %d %s", code, errs)
	}
	if out, _, code = runIn(t, "", "users", "list", "--server", s.url); code != 0 || strings.Contains(out, "ada") {
		t.Errorf("an administrator is listed as a test user: %d %s", code, out)
	}
	if out, _, code = runIn(t, "", "admins", "delete", "ada", "--server", s.url); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("admins delete: %d %s", code, out)
	}
	if _, errs, code = runIn(t, "", "admins", "delete", "ada", "--server", s.url); code != exitFail || !strings.Contains(errs, "no administrator") {
		t.Errorf("delete again: %d %s", code, errs)
	}
	out, _, code = runIn(t, "", "events", "--server", s.url)
	if code != 0 || !strings.Contains(out, "console administrator ada created") || !strings.Contains(out, "console administrator ada deleted") {
		t.Errorf("events: %d %s", code, out)
	}
}
