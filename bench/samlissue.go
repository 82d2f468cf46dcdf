package bench

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http/httptest"
	"net/url"
	"runtime"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/keyroll/keyroll/saml"
)

// IssueSuite compares issuing one signed SAML 2.0 Response (the Response
// and its Assertion both signed, RSA-SHA256 with one 2048-bit key, the
// same subject, audience, ACS and attributes) by keyroll's saml package
// and by crewjam/saml's identity provider, against the floor: the two raw
// RSA signatures such a response carries.
type IssueSuite struct {
	Impls []IssueImpl
}

// IssueImpl issues one response per call.
type IssueImpl struct {
	Name  string
	Issue func() error
}

// NewIssueSuite makes the key and the three implementations.
func NewIssueSuite() (*IssueSuite, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench idp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte("a canonical SignedInfo stands here"))
	floor := func() error {
		for range 2 {
			if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err != nil {
				return err
			}
		}
		return nil
	}
	signer := saml.Signer{Key: key, Cert: cert}
	keyroll := func() error {
		t := time.Now().UTC().Truncate(time.Second)
		_, err := saml.BuildResponse(saml.Response{Destination: SAMLACS, InResponseTo: "_req", IssueInstant: t, Issuer: SAMLIdP,
			Assertion: &saml.Assertion{Issuer: SAMLIdP, Subject: "alice", NameIDFormat: saml.NameIDPersistent, Audience: SAMLSP,
				NotBefore: t, NotOnOrAfter: t.Add(time.Hour), SessionIndex: "_s", AuthnInstant: t,
				Attributes: []saml.Attribute{{Name: "email", Values: []string{"alice@example.com"}}}}}, signer, true, true)
		return err
	}
	idpURL, _ := url.Parse(SAMLIdP)
	idp := &crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *idpURL, SSOURL: *idpURL}
	sp := &crewjam.EntityDescriptor{EntityID: SAMLSP, SPSSODescriptors: []crewjam.SPSSODescriptor{{
		AssertionConsumerServices: []crewjam.IndexedEndpoint{{Binding: crewjam.HTTPPostBinding, Location: SAMLACS, Index: 0}}}}}
	httpReq := httptest.NewRequest("POST", SAMLIdP, nil)
	crew := func() error {
		req := &crewjam.IdpAuthnRequest{IDP: idp, HTTPRequest: httpReq, Request: crewjam.AuthnRequest{ID: "_req"}, ServiceProviderMetadata: sp,
			SPSSODescriptor: &sp.SPSSODescriptors[0], ACSEndpoint: &sp.SPSSODescriptors[0].AssertionConsumerServices[0], Now: time.Now().UTC()}
		session := &crewjam.Session{ID: "_s", NameID: "alice", UserEmail: "alice@example.com", CreateTime: req.Now, ExpireTime: req.Now.Add(time.Hour)}
		if err := (crewjam.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
			return err
		}
		if err := req.MakeResponse(); err != nil {
			return err
		}
		if req.ResponseEl == nil {
			return errors.New("crewjam made no response")
		}
		return nil
	}
	return &IssueSuite{Impls: []IssueImpl{{Floor, floor}, {"keyroll", keyroll}, {"crewjam", crew}}}, nil
}

// Benchmark issues responses with impl.
func (s *IssueSuite) Benchmark(impl IssueImpl) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := impl.Issue(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Paired alternates blocks of impl with as many floors on one thread's
// CPU time and reports the ratio as XFloorMetric.
func (s *IssueSuite) Paired(impl IssueImpl) func(*testing.B) {
	floor := s.Impls[0].Issue
	return func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		n := 0
		d, ok := pairLoop(impl.Issue, floor, func() bool { n++; return b.Loop() })
		if !ok {
			b.Fatal("an issuance failed")
		}
		if d[1] > 0 && n > 1 {
			b.ReportMetric(float64(d[0])/float64(d[1]), XFloorMetric)
			b.ReportMetric(float64(d[0])/float64(n-1), CPUMetric)
		}
	}
}
