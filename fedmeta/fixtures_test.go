package fedmeta

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type wantCert struct {
	sha1, notBefore, notAfter string
}

type fixture struct {
	file       string
	entityID   string
	signing    []wantCert // in document order
	encryption []string   // thumbprints that must not be listed as signing
	signer     string     // thumbprint of the metadata signer; "" if the signature must fail as stored
	sources    []string   // Sources of the first signing certificate
	passiveURL string
}

// fixtures repeats testdata/fixtures/real-world/SOURCES.md (federation-metadata).
var fixtures = []fixture{
	{
		file: "entra-tenant-8b966979.xml", entityID: "https://sts.windows.net/8b966979-910b-487c-a604-69229b1ac75c/",
		signing: []wantCert{
			{"FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", "2017-01-03", "2019-01-04"},
			{"6B740DD01652EECE2737E05DAE36C5D18FCB74C3", "2017-02-13", "2019-02-14"},
			{"D92E120951ACF1283D2D2E80A8B22AE83A56FA0F", "2016-11-16", "2018-11-16"},
		},
		signer:     "FD482A5C6FED30B76E489D53F1C687C54EDC3AD7",
		sources:    []string{"RoleDescriptor/SecurityTokenServiceType", "RoleDescriptor/ApplicationServiceType", "IDPSSODescriptor"},
		passiveURL: "https://login.microsoftonline.com/8b966979-910b-487c-a604-69229b1ac75c/wsfed",
	},
	{
		file: "entra-common-tenantid.xml", entityID: "https://sts.windows.net/{tenantid}/",
		signing: []wantCert{
			{"4773E1D1133EAB71516752CFE10F6142D06A3353", "2026-01-10", "2031-01-10"},
			{"B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A", "2026-01-25", "2031-01-25"},
			{"DB06E0BABB7B5559D9665477118E9094F773958A", "2026-02-05", "2031-02-05"},
			{"8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003", "2026-02-04", "2031-02-04"},
		},
		signer: "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A",
	},
	{
		file: "entra-app-81c1df79.xml", entityID: "https://sts.windows.net/81c1df79-e153-4f9d-a101-8dcf04af6c2c/",
		signing: []wantCert{
			{"9B6A4331329E0D853B20BD364CD7131D3652942F", "2022-09-28", "2025-09-28"},
			{"815D70419E644F95BE30F309616EBDA58C5B591B", "2024-05-07", "2027-05-07"},
		},
		signer: "9B6A4331329E0D853B20BD364CD7131D3652942F",
	},
	{
		file: "entra-app-a15b04fc-pretty-crlf.xml", entityID: "https://sts.windows.net/a15b04fc-6ff1-42a7-bb24-2e762259f5da/",
		signing: []wantCert{{"BEF6EE4FA1BB603AD3E04AC38987EBA36E6F1DF8", "2022-03-22", "2025-03-22"}},
	},
	{
		file: "adfs-bwqa-broadsoft.xml", entityID: "https://bwqa.broadsoft.net/adfs/services/trust",
		signing:    []wantCert{{"8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3", "2018-01-24", "2019-01-24"}},
		encryption: []string{"E8B10BBAC4CC9A43BE888000841254165CD7B22B"},
		signer:     "8C2F75CE61C705F61A0D286445D1AFC5F7AE94C3",
	},
	{
		file: "adfs-juvenilejusticevision2020.xml", entityID: "https://idp.juvenilejusticevision2020.com/adfs/services/trust",
		signing: []wantCert{{"E3140DC274D6B4D8E82D7AEE1212141600E0BD8B", "2017-03-10", "2018-03-10"}},
		signer:  "E3140DC274D6B4D8E82D7AEE1212141600E0BD8B",
	},
	{
		file: "adfs2016-ec2amaz-co4bqav.xml", entityID: "http://EC2AMAZ-CO4BQAV.test.local/adfs/services/trust",
		signing:    []wantCert{{"0650FB41D3BFB6064BF4948C3DD2BDCABAB23946", "2024-08-03", "2025-08-03"}},
		encryption: []string{"9F44F3EB41B396699299B0FB2A3C982122E949DB"},
		signer:     "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946",
	},
	{
		file: "okta-wsfed-dev-11721018.xml", entityID: "http://www.okta.com/exk3xwuhvra92gqDg5d7",
		signing:    []wantCert{{"306BD73C9A134B894E25521EFBBD5547D6AE6EDD", "2022-02-21", "2032-02-21"}},
		signer:     "306BD73C9A134B894E25521EFBBD5547D6AE6EDD",
		sources:    []string{"RoleDescriptor/SecurityTokenServiceType"},
		passiveURL: "https://dev-11721018.okta.com/app/template_wsfed/sso/wsfed/passive",
	},
}

func TestFixtureTableCoversEveryFile(t *testing.T) {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".xml") && !slices.ContainsFunc(fixtures, func(f fixture) bool { return f.file == e.Name() }) {
			t.Errorf("%s has no row in the fixtures table", e.Name())
		}
	}
}

func TestParseFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			md, err := Parse(readFixture(t, f.file))
			if err != nil {
				t.Fatal(err)
			}
			if md.EntityID != f.entityID || !md.Signed {
				t.Errorf("EntityID %q Signed %v, want %q true", md.EntityID, md.Signed, f.entityID)
			}
			checkSigning(t, md, f)
			if f.passiveURL != "" && md.PassiveURL != f.passiveURL {
				t.Errorf("PassiveURL %q, want %q", md.PassiveURL, f.passiveURL)
			}
			if f.sources != nil && !slices.Equal(md.Signing[0].Sources, f.sources) {
				t.Errorf("Sources %q, want %q", md.Signing[0].Sources, f.sources)
			}
		})
	}
}

func checkSigning(t *testing.T, md *Metadata, f fixture) {
	t.Helper()
	if len(md.Signing) != len(f.signing) {
		t.Fatalf("%d signing certs, want %d", len(md.Signing), len(f.signing))
	}
	for i, w := range f.signing {
		c := md.Signing[i].Cert
		got := wantCert{Thumbprint(c), c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02")}
		if got != w {
			t.Errorf("signing cert %d = %v, want %v", i, got, w)
		}
		if len(md.Signing[i].Sources) == 0 {
			t.Errorf("signing cert %d has no Sources", i)
		}
	}
	for _, enc := range f.encryption {
		for _, s := range md.Signing {
			if Thumbprint(s.Cert) == enc {
				t.Errorf("encryption cert %s listed as signing", enc)
			}
		}
	}
}

// The juvenilejusticevision document lists its one certificate for signing
// in three roles and for encryption too; the encryption KeyDescriptors add
// nothing.
func TestParseSourcesDeduplicated(t *testing.T) {
	md, err := Parse(readFixture(t, "adfs-juvenilejusticevision2020.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"RoleDescriptor/SecurityTokenServiceType", "SPSSODescriptor", "IDPSSODescriptor"}
	if got := md.Signing[0].Sources; !slices.Equal(got, want) {
		t.Errorf("Sources %q, want %q", got, want)
	}
}

func TestVerifyFixtures(t *testing.T) {
	for _, f := range fixtures {
		if f.signer == "" {
			continue
		}
		t.Run(f.file, func(t *testing.T) {
			data := readFixture(t, f.file)
			md, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			signer := findSigning(t, md, f.signer)
			got, err := Verify(data, []*x509.Certificate{signer})
			if err != nil {
				t.Fatalf("Verify pinned to %s: %v", f.signer, err)
			}
			if got != signer {
				t.Errorf("Verify returned %s, want the pinned %s", Thumbprint(got), f.signer)
			}
			// Pinning every published cert still names the signer.
			var all []*x509.Certificate
			for _, s := range md.Signing {
				all = append(all, s.Cert)
			}
			if got, err := Verify(data, all); err != nil || Thumbprint(got) != f.signer {
				t.Errorf("Verify pinned to all: %v, %v", got, err)
			}
		})
	}
}

// Pinning a published certificate that did not sign the document fails.
func TestVerifyFixtureWrongPin(t *testing.T) {
	data := readFixture(t, "entra-tenant-8b966979.xml")
	md, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	other := findSigning(t, md, "6B740DD01652EECE2737E05DAE36C5D18FCB74C3")
	_, err = Verify(data, []*x509.Certificate{other})
	if !errors.Is(err, ErrUntrustedSigner) || !strings.Contains(err.Error(), "FD482A5C6FED30B76E489D53F1C687C54EDC3AD7") {
		t.Errorf("err = %v, want ErrUntrustedSigner naming the real signer", err)
	}
}

func TestVerifyPrettyCRLFFixture(t *testing.T) {
	data := readFixture(t, "entra-app-a15b04fc-pretty-crlf.xml")
	md, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	pin := []*x509.Certificate{md.Signing[0].Cert}
	if _, err := Verify(data, pin); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("re-indented document: err = %v, want ErrInvalidSignature", err)
	}
	// SOURCES.md: it verifies once the whitespace between tags is removed,
	// so the failure above is the re-indentation and nothing else.
	compact := regexp.MustCompile(`>\s+<`).ReplaceAll(data, []byte("><"))
	if _, err := Verify(compact, pin); err != nil {
		t.Fatalf("compacted document: %v", err)
	}
}

func TestVerifyTamperedFixtures(t *testing.T) {
	for _, f := range fixtures {
		if f.signer == "" {
			continue
		}
		data := readFixture(t, f.file)
		md, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		pin := []*x509.Certificate{findSigning(t, md, f.signer)}
		for name, tampered := range map[string][]byte{
			"cert":     tamperCert(t, data),
			"entityID": bytes.Replace(data, []byte(`entityID="`+f.entityID[:8]), []byte(`entityID="`+f.entityID[:7]+"X"), 1),
		} {
			if bytes.Equal(tampered, data) {
				t.Fatalf("%s: tampering %s changed nothing", f.file, name)
			}
			_, err := Verify(tampered, pin)
			if !errors.Is(err, ErrInvalidSignature) || !strings.Contains(err.Error(), "digest mismatch") {
				t.Errorf("%s with changed %s: err = %v, want digest mismatch", f.file, name, err)
			}
		}
	}
}

// tamperCert changes one base64 character of the first KeyDescriptor's
// certificate (not the one in the signature's KeyInfo).
func tamperCert(t *testing.T, data []byte) []byte {
	t.Helper()
	kd := bytes.Index(data, []byte("KeyDescriptor"))
	i := bytes.Index(data[kd:], []byte("X509Certificate>"))
	if kd < 0 || i < 0 {
		t.Fatal("no KeyDescriptor certificate")
	}
	pos := kd + i + len("X509Certificate>") + 100
	out := bytes.Clone(data)
	if out[pos] == 'A' {
		out[pos] = 'B'
	} else {
		out[pos] = 'A'
	}
	return out
}
