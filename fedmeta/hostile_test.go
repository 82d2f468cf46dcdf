package fedmeta

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const mdOpen = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" ID="_a" entityID="https://e.example/">`

// roleWith wraps KeyDescriptor XML in a minimal document.
func roleWith(keyDescriptors string) string {
	return mdOpen + `<RoleDescriptor xmlns:xsi="` + NSXSI + `" xmlns:fed="` + NSFed +
		`" xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="` + NSFed + `">` +
		keyDescriptors + `</RoleDescriptor></EntityDescriptor>`
}

func keyDescriptor(use, certText string) string {
	if use != "" {
		use = ` use="` + use + `"`
	}
	return `<KeyDescriptor` + use + `><KeyInfo xmlns="` + NSDSig + `"><X509Data><X509Certificate>` +
		certText + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`
}

type hostileCase struct {
	name, doc string
	want      error
	msg       string // substring the error must contain
}

func hostileCases(t testing.TB) []hostileCase {
	fixture := string(readFixture(t, "entra-tenant-8b966979.xml"))
	return []hostileCase{
		{"XXE", `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + mdOpen + `&xxe;</EntityDescriptor>`, ErrDTD, "<!DOCTYPE"},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
			`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>`, ErrDTD, "<!DOCTYPE"},
		{"lower-case doctype after comment", `<!-- hi --><!doctype x>` + mdOpen + `</EntityDescriptor>`, ErrDTD, "doctype"},
		{"bare ENTITY", mdOpen + `<!ENTITY x "y"></EntityDescriptor>`, ErrDTD, "ENTITY"},
		{"oversized", mdOpen + "<!--" + strings.Repeat("x", MaxSize) + "--></EntityDescriptor>", ErrTooLarge, "limit 1048576"},
		{"truncated", fixture[:len(fixture)/2], ErrMalformed, "not well-formed"},
		{"JSON", `{"keys":[]}`, ErrMalformed, "not XML"},
		{"binary", "\x00\x01\xff\xfe<", ErrMalformed, "UTF-8"},
		{"UTF-16", "\xff\xfe<\x00E\x00", ErrMalformed, ""},
		{"empty", " \n", ErrMalformed, "empty"},
		{"BOM only", "\xef\xbb\xbf ", ErrMalformed, "empty"},
		{"unterminated comment", mdOpen + "<!-- ", ErrMalformed, "unterminated"},
		{"EntitiesDescriptor", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + mdOpen + `</EntityDescriptor></EntitiesDescriptor>`, ErrMalformed, "aggregates of several entities are not supported"},
		{"wrong root", `<html><body/></html>`, ErrMalformed, "root element is {}html"},
		{"root in no namespace", `<EntityDescriptor entityID="e"/>`, ErrMalformed, "root element is {}EntityDescriptor"},
		{"two roots", mdOpen + `</EntityDescriptor>` + mdOpen + `</EntityDescriptor>`, ErrMalformed, "more than one top-level"},
		{"text after root", mdOpen + `</EntityDescriptor>junk`, ErrMalformed, ""},
		{"undefined entity", mdOpen + `&foo;</EntityDescriptor>`, ErrMalformed, "not well-formed"},
		{"duplicate attribute", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" ID="_a" ID="_b" entityID="e"/>`, ErrMalformed, "duplicate attribute ID"},
		{"element flood", mdOpen + strings.Repeat("<x/>", MaxElements) + `</EntityDescriptor>`, ErrTooLarge, "more than 20000 elements"},
		{"deep nesting", mdOpen + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</EntityDescriptor>`, ErrMalformed, "depth"},
	}
}

func TestParseHostile(t *testing.T) {
	for _, c := range hostileCases(t) {
		_, err := Parse([]byte(c.doc))
		checkErr(t, "Parse "+c.name, err, c.want, c.msg)
	}
}

// Verify runs the same gate before it looks at signatures.
func TestVerifyHostile(t *testing.T) {
	_, cert := newKey(t, kindP256, "pin")
	for _, c := range hostileCases(t) {
		_, err := Verify([]byte(c.doc), []*x509.Certificate{cert})
		checkErr(t, "Verify "+c.name, err, c.want, c.msg)
	}
}

func checkErr(t *testing.T, name string, err, want error, msg string) {
	t.Helper()
	if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: err = %v, want %v containing %q", name, err, want, msg)
	}
}

func TestParseBadCertificates(t *testing.T) {
	_, cert := newKey(t, kindP256, "good")
	good := base64.StdEncoding.EncodeToString(cert.Raw)
	for _, c := range []struct {
		name, kds, msg string
		index          int
	}{
		{"bad base64", keyDescriptor("signing", good) + keyDescriptor("signing", "MII*not-base64"), "not base64", 2},
		{"not a certificate", keyDescriptor("", base64.StdEncoding.EncodeToString([]byte("hello"))), "does not parse", 1},
		{"empty", keyDescriptor("signing", " \r\n "), "empty X509Certificate", 1},
		{"unknown use", keyDescriptor("verification", good), `unknown use "verification"`, 1},
		{"no certificate", `<KeyDescriptor use="signing"><KeyInfo xmlns="` + NSDSig + `"><KeyName>k</KeyName></KeyInfo></KeyDescriptor>`, "no KeyInfo/X509Data/X509Certificate", 1},
	} {
		_, err := Parse([]byte(roleWith(c.kds)))
		var ce *CertError
		if !errors.Is(err, ErrBadCertificate) || !errors.As(err, &ce) || ce.Index != c.index ||
			ce.Source != "RoleDescriptor/SecurityTokenServiceType" || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v (%+v), want CertError KeyDescriptor %d: %q", c.name, err, ce, c.index, c.msg)
		}
	}
}

// Encryption keys are skipped entirely, even malformed ones; a document with
// only encryption keys has no signing certificates.
func TestParseEncryptionOnly(t *testing.T) {
	_, err := Parse([]byte(roleWith(keyDescriptor("encryption", "not even base64"))))
	if !errors.Is(err, ErrNoSigningCerts) {
		t.Errorf("err = %v, want ErrNoSigningCerts", err)
	}
}

// Certificate text wrapped with CRLF and indentation, under arbitrary prefixes.
func TestParseWrappedCertAndPrefixes(t *testing.T) {
	_, cert := newKey(t, kindRSA2048, "wrapped")
	b64 := base64.StdEncoding.EncodeToString(cert.Raw)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 64 {
		wrapped.WriteString("\r\n\t  " + b64[i:min(i+64, len(b64))])
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" +
		`<m:EntityDescriptor xmlns:m="` + NSMetadata + `" xmlns:d="` + NSDSig + `" xmlns:w="` + NSFed + `" xmlns:a="` + NSAddressing +
		`" entityID="  urn:x  " validUntil="2030-01-02T03:04:05.5+01:00" cacheDuration="P1DT2H">` + "\r\n" +
		`<m:RoleDescriptor xmlns:i="` + NSXSI + `" i:type="w:SecurityTokenServiceType">` +
		`<m:KeyDescriptor><d:KeyInfo><d:X509Data><d:X509Certificate>` + wrapped.String() + "\r\n" +
		`</d:X509Certificate></d:X509Data></d:KeyInfo></m:KeyDescriptor>` +
		`<w:PassiveRequestorEndpoint><a:EndpointReference><a:Address> https://p.example/ </a:Address></a:EndpointReference></w:PassiveRequestorEndpoint>` +
		`</m:RoleDescriptor><m:SPSSODescriptor><m:KeyDescriptor use="signing"><KeyInfo xmlns="` + NSDSig + `"><X509Data><X509Certificate>` +
		b64 + `</X509Certificate></X509Data></KeyInfo></m:KeyDescriptor></m:SPSSODescriptor></m:EntityDescriptor>`
	md, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != "urn:x" || md.PassiveURL != "https://p.example/" || md.CacheDuration.String() != "26h0m0s" ||
		md.ValidUntil.UTC().Format("2006-01-02T15:04:05.0") != "2030-01-02T02:04:05.5" || md.Signed {
		t.Errorf("got %+v", md)
	}
	if len(md.Signing) != 1 || !md.Signing[0].Cert.Equal(cert) ||
		strings.Join(md.Signing[0].Sources, ",") != "RoleDescriptor/SecurityTokenServiceType,SPSSODescriptor" {
		t.Errorf("Signing = %+v", md.Signing)
	}
}

func TestParseBadRootAttributes(t *testing.T) {
	for name, doc := range map[string]string{
		"no entityID":       `<EntityDescriptor xmlns="` + NSMetadata + `">`,
		"local validUntil":  `<EntityDescriptor xmlns="` + NSMetadata + `" entityID="e" validUntil="2030-01-01T00:00:00">`,
		"bad cacheDuration": `<EntityDescriptor xmlns="` + NSMetadata + `" entityID="e" cacheDuration="1 hour">`,
	} {
		doc = strings.Replace(roleWith(""), mdOpen, doc, 1)
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// A document just under the limit made of many elements parses (no
// quadratic blow-up or hidden cap).
func TestParseLargeDocument(t *testing.T) {
	_, cert := newKey(t, kindP256, "big")
	kd := keyDescriptor("signing", base64.StdEncoding.EncodeToString(cert.Raw))
	n := (MaxSize - 1000) / len(kd)
	doc := roleWith(strings.Repeat(kd, n))
	md, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) > MaxSize || len(md.Signing) != 1 {
		t.Errorf("size %d, %d signing certs", len(doc), len(md.Signing))
	}
	if _, err := Parse(bytes.Repeat([]byte(" "), MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over limit: %v", err)
	}
}
