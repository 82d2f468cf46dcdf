package drill_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/drill/drilltest"
)

// newRSAEnv is an issuer with RSA keys: goxmldsig, which the test service
// providers check signatures with, reads ECDSA signature values as ASN.1,
// not as XML-DSig's r||s.
func newRSAEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAlg(t, "RS256")
}

// fedApp registers a SAML service provider (protocol "saml") or a
// WS-Federation relying party ("wsfed") and serves a drilltest FedApp for
// it that trusts the certificates of certs; it returns the URL to drill
// and the ACS or reply URL. wrap, if not nil, wraps the application.
func (e *env) fedApp(t *testing.T, name, protocol string, certs drilltest.Certs, wrap func(http.Handler) http.Handler) (url, acs string) {
	t.Helper()
	mux := http.NewServeMux()
	base := serve(t, mux)
	entity, acs := base+"/sp", base+"/acs"
	e.createApp(t, adminapi.CreateAppRequest{Name: name, Protocol: protocol, Audience: entity, RedirectURIs: []string{acs}})
	fa, err := drilltest.NewFedApp(drilltest.FedConfig{Issuer: e.url, WSFed: protocol == "wsfed", EntityID: entity, ACS: acs, Certs: certs})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = fa
	if wrap != nil {
		h = wrap(h)
	}
	mux.Handle("/", h)
	return base + "/", acs
}

func (e *env) refreshing() drilltest.Certs {
	return drilltest.MetadataCerts(drilltest.MetadataURL(e.url), nil)
}

func (e *env) firstSeen(t *testing.T) drilltest.Certs {
	t.Helper()
	c, err := drilltest.FirstSeen(context.Background(), drilltest.MetadataURL(e.url))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var fedProtocols = []string{"saml", "wsfed"}

// TestDrillFedRefreshing: a SAML service provider and a WS-Federation
// relying party that refresh the issuer's federation metadata on an
// unknown signer take every key, a fresh one included. The browser
// session posts the issuer's answer to the registered ACS or reply URL and
// ends signed in on the URL tested.
func TestDrillFedRefreshing(t *testing.T) {
	for _, proto := range fedProtocols {
		t.Run(proto, func(t *testing.T) {
			ctx := context.Background()
			e := newRSAEnv(t).withRetired(t)
			url, acs := e.fedApp(t, "sp", proto, e.refreshing(), nil)
			endpoint := map[string]string{"saml": "/saml2", "wsfed": "/wsfed"}[proto]
			for _, fresh := range []bool{false, true} {
				rep, progress := e.run(t, ctx, drill.Config{App: "sp", Web: url, FreshKey: fresh, Expect: "Signed in as keyroll-drill-"})
				wantVerdict(t, rep, drill.Ready, 0, progress)
				want := []string{"next:accepted", "primary:accepted", "retired:accepted"}
				if fresh {
					want = append(want, "fresh:accepted")
				}
				if got := outcomes(rep); !slices.Equal(got, want) || rep.Protocol != proto {
					t.Fatalf("results %v, protocol %q", got, rep.Protocol)
				}
				for _, r := range rep.Results {
					hops := r.Evidence.Hops
					if len(hops) != 5 || r.Evidence.URL != url || r.Evidence.Status != 200 {
						t.Fatalf("%s key: %d hops, ended %d on %s: %+v", r.State, len(hops), r.Evidence.Status, r.Evidence.URL, hops)
					}
					if hops[2].Method != "POST" || hops[2].URL != e.url+endpoint || hops[2].Status != 200 ||
						hops[3].Method != "POST" || hops[3].URL != acs || hops[3].Status != 303 {
						t.Errorf("%s key: the sign-in and answer hops are %+v and %+v", r.State, hops[2], hops[3])
					}
				}
				contains(t, "progress", progress, "drill: "+map[string]string{"saml": "SAML", "wsfed": "WS-Federation"}[proto]+" application sp",
					"cleanup: restored application sp: no override", "cleanup: deleted the temporary test user")
				e.clean(t, "sp", "")
			}
		})
	}
}

// TestDrillFedPinned: a service provider and a relying party that trust
// only the certificate they first saw in the metadata (the primary) fail
// sign-in with the next and a fresh key; the verdict names the next key.
func TestDrillFedPinned(t *testing.T) {
	for _, proto := range fedProtocols {
		t.Run(proto, func(t *testing.T) {
			ctx := context.Background()
			e := newRSAEnv(t).rotate(t, false)
			next := e.key(t, "next")
			url, acs := e.fedApp(t, "legacy", proto, e.firstSeen(t), nil)
			primary := e.key(t, "primary")
			if _, err := e.admin.Override(ctx, "legacy", adminapi.OverrideRequest{Key: primary.Thumbprint}); err != nil {
				t.Fatal(err)
			}
			rep, progress := e.run(t, ctx, drill.Config{App: "legacy", Web: url, FreshKey: true})
			wantVerdict(t, rep, drill.NotReady, 1, progress)
			if got := outcomes(rep); !slices.Equal(got, []string{"next:rejected", "primary:accepted", "fresh:rejected"}) {
				t.Fatalf("results %v", got)
			}
			if want := "rejects the next key " + drill.Abbrev(next.Thumbprint) + ", which becomes primary on " +
				next.PromoteAt.UTC().Format("2006-01-02") + "; sign-in will fail from then"; rep.Reasons[0] != want {
				t.Errorf("first reason %q\nwant           %q", rep.Reasons[0], want)
			}
			ev := rep.Results[0].Evidence
			if ev.Status != 401 || ev.Title != "Sign-in failed" || ev.URL != acs ||
				!strings.Contains(ev.Note, "after sign-in the application answered HTTP 401 at "+acs) ||
				!strings.Contains(ev.Body, "Could not verify certificate against trusted certs") {
				t.Errorf("evidence of the rejection: %+v", ev)
			}
			contains(t, "the reason", rep.Reason, "an emergency rollover would break sign-in at once")
			e.clean(t, "legacy", primary.Thumbprint)
		})
	}
}

// TestDrillFedInterrupted: cancelled in the application's ACS or reply
// URL, while testing the primary (SAML) or the fresh key (WS-Federation),
// the drill restores the override exactly, withdraws the fresh key and
// deletes its temporary user.
func TestDrillFedInterrupted(t *testing.T) {
	// Each key's test is three requests to the application: "/", the
	// posted answer, "/" again.
	for proto, n := range map[string]int32{"saml": 5, "wsfed": 8} {
		t.Run(proto, func(t *testing.T) {
			e := newRSAEnv(t).rotate(t, false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			url, _ := e.fedApp(t, "sp", proto, e.refreshing(), func(h http.Handler) http.Handler { return cancelOn(n, cancel, h) })
			next := e.key(t, "next")
			if _, err := e.admin.Override(context.Background(), "sp", adminapi.OverrideRequest{Key: next.Thumbprint}); err != nil {
				t.Fatal(err)
			}
			rep, progress := e.run(t, ctx, drill.Config{App: "sp", Web: url, FreshKey: true})
			wantVerdict(t, rep, drill.Interrupted, 2, progress)
			if users, err := e.admin.Users(context.Background()); err != nil || len(users) != 0 {
				t.Errorf("users left: %+v %v", users, err)
			}
			contains(t, "progress", progress, "drill: interrupted; cleaning up", "cleanup: restored application sp: override "+next.Thumbprint,
				"cleanup: deleted the temporary test user")
			if proto == "wsfed" {
				contains(t, "progress", progress, "pinning app to fresh key", "cleanup: withdrew the fresh transient key")
			}
			e.clean(t, "sp", next.Thumbprint)
		})
	}
}

// TestDrillFedSAMLStatus: when the issuer answers the SP with a SAML error
// status (here: an emailAddress NameID for a user without one) nothing
// about the key was tested: undecided, not a rejection.
func TestDrillFedSAMLStatus(t *testing.T) {
	e := newRSAEnv(t).rotate(t, false)
	mux := http.NewServeMux()
	base := serve(t, mux)
	e.createApp(t, adminapi.CreateAppRequest{Name: "mail-sp", Protocol: "saml", Audience: base + "/sp", RedirectURIs: []string{base + "/acs"},
		Fed: &adminapi.FedInfo{NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}})
	var posted atomic.Int32
	fa, err := drilltest.NewFedApp(drilltest.FedConfig{Issuer: e.url, EntityID: base + "/sp", ACS: base + "/acs", Certs: e.refreshing()})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posted.Add(1)
		}
		fa.ServeHTTP(w, r)
	}))
	rep, progress := e.run(t, context.Background(), drill.Config{App: "mail-sp", Web: base + "/"})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	for _, r := range rep.Results {
		if r.Outcome != drill.Undecided || !strings.HasPrefix(r.Evidence.Error,
			"the issuer answered the sign-in with SAML status Requester / InvalidNameIDPolicy: the user has no email address") {
			t.Errorf("%s key: %s %+v", r.State, r.Outcome, r.Evidence)
		}
	}
	if posted.Load() != 0 {
		t.Errorf("the drill posted an error answer to the SP %d times", posted.Load())
	}
	e.clean(t, "mail-sp", "")
}

// TestDrillFedLookalike: the password goes only to the sign-in endpoint of
// the application's protocol on the issuer: not to a copy of the SAML
// sign-in form elsewhere, nor to the issuer's /saml2 for an OIDC
// application. A SAML application cannot be drilled in API mode.
func TestDrillFedLookalike(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	e.createApp(t, adminapi.CreateAppRequest{Name: "phish", Protocol: "saml", Audience: "urn:phish", RedirectURIs: []string{"https://phish.example/acs"}})
	e.createApp(t, adminapi.CreateAppRequest{Name: "oidc", RedirectURIs: []string{"https://oidc.example/cb"}})
	var posted atomic.Int32
	form := func(action string) string {
		return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				posted.Add(1)
			}
			io.WriteString(w, `<form method="post" action="`+action+`"><input type="hidden" name="login_request" value="x"></form>`)
		}))
	}
	for _, c := range []struct{ app, url, says string }{
		{"phish", form("/saml2"), "does not post to the issuer's sign-in endpoint " + e.url + "/saml2"},
		{"oidc", form(e.url + "/saml2"), "does not post to the issuer's sign-in endpoint " + e.url + "/oauth2/authorize"},
	} {
		rep, progress := e.run(t, context.Background(), drill.Config{App: c.app, Web: c.url, User: "alice", Password: "correct horse battery"})
		wantVerdict(t, rep, drill.Inconclusive, 2, progress)
		contains(t, "the reason", rep.Reason, c.says)
	}
	if posted.Load() != 0 {
		t.Error("the drill posted the test user's password to a look-alike form")
	}
	rep, progress := e.run(t, context.Background(), drill.Config{App: "phish", API: "http://127.0.0.1:9/"})
	wantVerdict(t, rep, drill.Failed, 2, progress)
	contains(t, "the reason", rep.Reason, "application phish signs users in over saml: drill it with a web URL")
	if len(rep.Cleanup.Done) != 0 {
		t.Errorf("cleanup %v", rep.Cleanup.Done)
	}
	e.clean(t, "phish", "")
	e.clean(t, "oidc", "")
}

// TestDrillWebStandInIssuer: an answer page that posts anywhere but a
// registered ACS URL is not submitted, nor is the password re-posted after
// a 307 away from the sign-in endpoint (OIDC): the test is undecided. (keyroll's
// issuer does neither; a stand-in issuer does.)
func TestDrillWebStandInIssuer(t *testing.T) {
	e := newEnv(t).rotate(t, false)
	var evil atomic.Int32
	elsewhere := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evil.Add(1) }))
	mux := http.NewServeMux()
	fake := serve(t, mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"issuer":"`+fake+`","authorization_endpoint":"`+fake+`/oauth2/authorize"}`)
	})
	mux.HandleFunc("GET /saml2", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<form method="post" action="/saml2"><input type="hidden" name="login_request" value="x"></form>`)
	})
	mux.HandleFunc("POST /saml2", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<form method="post" action="`+elsewhere+`/acs"><input type="hidden" name="SAMLResponse" value="PHg+"></form>`)
	})
	app := serve(t, http.RedirectHandler(fake+"/saml2", http.StatusFound))
	e.createApp(t, adminapi.CreateAppRequest{Name: "sp", Protocol: "saml", Audience: "urn:sp", RedirectURIs: []string{app + "/acs"}})
	rep, progress := e.run(t, context.Background(), drill.Config{App: "sp", Web: app + "/", Issuer: fake, User: "alice", Password: "pw"})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	contains(t, "the reason", rep.Reason, "the issuer's answer posts to "+elsewhere+"/acs, which is not a registered ACS or reply URL")
	if evil.Load() != 0 {
		t.Error("the drill posted the answer to an unregistered URL")
	}
	e.clean(t, "sp", "")

	// A 307 answer to the sign-in form, even with a code, would re-post the
	// password: it goes nowhere but the sign-in endpoint.
	mux.HandleFunc("GET /oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<form method="post" action="authorize"><input type="hidden" name="login_request" value="x"></form>`)
	})
	mux.HandleFunc("POST /oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere+"/callback?code=c", http.StatusTemporaryRedirect)
	})
	oidcApp := serve(t, http.RedirectHandler(fake+"/oauth2/authorize", http.StatusFound))
	e.createApp(t, adminapi.CreateAppRequest{Name: "portal", RedirectURIs: []string{elsewhere + "/callback"}})
	rep, progress = e.run(t, context.Background(), drill.Config{App: "portal", Web: oidcApp + "/", Issuer: fake, User: "alice", Password: "pw"})
	wantVerdict(t, rep, drill.Inconclusive, 2, progress)
	if evil.Load() != 0 {
		t.Error("the drill followed a 307 with the password to another URL")
	}
	e.clean(t, "portal", "")
}
