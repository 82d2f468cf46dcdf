package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Session returns test session number n of admin, started at base and
// ending absolutely after a day.
func Session(n int, admin string) store.Session {
	hash := sha256.Sum256(fmt.Appendf(nil, "session %d", n))
	return store.Session{Hash: hash[:], Admin: admin, CreatedAt: base, LastSeen: base, ExpiresAt: base.Add(24 * time.Hour)}
}

func notice(actor, reason string) lifecycle.Event {
	return lifecycle.Event{Time: base, Actor: actor, Reason: reason}
}

// testAdmins: administrators round-trip, are found in any case, listed by
// name and unique in any case; their events are recorded; deleting one
// ends their sessions.
func testAdmins(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := store.Admin{Name: "Ada", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: base}
	bob := store.Admin{Name: "bob", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI", CreatedAt: base.Add(time.Hour)}
	if err := s.CreateAdmin(ctx, ada, notice("admin", "console administrator Ada created")); err != nil {
		t.Fatalf("CreateAdmin(Ada): %v", err)
	}
	if err := s.CreateAdmin(ctx, bob); err != nil {
		t.Fatalf("CreateAdmin(bob): %v", err)
	}
	got, err := s.Admin(ctx, "ADA")
	want := ada
	want.CreatedAt = want.CreatedAt.UTC()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Admin(ADA) = (%+v, %v), want %+v", got, err, want)
	}
	all, err := s.Admins(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "Ada" || all[1].Name != "bob" {
		t.Errorf("Admins = (%+v, %v), want Ada then bob", all, err)
	}
	if err := s.CreateAdmin(ctx, store.Admin{Name: "ADA", PasswordHash: "x", CreatedAt: base}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAdmin(ADA) = %v, want ErrConflict", err)
	}
	if err := s.CreateAdmin(ctx, store.Admin{Name: "carol", CreatedAt: base}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAdmin without a password hash = %v, want ErrConflict", err)
	}
	if _, err := s.Admin(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Admin(carol) = %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, "Ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an administrator is a test user too: %v", err)
	}
	mustCreateSession(t, s, Session(1, "ada"))
	mustCreateSession(t, s, Session(2, "bob"))
	if err := s.DeleteAdmin(ctx, "ADA", notice("admin", "console administrator Ada deleted")); err != nil {
		t.Fatalf("DeleteAdmin: %v", err)
	}
	if _, err := s.Session(ctx, Session(1, "").Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted administrator's session is still there: %v", err)
	}
	if _, err := s.Session(ctx, Session(2, "").Hash); err != nil {
		t.Errorf("another administrator's session went too: %v", err)
	}
	if err := s.DeleteAdmin(ctx, "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteAdmin(unknown) = %v, want ErrNotFound", err)
	}
	ev, err := s.Events(ctx, time.Time{}, 0)
	if err != nil || len(ev) != 2 || ev[0].Reason != "console administrator Ada created" || ev[1].Actor != "admin" || ev[1].KID != "" {
		t.Errorf("Events = (%+v, %v), want the two notices", ev, err)
	}
}

func mustCreateSession(t *testing.T, s store.Store, sess store.Session) {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess, base); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
}

// testSessions: a session round-trips under its hash with the stored
// administrator name; it is touched and deleted once; sessions past their
// end are dropped when another is made; sessions of unknown
// administrators, duplicates and malformed sessions are refused.
func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateAdmin(ctx, store.Admin{Name: "Ada", PasswordHash: "h", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session(1, "nobody"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession for an unknown administrator = %v, want ErrNotFound", err)
	}
	sess := Session(1, "ADA")
	if err := s.CreateSession(ctx, sess, base, notice("console:Ada", "signed in")); err != nil {
		t.Fatal(err)
	}
	want := sess
	want.Admin, want.CreatedAt, want.LastSeen, want.ExpiresAt = "Ada", sess.CreatedAt.UTC(), sess.LastSeen.UTC(), sess.ExpiresAt.UTC()
	if got, err := s.Session(ctx, sess.Hash); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Session = (%+v, %v)\nwant %+v", got, err, want)
	}
	if err := s.CreateSession(ctx, sess, base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateSession of a duplicate = %v, want ErrConflict", err)
	}
	bad := Session(3, "Ada")
	bad.Hash = bad.Hash[:8]
	if err := s.CreateSession(ctx, bad, base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateSession with a short hash = %v, want ErrConflict", err)
	}
	seen := base.Add(time.Minute)
	if err := s.TouchSession(ctx, sess.Hash, seen); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, sess.Hash); err != nil || !got.LastSeen.Equal(seen) {
		t.Errorf("LastSeen after TouchSession = (%v, %v), want %v", got.LastSeen, err, seen)
	}
	later := Session(2, "Ada")
	later.ExpiresAt = sess.ExpiresAt.Add(time.Hour)
	if err := s.CreateSession(ctx, later, sess.ExpiresAt.Add(time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sess.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session past its end is still there after the next CreateSession: %v", err)
	}
	if err := s.TouchSession(ctx, sess.Hash, seen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchSession(gone) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, later.Hash, notice("console:Ada", "signed out")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, later.Hash, notice("console:Ada", "signed out again")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteSession = %v, want ErrNotFound", err)
	}
	ev, err := s.Events(ctx, time.Time{}, 0)
	if err != nil || len(ev) != 2 || ev[0].Reason != "signed in" || ev[1].Reason != "signed out" {
		t.Errorf("Events = (%+v, %v), want signed in, signed out", ev, err)
	}
}
