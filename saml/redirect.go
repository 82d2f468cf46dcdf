package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strings"
)

// Signature algorithms of the HTTP-Redirect binding's SigAlg parameter.
const (
	SigAlgRSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	SigAlgECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	sigAlgRSASHA1     = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
)

// ParseRedirectRequest reads an AuthnRequest of the HTTP-Redirect binding
// from the raw (still URL-encoded) query string: SAMLRequest is base64 of
// the raw DEFLATE of the XML (inflated up to MaxRequestSize), RelayState is
// returned as sent. If a Signature parameter is present, it must verify
// under one of certs over the octets "SAMLRequest=...&RelayState=...&SigAlg=..."
// exactly as they appear in the query (SAML bindings 3.4.4.1), with SigAlg
// SigAlgRSASHA256 or SigAlgECDSASHA256 (RSA-SHA1 is refused: see the package
// documentation). Without one, requireSigned gives ErrUnsigned. A
// ds:Signature inside the XML is not part of this binding and is ignored
// (it never makes a request Signed).
func ParseRedirectRequest(rawQuery string, certs []*x509.Certificate, requireSigned bool) (*AuthnRequest, string, error) {
	if len(rawQuery) > MaxEncodedSize {
		return nil, "", fmt.Errorf("%w: query of %d bytes, limit %d", ErrTooLarge, len(rawQuery), MaxEncodedSize)
	}
	raw, err := redirectParams(rawQuery)
	if err != nil {
		return nil, "", err
	}
	value := func(k string) (string, error) {
		v, err := url.QueryUnescape(raw[k])
		if err != nil {
			return "", fmt.Errorf("%w: %s is not URL-encoded: %v", ErrMalformed, k, err)
		}
		return v, nil
	}
	samlRequest, err := value("SAMLRequest")
	if err != nil {
		return nil, "", err
	}
	relayState, err := value("RelayState")
	if err != nil {
		return nil, "", err
	}
	_, hasSig := raw["Signature"]
	_, hasAlg := raw["SigAlg"]
	switch {
	case hasSig != hasAlg:
		return nil, "", fmt.Errorf("%w: Signature and SigAlg must come together", ErrMalformed)
	case !hasSig && requireSigned:
		return nil, "", fmt.Errorf("%w: the redirect request has no Signature parameter", ErrUnsigned)
	case hasSig:
		if err := verifyRedirect(raw, value, certs); err != nil {
			return nil, "", err
		}
	}
	// Only now, with the signature checked, is the request decoded.
	xml, err := inflate(samlRequest)
	if err != nil {
		return nil, "", err
	}
	root, err := readXML(xml, requestLimits, NSProtocol, "AuthnRequest")
	if err != nil {
		return nil, "", err
	}
	req, err := readAuthnRequest(root)
	if err != nil {
		return nil, "", err
	}
	req.Signed = hasSig
	return req, relayState, nil
}

// redirectParams splits the query into the raw values of the binding's four
// parameters; others are ignored, a repeated one is refused.
func redirectParams(rawQuery string) (map[string]string, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "SAMLRequest", "RelayState", "SigAlg", "Signature":
			if _, dup := raw[k]; dup {
				return nil, fmt.Errorf("%w: %s appears more than once", ErrMalformed, k)
			}
			raw[k] = v
		}
	}
	if raw["SAMLRequest"] == "" {
		return nil, fmt.Errorf("%w: no SAMLRequest parameter", ErrMalformed)
	}
	return raw, nil
}

// decodeBase64 decodes standard base64, ignoring whitespace; a space also
// stands for '+', which some senders leave unencoded in queries.
func decodeBase64(what, s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ':
			return '+'
		case '\t', '\r', '\n':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64: %v", ErrMalformed, what, err)
	}
	return b, nil
}

// inflate decodes and inflates SAMLRequest, refusing more than
// MaxRequestSize bytes of output.
func inflate(samlRequest string) ([]byte, error) {
	compressed, err := decodeBase64("SAMLRequest", samlRequest)
	if err != nil {
		return nil, err
	}
	r := flate.NewReader(bytes.NewReader(compressed))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxRequestSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLRequest is not raw DEFLATE data: %v", ErrMalformed, err)
	}
	if len(out) > MaxRequestSize {
		return nil, fmt.Errorf("%w: SAMLRequest inflates to more than %d bytes", ErrTooLarge, MaxRequestSize)
	}
	return out, nil
}

// verifyRedirect checks the query signature against certs.
func verifyRedirect(raw map[string]string, value func(string) (string, error), certs []*x509.Certificate) error {
	alg, err := value("SigAlg")
	if err != nil {
		return err
	}
	switch alg {
	case SigAlgRSASHA256, SigAlgECDSASHA256:
	case sigAlgRSASHA1:
		return fmt.Errorf("%w: SigAlg rsa-sha1 is refused (SHA-1); sign with rsa-sha256 or ecdsa-sha256", ErrUnsupportedAlgorithm)
	default:
		return fmt.Errorf("%w: SigAlg %q (want rsa-sha256 or ecdsa-sha256)", ErrUnsupportedAlgorithm, alg)
	}
	sigText, err := value("Signature")
	if err != nil {
		return err
	}
	sig, err := decodeBase64("Signature", sigText)
	if err != nil {
		return err
	}
	signed := "SAMLRequest=" + raw["SAMLRequest"]
	if rs, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	digest := sha256.Sum256([]byte(signed))
	return verifyDigest(alg == SigAlgECDSASHA256, digest[:], sig, certs)
}

// verifyDigest checks a SHA-256 signature (PKCS #1 v1.5, or ECDSA as r||s or
// DER) under each certificate with a key of the right type.
func verifyDigest(isECDSA bool, digest, sig []byte, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return fmt.Errorf("%w: the request is signed, but no certificates were given to verify it", ErrBadSignature)
	}
	tried := 0
	for _, c := range certs {
		if c == nil {
			continue
		}
		switch k := c.PublicKey.(type) {
		case *rsa.PublicKey:
			if isECDSA {
				continue
			}
			tried++
			if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil {
				return nil
			}
		case *ecdsa.PublicKey:
			if !isECDSA {
				continue
			}
			tried++
			if verifyECDSA(k, digest, sig) {
				return nil
			}
		}
	}
	kind := "RSA"
	if isECDSA {
		kind = "ECDSA"
	}
	if tried == 0 {
		return fmt.Errorf("%w: none of the %d given certificates has an %s key", ErrBadSignature, len(certs), kind)
	}
	return fmt.Errorf("%w: the signature verifies under none of the %d given %s certificates "+
		"(signed by another key, or the query was changed)", ErrBadSignature, tried, kind)
}

func verifyECDSA(k *ecdsa.PublicKey, digest, sig []byte) bool {
	size := (k.Curve.Params().BitSize + 7) / 8
	if len(sig) == 2*size {
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return ecdsa.VerifyASN1(k, digest, sig)
}
