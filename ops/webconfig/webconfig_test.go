package webconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../testdata/fixtures/real-world/webconfig"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

func thumbprints(c *Config, issuer string) []string {
	var out []string
	for _, e := range c.Entries {
		if issuer == "" || e.Issuer == issuer {
			out = append(out, e.Thumbprint)
		}
	}
	return out
}

func TestParseRealWebConfigs(t *testing.T) {
	tests := []struct {
		file    string
		layout  Layout
		issuers []string
		first   string
		count   int
		line    int
	}{
		{"wif45-validating-acs-crmfederation.Web.config", Validating, []string{"https://crmfederation.accesscontrol.windows.net/"}, "96BDA8B03C2E351E075F7C386DAEEEE9E9ACC77C", 1, 147},
		{"wif35-configbased-entra-common.Web.config", ConfigurationBased, []string{"https://sts.windows.net/{tenantid}/"}, "92B88C3DD981BF1EBCB244FCFA63C007706C79E0", 2, 115},
		{"wif45-configbased-easyid-spaced-thumbprints.Web.config", ConfigurationBased,
			[]string{"greanidp.azurewebsites.net", "easyid.www.prove.id", "easyid.azurewebsites.net", "criipto-verify-no-sso.criipto.io", "criipto-verify-no-sso.criipto.id", "urn:auth0th-test"},
			"A611B6866A2645AFD961D9E8D2BF2C1754AB61D5", 11, 109},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Entries) != tt.count {
				t.Fatalf("entries = %d, want %d", len(c.Entries), tt.count)
			}
			e := c.Entries[0]
			if e.Layout != tt.layout || e.Thumbprint != tt.first || e.Line != tt.line {
				t.Errorf("first entry = %+v, want %s %s line %d", e, tt.layout, tt.first, tt.line)
			}
			if got := strings.Join(c.Issuers(), "|"); got != strings.Join(tt.issuers, "|") {
				t.Errorf("issuers = %s", got)
			}
			for _, e := range c.Entries {
				if len(e.Thumbprint) != 40 {
					t.Errorf("line %d: thumbprint %q not normalized from %q", e.Line, e.Thumbprint, e.Raw)
				}
			}
		})
	}
}

func TestParseValidatingTypeWithLineBreak(t *testing.T) {
	c, err := Parse(readFixture(t, "wif45-validating-acs-crmfederation.Web.config"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Types) != 1 || !strings.Contains(c.Types[0], "ValidatingIssuerNameRegistry") {
		t.Errorf("types = %q", c.Types)
	}
}

// unchangedOutside checks that out equals in except between the first and
// the last byte of the registry's entries.
func unchangedOutside(t *testing.T, in, out []byte) {
	t.Helper()
	c, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	first, last := c.Entries[0], c.Entries[len(c.Entries)-1]
	from := first.lineStart
	if !bytes.Equal(in[:from], out[:from]) {
		t.Errorf("bytes before the registry entries changed")
	}
	tail := in[last.end:]
	if !bytes.HasSuffix(out, tail) {
		t.Errorf("bytes after the registry entries changed")
	}
}

func TestReplaceValidatingOnlyThumbprintChanges(t *testing.T) {
	in := readFixture(t, "wif45-validating-acs-crmfederation.Web.config")
	newTP := "FD482A5C6FED30B76E489D53F1C687C54EDC3AD7"
	out, ch, err := Replace(in, "", []string{newTP})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(in, []byte("96BDA8B03C2E351E075F7C386DAEEEE9E9ACC77C"), []byte(newTP), 1)
	if !bytes.Equal(out, want) {
		t.Fatalf("output differs from a one-value substitution:\n%s", out)
	}
	if ch.Issuer != "https://crmfederation.accesscontrol.windows.net/" || len(ch.Added) != 1 || len(ch.Removed) != 1 {
		t.Errorf("change = %+v", ch)
	}
	again, ch2, err := Replace(out, "", []string{strings.ToLower(newTP)})
	if err != nil || ch2.Changed() || !bytes.Equal(again, out) {
		t.Errorf("second run: changed=%v err=%v", ch2.Changed(), err)
	}
}

func TestReplaceAddsAndKeepsFormatting(t *testing.T) {
	in := readFixture(t, "wif35-configbased-entra-common.Web.config")
	keep := "3270BF5597004DF339A4E62224731B6BD82810A6"
	add := []string{"B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A", "DB06E0BABB7B5559D9665477118E9094F773958A"}
	out, ch, err := Replace(in, "https://sts.windows.net/{tenantid}/", append([]string{keep}, add...))
	if err != nil {
		t.Fatal(err)
	}
	unchangedOutside(t, in, out)
	wantBlock := `          <add thumbprint="B0CD7FC80C55F06578C8DF81EA3DB1CE68A4E40A" name="https://sts.windows.net/{tenantid}/" />
          <add thumbprint="3270BF5597004DF339A4E62224731B6BD82810A6" name="https://sts.windows.net/{tenantid}/" />
          <add thumbprint="DB06E0BABB7B5559D9665477118E9094F773958A" name="https://sts.windows.net/{tenantid}/" />
`
	if !bytes.Contains(out, []byte(wantBlock)) {
		t.Errorf("registry block not as expected:\n%s", out)
	}
	if len(ch.Added) != 2 || len(ch.Removed) != 1 || ch.Removed[0] != "92B88C3DD981BF1EBCB244FCFA63C007706C79E0" {
		t.Errorf("change = %+v", ch)
	}
	if len(out) != len(in)+len(wantBlock)/3 {
		t.Errorf("length %d, want %d: more than the one added line changed", len(out), len(in)+len(wantBlock)/3)
	}
}

func TestReplaceOneIssuerAmongMany(t *testing.T) {
	in := readFixture(t, "wif45-configbased-easyid-spaced-thumbprints.Web.config")
	_, _, err := Replace(in, "", []string{"0650FB41D3BFB6064BF4948C3DD2BDCABAB23946"})
	var amb *AmbiguousIssuerError
	if !errors.As(err, &amb) || len(amb.Issuers) != 6 {
		t.Fatalf("err = %v, want AmbiguousIssuerError with 6 issuers", err)
	}
	out, ch, err := Replace(in, "easyid.www.prove.id", []string{"54 ee be 1a a4 71 76 75 e7 a0 9d 8d ac 8d 9e 29 fc 94 2b 1e"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Added) != 0 || len(ch.Removed) != 5 {
		t.Errorf("change = %+v, want 5 removed, the spaced one kept", ch)
	}
	c, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := thumbprints(c, "easyid.www.prove.id"); len(got) != 1 || got[0] != "54EEBE1AA4717675E7A09D8DAC8D9E29FC942B1E" {
		t.Errorf("easyid thumbprints = %v", got)
	}
	if len(c.Entries) != 6 {
		t.Errorf("entries = %d, want 6 (other issuers untouched)", len(c.Entries))
	}
	// The spaced entry is kept as written; the tab-indented line is intact.
	for _, s := range []string{`thumbprint="54 ee be 1a a4 71 76 75 e7 a0 9d 8d ac 8d 9e 29 fc 94 2b 1e"`, "\t\t  <add thumbprint=\"EB1C7BC24C853EEFDDBFC06C2370867E94E6693D\""} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lost %q", s)
		}
	}
}

func TestReplaceCRLFAndDuplicates(t *testing.T) {
	in := []byte("<configuration>\r\n <issuerNameRegistry type=\"x.ValidatingIssuerNameRegistry\">\r\n  <authority name=\"a\">\r\n   <keys>\r\n" +
		"    <add thumbprint=\"AA\" />\r\n    <add thumbprint=\"1111111111111111111111111111111111111111\" />\r\n    <add thumbprint=\"1111111111111111111111111111111111111111\" />\r\n" +
		"   </keys>\r\n  </authority>\r\n </issuerNameRegistry>\r\n</configuration>\r\n")
	out, ch, err := Replace(in, "a", []string{"1111111111111111111111111111111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	want := "<configuration>\r\n <issuerNameRegistry type=\"x.ValidatingIssuerNameRegistry\">\r\n  <authority name=\"a\">\r\n   <keys>\r\n" +
		"    <add thumbprint=\"1111111111111111111111111111111111111111\" />\r\n" +
		"   </keys>\r\n  </authority>\r\n </issuerNameRegistry>\r\n</configuration>\r\n"
	if string(out) != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	if len(ch.Removed) != 2 {
		t.Errorf("removed = %v", ch.Removed)
	}
}

func TestParseRejectsHostileAndMalformed(t *testing.T) {
	reg := `<issuerNameRegistry type="ConfigurationBasedIssuerNameRegistry"><trustedIssuers><add thumbprint="&e;" name="x"/></trustedIssuers></issuerNameRegistry>`
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e "x"><!ENTITY e2 "&e;&e;&e;&e;">]><c>` + reg + `</c>`, ErrDTD},
		{"external entity", `<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><c>` + reg + `</c>`, ErrDTD},
		{"utf-16", "\xff\xfe<\x00c\x00>\x00", ErrEncoding},
		{"latin-1", `<?xml version="1.0" encoding="iso-8859-1"?><c/>`, ErrEncoding},
		{"no registry", `<configuration><appSettings/></configuration>`, ErrNoRegistry},
		{"oversized", "<c>" + strings.Repeat(" ", MaxSize) + "</c>", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc)); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	var syn *SyntaxError
	in := readFixture(t, "wif45-validating-acs-crmfederation.Web.config")
	if _, err := Parse(in[:len(in)/2]); !errors.As(err, &syn) || syn.Line == 0 {
		t.Errorf("truncated: err = %v, want SyntaxError with a line", err)
	}
	if _, err := Parse([]byte(`<c>` + reg + `</c>`)); !errors.As(err, &syn) {
		t.Errorf("undefined entity: err = %v, want SyntaxError", err)
	}
}

func TestReplaceRefusesBadSets(t *testing.T) {
	in := readFixture(t, "wif45-validating-acs-crmfederation.Web.config")
	if _, _, err := Replace(in, "", nil); !errors.Is(err, ErrEmptySet) {
		t.Errorf("empty: err = %v", err)
	}
	var bad *BadThumbprintError
	if _, _, err := Replace(in, "", []string{"not-a-thumbprint"}); !errors.As(err, &bad) {
		t.Errorf("bad: err = %v", err)
	}
	if _, _, err := Replace(in, "https://elsewhere/", []string{"96BDA8B03C2E351E075F7C386DAEEEE9E9ACC77C"}); !errors.Is(err, ErrUnknownIssuer) {
		t.Errorf("unknown issuer: err = %v", err)
	}
}

// oneLineConfig is a Web.config of about size bytes on a single line: a
// ConfigurationBasedIssuerNameRegistry with n entries, and their thumbprints.
func oneLineConfig(size int) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><configuration><system.identityModel><identityConfiguration>` +
		`<issuerNameRegistry type="System.IdentityModel.Tokens.ConfigurationBasedIssuerNameRegistry, System.IdentityModel"><trustedIssuers>`)
	n := 0
	for b.Len() < size {
		fmt.Fprintf(&b, `<add thumbprint="%040X" name="https://sts.example/%d/" />`, n, n)
		n++
	}
	b.WriteString(`</trustedIssuers></issuerNameRegistry></identityConfiguration></system.identityModel></configuration>`)
	return b.Bytes(), n
}

// TestParseLargeSingleLine: a 1 MiB Web.config on one line parses (line
// numbers are counted in one pass, not per entry from the start).
func TestParseLargeSingleLine(t *testing.T) {
	data, n := oneLineConfig(1 << 20)
	cfg, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Entries) != n || cfg.Entries[n-1].Line != 1 || cfg.Entries[n-1].Thumbprint != fmt.Sprintf("%040X", n-1) {
		t.Errorf("%d entries (want %d), last %+v", len(cfg.Entries), n, cfg.Entries[n-1])
	}
	// Lines are still right when they do break.
	multi := bytes.ReplaceAll(data[:4096], []byte("<add "), []byte("\n  <add "))
	end := bytes.LastIndex(multi, []byte("<add "))
	multi = append(multi[:end], []byte(`</trustedIssuers></issuerNameRegistry></identityConfiguration></system.identityModel></configuration>`)...)
	cfg, err = Parse(multi)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range cfg.Entries {
		if e.Line != i+2 || !e.ownLine {
			t.Errorf("entry %d: line %d ownLine %v", i, e.Line, e.ownLine)
		}
	}
}

// BenchmarkParseLargeSingleLine: a 1 MiB one-line Web.config.
func BenchmarkParseLargeSingleLine(b *testing.B) {
	data, _ := oneLineConfig(1 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
