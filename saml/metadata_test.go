package saml

import (
	"errors"
	"strings"
	"testing"
)

func spMetadataXML(t testing.TB, sp string) string {
	return `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="` + NSMetadata + `" entityID=" https://sp.example/ ">` + sp + `</md:EntityDescriptor>`
}

func spDescriptor(t testing.TB) string {
	t.Helper()
	sign := b64(testSigner(t, "rsa-sp").Cert.Raw)
	enc := b64(testSigner(t, "p256-sp").Cert.Raw)
	kd := func(use, cert string) string {
		return `<md:KeyDescriptor` + use + `><ds:KeyInfo xmlns:ds="` + NSDSig + `"><ds:X509Data><ds:X509Certificate>` +
			cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	}
	wrapped := sign[:64] + "\n  " + sign[64:]
	return `<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="1" protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol ` + NSProtocol + `">` +
		kd(` use="signing"`, wrapped) + kd(` use="encryption"`, enc) + kd("", sign) +
		`<md:SingleLogoutService Binding="` + BindingHTTPRedirect + `" Location="https://sp.example/slo"/>` +
		`<md:NameIDFormat> ` + NameIDPersistent + ` </md:NameIDFormat><md:NameIDFormat>` + NameIDEmail + `</md:NameIDFormat>` +
		`<md:AssertionConsumerService Binding="` + BindingHTTPPost + `" Location="https://sp.example/acs" index="0"/>` +
		`<md:AssertionConsumerService Binding="` + BindingHTTPRedirect + `" Location="https://sp.example/acs2" index="7" isDefault="true"/>` +
		`</md:SPSSODescriptor>`
}

func TestParseSPMetadata(t *testing.T) {
	md, err := ParseSPMetadata([]byte(spMetadataXML(t, spDescriptor(t))))
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != "https://sp.example/" || !md.AuthnRequestsSigned || !md.WantAssertionsSigned ||
		len(md.SigningCerts) != 1 || !md.SigningCerts[0].Equal(testSigner(t, "rsa-sp").Cert) ||
		strings.Join(md.NameIDFormats, ",") != NameIDPersistent+","+NameIDEmail {
		t.Errorf("got %+v", md)
	}
	want := []Endpoint{{BindingHTTPPost, "https://sp.example/acs", 0, false}, {BindingHTTPRedirect, "https://sp.example/acs2", 7, true}}
	if len(md.ACS) != 2 || md.ACS[0] != want[0] || md.ACS[1] != want[1] {
		t.Errorf("ACS = %+v", md.ACS)
	}
}

func TestParseSPMetadataRefuses(t *testing.T) {
	good := spDescriptor(t)
	for _, c := range []struct {
		name, doc string
		want      error
		msg       string
	}{
		{"DTD", `<!DOCTYPE md [<!ENTITY x SYSTEM "http://evil/">]>` + spMetadataXML(t, good)[len(`<?xml version="1.0"?>`):], ErrDTD, "<!DOCTYPE"},
		{"oversize", spMetadataXML(t, good+"<!--"+strings.Repeat("x", MaxMetadataSize)+"-->"), ErrTooLarge, "limit"},
		{"deep nesting", spMetadataXML(t, strings.Repeat("<x>", 100)+strings.Repeat("</x>", 100)), ErrMalformed, "depth"},
		{"element flood", spMetadataXML(t, strings.Repeat("<x/>", 250_000)), ErrTooLarge, "elements"},
		{"aggregate", `<md:EntitiesDescriptor xmlns:md="` + NSMetadata + `">` + spMetadataXML(t, good)[len(`<?xml version="1.0"?>`):] + `</md:EntitiesDescriptor>`, ErrMalformed, "root element is"},
		{"no SP role", spMetadataXML(t, ""), ErrMalformed, "no SPSSODescriptor"},
		{"SAML 1.1 only", spMetadataXML(t, strings.Replace(good, " "+NSProtocol, "", 1)), ErrMalformed, "no SPSSODescriptor"},
		{"no entityID", strings.Replace(spMetadataXML(t, good), `entityID=" https://sp.example/ "`, "", 1), ErrMalformed, "no entityID"},
		{"bad index", spMetadataXML(t, strings.Replace(good, `index="7"`, `index="-1"`, 1)), ErrMalformed, "unsignedShort"},
		{"no ACS", spMetadataXML(t, `<md:SPSSODescriptor protocolSupportEnumeration="`+NSProtocol+`"/>`), ErrMalformed, "no AssertionConsumerService"},
		{"bad cert", spMetadataXML(t, strings.Replace(good, `<ds:X509Certificate>`, `<ds:X509Certificate>AAAA`, 1)), ErrMalformed, "KeyDescriptor 1"},
		{"bad boolean", spMetadataXML(t, strings.Replace(good, `WantAssertionsSigned="1"`, `WantAssertionsSigned="yes"`, 1)), ErrMalformed, "xs:boolean"},
	} {
		_, err := ParseSPMetadata([]byte(c.doc))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}
