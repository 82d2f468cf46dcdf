package drill

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
	"github.com/keyroll/keyroll/issuer/samlidp"
)

// SAML names the drill reads from the issuer's answer.
const (
	nsSAMLProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlSuccess    = "urn:oasis:names:tc:SAML:2.0:status:Success"
)

// answerPage handles the issuer's answer to the sign-in form of a SAML or
// WS-Federation sign-in: a page whose form posts the signed answer
// (SAMLResponse and RelayState, or wa, wresult and wctx) to the
// application, as a browser submits it. Posted to a registered ACS or
// reply URL, the application now decides (next is that post). An answer
// for anywhere else, or a SAML error status, leaves the test undecided
// (done). Any other page is not an answer.
func (s *session) answerPage(ctx context.Context, resp *http.Response, body []byte) (next *http.Request, o Outcome, done bool) {
	if !s.awaiting || s.t.protocol == protocolOIDC {
		return nil, "", false
	}
	s.awaiting = false
	pf, err := samlidp.ParsePostForm(body)
	if err != nil {
		return nil, "", false
	}
	undecided := func(format string, args ...any) (*http.Request, Outcome, bool) {
		s.ev.Status, s.ev.URL = resp.StatusCode, redactURL(resp.Request.URL)
		s.ev.Error = fmt.Sprintf(format, args...)
		return nil, Undecided, true
	}
	action, err := url.Parse(pf.Action)
	if err != nil || !slices.Contains(s.t.answerURLs, pf.Action) {
		return undecided("the issuer's answer posts to %s, which is not a registered ACS or reply URL of the application; the drill posts it nowhere", printable(pf.Action, 300))
	}
	if st := samlStatus(pf.Fields.Get("SAMLResponse")); st != "" {
		return undecided("the issuer answered the sign-in with SAML status %s", st)
	}
	s.handedOff, s.form = true, pf.Fields
	if next, err = formRequest(ctx, action, pf.Fields); err != nil {
		return undecided("%s", err.Error())
	}
	return next, "", false
}

// samlStatus is the status of a SAMLResponse that is not Success (its
// codes, without the standard prefix, and message), or "" for Success or anything the drill cannot read,
// which it leaves to the application.
func samlStatus(b64 string) string {
	if b64 == "" {
		return ""
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ""
	}
	_, root, err := xmlsafe.Read(data, xmlsafe.Limits{MaxSize: maxBody})
	if err != nil || !xmlsafe.Is(root, nsSAMLProtocol, "Response") {
		return ""
	}
	status := xmlsafe.Child(root, nsSAMLProtocol, "Status")
	code := xmlsafe.Child(status, nsSAMLProtocol, "StatusCode")
	top := attrOf(code)
	if code == nil || top == samlSuccess {
		return ""
	}
	short := func(v string) string { return strings.TrimPrefix(v, "urn:oasis:names:tc:SAML:2.0:status:") }
	parts := []string{short(top)}
	if sub := attrOf(xmlsafe.Child(code, nsSAMLProtocol, "StatusCode")); sub != "" {
		parts = append(parts, short(sub))
	}
	out := strings.Join(parts, " / ")
	if msg := xmlsafe.Child(status, nsSAMLProtocol, "StatusMessage"); msg != nil {
		out += ": " + msg.Text()
	}
	return printable(out, 300)
}

// attrOf is the Value of a StatusCode, or "".
func attrOf(code *etree.Element) string {
	if code == nil {
		return ""
	}
	v, _ := xmlsafe.Attr(code, "Value")
	return v
}
