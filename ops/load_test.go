package ops

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/fedmeta"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
)

// realDocs lists every real provider document with the SHA-1 thumbprints
// SOURCES.md gives for it, in document order.
var realDocs = []struct {
	file   string
	kind   Kind
	sha1   []string
	signed bool // signature verifies as stored
}{
	{"federation-metadata/entra-tenant-8b966979.xml", KindMetadata, []string{"FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", "6B740DD01652EECE2737E05DAE36C5D18FCB74C3", "D92E120951ACF1283D2D2E80A8B22AE83A56FA0F"}, true},
	{"federation-metadata/entra-common-tenantid.xml", KindMetadata, []string{"4773E1D1133EAB71516752CFE10F6142D06A3353", "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A", "DB06E0BABB7B5559D9665477118E9094F773958A", "8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003"}, true},
	{"federation-metadata/entra-app-81c1df79.xml", KindMetadata, []string{"9B6A4331329E0D853B20BD364CD7131D3652942F", "815D70419E644F95BE30F309616EBDA58C5B591B"}, true},
	{"federation-metadata/entra-app-a15b04fc-pretty-crlf.xml", KindMetadata, []string{"BEF6EE4FA1BB603AD3E04AC38987EBA36E6F1DF8"}, false},
	{"federation-metadata/adfs-bwqa-broadsoft.xml", KindMetadata, []string{"8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3"}, true},
	{"federation-metadata/adfs-juvenilejusticevision2020.xml", KindMetadata, []string{"E3140DC274D6B4D8E82D7AEE1212141600E0BD8B"}, true},
	{"federation-metadata/adfs2016-ec2amaz-co4bqav.xml", KindMetadata, []string{"0650FB41D3BFB6064BF4948C3DD2BDCABAB23946"}, true},
	{"federation-metadata/okta-wsfed-dev-11721018.xml", KindMetadata, []string{"306BD73C9A134B894E25521EFBBD5547D6AE6EDD"}, true},
	{"jwks/entra-common-discovery-keys-2020.json", KindJWKS, []string{"4AC66C04D859705DD0F52E2DAE94014C1C8D4512", "86E37DE48BCF7DE86ADF81B30436751971A2AE73", "33AA57ED11E8ADA2ECA6B7C97910A34B1B944617"}, false},
	{"jwks/google-oauth2-v3-certs.json", KindJWKS, []string{"", ""}, false},
}

// TestRealDocumentsMatchOpenSSL serves every real document and checks that
// each key's thumbprints and dates equal what openssl prints.
func TestRealDocumentsMatchOpenSSL(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	var l Loader
	for _, d := range realDocs {
		t.Run(d.file, func(t *testing.T) {
			srv.Set("/"+d.file, fixtures.Read(t, d.file))
			p, err := l.Load(context.Background(), Source{Location: srv.URL + "/" + d.file})
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != d.kind || len(p.Keys) != len(d.sha1) {
				t.Fatalf("kind %s with %d keys, want %s with %d", p.Kind, len(p.Keys), d.kind, len(d.sha1))
			}
			if p.Kind == KindMetadata && p.Signature.Valid != d.signed {
				t.Errorf("signature = %s, want valid=%v", p.Signature, d.signed)
			}
			for i, k := range p.Keys {
				if k.Thumbprint != d.sha1[i] {
					t.Errorf("key %d thumbprint %q, want %q", i, k.Thumbprint, d.sha1[i])
				}
				if k.JWKThumbprint == "" || k.Alg == "" || len(k.Sources) == 0 {
					t.Errorf("key %d incomplete: %+v", i, k)
				}
				if !k.HasCert() {
					continue
				}
				o := fixtures.OpenSSL(t, k.Cert.Raw)
				if k.Thumbprint != o.SHA1 || k.SHA256 != o.SHA256 || !k.NotBefore.Equal(o.NotBefore) || !k.NotAfter.Equal(o.NotAfter) {
					t.Errorf("key %d: keyroll %s %s %s..%s, openssl %s %s %s..%s", i,
						k.Thumbprint, k.SHA256, k.NotBefore, k.NotAfter, o.SHA1, o.SHA256, o.NotBefore, o.NotAfter)
				}
			}
		})
	}
}

func TestMetadataSourcesAndKID(t *testing.T) {
	p, err := Parse(fixtures.Read(t, "federation-metadata/entra-tenant-8b966979.xml"), "f")
	if err != nil {
		t.Fatal(err)
	}
	k := p.Keys[0]
	if got := k.Source(); got != "RoleDescriptor/SecurityTokenServiceType, RoleDescriptor/ApplicationServiceType, IDPSSODescriptor" {
		t.Errorf("sources = %q", got)
	}
	if k.KID != "_UgqXG_tMLduSJ1T8caHxU7cOtc" { // x5t of FD482A5C...
		t.Errorf("kid = %q", k.KID)
	}
	if p.Issuer != "https://sts.windows.net/8b966979-910b-487c-a604-69229b1ac75c/" || p.Signature.Signer != "FD482A5C6FED30B76E489D53F1C687C54EDC3AD7" {
		t.Errorf("issuer %q signer %q", p.Issuer, p.Signature.Signer)
	}
}

func TestGoogleKeysHaveJWKThumbprintOnly(t *testing.T) {
	p, err := Parse(fixtures.Read(t, "jwks/google-oauth2-v3-certs.json"), "f")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range p.Keys {
		if k.HasCert() || k.Thumbprint != "" || !strings.HasPrefix(k.ID(), "jwk:") || len(k.JWKThumbprint) != 43 {
			t.Errorf("key %s: %+v", k.KID, k)
		}
	}
	if p.Keys[0].KID != "943a3a5d7d919625a454e489b75c29adab57acba" || p.Keys[0].Alg != "RS256" {
		t.Errorf("first key %s %s", p.Keys[0].KID, p.Keys[0].Alg)
	}
}

// serveDiscovery serves the Entra discovery fixture with its jwks_uri
// pointing at the Entra JWKS fixture on srv.
func serveDiscovery(t *testing.T, srv *fixtures.Server, path string) {
	doc := fixtures.Read(t, "discovery/entra-tenant-a51dae83-v2.0-openid-configuration.json")
	doc = bytes.Replace(doc, []byte("https://login.microsoftonline.com/a51dae83-9ea9-4d51-ae6b-52ae0337a7f9/discovery/v2.0/keys"), []byte(srv.URL+"/keys"), 1)
	srv.Set(path, doc)
	srv.Set("/keys", fixtures.Read(t, "jwks/entra-common-discovery-keys-2020.json"))
}

func TestTenantShortcutFollowsDiscovery(t *testing.T) {
	srv := fixtures.NewServer(t, true)
	serveDiscovery(t, srv, "/a51dae83-9ea9-4d51-ae6b-52ae0337a7f9/v2.0/.well-known/openid-configuration")
	l := Loader{Client: srv.Client(), EntraAuthority: srv.URL}
	p, err := l.Load(context.Background(), Source{Tenant: "a51dae83-9ea9-4d51-ae6b-52ae0337a7f9"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "https://login.microsoftonline.com/a51dae83-9ea9-4d51-ae6b-52ae0337a7f9/v2.0" || p.Location != srv.URL+"/keys" || len(p.Keys) != 3 {
		t.Errorf("issuer %q location %q keys %d", p.Issuer, p.Location, len(p.Keys))
	}
}

func TestIssuerURLFallsBackToWellKnown(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	doc := fixtures.Read(t, "discovery/keycloak-localhost-myrealm-openid-configuration.json")
	doc = bytes.Replace(doc, []byte(`"http://localhost:8080/realms/myrealm/protocol/openid-connect/certs"`), []byte(`"/realms/myrealm/protocol/openid-connect/certs"`), 1)
	srv.Set("/realms/myrealm/.well-known/openid-configuration", doc)
	srv.Set("/realms/myrealm/protocol/openid-connect/certs", fixtures.Read(t, "jwks/google-oauth2-v3-certs.json"))
	p, err := (&Loader{}).Load(context.Background(), Source{Location: srv.URL + "/realms/myrealm"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "http://localhost:8080/realms/myrealm" || len(p.Keys) != 2 {
		t.Errorf("issuer %q keys %d", p.Issuer, len(p.Keys))
	}
}

func TestADFSShortcut(t *testing.T) {
	srv := fixtures.NewServer(t, true)
	srv.Set("/federationmetadata/2007-06/federationmetadata.xml", fixtures.Read(t, "federation-metadata/adfs2016-ec2amaz-co4bqav.xml"))
	u, _ := url.Parse(srv.URL)
	p, err := (&Loader{Client: srv.Client()}).Load(context.Background(), Source{ADFS: u.Host})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Keys) != 1 || p.Keys[0].Thumbprint != "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946" || !p.Signature.Valid {
		t.Errorf("got %+v", p.Keys)
	}
}

func TestLocalFiles(t *testing.T) {
	p, err := (&Loader{}).Load(context.Background(), Source{Location: fixtures.Path(t, "federation-metadata/okta-wsfed-dev-11721018.xml")})
	if err != nil || p.Keys[0].Thumbprint != "306BD73C9A134B894E25521EFBBD5547D6AE6EDD" {
		t.Fatalf("okta: %v", err)
	}
	if _, err := (&Loader{}).Load(context.Background(), Source{Location: fixtures.Dir(t)}); err == nil {
		t.Error("a directory loaded")
	}
}

func TestBadDocumentsAreClearErrors(t *testing.T) {
	md := fixtures.Read(t, "federation-metadata/adfs-bwqa-broadsoft.xml")
	tests := []struct {
		name string
		doc  []byte
		want error
		text string
	}{
		{"html", []byte("<!DOCTYPE html><html><body>Sign in</body></html>"), ErrUnknownFormat, "HTML"},
		{"empty", nil, ErrUnknownFormat, "empty"},
		{"other json", []byte(`{"error":"invalid_tenant"}`), ErrUnknownFormat, "jwks_uri"},
		{"truncated metadata", md[:len(md)/2], fedmeta.ErrMalformed, ""},
		{"truncated jwks", fixtures.Read(t, "jwks/google-oauth2-v3-certs.json")[:300], ErrUnknownFormat, "JSON"},
		{"entity expansion", []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><EntityDescriptor entityID="&lol2;"/>`), fedmeta.ErrDTD, ""},
		{"external entity", []byte(`<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><EntityDescriptor entityID="&xxe;"/>`), fedmeta.ErrDTD, ""},
		{"oversized", append([]byte(`{"keys":[`), bytes.Repeat([]byte(" "), MaxDocumentSize)...), ErrTooLarge, ""},
	}
	srv := fixtures.NewServer(t, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Set("/doc", tt.doc)
			if tt.doc == nil {
				srv.Set("/doc", []byte{})
			}
			_, err := (&Loader{}).Load(context.Background(), Source{Location: srv.URL + "/doc"})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestTamperedMetadataSignatureInvalid(t *testing.T) {
	doc := fixtures.Read(t, "federation-metadata/adfs-bwqa-broadsoft.xml")
	doc = bytes.Replace(doc, []byte("https://bwqa.broadsoft.net/adfs/services/trust"), []byte("https://evil.example/adfs/services/trust"), 1)
	p, err := Parse(doc, "f")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Signature.Signed || p.Signature.Valid || !strings.Contains(p.Signature.String(), "INVALID") {
		t.Errorf("signature = %s", p.Signature)
	}
}

func TestFetchLimits(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	if _, err := (&Loader{}).Load(context.Background(), Source{Location: "http://idp.example.com/keys"}); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("plain http: err = %v", err)
	}
	srv.Fail("/keys", http.StatusServiceUnavailable)
	var fe *FetchError
	if _, err := (&Loader{}).Load(context.Background(), Source{Location: srv.URL + "/keys"}); !errors.As(err, &fe) || fe.Status != 503 {
		t.Errorf("503: err = %v", err)
	}
	hang := fixtures.NewServer(t, false)
	hang.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	l := Loader{Timeout: 50 * time.Millisecond}
	if _, err := l.Load(context.Background(), Source{Location: hang.URL + "/keys"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging server: err = %v", err)
	}
}

func TestSourceValidate(t *testing.T) {
	for _, s := range []Source{{}, {Tenant: "a", ADFS: "b"}, {Tenant: "a/b"}, {ADFS: "host/path"}, {ADFS: "user@host"}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if u, _ := adfsURL("https://adfs.contoso.com/"); u != "https://adfs.contoso.com/federationmetadata/2007-06/federationmetadata.xml" {
		t.Errorf("adfs url %q", u)
	}
}
