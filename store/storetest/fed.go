package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// FedApp returns test application number n as a SAML service provider
// with every federation setting set.
func FedApp(n int) store.Application {
	a := App(n)
	a.SecretHash = nil
	a.Protocol = store.ProtocolSAML
	a.Audience = "https://sp.example/" + a.ClientID
	a.Fed = store.FedSettings{SPMetadataURL: "https://sp.example/metadata", SPCerts: [][]byte{{0x30, 0x82, 1, 2}, {0x30, 0x82, 3}},
		RequestsSigned: true, Sign: "assertion", NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", TokenType: "saml11"}
	return a
}

// testFedApps: protocol and federation settings round-trip and update.
func testFedApps(t *testing.T, s store.Store) {
	saml, ws := FedApp(1), App(2)
	ws.Protocol, ws.SecretHash, ws.Fed = store.ProtocolWSFed, nil, store.FedSettings{TokenType: "saml11"}
	mustCreateApp(t, s, saml)
	mustCreateApp(t, s, ws)
	got, err := s.App(t.Context(), saml.ClientID)
	wantApp(t, "App(saml)", got, err, saml)
	got, err = s.App(t.Context(), ws.ClientID)
	wantApp(t, "App(wsfed)", got, err, ws)
	got, _, err = s.UpdateApp(t.Context(), saml.ClientID, func(a store.Application, _ []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		a.Fed.SPCerts, a.Fed.RequestsSigned = [][]byte{{0x30, 9}}, false
		return &a, nil, nil
	})
	saml.Fed.SPCerts, saml.Fed.RequestsSigned = [][]byte{{0x30, 9}}, false
	wantApp(t, "UpdateApp(saml)", got, err, saml)
}

// testUseOnce: an id is accepted once until it expires, then again.
func testUseOnce(t *testing.T, s store.Store) {
	now := base
	use := func(id string, exp, at time.Time) bool {
		t.Helper()
		ok, err := s.UseOnce(t.Context(), id, exp, at)
		if err != nil {
			t.Fatalf("UseOnce(%s): %v", id, err)
		}
		return ok
	}
	if !use("a", now.Add(time.Minute), now) {
		t.Fatal("a fresh id was refused")
	}
	if use("a", now.Add(time.Minute), now.Add(30*time.Second)) {
		t.Fatal("an id was accepted twice within its lifetime")
	}
	if !use("b", now.Add(time.Minute), now) {
		t.Fatal("another id was refused")
	}
	if !use("a", now.Add(3*time.Minute), now.Add(2*time.Minute)) {
		t.Fatal("an expired id was not dropped")
	}
}

// testUseOnceRace: of many concurrent uses of one id, exactly one wins.
func testUseOnceRace(t *testing.T, s store.Store) {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.UseOnce(t.Context(), "raced", base.Add(time.Hour), base)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one id won, want 1", wins.Load())
	}
}
