package main

import (
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/saml"
)

// fedFlags are apps create's SAML and WS-Federation flags.
type fedFlags struct {
	saml, wsfed, requestsSigned bool
	entityID, realm, spMetadata string
	sign, nameID, tokenType     string
	acs, reply, spCerts         opsStringList
}

func defineFedFlags(fs *flag.FlagSet) *fedFlags {
	f := &fedFlags{}
	fs.BoolVar(&f.saml, "saml", false, "a SAML 2.0 service provider")
	fs.BoolVar(&f.wsfed, "wsfed", false, "a WS-Federation relying party")
	fs.StringVar(&f.entityID, "entity-id", "", "SAML: the SP's entity `URI`")
	fs.Var(&f.acs, "acs", "SAML: an assertion consumer service `URL` (repeat for several; the first is the default)")
	fs.StringVar(&f.spMetadata, "sp-metadata", "", "SAML: read entity ID, ACS URLs, signing certificates and AuthnRequestsSigned from the SP's metadata `URL|FILE` (a URL is read by the issuer and refreshed)")
	fs.Var(&f.spCerts, "sp-cert", "SAML: a PEM `FILE` with a certificate the SP signs its requests with")
	fs.BoolVar(&f.requestsSigned, "requests-signed", false, "SAML: refuse unsigned AuthnRequests")
	fs.StringVar(&f.sign, "sign", "", "what is signed: both (default), response or assertion")
	fs.StringVar(&f.nameID, "nameid-format", "", "NameID format: persistent (default), emailAddress, unspecified or transient")
	fs.StringVar(&f.realm, "realm", "", "WS-Fed: the realm (wtrealm) `URI`")
	fs.Var(&f.reply, "reply", "WS-Fed: a reply `URL` (wreply; repeat for several; the first is the default)")
	fs.StringVar(&f.tokenType, "token-type", "", "WS-Fed: saml2 (default) or saml11 (WIF 3.5)")
	return f
}

var nameIDFormats = map[string]string{"": "", "persistent": saml.NameIDPersistent, "emailAddress": saml.NameIDEmail,
	"unspecified": saml.NameIDUnspecified, "transient": saml.NameIDTransient}

// apply fills req from the flags; it refuses flags of another protocol.
func (f *fedFlags) apply(req *adminapi.CreateAppRequest) error {
	samlOnly := f.entityID != "" || len(f.acs) > 0 || f.spMetadata != "" || len(f.spCerts) > 0 || f.requestsSigned
	wsOnly := f.realm != "" || len(f.reply) > 0 || f.tokenType != ""
	switch {
	case f.saml && f.wsfed:
		return errors.New("--saml and --wsfed exclude each other")
	case !f.saml && !f.wsfed && (samlOnly || wsOnly || f.sign != "" || f.nameID != ""):
		return errors.New("SAML and WS-Fed flags need --saml or --wsfed")
	case f.saml && wsOnly:
		return errors.New("--realm, --reply and --token-type are WS-Fed flags")
	case f.wsfed && samlOnly:
		return errors.New("--entity-id, --acs, --sp-metadata, --sp-cert and --requests-signed are SAML flags")
	case !f.saml && !f.wsfed:
		return nil
	case req.Public || len(req.RedirectURIs) > 0 || req.Audience != "":
		return errors.New("--public, --redirect-uri and --audience are OIDC flags")
	}
	format, ok := nameIDFormats[f.nameID]
	if !ok {
		return fmt.Errorf("--nameid-format %q: want persistent, emailAddress, unspecified or transient", f.nameID)
	}
	fed := &adminapi.FedInfo{Sign: f.sign, NameIDFormat: format, TokenType: f.tokenType, RequestsSigned: f.requestsSigned}
	req.Fed = fed
	if f.wsfed {
		req.Protocol, req.Audience, req.RedirectURIs = "wsfed", f.realm, f.reply
		return nil
	}
	req.Protocol, req.Audience, req.RedirectURIs = "saml", f.entityID, f.acs
	for _, path := range f.spCerts {
		der, err := readPEMCert(path)
		if err != nil {
			return err
		}
		fed.SPCerts = append(fed.SPCerts, der)
	}
	switch {
	case strings.HasPrefix(f.spMetadata, "https://") || strings.HasPrefix(f.spMetadata, "http://"):
		fed.SPMetadataURL = f.spMetadata // the issuer reads it now and keeps it current
	case f.spMetadata != "":
		return f.readSPMetadata(req)
	}
	return nil
}

// readSPMetadata takes what the flags leave open from the SP's metadata.
func (f *fedFlags) readSPMetadata(req *adminapi.CreateAppRequest) error {
	data, err := os.ReadFile(f.spMetadata)
	if err != nil {
		return err
	}
	md, err := saml.ParseSPMetadata(data)
	if err != nil {
		return fmt.Errorf("--sp-metadata %s: %v", f.spMetadata, err)
	}
	if req.Audience == "" {
		req.Audience = md.EntityID
	}
	if len(req.RedirectURIs) == 0 {
		for _, a := range md.ACS {
			if a.Binding == saml.BindingHTTPPost {
				req.RedirectURIs = append(req.RedirectURIs, a.Location)
			}
		}
	}
	for _, c := range md.SigningCerts {
		req.Fed.SPCerts = append(req.Fed.SPCerts, c.Raw)
	}
	req.Fed.RequestsSigned = req.Fed.RequestsSigned || md.AuthnRequestsSigned
	return nil
}

func readPEMCert(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("--sp-cert %s: no PEM CERTIFICATE block", path)
	}
	return b.Bytes, nil
}
