package signin

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/store"
)

type fuzzStore struct{}

func (fuzzStore) InitSetting(_ context.Context, _ string, _ []byte) ([]byte, error) {
	return []byte("0123456789abcdef0123456789abcdef"), nil
}
func (fuzzStore) User(context.Context, string) (store.User, error) {
	return store.User{}, store.ErrNotFound
}

// FuzzOpen: a sign-in form handle that was not sealed for this cookie and
// protocol never opens, whatever its bytes.
func FuzzOpen(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	s := New(fuzzStore{}, func() time.Time { return now }, slog.New(slog.DiscardHandler), true)
	ctx := context.Background()
	type req struct {
		ClientID string `json:"c"`
	}
	good, err := s.Seal(ctx, "oidc", req{ClientID: "x"}, "cookie")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "cookie")
	f.Add(good, "other")
	f.Add("e30.", "cookie")
	f.Add("..", "")
	f.Fuzz(func(t *testing.T, handle, cookie string) {
		var r req
		err := s.Open(ctx, "oidc", handle, cookie, &r)
		goodPayload, _, _ := strings.Cut(good, ".")
		payload, _, _ := strings.Cut(handle, ".")
		if err == nil && (payload != goodPayload || cookie != "cookie") {
			t.Fatalf("a handle not sealed for this cookie opened: %q %q", handle, cookie)
		}
	})
}
