package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	out, errs, code := runIn(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "keyroll ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version: %d %q %q", code, out, errs)
	}
	out, _, code = runIn(t, "", "version", "--json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Go != runtime.Version() || v.Version == "" {
		t.Fatalf("version --json: %d %q", code, out)
	}
	if _, _, code := runIn(t, "", "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}
