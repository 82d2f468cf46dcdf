package saml

import (
	"bytes"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

const (
	requestTypeIssue = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
	keyTypeBearer    = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer"
)

// BuildWSFedResponse returns the wresult of a WS-Federation sign-in response:
// a WS-Trust 1.3 RequestSecurityTokenResponseCollection holding one
// RequestSecurityTokenResponse with the token's Lifetime (created, expires),
// AppliesTo/EndpointReference/Address (the realm), the RequestedSecurityToken,
// TokenType, RequestType Issue and KeyType Bearer, as AD FS and Entra send it
// and WIF and passport-wsfed-saml2 read it.
//
// assertion is a signed assertion from BuildAssertion11 (tokenType
// TokenTypeSAML11) or BuildAssertion20 (TokenTypeSAML20). It is checked to be
// one assertion of that version and then placed into RequestedSecurityToken
// byte for byte (without any XML declaration), so its signature stays valid:
// the envelope declares only prefixed namespaces, so nothing of it changes
// how the assertion's names resolve or how exclusive C14N renders it.
func BuildWSFedResponse(assertion []byte, tokenType string, realm string, created, expires time.Time) ([]byte, error) {
	want := map[string]string{TokenTypeSAML11: NSAssertion11, TokenTypeSAML20: NSAssertion}[tokenType]
	if want == "" {
		return nil, fmt.Errorf("%w: token type %q (want TokenTypeSAML11 or TokenTypeSAML20)", ErrInvalid, tokenType)
	}
	switch {
	case realm == "":
		return nil, fmt.Errorf("%w: no realm", ErrInvalid)
	case created.IsZero() || !created.Before(expires):
		return nil, fmt.Errorf("%w: lifetime %s to %s is empty", ErrInvalid, xsTime(created), xsTime(expires))
	}
	if err := checkText("realm", realm); err != nil {
		return nil, err
	}
	token, err := assertionElement(assertion, want)
	if err != nil {
		return nil, err
	}
	root := etree.NewElement("t:RequestSecurityTokenResponseCollection")
	root.CreateAttr("xmlns:t", NSTrust13)
	rstr := root.CreateElement("t:RequestSecurityTokenResponse")
	life := rstr.CreateElement("t:Lifetime")
	el(life, "wsu:Created", xsTime(created)).CreateAttr("xmlns:wsu", NSUtility)
	el(life, "wsu:Expires", xsTime(expires)).CreateAttr("xmlns:wsu", NSUtility)
	applies := rstr.CreateElement("wsp:AppliesTo")
	applies.CreateAttr("xmlns:wsp", NSPolicy)
	epr := applies.CreateElement("wsa:EndpointReference")
	epr.CreateAttr("xmlns:wsa", NSAddressing)
	el(epr, "wsa:Address", realm)
	rstr.CreateElement("t:RequestedSecurityToken")
	el(rstr, "t:TokenType", tokenType)
	el(rstr, "t:RequestType", requestTypeIssue)
	el(rstr, "t:KeyType", keyTypeBearer)
	out, err := writeDoc(root)
	if err != nil {
		return nil, err
	}
	// The only '<' in the serialised envelope are its own tags (values are
	// escaped), so the empty element occurs exactly once.
	empty := []byte("<t:RequestedSecurityToken/>")
	i := bytes.Index(out, empty)
	if i < 0 || bytes.Count(out, empty) != 1 {
		return nil, fmt.Errorf("saml: internal error: RequestedSecurityToken placeholder not found once")
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(token) + 64)
	b.Write(out[:i])
	b.WriteString("<t:RequestedSecurityToken>")
	b.Write(token)
	b.WriteString("</t:RequestedSecurityToken>")
	b.Write(out[i+len(empty):])
	return b.Bytes(), nil
}

// assertionElement checks that data is one well-formed {ns}Assertion and
// returns the bytes of that element alone (no XML declaration, BOM,
// comments or whitespace around it).
func assertionElement(data []byte, ns string) ([]byte, error) {
	doc, root, err := xmlsafe.Read(data, xmlsafe.Limits{MaxSize: MaxMetadataSize})
	if err != nil {
		return nil, fmt.Errorf("%w: assertion: %w", ErrInvalid, err)
	}
	if !xmlsafe.Is(root, ns, "Assertion") {
		return nil, fmt.Errorf("%w: assertion root is %s, want {%s}Assertion", ErrInvalid, xmlsafe.Describe(root), ns)
	}
	for _, tok := range doc.Child {
		switch tok.(type) {
		case *etree.Comment, *etree.ProcInst:
			if tok.Index() > root.Index() {
				return nil, fmt.Errorf("%w: assertion has content after its end tag", ErrInvalid)
			}
		}
	}
	// Skip the prolog: BOM, whitespace, XML declaration, comments and
	// processing instructions (xmlsafe refused anything else).
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for {
		data = bytes.TrimLeft(data, " \t\r\n")
		var end string
		switch {
		case bytes.HasPrefix(data, []byte("<?")):
			end = "?>"
		case bytes.HasPrefix(data, []byte("<!--")):
			end = "-->"
		default:
			return bytes.TrimRight(data, " \t\r\n"), nil
		}
		data = data[bytes.Index(data, []byte(end))+len(end):]
	}
}
