package fedmeta

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Verify checks the enveloped signature of data against the pinned
// certificates and returns the pinned certificate that verified it. The
// signer must be one of trusted: the certificate in the signature's KeyInfo
// only chooses which pinned certificate to try first and is never trusted on
// its own. Certificate validity dates are not checked (see the package
// documentation). Errors wrap ErrNoSignature, ErrUntrustedSigner,
// ErrInvalidSignature or one of the parse errors.
func Verify(data []byte, trusted []*x509.Certificate) (*x509.Certificate, error) {
	if len(trusted) == 0 {
		return nil, fmt.Errorf("%w: no pinned certificates given", ErrUntrustedSigner)
	}
	_, root, err := readDoc(data)
	if err != nil {
		return nil, err
	}
	sig, err := envelopedSignature(root)
	if err != nil {
		return nil, err
	}
	method, err := checkSignedInfo(root, sig)
	if err != nil {
		return nil, err
	}
	named, err := takeKeyInfoCert(sig)
	if err != nil {
		return nil, err
	}
	if strings.Contains(method, "ecdsa-") {
		if err := sigValueToDER(sig); err != nil {
			return nil, err
		}
	}
	return tryPinned(root, named, trusted)
}

// takeKeyInfoCert reads the certificate the signature names and removes
// KeyInfo, so goxmldsig uses only the pinned certificate it is handed.
// KeyInfo is outside SignedInfo and inside the enveloped Signature, so
// removing it changes neither digest nor signed bytes.
func takeKeyInfoCert(sig *etree.Element) (*x509.Certificate, error) {
	ki := xmlsafe.Child(sig, NSDSig, "KeyInfo")
	if ki == nil {
		return nil, nil
	}
	// Resolve namespaces before detaching: KeyInfo may inherit them.
	el := xmlsafe.Path(ki, NSDSig, "X509Data", NSDSig, "X509Certificate")
	sig.RemoveChild(ki)
	if el == nil {
		return nil, nil
	}
	cert, err := decodeCert(el.Text())
	if err != nil {
		return nil, fmt.Errorf("%w: signature KeyInfo: %v", ErrInvalidSignature, err)
	}
	return cert, nil
}

// sigValueToDER rewrites an XML-DSig r||s ECDSA SignatureValue as the ASN.1
// DER that goxmldsig (crypto/x509) checks.
func sigValueToDER(sig *etree.Element) error {
	sv := xmlsafe.Child(sig, NSDSig, "SignatureValue")
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sv.Text()), ""))
	if err == nil {
		var der []byte
		if der, err = derECDSA(raw); err == nil {
			sv.SetText(base64.StdEncoding.EncodeToString(der))
			return nil
		}
	}
	return fmt.Errorf("%w: ECDSA SignatureValue: %v", ErrInvalidSignature, err)
}

// MaxPinnedTries bounds how many pinned certificates Verify tries when the
// signature's KeyInfo names none of them. Each try canonicalises and digests
// the whole document, so a document listing thousands of certificates (all
// pinned by a caller that trusts the document's own) must not cost thousands
// of passes. Real metadata lists a handful.
const MaxPinnedTries = 16

// tryPinned verifies with the pinned certificate KeyInfo names or, if it
// names none that is pinned, with each pinned certificate in turn, up to
// MaxPinnedTries.
func tryPinned(root *etree.Element, named *x509.Certificate, trusted []*x509.Certificate) (*x509.Certificate, error) {
	candidates, matched := trusted, false
	for _, c := range trusted {
		if named != nil && c != nil && bytes.Equal(c.Raw, named.Raw) {
			candidates, matched = []*x509.Certificate{c}, true
			break
		}
	}
	truncated := len(candidates) > MaxPinnedTries
	if truncated {
		candidates = candidates[:MaxPinnedTries]
	}
	var sigErr error
	for _, c := range candidates {
		if c == nil {
			continue
		}
		err := validateWith(root, c)
		switch {
		case err == nil:
			return c, nil
		case !badSignatureValue(err):
			// Failed for a reason other than the signature value under c
			// (digest mismatch, malformed signature): no other pin does better.
			return nil, fmt.Errorf("%w: %s", ErrInvalidSignature, describeDsigErr(err, c))
		}
		sigErr = fmt.Errorf("signature value does not verify under pinned certificate %s: %v", Thumbprint(c), err)
	}
	tried := fmt.Sprintf("none of the %d pinned certificates", len(trusted))
	if truncated {
		tried = fmt.Sprintf("none of the first %d of %d pinned certificates (KeyInfo names none of them)", MaxPinnedTries, len(trusted))
	}
	switch {
	case matched:
		return nil, fmt.Errorf("%w: %v", ErrInvalidSignature, sigErr)
	case named != nil:
		return nil, fmt.Errorf("%w: KeyInfo names certificate %s (%s), and the signature verifies under %s",
			ErrUntrustedSigner, Thumbprint(named), named.Subject, tried)
	}
	return nil, fmt.Errorf("%w: the signature verifies under %s", ErrUntrustedSigner, tried)
}

func validateWith(root *etree.Element, cert *x509.Certificate) error {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.IdAttribute = "ID"
	// Pinning is the trust anchor; validity dates are the caller's policy.
	ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore)
	_, err := ctx.Validate(root)
	return err
}

// badSignatureValue reports whether goxmldsig failed at checking the
// SignatureValue over SignedInfo (as opposed to the reference digest).
func badSignatureValue(err error) bool {
	msg := err.Error()
	return errors.Is(err, rsa.ErrVerification) || strings.Contains(msg, "ECDSA verification failure") ||
		strings.Contains(msg, "signature algorithm specifies")
}

func describeDsigErr(err error, c *x509.Certificate) string {
	switch {
	case errors.Is(err, dsig.ErrMissingSignature):
		return "no signature references the root element"
	case err.Error() == "Signature could not be verified":
		return fmt.Sprintf("reference digest mismatch: the document was changed after %s signed it", Thumbprint(c))
	}
	return err.Error()
}
