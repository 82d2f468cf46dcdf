package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppsCreateFederation: SAML and WS-Fed applications are registered
// from flags and from SP metadata, shown with their protocol, and mixed or
// incomplete flags are refused with what is wrong.
func TestAppsCreateFederation(t *testing.T) {
	s := appServer(t)
	out, errs, code := runIn(t, "", "apps", "create", "wiki", "--saml", "--entity-id", "https://wiki.example/saml",
		"--acs", "https://wiki.example/saml/acs", "--sign", "assertion", "--server", s.url)
	if code != 0 || !strings.Contains(out, "saml (https://wiki.example/saml)") || strings.Contains(out, "secret") {
		t.Fatalf("apps create --saml: %d %s %s", code, out, errs)
	}
	md := filepath.Join(t.TempDir(), "sp.xml")
	os.WriteFile(md, []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://crm.example/sp">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://crm.example/acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>`), 0o600)
	if out, errs, code := runIn(t, "", "apps", "create", "crm", "--saml", "--sp-metadata", md, "--server", s.url); code != 0 {
		t.Fatalf("apps create --sp-metadata: %d %s %s", code, out, errs)
	}
	out, _, _ = runIn(t, "", "apps", "show", "crm", "--server", s.url)
	if !strings.Contains(out, "SAML 2.0 service provider") || !strings.Contains(out, "https://crm.example/acs") || !strings.Contains(out, "https://crm.example/sp") {
		t.Errorf("apps show crm:\n%s", out)
	}
	if _, errs, code := runIn(t, "", "apps", "create", "intranet", "--wsfed", "--realm", "urn:intranet", "--reply", "https://intranet.example/",
		"--token-type", "saml11", "--server", s.url); code != 0 {
		t.Fatalf("apps create --wsfed: %s", errs)
	}
	out, _, _ = runIn(t, "", "apps", "list", "--server", s.url)
	for _, want := range []string{"saml", "ws-fed", "urn:intranet"} {
		if !strings.Contains(out, want) {
			t.Errorf("apps list lacks %q:\n%s", want, out)
		}
	}
	for args, want := range map[string]string{
		"x --saml --wsfed":                                 "exclude each other",
		"x --entity-id urn:a":                              "need --saml or --wsfed",
		"x --saml --realm urn:a":                           "WS-Fed flags",
		"x --wsfed --realm urn:b --acs https://b.example/": "SAML flags",
		"x --saml --entity-id urn:c --nameid-format email": "--nameid-format",
	} {
		if _, errs, code := runIn(t, "", append(append([]string{"apps", "create"}, strings.Fields(args)...), "--server", s.url)...); code != exitUsage || !strings.Contains(errs, want) {
			t.Errorf("apps create %s: %d %s", args, code, errs)
		}
	}
	// The issuer refuses what the flags cannot know: a taken entity ID, no ACS.
	for args, want := range map[string]string{
		"dup --saml --entity-id https://wiki.example/saml --acs https://x.example/acs": "already registered",
		"noacs --saml --entity-id urn:noacs":                                           "assertion consumer service",
	} {
		if _, errs, code := runIn(t, "", append(append([]string{"apps", "create"}, strings.Fields(args)...), "--server", s.url)...); code != exitFail || !strings.Contains(errs, want) {
			t.Errorf("apps create %s: %d %s", args, code, errs)
		}
	}
}
