package saml

import (
	"fmt"
	"time"

	"github.com/beevik/etree"
)

// Response is a SAML 2.0 samlp:Response to an AuthnRequest (or unsolicited,
// with InResponseTo empty).
type Response struct {
	// ID is the response's xml ID; generated if empty.
	ID string
	// Destination is the assertion consumer service URL it is posted to.
	Destination  string
	InResponseTo string
	// IssueInstant is required.
	IssueInstant time.Time
	Issuer       string
	// Status is a top-level status code; empty means StatusSuccess.
	Status string
	// SubStatus is an optional second-level status code (e.g.
	// StatusAuthnFailed), nested under Status.
	SubStatus     string
	StatusMessage string
	// Assertion is required with StatusSuccess and must be nil otherwise.
	Assertion *Assertion
}

var topLevelStatus = map[string]bool{
	StatusSuccess: true, StatusRequester: true, StatusResponder: true, StatusVersionMismatch: true,
}

// BuildResponse returns r as a samlp:Response with one saml:Assertion,
// signed by s: the assertion when signAssertion, the response (over the
// signed assertion) when signResponse. A successful response needs at least
// one of the two. An error response (Status other than StatusSuccess) carries
// no assertion and is always signed, whatever the flags say.
func BuildResponse(r Response, s Signer, signResponse, signAssertion bool) ([]byte, error) {
	ctx, err := s.context("ID")
	if err != nil {
		return nil, err
	}
	if r.ID == "" {
		r.ID = newID()
	}
	if r.Status == "" {
		r.Status = StatusSuccess
	}
	if err := r.check(signResponse, signAssertion); err != nil {
		return nil, err
	}
	root := response(r)
	if r.Status != StatusSuccess {
		signResponse, signAssertion = true, false
	}
	if r.Assertion != nil {
		a := *r.Assertion
		if a.IssueInstant.IsZero() {
			a.IssueInstant = r.IssueInstant
		}
		if a.Recipient == "" {
			a.Recipient = r.Destination
		}
		if a.InResponseTo == "" {
			a.InResponseTo = r.InResponseTo
		}
		if a, err = a.withDefaults(); err != nil {
			return nil, err
		}
		if a.ID == r.ID {
			return nil, fmt.Errorf("%w: the assertion and the response have the same ID %q", ErrInvalid, a.ID)
		}
		ae := assertion20(a)
		if signAssertion {
			if err := signEnveloped(ctx, ae, assertionChild); err != nil {
				return nil, err
			}
		}
		root.AddChild(ae)
	}
	if signResponse {
		if err := signEnveloped(ctx, root, 1); err != nil {
			return nil, err
		}
	}
	return writeDoc(root)
}

func (r Response) check(signResponse, signAssertion bool) error {
	switch {
	case !isNCName(r.ID):
		return fmt.Errorf("%w: response ID %q is not an xml NCName", ErrInvalid, r.ID)
	case r.Issuer == "":
		return fmt.Errorf("%w: response has no Issuer", ErrInvalid)
	case r.IssueInstant.IsZero():
		return fmt.Errorf("%w: response has no IssueInstant", ErrInvalid)
	case !topLevelStatus[r.Status]:
		return fmt.Errorf("%w: Status %q is not a top-level status code (second-level codes go in SubStatus)", ErrInvalid, r.Status)
	case r.Status == StatusSuccess && r.Assertion == nil:
		return fmt.Errorf("%w: a successful response needs an Assertion", ErrInvalid)
	case r.Status != StatusSuccess && r.Assertion != nil:
		return fmt.Errorf("%w: an error response (%s) carries no Assertion", ErrInvalid, r.Status)
	case r.Status == StatusSuccess && !signResponse && !signAssertion:
		return fmt.Errorf("%w: sign the response, the assertion or both", ErrInvalid)
	}
	return checkText("Destination", r.Destination, "InResponseTo", r.InResponseTo, "Issuer", r.Issuer,
		"SubStatus", r.SubStatus, "StatusMessage", r.StatusMessage)
}

// response builds the samlp:Response element with Issuer and Status.
func response(r Response) *etree.Element {
	root := etree.NewElement("samlp:Response")
	root.CreateAttr("xmlns:samlp", NSProtocol)
	root.CreateAttr("xmlns:saml", NSAssertion)
	root.CreateAttr("ID", r.ID)
	root.CreateAttr("Version", samlVersion20)
	root.CreateAttr("IssueInstant", xsTime(r.IssueInstant))
	attrIf(root, "Destination", r.Destination)
	attrIf(root, "InResponseTo", r.InResponseTo)
	el(root, "saml:Issuer", r.Issuer)
	status := root.CreateElement("samlp:Status")
	code := status.CreateElement("samlp:StatusCode")
	code.CreateAttr("Value", r.Status)
	if r.SubStatus != "" {
		code.CreateElement("samlp:StatusCode").CreateAttr("Value", r.SubStatus)
	}
	if r.StatusMessage != "" {
		el(status, "samlp:StatusMessage", r.StatusMessage)
	}
	return root
}
