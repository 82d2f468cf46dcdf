package peers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/issuertest"
	"github.com/keyroll/keyroll/issuer/server"
	"github.com/keyroll/keyroll/keys"
	"github.com/keyroll/keyroll/lifecycle"
)

// crewjamSP is a crewjam/saml ServiceProvider behind the peer routes of
// fed_test.go. Its only knowledge of keyroll is the federation metadata
// it fetches.
type crewjamSP struct {
	metadataURL url.URL

	mu  sync.Mutex
	sp  saml.ServiceProvider
	ids []string // AuthnRequest IDs sent
}

func startCrewjamSP(t *testing.T, kr *keyroll) (*crewjamSP, string) {
	t.Helper()
	c := &crewjamSP{}
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	base, _ := url.Parse(ts.URL)
	md, _ := url.Parse(kr.url + issuer.MetadataPath)
	c.metadataURL = *md
	c.sp = saml.ServiceProvider{
		EntityID:          ts.URL + "/metadata",
		AcsURL:            *base.JoinPath("acs"),
		MetadataURL:       *base.JoinPath("metadata"),
		AllowIDPInitiated: true,
	}
	if err := c.reload(); err != nil {
		t.Fatalf("crewjam/saml reading keyroll's metadata: %v", err)
	}
	return c, ts.URL
}

func (c *crewjamSP) reload() error {
	md, err := samlsp.FetchMetadata(context.Background(), http.DefaultClient, c.metadataURL)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.sp.IDPMetadata = md
	c.mu.Unlock()
	return nil
}

func (c *crewjamSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "GET /login":
		binding := saml.HTTPRedirectBinding
		if r.URL.Query().Get("binding") == "post" {
			binding = saml.HTTPPostBinding
		}
		sso := c.sp.GetSSOBindingLocation(binding)
		if sso == "" {
			http.Error(w, "keyroll's metadata names no SingleSignOnService for "+binding, http.StatusBadGateway)
			return
		}
		req, err := c.sp.MakeAuthenticationRequest(sso, binding, saml.HTTPPostBinding)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		c.ids = append(c.ids, req.ID)
		if binding == saml.HTTPPostBinding {
			w.Header().Set("Content-Type", "text/html")
			w.Write(req.Post("relay-" + req.ID))
			return
		}
		u, err := req.Redirect("relay-"+req.ID, &c.sp)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, u.String(), http.StatusFound)
	case "POST /acs":
		r.ParseForm() // crewjam reads r.PostForm
		a, err := c.sp.ParseResponse(r, c.ids)
		if err != nil {
			var ire *saml.InvalidResponseError
			if errors.As(err, &ire) {
				err = ire.PrivateErr // crewjam hides the reason from the browser
			}
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		s := signedIn{Issuer: a.Issuer.Value, Attributes: map[string][]string{}}
		if a.Subject != nil && a.Subject.NameID != nil {
			s.NameID = a.Subject.NameID.Value
		}
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				for _, v := range at.Values {
					s.Attributes[at.Name] = append(s.Attributes[at.Name], v.Value)
				}
			}
		}
		json.NewEncoder(w).Encode(s)
	case "GET /metadata":
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		xml.NewEncoder(w).Encode(c.sp.Metadata())
	case "POST /reload":
		c.mu.Unlock()
		err := c.reload()
		c.mu.Lock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// newSAMLApp registers a SAML SP with keyroll and a test user.
func newSAMLApp(t *testing.T, kr *keyroll, name, entityID, acs string) {
	t.Helper()
	ctx := context.Background()
	if _, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: name, Protocol: "saml", Audience: entityID,
		RedirectURIs: []string{acs}, Fed: &adminapi.FedInfo{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
}

// TestSAMLCrewjam: crewjam/saml's ServiceProvider, configured only from
// keyroll's federation metadata, signs alice in (SP-initiated, with the
// HTTP-Redirect binding); after an urgent rotation it refuses the new
// key's response until it reads the metadata again, then accepts it.
func TestSAMLCrewjam(t *testing.T) {
	kr := startKeyroll(t, "RS256")
	sp, base := startCrewjamSP(t, kr)
	newSAMLApp(t, kr, "crewjam", sp.sp.EntityID, sp.sp.AcsURL.String())
	checkRollover(t, kr, "crewjam/saml", base, base+"/login", "alice", "correct horse battery")
}

// TestSAMLCrewjamECDSA records a limit of Go's SAML SPs: keyroll writes
// an ECDSA XML signature value as r||s (XML-DSig 1.1, RFC 4051), while
// goxmldsig, under crewjam/saml and gosaml2, checks it as ASN.1 DER. So
// an issuer on ES256 keys cannot sign in to them. When this test fails,
// one side has changed: ES256 joins TestSAMLCrewjam.
func TestSAMLCrewjamECDSA(t *testing.T) {
	kr := startKeyroll(t, "ES256")
	sp, base := startCrewjamSP(t, kr)
	newSAMLApp(t, kr, "crewjam", sp.sp.EntityID, sp.sp.AcsURL.String())
	got := fedSignIn(t, base+"/login", "alice", "correct horse battery")
	if got.status != http.StatusForbidden || !strings.Contains(string(got.body), "ECDSA verification failure") {
		t.Fatalf("crewjam/saml with keyroll on ES256 answered %d: %s; want the known refusal of r||s signatures", got.status, got.body)
	}
}

// TestSAMLCrewjamBindings: the HTTP-POST binding for the AuthnRequest, and
// an IdP-initiated sign-in (keyroll's /saml2/init) that crewjam accepts
// with AllowIDPInitiated.
func TestSAMLCrewjamBindings(t *testing.T) {
	kr := startKeyroll(t, "RS256")
	sp, base := startCrewjamSP(t, kr)
	newSAMLApp(t, kr, "crewjam", sp.sp.EntityID, sp.sp.AcsURL.String())
	t.Run("POST", func(t *testing.T) {
		expectSignedIn(t, "crewjam/saml", fedSignIn(t, base+"/login?binding=post", "alice", "correct horse battery"), "alice")
	})
	t.Run("Tampered", func(t *testing.T) { checkTamperRefused(t, "crewjam/saml", base+"/login") })
	t.Run("IdPInitiated", func(t *testing.T) {
		expectSignedIn(t, "crewjam/saml", fedSignIn(t, kr.url+issuer.SAMLPath+"/init?app=crewjam", "alice", "correct horse battery"), "alice")
	})
}

// TestSAMLCrewjamSignedRequests: keyroll registers crewjam from the SP
// metadata crewjam serves (entity ID, ACS, signing certificate,
// AuthnRequestsSigned) and accepts its RSA-SHA256-signed AuthnRequests
// with both bindings; an unsigned request from the same SP then gets no
// answer.
func TestSAMLCrewjamSignedRequests(t *testing.T) {
	kr := startKeyroll(t, "RS256")
	sp, base := startCrewjamSP(t, kr)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crewjam SP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sp.mu.Lock()
	sp.sp.Key, sp.sp.Certificate, sp.sp.SignatureMethod = key, cert, dsig.RSASHA256SignatureMethod
	sp.mu.Unlock()
	ctx := context.Background()
	created, err := kr.admin.CreateApp(ctx, adminapi.CreateAppRequest{Name: "crewjam", Protocol: "saml",
		Fed: &adminapi.FedInfo{SPMetadataURL: base + "/metadata"}})
	if err != nil {
		t.Fatalf("keyroll reading crewjam's SP metadata: %v", err)
	}
	if a := created.App; a.Audience != sp.sp.EntityID || !a.Fed.RequestsSigned {
		t.Fatalf("keyroll registered %+v from crewjam's metadata, want entity %s and signed requests", a, sp.sp.EntityID)
	}
	if _, err := kr.admin.CreateUser(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{base + "/login", base + "/login?binding=post"} {
		expectSignedIn(t, "crewjam/saml", fedSignIn(t, login, "alice", "correct horse battery"), "alice")
	}
	sp.mu.Lock()
	sp.sp.SignatureMethod = "" // crewjam now sends its requests unsigned
	sp.mu.Unlock()
	got := fedSignIn(t, base+"/login", "alice", "correct horse battery")
	if got.status != http.StatusBadRequest || !strings.Contains(string(got.body), "not signed") {
		t.Fatalf("an unsigned AuthnRequest from an SP that signs its requests: %d at %s: %s", got.status, got.url, got.body)
	}
}

// TestSAMLCrewjamAutomaticRollover: the same scenario across an automatic
// rollover, the policy's thresholds in seconds: the SP signs alice in,
// refuses the promoted key's response while it holds the metadata it read
// before the next key was published, and accepts it after reading again.
func TestSAMLCrewjamAutomaticRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("waits about 15 s for the policy")
	}
	p := lifecycle.DefaultPolicy()
	p.CertificateDuration, p.GenerationThreshold, p.PromotionThreshold, p.CriticalThreshold = 100*time.Second, 90*time.Second, 3*time.Second, 20*time.Second
	p.RolloverInterval, p.MaxTokenLifetime, p.RefreshInterval, p.ClockSkew = time.Second, 30*time.Second, time.Second, 0
	m, ts := issuertest.Serve(t, issuer.Config{KeySpec: keys.Spec{Alg: "RS256"}, Policy: p}, func(m *issuer.Manager) http.Handler {
		return server.New(m, server.Options{})
	})
	kr := &keyroll{url: ts.URL, m: m, admin: &adminapi.Client{BaseURL: ts.URL}}
	sp, base := startCrewjamSP(t, kr)
	newSAMLApp(t, kr, "crewjam", sp.sp.EntityID, sp.sp.AcsURL.String())
	login := base + "/login"
	expectSignedIn(t, "crewjam/saml", fedSignIn(t, login, "alice", "correct horse battery"), "alice")
	first := m.Snapshot().Primary.KID
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for m.Snapshot().Primary.KID == first {
		if _, err := m.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the policy promoted no key within 60 s")
		}
		<-tick.C
	}
	expectRefused(t, "crewjam/saml", "the promoted key's response while holding the old metadata", fedSignIn(t, login, "alice", "correct horse battery"))
	reload(t, base)
	expectSignedIn(t, "crewjam/saml", fedSignIn(t, login, "alice", "correct horse battery"), "alice")
}
