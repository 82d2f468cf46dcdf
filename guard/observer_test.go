package guard

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/verify"
)

// Fault (i): guard said "serving the last good keys" when it had none.
func TestRefreshFailureWithoutKeys(t *testing.T) {
	var buf bytes.Buffer
	l := logObserver{log: slog.New(slog.NewTextHandler(&buf, nil))}
	l.Refreshed(verify.RefreshEvent{Source: "https://idp.example/jwks", Outcome: verify.OutcomeFailed, Keys: 0, Err: errors.New("unreachable")})
	if out := buf.String(); strings.Contains(out, "last good keys") || !strings.Contains(out, "no keys") {
		t.Fatalf("refresh failure with no keys logged %q", out)
	}
	buf.Reset()
	l.Refreshed(verify.RefreshEvent{Source: "https://idp.example/jwks", Outcome: verify.OutcomeFailed, Keys: 2, Err: errors.New("unreachable")})
	if !strings.Contains(buf.String(), "last good keys") {
		t.Fatalf("refresh failure with keys logged %q", buf.String())
	}
}
