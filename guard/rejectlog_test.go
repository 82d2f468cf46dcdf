package guard

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRejectLogRateLimited: rejections are logged with their reason, at
// most one per rejectLogEvery, and the ones left out are counted.
func TestRejectLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := rejectLog{log: slog.New(slog.NewTextHandler(&buf, nil)), now: func() time.Time { return now }}
	r := httptest.NewRequest("GET", "/orders", nil)
	for range 50 {
		l.rejected(r, errors.New("token expired"))
	}
	if n := strings.Count(buf.String(), "request rejected"); n != 1 || !strings.Contains(buf.String(), "token expired") {
		t.Fatalf("50 rejections at one instant logged %d lines:\n%s", n, buf.String())
	}
	now = now.Add(rejectLogEvery)
	l.rejected(r, errors.New("unknown key"))
	if !strings.Contains(buf.String(), "also_rejected_unlogged=49") || !strings.Contains(buf.String(), "unknown key") {
		t.Errorf("the next log line does not count the 49 left out:\n%s", buf.String())
	}
}
