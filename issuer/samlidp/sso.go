package samlidp

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/keyroll/keyroll/internal/xmlsafe"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

// ssoRedirect takes an AuthnRequest of the HTTP-Redirect binding.
func (p *Provider) ssoRedirect(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.RawQuery
	if !r.URL.Query().Has("SAMLRequest") {
		p.stop(w, http.StatusBadRequest, "This is keyroll's SAML sign-on endpoint; the request has no SAMLRequest. Start the sign-in at the application.")
		return
	}
	// Which SP sent it decides which certificates its signature must verify
	// under: read the Issuer from the request without the signature, then
	// parse it for real, every field from the checked request.
	first, _, err := saml.ParseRedirectRequest(withoutSignature(raw), nil, false)
	if err != nil {
		p.stop(w, http.StatusBadRequest, "The SAML request is not valid: "+err.Error())
		return
	}
	app, certs, ok := p.sp(w, r, first.Issuer)
	if !ok {
		return
	}
	req, relay, err := saml.ParseRedirectRequest(raw, certs, app.Fed.RequestsSigned)
	if err != nil {
		p.stop(w, http.StatusBadRequest, requestError(app, err))
		return
	}
	p.begin(w, r, app, req, relay)
}

// ssoPost takes an AuthnRequest of the HTTP-POST binding, or the sign-in
// form of a SAML sign-in.
func (p *Provider) ssoPost(w http.ResponseWriter, r *http.Request) {
	form, ok := p.form(w, r)
	if !ok {
		return
	}
	if form.Has("login_request") {
		p.complete(w, r, sealSAML, form)
		return
	}
	b64 := form.Get("SAMLRequest")
	if b64 == "" {
		p.stop(w, http.StatusBadRequest, "The request has no SAMLRequest. Start the sign-in at the application.")
		return
	}
	iss, err := peekIssuer(b64)
	if err != nil {
		p.stop(w, http.StatusBadRequest, "The SAML request is not valid: "+err.Error())
		return
	}
	app, certs, ok := p.sp(w, r, iss)
	if !ok {
		return
	}
	req, err := saml.ParsePostRequest(b64, certs, app.Fed.RequestsSigned)
	if err != nil {
		p.stop(w, http.StatusBadRequest, requestError(app, err))
		return
	}
	p.begin(w, r, app, req, form.Get("RelayState"))
}

// sp finds the registered SAML application of an entity ID and its
// certificates; an unknown SP gets an error page.
func (p *Provider) sp(w http.ResponseWriter, r *http.Request, entityID string) (store.Application, []*x509.Certificate, bool) {
	app, err := p.keys.AppByAudience(r.Context(), store.ProtocolSAML, entityID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("No SAML application is registered with the entity ID %q (keyroll apps create NAME --saml --entity-id ...).", issuer.Clip(entityID)))
		return app, nil, false
	case err != nil:
		p.log.Error("SAML application lookup", "err", err)
		p.stop(w, http.StatusServiceUnavailable, "The sign-in service is unavailable; try again later.")
		return app, nil, false
	}
	var certs []*x509.Certificate
	for _, der := range app.Fed.SPCerts {
		if c, err := x509.ParseCertificate(der); err == nil {
			certs = append(certs, c)
		}
	}
	return app, certs, true
}

// requestError says why a request of a known SP was refused.
func requestError(app store.Application, err error) string {
	switch {
	case errors.Is(err, saml.ErrUnsigned):
		return "The application " + app.Name + " is registered as signing its requests, and this request is not signed."
	case errors.Is(err, saml.ErrBadSignature):
		return "The request's signature does not verify against the certificates registered for " + app.Name + "."
	}
	return "The SAML request from " + app.Name + " is not valid: " + err.Error()
}

// begin checks a parsed request against the registration and shows the
// sign-in page, or answers the SP with a signed error it can act on.
func (p *Provider) begin(w http.ResponseWriter, r *http.Request, app store.Application, req *saml.AuthnRequest, relay string) {
	ctx := r.Context()
	if len(relay) > maxRelayState {
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("The RelayState is %d bytes long; at most %d are accepted.", len(relay), maxRelayState))
		return
	}
	if req.Destination != "" && req.Destination != p.keys.Endpoint(SSOPath) {
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("The request is addressed to %q, not to this identity provider's sign-on URL %s.", issuer.Clip(req.Destination), p.keys.Endpoint(SSOPath)))
		return
	}
	acs, msg := answerURL(app, req)
	if msg != "" {
		p.stop(w, http.StatusBadRequest, msg)
		return
	}
	now := p.keys.Now()
	if req.IssueInstant.After(now.Add(clockSkew)) || req.IssueInstant.Before(now.Add(-RequestLifetime)) {
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("The request was issued at %s; requests are accepted for %s (check the clocks). Start the sign-in again.",
			req.IssueInstant.UTC().Format("2006-01-02 15:04:05Z"), RequestLifetime))
		return
	}
	fresh, err := p.st.UseOnce(ctx, "saml:"+app.ClientID+":"+req.ID, req.IssueInstant.Add(RequestLifetime+clockSkew), now)
	if err != nil {
		p.log.Error("record a SAML request id", "err", err)
		p.stop(w, http.StatusServiceUnavailable, "The sign-in service is unavailable; try again later.")
		return
	}
	if !fresh {
		p.stop(w, http.StatusBadRequest, "This sign-in request was already used. Start the sign-in again at the application.")
		return
	}
	pend := pending{ClientID: app.ClientID, Answer: acs, RequestID: req.ID, Relay: relay, NameIDFormat: req.NameIDFormat}
	if _, ok := nameIDFormat(app, pend.NameIDFormat); !ok {
		p.samlError(w, r, app, pend, saml.StatusRequester, statusInvalidNameIDPolicy, "NameID format "+req.NameIDFormat+" is not supported")
		return
	}
	if req.IsPassive {
		p.samlError(w, r, app, pend, saml.StatusResponder, saml.StatusNoPassive, "keyroll keeps no sign-in session, so it cannot sign users in passively")
		return
	}
	p.showLogin(w, r, sealSAML, SSOPath, app, pend, "")
}

// answerURL is where the answer to req goes: the ACS URL it names, which
// must be registered exactly, or the one at the index it names, or the
// first registered. Unregistered URLs stop the sign-in: nothing is sent there.
func answerURL(app store.Application, req *saml.AuthnRequest) (string, string) {
	if req.ProtocolBinding != "" && req.ProtocolBinding != saml.BindingHTTPPost {
		return "", "The request asks for the answer over " + issuer.Clip(req.ProtocolBinding) + "; keyroll answers over the HTTP-POST binding only."
	}
	switch {
	case req.AssertionConsumerServiceURL != "":
		if !slices.Contains(app.RedirectURIs, req.AssertionConsumerServiceURL) {
			return "", fmt.Sprintf("The assertion consumer service %q is not registered for %s; the sign-in stops here so that nothing is sent to it.",
				issuer.Clip(req.AssertionConsumerServiceURL), app.Name)
		}
		return req.AssertionConsumerServiceURL, ""
	case req.AssertionConsumerServiceIndex != nil:
		i := *req.AssertionConsumerServiceIndex
		if i < 0 || i >= len(app.RedirectURIs) {
			return "", fmt.Sprintf("The request names assertion consumer service %d; %s registers %d.", i, app.Name, len(app.RedirectURIs))
		}
		return app.RedirectURIs[i], ""
	case len(app.RedirectURIs) > 0:
		return app.RedirectURIs[0], ""
	}
	return "", "The application " + app.Name + " has no assertion consumer service registered."
}

// idpInitiated signs a user in to a named SAML application without a
// request from it (?app=NAME, client id or entity ID; &RelayState=).
func (p *Provider) idpInitiated(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ref := q.Get("app")
	app, err := p.keys.FindApp(r.Context(), ref)
	if err != nil {
		app, err = p.keys.AppByAudience(r.Context(), store.ProtocolSAML, ref)
	}
	if err != nil || app.Proto() != store.ProtocolSAML {
		p.stop(w, http.StatusNotFound, fmt.Sprintf("No SAML application is named %q or has it as client id or entity ID.", issuer.Clip(ref)))
		return
	}
	relay := q.Get("RelayState")
	if len(relay) > maxRelayState {
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("The RelayState is %d bytes long; at most %d are accepted.", len(relay), maxRelayState))
		return
	}
	acs, msg := answerURL(app, &saml.AuthnRequest{})
	if msg != "" {
		p.stop(w, http.StatusBadRequest, msg)
		return
	}
	p.showLogin(w, r, sealSAML, SSOPath, app, pending{ClientID: app.ClientID, Answer: acs, Relay: relay}, "")
}

// withoutSignature drops the Signature and SigAlg parameters of a raw query.
func withoutSignature(raw string) string {
	var keep []string
	for _, kv := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k != "Signature" && k != "SigAlg" {
			keep = append(keep, kv)
		}
	}
	return strings.Join(keep, "&")
}

// peekIssuer reads the Issuer of a POST-binding request to pick the SP
// whose certificates its signature must verify under. Nothing else is read
// from this unchecked copy.
func peekIssuer(b64 string) (string, error) {
	if len(b64) > saml.MaxEncodedSize {
		return "", fmt.Errorf("SAMLRequest of %d bytes, limit %d", len(b64), saml.MaxEncodedSize)
	}
	data, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b64))
	if err != nil {
		return "", errors.New("SAMLRequest is not base64")
	}
	_, root, err := xmlsafe.Read(bytes.TrimSpace(data), xmlsafe.Limits{MaxSize: saml.MaxRequestSize, MaxDepth: 32, MaxElements: 2000})
	if err != nil {
		return "", err
	}
	if !xmlsafe.Is(root, saml.NSProtocol, "AuthnRequest") {
		return "", fmt.Errorf("the root element is %s, not an AuthnRequest", xmlsafe.Describe(root))
	}
	iss := xmlsafe.Child(root, saml.NSAssertion, "Issuer")
	if iss == nil {
		return "", errors.New("the AuthnRequest names no Issuer")
	}
	return strings.TrimSpace(iss.Text()), nil
}
