package drilltest

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/internal/xmlsafe"
	"github.com/keyroll/keyroll/issuer"
)

// XML names a service provider reads.
const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	statusOK    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bindingPost = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	claimName   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	clockSkew   = time.Minute
)

// Certs gives the certificates a signature must verify under; refresh
// asks for a fresh copy after a signature verified under none of them.
type Certs func(ctx context.Context, refresh bool) ([]*x509.Certificate, error)

// MetadataCerts reads the signing certificates of the federation metadata
// at metadataURL when first asked and again whenever a signature verifies
// under none of them, as a relying party that refreshes its metadata on an
// unknown key does. It does not check the metadata's own signature (it
// fetches from the issuer directly, as over HTTPS).
func MetadataCerts(metadataURL string, hc *http.Client) Certs {
	if hc == nil {
		hc = http.DefaultClient
	}
	var mu sync.Mutex
	var cached []*x509.Certificate
	return func(ctx context.Context, refresh bool) ([]*x509.Certificate, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil && !refresh {
			return cached, nil
		}
		certs, err := readMetadata(ctx, hc, metadataURL)
		if err != nil {
			return cached, err
		}
		cached = certs
		return cached, nil
	}
}

// FirstSeen reads the federation metadata at metadataURL once, now, and
// trusts only the first signing certificate it lists (keyroll lists the
// primary first), as a service provider configured by copying "the
// token-signing certificate" on the day it was set up does.
func FirstSeen(ctx context.Context, metadataURL string) (Certs, error) {
	certs, err := readMetadata(ctx, http.DefaultClient, metadataURL)
	if err != nil {
		return nil, err
	}
	pinned := certs[:1]
	return func(context.Context, bool) ([]*x509.Certificate, error) { return pinned, nil }, nil
}

// MetadataURL is the federation metadata of the issuer at issuerURL.
func MetadataURL(issuerURL string) string {
	return strings.TrimSuffix(issuerURL, "/") + issuer.MetadataPath
}

func readMetadata(ctx context.Context, hc *http.Client, metadataURL string) ([]*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, fedmeta.MaxSize+1))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("drilltest: metadata: HTTP %d %v", resp.StatusCode, err)
	}
	md, err := fedmeta.Parse(body)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, s := range md.Signing {
		certs = append(certs, s.Cert)
	}
	return certs, nil
}

// FedConfig configures a FedApp.
type FedConfig struct {
	// Issuer is the issuer URL: the assertions' Issuer, and where its
	// /saml2 or /wsfed endpoint is.
	Issuer string
	// WSFed makes the application a WS-Federation relying party
	// (wsignin1.0, SAML 2.0 tokens); otherwise it is a SAML 2.0 service
	// provider (HTTP-Redirect request, HTTP-POST answer).
	WSFed bool
	// EntityID is the SAML entity ID or WS-Federation realm.
	EntityID string
	// ACS is the assertion consumer service or reply URL; its path is
	// served and must not be "/".
	ACS string
	// Certs are the certificates answers must be signed under.
	Certs Certs
	// Now checks validity periods; nil: time.Now.
	Now func() time.Time
}

// FedApp is a SAML 2.0 service provider or WS-Federation relying party:
// "/" says who is signed in, or sends a browser without a session to the
// issuer; the ACS or reply URL takes the posted answer, checks its
// signature with goxmldsig (RSA: goxmldsig reads ECDSA signature values
// as ASN.1, not XML-DSig's r||s) under its Certs, then the issuer,
// audience, validity, destination and request it answers, and sends the
// browser back to "/" with a session cookie. A refused answer gets a 401
// "Sign-in failed" page.
type FedApp struct {
	cfg      FedConfig
	acs      string
	mu       sync.Mutex
	pending  map[string]string // RelayState or wctx → AuthnRequest ID ("" for WS-Fed)
	sessions map[string]string // session cookie → user
}

// NewFedApp returns the application.
func NewFedApp(cfg FedConfig) (*FedApp, error) {
	u, err := url.Parse(cfg.ACS)
	if err != nil || u.Path == "" || u.Path == "/" || cfg.Certs == nil || cfg.EntityID == "" {
		return nil, errors.New("drilltest: a federation app needs an entity ID, an ACS URL with a path and certificates to trust")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &FedApp{cfg: cfg, acs: u.Path, pending: map[string]string{}, sessions: map[string]string{}}, nil
}

// ServeHTTP implements http.Handler.
func (a *FedApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == a.acs && r.Method == http.MethodPost:
		a.answer(w, r)
	case r.URL.Path == "/":
		a.home(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *FedApp) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("toy_session"); err == nil {
		a.mu.Lock()
		user, ok := a.sessions[c.Value]
		a.mu.Unlock()
		if ok {
			page(w, http.StatusOK, "Home", "Signed in as "+user+".")
			return
		}
	}
	relay, id := random()[:16], ""
	base := strings.TrimSuffix(a.cfg.Issuer, "/")
	var to string
	if a.cfg.WSFed {
		q := url.Values{"wa": {"wsignin1.0"}, "wtrealm": {a.cfg.EntityID}, "wreply": {a.cfg.ACS}, "wctx": {relay}}
		to = base + issuer.PassivePath + "?" + q.Encode()
	} else {
		id = "_" + random()
		req, err := a.authnRequest(id, base+issuer.SAMLPath)
		if err != nil {
			page(w, http.StatusInternalServerError, "Error", err.Error())
			return
		}
		to = base + issuer.SAMLPath + "?" + url.Values{"SAMLRequest": {req}, "RelayState": {relay}}.Encode()
	}
	a.mu.Lock()
	a.pending[relay] = id
	a.mu.Unlock()
	http.Redirect(w, r, to, http.StatusFound)
}

// authnRequest is an AuthnRequest for the HTTP-Redirect binding: deflated
// and base64-encoded.
func (a *FedApp) authnRequest(id, destination string) (string, error) {
	x := html.EscapeString
	doc := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="%s"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		nsProtocol, nsAssertion, x(id), a.cfg.Now().UTC().Format(time.RFC3339), x(destination), x(a.cfg.ACS), bindingPost, x(a.cfg.EntityID))
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err == nil {
		fw.Write([]byte(doc))
		err = fw.Close()
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), err
}

// answer takes the posted SAMLResponse or wresult.
func (a *FedApp) answer(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "Sign-in failed", "The form does not parse.")
		return
	}
	relay := r.PostForm.Get("RelayState")
	if a.cfg.WSFed {
		relay = r.PostForm.Get("wctx")
	}
	a.mu.Lock()
	reqID, ok := a.pending[relay]
	delete(a.pending, relay)
	a.mu.Unlock()
	if !ok {
		page(w, http.StatusBadRequest, "Sign-in failed", "Unknown sign-in attempt.")
		return
	}
	var user string
	var err error
	if a.cfg.WSFed {
		user, err = a.wsfed(r.Context(), r.PostForm)
	} else {
		user, err = a.saml(r.Context(), r.PostForm.Get("SAMLResponse"), reqID)
	}
	if err != nil {
		page(w, http.StatusUnauthorized, "Sign-in failed", err.Error())
		return
	}
	sid := random()
	a.mu.Lock()
	a.sessions[sid] = user
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "toy_session", Value: sid, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// saml checks a SAMLResponse answering request reqID and returns the user.
func (a *FedApp) saml(ctx context.Context, b64, reqID string) (string, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", errors.New("SAMLResponse is not base64")
	}
	_, root, err := xmlsafe.Read(data, xmlsafe.Limits{})
	if err != nil {
		return "", err
	}
	if !xmlsafe.Is(root, nsProtocol, "Response") {
		return "", errors.New("not a SAML Response")
	}
	// Validate first, then read only what was signed: the Response, or
	// its one Assertion when only that is signed.
	resp, assertion := root, (*etree.Element)(nil)
	if xmlsafe.Child(root, nsDSig, "Signature") != nil {
		if resp, err = a.verified(ctx, root); err != nil {
			return "", fmt.Errorf("Response signature: %w", err)
		}
	}
	as := xmlsafe.Children(resp, nsAssertion, "Assertion")
	if len(as) != 1 {
		return "", fmt.Errorf("the Response holds %d assertions, want 1", len(as))
	}
	assertion = as[0]
	if resp == root {
		if assertion, err = a.verified(ctx, assertion); err != nil {
			return "", fmt.Errorf("Assertion signature: %w", err)
		}
	}
	code := xmlsafe.Path(resp, nsProtocol, "Status", nsProtocol, "StatusCode")
	switch v := attr(code, "Value"); {
	case v != statusOK:
		return "", fmt.Errorf("status %q", v)
	case attr(resp, "Destination") != a.cfg.ACS:
		return "", fmt.Errorf("Destination %q", attr(resp, "Destination"))
	case attr(resp, "InResponseTo") != reqID:
		return "", fmt.Errorf("InResponseTo %q, want %q", attr(resp, "InResponseTo"), reqID)
	}
	return a.checkAssertion(assertion)
}

// wsfed checks a wsignin1.0 answer and returns the user.
func (a *FedApp) wsfed(ctx context.Context, form url.Values) (string, error) {
	if form.Get("wa") != "wsignin1.0" {
		return "", fmt.Errorf("wa %q", form.Get("wa"))
	}
	_, root, err := xmlsafe.Read([]byte(form.Get("wresult")), xmlsafe.Limits{})
	if err != nil {
		return "", err
	}
	var as []*etree.Element
	xmlsafe.Walk(root, func(el *etree.Element) error {
		if xmlsafe.Is(el, nsAssertion, "Assertion") {
			as = append(as, el)
		}
		return nil
	})
	if len(as) != 1 {
		return "", fmt.Errorf("the wresult holds %d SAML 2.0 assertions, want 1", len(as))
	}
	assertion, err := a.verified(ctx, as[0])
	if err != nil {
		return "", fmt.Errorf("Assertion signature: %w", err)
	}
	return a.checkAssertion(assertion)
}

// verified validates el's enveloped signature under the trusted
// certificates, refreshing them once if it verifies under none, and
// returns the element as verified.
func (a *FedApp) verified(ctx context.Context, el *etree.Element) (*etree.Element, error) {
	var err error
	for _, refresh := range []bool{false, true} {
		var certs []*x509.Certificate
		if certs, err = a.cfg.Certs(ctx, refresh); err != nil {
			continue
		}
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
		vc.Clock = dsig.NewFakeClockAt(a.cfg.Now())
		var v *etree.Element
		if v, err = vc.Validate(el); err == nil {
			return v, nil
		}
	}
	return nil, err
}

// checkAssertion checks a verified assertion's issuer, audience and
// validity and returns the user's name (the name attribute, else the
// NameID).
func (a *FedApp) checkAssertion(as *etree.Element) (string, error) {
	now := a.cfg.Now()
	iss := xmlsafe.Child(as, nsAssertion, "Issuer")
	cond := xmlsafe.Child(as, nsAssertion, "Conditions")
	if iss == nil || strings.TrimSpace(iss.Text()) != a.cfg.Issuer {
		return "", errors.New("the assertion is not from the issuer")
	}
	if cond == nil {
		return "", errors.New("the assertion has no Conditions")
	}
	notBefore, err1 := time.Parse(time.RFC3339, attr(cond, "NotBefore"))
	notAfter, err2 := time.Parse(time.RFC3339, attr(cond, "NotOnOrAfter"))
	if err1 != nil || err2 != nil || now.Add(clockSkew).Before(notBefore) || !now.Add(-clockSkew).Before(notAfter) {
		return "", fmt.Errorf("the assertion is valid from %q to %q", attr(cond, "NotBefore"), attr(cond, "NotOnOrAfter"))
	}
	aud := xmlsafe.Path(cond, nsAssertion, "AudienceRestriction", nsAssertion, "Audience")
	if aud == nil || strings.TrimSpace(aud.Text()) != a.cfg.EntityID {
		return "", errors.New("the assertion is not for this application")
	}
	user := ""
	if id := xmlsafe.Path(as, nsAssertion, "Subject", nsAssertion, "NameID"); id != nil {
		user = strings.TrimSpace(id.Text())
	}
	if st := xmlsafe.Child(as, nsAssertion, "AttributeStatement"); st != nil {
		for _, at := range xmlsafe.Children(st, nsAssertion, "Attribute") {
			if v := xmlsafe.Child(at, nsAssertion, "AttributeValue"); attr(at, "Name") == claimName && v != nil {
				user = strings.TrimSpace(v.Text())
			}
		}
	}
	if user == "" {
		return "", errors.New("the assertion names no user")
	}
	return user, nil
}

func attr(el *etree.Element, key string) string {
	if el == nil {
		return ""
	}
	v, _ := xmlsafe.Attr(el, key)
	return v
}
