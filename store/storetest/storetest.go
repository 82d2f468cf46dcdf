// Package storetest is the conformance suite every [store.Store] backend
// passes. A backend's tests call [Run] with a function that opens a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(filepath.Join(t.TempDir(), "keys.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The fixtures ([Key], [Sealed], [Add], [UTC], [App], [Code], [Session]) are exported
// for backend-specific tests. Keys carry fake certificate bytes: stores do not
// parse certificates.
package storetest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Run runs the conformance suite as subtests. open must return a new,
// empty store for each call and close it when its test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"Sealed", testSealed},
		{"Transitions", testTransitions},
		{"InPlaceEdit", testInPlaceEdit},
		{"Refused", testRefused},
		{"FuncError", testFuncError},
		{"NothingToDo", testNothingToDo},
		{"Generation", testGeneration},
		{"Events", testEvents},
		{"EventsSameTime", testEventsSameTime},
		{"Settings", testSettings},
		{"SettingsRace", testSettingsRace},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CancelledContext", testCancelledContext},
		{"Apps", testApps},
		{"AppsMissing", testAppsMissing},
		{"AppsRefused", testAppsRefused},
		{"UpdateApp", testUpdateApp},
		{"UpdateAppSerialised", testUpdateAppSerialised},
		{"DeleteApp", testDeleteApp},
		{"Users", testUsers},
		{"Codes", testCodes},
		{"CodesRace", testCodesRace},
		{"FedApps", testFedApps},
		{"UseOnce", testUseOnce},
		{"UseOnceRace", testUseOnceRace},
		{"Admins", testAdmins},
		{"Sessions", testSessions},
		{"Fetches", testFetches},
		{"FetchesConcurrent", testFetchesConcurrent},
		{"Drills", testDrills},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// zone is deliberately not UTC: stores must keep the instant and return UTC.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// base has nanoseconds, so a store that rounds times fails the suite.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, zone)

// Key returns test key number n: a next key with a distinct kid, fake
// certificate and thumbprint, and times (in a non-UTC zone) n hours apart.
func Key(n int) lifecycle.Key {
	cert := fmt.Appendf(nil, "\x30\x82fake certificate %d", n)
	sum := sha1.Sum(cert)
	created := base.Add(time.Duration(n) * time.Hour)
	return lifecycle.Key{
		KID:        fmt.Sprintf("kid-%03d", n),
		Alg:        "ES256",
		Thumbprint: strings.ToUpper(hex.EncodeToString(sum[:])),
		Cert:       cert,
		NotBefore:  created.Add(-time.Minute),
		NotAfter:   created.Add(365 * 24 * time.Hour),
		State:      lifecycle.Next,
		CreatedAt:  created,
		PromoteAt:  created.Add(7 * 24 * time.Hour),
	}
}

// Sealed returns the fake encrypted private key the fixtures use for kid.
func Sealed(kid string) []byte {
	return []byte("sealed private key of " + kid + "\x00\xff")
}

// Add returns an update function that adds keys to the store, with their
// [Sealed] bytes and one creation event each.
func Add(keys ...lifecycle.Key) store.UpdateFunc {
	return func(old []lifecycle.Key) (*store.Change, error) {
		c := &store.Change{Keys: append(old, keys...), Sealed: map[string][]byte{}}
		for _, k := range keys {
			c.Sealed[k.KID] = Sealed(k.KID)
			c.Events = append(c.Events, created(k))
		}
		return c, nil
	}
}

func created(k lifecycle.Key) lifecycle.Event {
	return lifecycle.Event{Time: k.CreatedAt, Actor: "storetest", KID: k.KID,
		Thumbprint: k.Thumbprint, To: k.State, Reason: "created by the conformance suite"}
}

// UTC returns keys with every time in UTC and without a monotonic reading,
// the form in which stores return them.
func UTC(keys []lifecycle.Key) []lifecycle.Key {
	out := make([]lifecycle.Key, len(keys))
	for i, k := range keys {
		for _, t := range []*time.Time{&k.NotBefore, &k.NotAfter, &k.CreatedAt,
			&k.PromoteAt, &k.PromotedAt, &k.RetiredAt, &k.EndedAt} {
			*t = t.UTC()
		}
		out[i] = k
	}
	return out
}
