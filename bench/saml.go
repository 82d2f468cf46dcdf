package bench

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/verify"
)

// SAML identities of the benchmark response.
const (
	SAMLIdP = "https://idp.example.com/"
	SAMLSP  = "https://sp.example.com/"
	SAMLACS = "https://sp.example.com/acs"
)

// SAMLFixture is one signed SAML 2.0 Response (RSA-SHA256, assertion
// signed, as AD FS and Entra ID send it), the IdP's metadata, and the
// pre-computed inputs of the floor: the canonical SignedInfo and its
// signature value.
type SAMLFixture struct {
	Response   []byte // XML
	Metadata   []byte
	Cert       *x509.Certificate
	signedInfo []byte
	sigValue   []byte
}

// NewSAMLFixture signs a response valid for an hour.
func NewSAMLFixture() (*SAMLFixture, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench idp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	f := &SAMLFixture{Cert: cert}
	if f.Metadata, err = fedmeta.Build(fedmeta.Config{EntityID: SAMLIdP, PassiveURL: SAMLIdP + "wsfed", SSOURL: SAMLIdP + "sso",
		Certs: []*x509.Certificate{cert}}); err != nil {
		return nil, err
	}
	ts := func(t time.Time) string { return t.Format("2006-01-02T15:04:05Z") }
	assertion := fmt.Sprintf(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a7d2b1" Version="2.0" IssueInstant="%s">`+
		`<saml:Issuer>%s</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</saml:NameID>`+
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="%s" Recipient="%s"/></saml:SubjectConfirmation></saml:Subject>`+
		`<saml:Conditions NotBefore="%s" NotOnOrAfter="%s"><saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>`+
		`<saml:AuthnStatement AuthnInstant="%s" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`+
		`<saml:AttributeStatement><saml:Attribute Name="http://schemas.microsoft.com/ws/2008/06/identity/claims/role"><saml:AttributeValue>Task.Read</saml:AttributeValue><saml:AttributeValue>Task.Write</saml:AttributeValue></saml:Attribute>`+
		`<saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"><saml:AttributeValue>Alice Example</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`,
		ts(now), SAMLIdP, ts(now.Add(time.Hour)), SAMLACS, ts(now.Add(-time.Minute)), ts(now.Add(time.Hour)), SAMLSP, ts(now))
	doc := etree.NewDocument()
	if err := doc.ReadFromString(assertion); err != nil {
		return nil, err
	}
	sc, err := dsig.NewSigningContext(key, [][]byte{der})
	if err != nil {
		return nil, err
	}
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := sc.SignEnveloped(doc.Root())
	if err != nil {
		return nil, err
	}
	if err := f.floorInputs(signed); err != nil {
		return nil, err
	}
	s, err := etree.NewDocumentWithRoot(signed).WriteToString()
	if err != nil {
		return nil, err
	}
	f.Response = []byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r9f3c" Version="2.0" IssueInstant="` +
		ts(now) + `" Destination="` + SAMLACS + `"><saml:Issuer>` + SAMLIdP + `</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
		s + `</samlp:Response>`)
	if !f.floor() {
		return nil, errors.New("bench: the SAML floor does not verify")
	}
	return f, nil
}

// floorInputs keeps the canonical SignedInfo and the signature value.
func (f *SAMLFixture) floorInputs(signed *etree.Element) error {
	si := signed.FindElement("./Signature/SignedInfo")
	sv := signed.FindElement("./Signature/SignatureValue")
	if si == nil || sv == nil {
		return errors.New("bench: no SignedInfo")
	}
	nsctx, err := etreeutils.NSBuildParentContext(si)
	if err != nil {
		return err
	}
	det, err := etreeutils.NSDetatch(nsctx, si)
	if err != nil {
		return err
	}
	if f.signedInfo, err = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(det); err != nil {
		return err
	}
	f.sigValue, err = base64.StdEncoding.DecodeString(sv.Text())
	return err
}

// floor is the raw signature check: SHA-256 of the canonical SignedInfo and
// RSA PKCS #1 v1.5, what no validator can avoid.
func (f *SAMLFixture) floor() bool {
	h := sha256.Sum256(f.signedInfo)
	return rsa.VerifyPKCS1v15(f.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], f.sigValue) == nil
}

// SAMLImpl is one SAML validator under comparison; Setup returns the
// prepared verification of f.Response.
type SAMLImpl struct {
	Name  string
	Setup func(f *SAMLFixture) (Verify, error)
}

// SAMLImpls returns the floor, keyroll and the two Go SAML libraries.
func SAMLImpls() []SAMLImpl {
	return []SAMLImpl{
		{Floor, func(f *SAMLFixture) (Verify, error) {
			return func() error {
				if !f.floor() {
					return errFloor
				}
				return nil
			}, nil
		}},
		{"keyroll", setupSAMLKeyroll},
		{"crewjam/saml", setupCrewjam},
		{"gosaml2", setupGosaml2},
	}
}

// setupSAMLKeyroll verifies with the replay cache off: the benchmark sends
// the same response again and again, which the cache would refuse (the
// peers keep no such cache).
func setupSAMLKeyroll(f *SAMLFixture) (Verify, error) {
	c, err := verify.NewCache(verify.StaticBytes("bench-metadata", f.Metadata))
	if err != nil {
		return nil, err
	}
	if err := c.Refresh(context.Background()); err != nil {
		return nil, err
	}
	v, err := verify.NewSAML(c, verify.SAMLConfig{Issuer: SAMLIdP, Audience: []string{SAMLSP}, Recipient: SAMLACS, ReplayCacheSize: -1})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func() error { _, err := v.VerifyResponse(ctx, f.Response, ""); return err }, nil
}

func setupCrewjam(f *SAMLFixture) (Verify, error) {
	var md saml.EntityDescriptor
	if err := xmlUnmarshal(f.Metadata, &md); err != nil {
		return nil, err
	}
	saml.MaxIssueDelay = 24 * time.Hour // the benchmark outlives the default 90 s
	acs, _ := url.Parse(SAMLACS)
	sp := &saml.ServiceProvider{EntityID: SAMLSP, AcsURL: *acs, IDPMetadata: &md, AllowIDPInitiated: true}
	return func() error { _, err := sp.ParseXMLResponse(f.Response, nil, *acs); return err }, nil
}

func setupGosaml2(f *SAMLFixture) (Verify, error) {
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderIssuer: SAMLIdP, AssertionConsumerServiceURL: SAMLACS, AudienceURI: SAMLSP,
		IDPCertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.Cert}},
	}
	enc := base64.StdEncoding.EncodeToString(f.Response)
	return func() error {
		info, err := sp.RetrieveAssertionInfo(enc)
		if err == nil && (info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience) {
			err = errors.New("gosaml2: time or audience not valid")
		}
		return err
	}, nil
}

// SAMLSuite is every SAML implementation prepared on one fixture, each
// checked to accept the response and refuse a tampered copy.
type SAMLSuite struct {
	Fixture *SAMLFixture
	Impls   []SAMLImpl
	ready   map[string]Verify
}

// NewSAMLSuite prepares and checks every implementation.
func NewSAMLSuite() (*SAMLSuite, error) {
	f, err := NewSAMLFixture()
	if err != nil {
		return nil, err
	}
	s := &SAMLSuite{Fixture: f, Impls: SAMLImpls(), ready: map[string]Verify{}}
	tampered := *f
	tampered.Response = bytes.Replace(f.Response, []byte("alice@example.com"), []byte("admin@example.com"), 1)
	for _, im := range s.Impls {
		v, err := im.Setup(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.Name, err)
		}
		for range 2 {
			if err := v(); err != nil {
				return nil, fmt.Errorf("%s rejects the valid response: %w", im.Name, err)
			}
		}
		if im.Name != Floor {
			bad, err := im.Setup(&tampered)
			if err != nil {
				return nil, err
			}
			if bad() == nil {
				return nil, fmt.Errorf("%s: %w", im.Name, errAccepted)
			}
		}
		s.ready[im.Name] = v
	}
	return s, nil
}

// Benchmark returns the serial benchmark of impl.
func (s *SAMLSuite) Benchmark(impl string) func(*testing.B) {
	v := s.ready[impl]
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Paired alternates impl with the floor in blocks on one thread's CPU
// time and reports their ratio (see Suite.Paired).
func (s *SAMLSuite) Paired(impl string) func(*testing.B) {
	v, floor := s.ready[impl], s.ready[Floor]
	return func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		d, ok := pairLoop(v, floor, b.Loop)
		if !ok {
			b.Fatal("a verification failed")
		}
		if d[1] > 0 {
			b.ReportMetric(float64(d[0])/float64(d[1]), XFloorMetric)
		}
	}
}

// Run benchmarks every implementation rounds times and returns rows
// (Alg "SAML", Mode "serial").
func (s *SAMLSuite) Run(rounds int, progress Progress) []Row {
	ns := map[string][]float64{}
	ratios := map[string][]float64{}
	allocs := map[string]testing.BenchmarkResult{}
	for range rounds {
		for _, im := range s.Impls {
			r := testing.Benchmark(s.Benchmark(im.Name))
			if progress != nil {
				progress("SAML/"+im.Name, r)
			}
			ns[im.Name], allocs[im.Name] = append(ns[im.Name], nsPerOp(r)), r
			if im.Name != Floor {
				p := testing.Benchmark(s.Paired(im.Name))
				ratios[im.Name] = append(ratios[im.Name], p.Extra[XFloorMetric])
			}
		}
	}
	ratios[Floor] = []float64{1}
	var rows []Row
	for _, im := range s.Impls {
		r := allocs[im.Name]
		rows = append(rows, Row{Alg: "SAML", Mode: "serial", Impl: im.Name, NsPerOp: minOf(ns[im.Name]),
			AllocsPerOp: r.AllocsPerOp(), BytesPerOp: r.AllocedBytesPerOp(), XFloor: median(ratios[im.Name])})
	}
	return rows
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}

func xmlUnmarshal(data []byte, v any) error { return xml.Unmarshal(data, v) }
