package samlidp

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

// statusInvalidNameIDPolicy is the second-level status of a NameID format
// the identity provider does not issue.
const statusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"

// Claim types of the attributes, as AD FS and WIF name them; SAML 1.1 splits
// them at the last '/' into namespace and name.
const (
	claimName  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	claimEmail = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
)

// attributes are the user's name and, when the user name is an address,
// email.
func attributes(u store.User) []saml.Attribute {
	out := []saml.Attribute{{Name: claimName, FriendlyName: "name", Values: []string{u.Username}}}
	if strings.Contains(u.Username, "@") {
		out = append(out, saml.Attribute{Name: claimEmail, FriendlyName: "email", Values: []string{u.Username}})
	}
	return out
}

// assertion builds what the identity provider asserts about u for app,
// valid until sk.Expiry (within the application's token lifetime and the
// policy's maximum).
func (p *Provider) assertion(r *http.Request, app store.Application, pend pending, u store.User, sk issuer.SigningKey, now time.Time) (*saml.Assertion, error) {
	format, _ := nameIDFormat(app, pend.NameIDFormat)
	subject, err := p.nameID(r.Context(), app, u, format)
	if err != nil {
		return nil, err
	}
	return &saml.Assertion{Issuer: p.keys.Issuer(), IssueInstant: now, Subject: subject, NameIDFormat: format,
		Audience: app.Audience, Recipient: pend.Answer, InResponseTo: pend.RequestID, NotBefore: now, NotOnOrAfter: sk.Expiry,
		SessionIndex: "_" + strings.TrimPrefix(newSessionIndex(), "_"), AuthnInstant: now, Attributes: attributes(u)}, nil
}

// answerSAML posts a signed Response to the application's ACS.
func (p *Provider) answerSAML(w http.ResponseWriter, r *http.Request, app store.Application, pend pending, u store.User) {
	sk, err := p.keys.SignerFor(r.Context(), app, app.TokenLifetime)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	now := p.keys.Now().Truncate(time.Second)
	a, err := p.assertion(r, app, pend, u, sk, now)
	if errors.Is(err, errNoEmail) {
		p.samlError(w, r, app, pend, saml.StatusRequester, statusInvalidNameIDPolicy, err.Error())
		return
	}
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	resp := saml.Response{Destination: pend.Answer, InResponseTo: pend.RequestID, IssueInstant: now, Issuer: p.keys.Issuer(), Assertion: a}
	signResponse, signAssertion := app.Fed.Sign != "assertion", app.Fed.Sign != "response"
	xml, err := saml.BuildResponse(resp, saml.Signer{Key: sk.Signer, Cert: sk.Cert}, signResponse, signAssertion)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	p.keys.Issued("saml", app)
	p.log.Info("user signed in", "protocol", "saml", "user", u.Username, "app", app.Name, "key", sk.Key.Thumbprint)
	postPage(w, pend.Answer, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": optional(pend.Relay)})
}

// samlError posts a signed status Response the SP can act on. Without a
// key that can sign, the user sees the reason instead.
func (p *Provider) samlError(w http.ResponseWriter, r *http.Request, app store.Application, pend pending, status, sub, msg string) {
	sk, err := p.keys.SignerFor(r.Context(), app, time.Minute)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	resp := saml.Response{Destination: pend.Answer, InResponseTo: pend.RequestID, IssueInstant: p.keys.Now().Truncate(time.Second),
		Issuer: p.keys.Issuer(), Status: status, SubStatus: sub, StatusMessage: msg}
	xml, err := saml.BuildResponse(resp, saml.Signer{Key: sk.Signer, Cert: sk.Cert}, true, false)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	p.log.Info("SAML request answered with an error", "app", app.Name, "status", sub, "reason", msg)
	postPage(w, pend.Answer, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}, "RelayState": optional(pend.Relay)})
}

// unavailable shows why nothing could be signed.
func (p *Provider) unavailable(w http.ResponseWriter, app store.Application, err error) {
	p.log.Error("signing a sign-in answer failed", "app", app.Name, "err", err)
	if errors.Is(err, issuer.ErrNoSigningKey) {
		p.stop(w, http.StatusServiceUnavailable, "The identity provider has no usable signing key right now; try again later.")
		return
	}
	p.stop(w, http.StatusInternalServerError, "The sign-in answer could not be made; try again later.")
}

func optional(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
