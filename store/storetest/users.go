package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/store"
)

// Code returns test authorization code number n for a client and a user,
// expiring a minute after base.
func Code(n int, clientID, username string) store.AuthCode {
	hash := sha256.Sum256(fmt.Appendf(nil, "code %d", n))
	return store.AuthCode{
		Hash: hash[:], ClientID: clientID, RedirectURI: "https://app.example/callback",
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Nonce: fmt.Sprintf("nonce %d", n),
		Username: username, Scope: "openid profile",
		AuthTime: base.Add(time.Duration(n) * time.Second), ExpiresAt: base.Add(time.Minute),
	}
}

func utcCode(c store.AuthCode) store.AuthCode {
	c.AuthTime, c.ExpiresAt = c.AuthTime.UTC(), c.ExpiresAt.UTC()
	return c
}

func mustPutCode(t *testing.T, s store.Store, c store.AuthCode) {
	t.Helper()
	if err := s.PutCode(t.Context(), c, base); err != nil {
		t.Fatalf("PutCode: %v", err)
	}
}

// testUsers: users round-trip, are found in any case, listed by name, unique
// in any case; deleting one removes their pending codes.
func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	bob := store.User{Username: "Bob", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: base}
	alice := store.User{Username: "alice", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI", CreatedAt: base.Add(time.Hour)}
	for _, u := range []store.User{bob, alice} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
	}
	got, err := s.User(ctx, "BOB")
	want := bob
	want.CreatedAt = want.CreatedAt.UTC()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("User(BOB) = (%+v, %v), want %+v", got, err, want)
	}
	all, err := s.Users(ctx)
	if err != nil || len(all) != 2 || all[0].Username != "alice" || all[1].Username != "Bob" {
		t.Errorf("Users = (%+v, %v), want alice then Bob", all, err)
	}
	if err := s.CreateUser(ctx, store.User{Username: "ALICE", PasswordHash: "x", CreatedAt: base}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser(ALICE) = %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx, store.User{Username: "carol", CreatedAt: base}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser without a password hash = %v, want ErrConflict", err)
	}
	mustPutCode(t, s, Code(1, "client-001", "Bob"))
	mustPutCode(t, s, Code(2, "client-001", "alice"))
	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser(bob): %v", err)
	}
	if _, err := s.User(ctx, "Bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User after DeleteUser = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeCode(ctx, Code(1, "", "").Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted user's code is still there: %v", err)
	}
	if _, err := s.ConsumeCode(ctx, Code(2, "", "").Hash); err != nil {
		t.Errorf("another user's code went too: %v", err)
	}
	if err := s.DeleteUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser(unknown) = %v, want ErrNotFound", err)
	}
}

// testCodes: a code comes back exactly once; expired codes are dropped when
// a new one is stored; duplicates and malformed codes are refused.
func testCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := Code(1, "client-001", "alice")
	mustPutCode(t, s, c)
	got, err := s.ConsumeCode(ctx, c.Hash)
	if err != nil || !reflect.DeepEqual(got, utcCode(c)) {
		t.Errorf("ConsumeCode = (%+v, %v)\nwant %+v", got, err, utcCode(c))
	}
	if _, err := s.ConsumeCode(ctx, c.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second ConsumeCode = %v, want ErrNotFound", err)
	}
	mustPutCode(t, s, c)
	if err := s.PutCode(ctx, c, base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutCode of a duplicate = %v, want ErrConflict", err)
	}
	bad := Code(3, "client-001", "alice")
	bad.Hash = bad.Hash[:8]
	if err := s.PutCode(ctx, bad, base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutCode with a short hash = %v, want ErrConflict", err)
	}
	later := Code(2, "client-001", "alice")
	later.ExpiresAt = c.ExpiresAt.Add(time.Hour)
	if err := s.PutCode(ctx, later, c.ExpiresAt.Add(time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeCode(ctx, c.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a code that expired before the next PutCode is still there: %v", err)
	}
	if got, err := s.ConsumeCode(ctx, later.Hash); err != nil || !bytes.Equal(got.Hash, later.Hash) {
		t.Errorf("ConsumeCode(later) = (%+v, %v)", got, err)
	}
}

// testCodesRace: of concurrent redemptions of one code, exactly one wins.
func testCodesRace(t *testing.T, s store.Store) {
	const racers = 8
	c := Code(1, "client-001", "alice")
	mustPutCode(t, s, c)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			_, err := s.ConsumeCode(t.Context(), c.Hash)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("ConsumeCode: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of %d concurrent redemptions got the code, want exactly 1", wins.Load(), racers)
	}
}
