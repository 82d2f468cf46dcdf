package trust

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops"
	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/webconfig"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func parse(t *testing.T, doc []byte) *ops.Published {
	t.Helper()
	p, err := ops.Parse(doc, "provider")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, data, name string) []Anchor {
	t.Helper()
	a, err := Read([]byte(data), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func opts(now string) Options { return Options{Policy: lifecycle.DefaultPolicy(), Now: date(now)} }

// The seed 002 situation: primary expires 2014-07-25, next generated 07-05.
func seedPair(t *testing.T) (primary, next fixtures.Signing, doc []byte) {
	primary = fixtures.NewCert(t, "ADFS Signing - primary", date("2013-07-25"), date("2014-07-25"))
	next = fixtures.NewCert(t, "ADFS Signing - next", date("2014-07-05"), date("2015-07-05"))
	return primary, next, fixtures.JWKS(t, primary, next)
}

func pemOf(cs ...fixtures.Signing) string {
	var b strings.Builder
	for _, c := range cs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}))
	}
	return b.String()
}

func TestVerdictsByADFSThresholds(t *testing.T) {
	primary, next, doc := seedPair(t)
	p := parse(t, doc)
	tests := []struct {
		name    string
		trusted string
		now     string
		signer  int // index of the key named with Options.Signer; -1: none
		want    Verdict
		from    string // SignsFrom of the next key
	}{
		{"both trusted", pemOf(primary, next), "2014-07-07", -1, OK, "-"},
		{"next not yet trusted", pemOf(primary), "2014-07-07", -1, AtRisk, "2014-07-10"},
		// The thresholds only estimate the signer: at most AT RISK.
		{"next promoted by estimate, not trusted", pemOf(primary), "2014-07-11", -1, AtRisk, "2014-07-11"},
		{"next named signer, not trusted", pemOf(primary), "2014-07-11", 1, Broken, "2014-07-11"},
		{"nothing trusted", "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946", "2014-07-07", -1, Broken, "2014-07-10"},
		{"only next trusted, primary estimated signer", pemOf(next), "2014-07-07", -1, AtRisk, "-"},
		{"only next trusted, primary named signer", pemOf(next), "2014-07-07", 0, Broken, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(tt.now)
			if tt.signer >= 0 {
				o.Signer = p.Keys[tt.signer].KID
			}
			r := Check(p, read(t, tt.trusted, "trusted"), o)
			if r.Verdict != tt.want {
				t.Errorf("verdict %s (%s), want %s", r.Verdict, r.Reason, tt.want)
			}
			if got := ops.Date(r.Keys[1].SignsFrom); got != tt.from {
				t.Errorf("next key signs from %s, want %s (%s)", got, tt.from, r.Keys[1].Note)
			}
		})
	}
}

func TestAtRiskSaysFromWhen(t *testing.T) {
	primary, _, doc := seedPair(t)
	r := Check(parse(t, doc), read(t, pemOf(primary), "rp.pem"), opts("2014-07-01"))
	if r.Verdict != AtRisk || !strings.Contains(r.Reason, "may sign from 2014-07-10") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
	if !r.Keys[0].Signing || r.Keys[0].MatchedBy != "rp.pem" {
		t.Errorf("primary: %+v", r.Keys[0])
	}
}

// TestMetadataSignerIsTheSigningKey: in Entra's common metadata the second
// certificate signed the document, so it is the one that signs now.
func TestMetadataSignerIsTheSigningKey(t *testing.T) {
	p := parse(t, fixtures.Read(t, "federation-metadata/entra-common-tenantid.xml"))
	const (
		older   = "4773E1D1133EAB71516752CFE10F6142D06A3353"
		signer  = "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A"
		newer   = "DB06E0BABB7B5559D9665477118E9094F773958A"
		usGov   = "8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003"
		nowDate = "2026-02-06"
	)
	tests := []struct {
		trusted []string
		want    Verdict
	}{
		{[]string{older, signer, newer, usGov}, OK},
		{[]string{signer}, AtRisk},
		{[]string{older, newer, usGov}, Broken},
	}
	for _, tt := range tests {
		r := Check(p, read(t, strings.Join(tt.trusted, "\n"), "list"), opts(nowDate))
		if r.Verdict != tt.want {
			t.Errorf("trusting %d: %s (%s), want %s", len(tt.trusted), r.Verdict, r.Reason, tt.want)
		}
		if !r.Signer.Known() || p.Keys[r.Signer.Index].Thumbprint != signer || !strings.Contains(r.Signer.Method, "metadata") {
			t.Errorf("signer = %+v", r.Signer)
		}
	}
}

// TestRealWebConfigs: the fixtures' Web.config files, as found and after
// editing their registry, against published sets.
func TestRealWebConfigs(t *testing.T) {
	entra := parse(t, fixtures.Read(t, "federation-metadata/entra-common-tenantid.xml"))
	cfg := fixtures.Read(t, "webconfig/wif35-configbased-entra-common.Web.config")
	r := Check(entra, read(t, string(cfg), "Web.config"), opts("2026-02-06"))
	if r.Verdict != Broken || len(r.Stale) != 2 || r.Stale[0].Origin != "Web.config line 115" {
		t.Errorf("stale Web.config: %s (%s), stale %v", r.Verdict, r.Reason, r.Stale)
	}
	all := []string{"4773E1D1133EAB71516752CFE10F6142D06A3353", "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A", "DB06E0BABB7B5559D9665477118E9094F773958A", "8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003"}
	updated, _, err := webconfig.Replace(cfg, "", all)
	if err != nil {
		t.Fatal(err)
	}
	if r := Check(entra, read(t, string(updated), "Web.config"), opts("2026-02-06")); r.Verdict != OK {
		t.Errorf("updated Web.config: %s (%s)", r.Verdict, r.Reason)
	}
	partial, _, _ := webconfig.Replace(cfg, "", all[:2])
	if r := Check(entra, read(t, string(partial), "Web.config"), opts("2026-02-06")); r.Verdict != AtRisk {
		t.Errorf("partial Web.config: %s (%s)", r.Verdict, r.Reason)
	}
	// The ValidatingIssuerNameRegistry file against AD FS 2016 metadata.
	adfs := parse(t, fixtures.Read(t, "federation-metadata/adfs2016-ec2amaz-co4bqav.xml"))
	vinr := fixtures.Read(t, "webconfig/wif45-validating-acs-crmfederation.Web.config")
	if r := Check(adfs, read(t, string(vinr), "Web.config"), opts("2025-01-01")); r.Verdict != Broken {
		t.Errorf("VINR as found: %s", r.Verdict)
	}
	fixed, _, _ := webconfig.Replace(vinr, "", []string{"0650FB41D3BFB6064BF4948C3DD2BDCABAB23946"})
	if r := Check(adfs, read(t, string(fixed), "Web.config"), opts("2025-01-01")); r.Verdict != OK {
		t.Errorf("VINR updated: %s (%s)", r.Verdict, r.Reason)
	}
	// The spaced, lower-case thumbprints of the easyID file are read.
	easy := read(t, string(fixtures.Read(t, "webconfig/wif45-configbased-easyid-spaced-thumbprints.Web.config")), "Web.config")
	if len(easy) != 11 || easy[0].SHA1 != "A611B6866A2645AFD961D9E8D2BF2C1754AB61D5" || easy[0].Label != "greanidp.azurewebsites.net" {
		t.Errorf("easyid anchors: %+v", easy[0])
	}
}

// TestBareJWKS: Google's keys carry no certificate; they are matched by RFC
// 7638 thumbprint or public key, and never get a signer estimate.
func TestBareJWKS(t *testing.T) {
	doc := fixtures.Read(t, "jwks/google-oauth2-v3-certs.json")
	p := parse(t, doc)
	if r := Check(p, read(t, string(doc), "snapshot.json"), opts("2026-01-01")); r.Verdict != OK {
		t.Errorf("snapshot: %s (%s)", r.Verdict, r.Reason)
	}
	r := Check(p, read(t, p.Keys[0].JWKThumbprint, "list"), opts("2026-01-01"))
	if r.Verdict != AtRisk || r.Signer.Known() || r.Keys[1].Note != noDates {
		t.Errorf("one trusted: %s (%s) %+v", r.Verdict, r.Reason, r.Keys[1])
	}
	if r := Check(p, read(t, "0650FB41D3BFB6064BF4948C3DD2BDCABAB23946", "list"), opts("2026-01-01")); r.Verdict != Broken {
		t.Errorf("none trusted: %s", r.Verdict)
	}
}

// TestEstimatedSignerIsNotBroken: Entra's 2020 JWKS on 2020-06-20. By AD
// FS's thresholds the newest key (huN95...) would sign, but a JWKS says
// nothing of which key signs: trusting the two others is AT RISK, with the
// estimate said as such, not BROKEN.
func TestEstimatedSignerIsNotBroken(t *testing.T) {
	p := parse(t, fixtures.Read(t, "jwks/entra-common-discovery-keys-2020.json"))
	trusted := read(t, "SsZsBNhZcF3Q9S4trpQBTByNRRI\nM6pX7RHoraLsprfJeRCjSxuURhc", "list")
	r := Check(p, trusted, opts("2020-06-20"))
	if r.Verdict != AtRisk || !strings.Contains(r.Reason, "estimate") || !strings.Contains(r.Reason, "huN95IvPfehq34GzBDZ1GXGirnM") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
	if !r.Signer.Known() || r.Signer.Certain() || !strings.Contains(r.Keys[1].Note, "estimate") {
		t.Errorf("signer %+v, note %q", r.Signer, r.Keys[1].Note)
	}
	if j := r.JSON(p); j.Signer == nil || !j.Signer.Estimate {
		t.Errorf("JSON signer %+v", j.Signer)
	}
	o := opts("2020-06-20")
	o.Signer = "huN95IvPfehq34GzBDZ1GXGirnM"
	if r := Check(p, trusted, o); r.Verdict != Broken || !r.Signer.Certain() {
		t.Errorf("named signer: %s (%s)", r.Verdict, r.Reason)
	}
}

func TestSignerHint(t *testing.T) {
	primary, next, doc := seedPair(t)
	o := opts("2014-07-07")
	o.Signer = strings.ToLower(next.Cert.Subject.CommonName) // not a key name
	r := Check(parse(t, doc), read(t, pemOf(primary, next), "pem"), o)
	if r.Signer.Known() || r.Verdict != Unknown || !strings.Contains(r.Reason, "not published") {
		t.Errorf("unknown hint: %s (%s) %+v", r.Verdict, r.Reason, r.Signer)
	}
	if err := parse(t, doc).CheckHint(o.Signer); !errors.Is(err, ops.ErrSignerNotPublished) {
		t.Errorf("CheckHint: %v", err)
	}
	p := parse(t, doc)
	o.Signer = p.Keys[1].KID
	if r := Check(p, read(t, pemOf(primary), "pem"), o); r.Verdict != Broken {
		t.Errorf("hinted signer untrusted: %s", r.Verdict)
	}
}

func TestReadFormats(t *testing.T) {
	c := fixtures.NewCert(t, "x", date("2020-01-01"), date("2030-01-01"))
	der := c.Cert.Raw
	b64 := base64.StdEncoding.EncodeToString(der)
	for name, data := range map[string][]byte{
		"der":          der,
		"seed001 .cer": []byte(b64),
		"wrapped .cer": []byte(b64[:64] + "\r\n" + b64[64:] + "\r\n"),
		"pem":          []byte(pemOf(c)),
	} {
		a, err := Read(data, name)
		if err != nil || len(a) != 1 || a[0].Public == nil || len(a[0].SHA1) != 40 {
			t.Errorf("%s: %v %+v", name, err, a)
		}
	}
	list := "# trusted by the app\nThumbprint : 3A38FA984E8560F19AADC9F86FE9594BB6AD049B\n" +
		"sha1 Fingerprint=4A:C6:6C:04:D8:59:70:5D:D0:F5:2E:2D:AE:94:01:4C:1C:8D:45:12\n" +
		"a6 11 b6 86 6a 26 45 af d9 61 d9 e8 d2 bf 2c 17 54 ab 61 d5, ec7320db78a52d93106631b2a3072ba14e6db924\n" +
		"SsZsBNhZcF3Q9S4trpQBTByNRRI\n\n"
	a := read(t, list, "list.txt")
	wantTP := []string{"3A38FA984E8560F19AADC9F86FE9594BB6AD049B", "4AC66C04D859705DD0F52E2DAE94014C1C8D4512", "A611B6866A2645AFD961D9E8D2BF2C1754AB61D5", "EC7320DB78A52D93106631B2A3072BA14E6DB924", "4AC66C04D859705DD0F52E2DAE94014C1C8D4512"}
	if len(a) != len(wantTP) {
		t.Fatalf("list gave %d anchors: %+v", len(a), a)
	}
	for i, w := range wantTP {
		if a[i].SHA1 != w {
			t.Errorf("entry %d = %s, want %s", i, a[i].SHA1, w)
		}
	}
	if a[4].Origin != "list.txt line 5" {
		t.Errorf("origin %q", a[4].Origin)
	}
}

// TestPaddedBase64Thumbprints: kid/x5t forms with '=' padding are read,
// not taken as a label with nothing after it and dropped.
func TestPaddedBase64Thumbprints(t *testing.T) {
	const sha1 = "4AC66C04D859705DD0F52E2DAE94014C1C8D4512"
	for _, list := range []string{
		"SsZsBNhZcF3Q9S4trpQBTByNRRI=",
		"SsZsBNhZcF3Q9S4trpQBTByNRRI=\n",
		"x5t=SsZsBNhZcF3Q9S4trpQBTByNRRI=",
		"kid: SsZsBNhZcF3Q9S4trpQBTByNRRI=",
		"SsZsBNhZcF3Q9S4trpQBTByNRRI=, 4A:C6:6C:04:D8:59:70:5D:D0:F5:2E:2D:AE:94:01:4C:1C:8D:45:12",
	} {
		a, err := ParseThumbprints(list, "list")
		if err != nil || len(a) == 0 {
			t.Errorf("%q: %v %+v", list, err, a)
			continue
		}
		for _, x := range a {
			if x.SHA1 != sha1 {
				t.Errorf("%q: got %s", list, x.SHA1)
			}
		}
	}
	// x5t#S256 with padding, as 44 characters.
	p := parse(t, fixtures.Read(t, "jwks/entra-common-discovery-keys-2020.json"))
	padded := p.Keys[0].JWKThumbprint + "="
	if a, err := ParseThumbprints(padded, "list"); err != nil || len(a) != 1 || !a[0].Matches(p.Keys[0]) {
		t.Errorf("%q: %v %+v", padded, err, a)
	}
}

// TestEntryWithoutAnchorIsAnError: a non-empty line that yields no
// thumbprint is reported with its line, never silently ignored.
func TestEntryWithoutAnchorIsAnError(t *testing.T) {
	for _, list := range []string{"Thumbprint:", "Thumbprint :  ", ",", "3A38FA984E8560F19AADC9F86FE9594BB6AD049B\nSHA1 Fingerprint="} {
		var le *LineError
		if _, err := ParseThumbprints(list, "list"); !errors.As(err, &le) || !errors.Is(err, ErrNotThumbprint) {
			t.Errorf("%q: %v", list, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	var le *LineError
	if _, err := Read([]byte("3A38FA984E8560F19AADC9F86FE9594BB6AD049B\nnot a thumbprint\n"), "list"); !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("bad line: %v", err)
	}
	if _, err := Read([]byte("# nothing\n\n"), "list"); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty list: %v", err)
	}
	if _, err := Read(bytes.Repeat([]byte("A"), MaxInputSize+1), "big"); !errors.Is(err, ops.ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := Read([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "bad.pem"); err == nil {
		t.Error("bad PEM accepted")
	}
	if _, err := Read([]byte(`<configuration><system.identityModel><identityConfiguration><issuerNameRegistry type="x"><trustedIssuers><add thumbprint="zz" name="a"/></trustedIssuers></issuerNameRegistry></identityConfiguration></system.identityModel></configuration>`), "Web.config"); !errors.Is(err, ErrNotThumbprint) {
		t.Errorf("bad Web.config thumbprint: %v", err)
	}
}

func TestRetiredAndExpiredKeys(t *testing.T) {
	p := parse(t, fixtures.Read(t, "federation-metadata/entra-common-tenantid.xml"))
	r := Check(p, read(t, "B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A", "list"), opts("2026-02-06"))
	if r.Verdict != AtRisk || !strings.Contains(r.Reason, "3 published key(s) not trusted; kid jKqmfMT6oL38waSSOcP1_5_KkAM (8CAAA67CC4FAA0BDFCC1A49239C3F5FF9FCA9003) may sign from 2026-02-09") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
	if old := r.Keys[0]; !old.Retired || !old.SignsFrom.IsZero() {
		t.Errorf("retired key: %+v", old)
	}
	// After the old primary expired, trusting only its successor is OK.
	_, next, doc := seedPair(t)
	r = Check(parse(t, doc), read(t, pemOf(next), "pem"), opts("2014-08-01"))
	if r.Verdict != OK || !r.Keys[0].Expired {
		t.Errorf("expired primary untrusted: %s (%s)", r.Verdict, r.Reason)
	}
}

// TestSkippedSigningKeyIsAtRisk: a published key keyroll skips (here an alg
// that does not fit it) cannot be checked: trusting every key keyroll reads
// is AT RISK, naming the skipped key, and the JSON lists it.
func TestSkippedSigningKeyIsAtRisk(t *testing.T) {
	var set map[string][]map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "jwks/entra-common-discovery-keys-2020.json"), &set); err != nil {
		t.Fatal(err)
	}
	set["keys"][2]["alg"] = "ES256"
	doc, _ := json.Marshal(set)
	p := parse(t, doc)
	all := "SsZsBNhZcF3Q9S4trpQBTByNRRI huN95IvPfehq34GzBDZ1GXGirnM M6pX7RHoraLsprfJeRCjSxuURhc"
	o := opts("2020-06-20")
	o.Signer = "huN95IvPfehq34GzBDZ1GXGirnM"
	r := Check(p, read(t, all, "list"), o)
	if r.Verdict != AtRisk || len(r.Skipped) != 1 || !strings.Contains(r.Reason, "skipped") || !strings.Contains(r.Reason, "M6pX7RHoraLsprfJeRCjSxuURhc") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
	if j := r.JSON(p); len(j.Skipped) != 1 || !strings.Contains(j.Skipped[0], "M6pX7RHoraLsprfJeRCjSxuURhc") {
		t.Errorf("JSON skipped %q", j.Skipped)
	}
	// A key for encryption only is not a signing key: it changes nothing.
	set["keys"][2]["alg"] = "RS256"
	set["keys"][2]["use"] = "enc"
	doc, _ = json.Marshal(set)
	if r := Check(parse(t, doc), read(t, all, "list"), o); r.Verdict != OK || len(r.Skipped) != 0 {
		t.Errorf("enc key: %s (%s)", r.Verdict, r.Reason)
	}
}
