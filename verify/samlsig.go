package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// XML-DSig algorithm identifiers.
const (
	dsigRSASHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	dsigRSASHA384    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	dsigRSASHA512    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	dsigECDSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	dsigECDSASHA384  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	dsigECDSASHA512  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
	dsigSHA256       = "http://www.w3.org/2001/04/xmlenc#sha256"
	dsigSHA384       = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	dsigSHA512       = "http://www.w3.org/2001/04/xmlenc#sha512"
	dsigEnveloped    = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	dsigExcC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	nsExcC14N        = "http://www.w3.org/2001/10/xml-exc-c14n#"
	samlMinDigestLen = 32
)

// DefaultSAMLSignatureMethods are the XML-DSig signature methods accepted
// unless [SAMLConfig.SignatureMethods] says otherwise: RSA (PKCS #1 v1.5)
// and ECDSA, each with SHA-256, SHA-384 or SHA-512. SHA-1 is refused.
func DefaultSAMLSignatureMethods() []string {
	return []string{dsigRSASHA256, dsigRSASHA384, dsigRSASHA512, dsigECDSASHA256, dsigECDSASHA384, dsigECDSASHA512}
}

// samlMethod is a signature method this verifier can check: its hash and
// the key type it is bound to (an RSA method never verifies with an EC
// key, nor the reverse).
type samlMethod struct {
	hash crypto.Hash
	ec   bool
}

// samlDigests are the digest algorithms accepted; samlMethods the
// signature methods this verifier can check. Another method in
// [SAMLConfig.SignatureMethods] verifies nothing.
var (
	samlDigests = map[string]crypto.Hash{dsigSHA256: crypto.SHA256, dsigSHA384: crypto.SHA384, dsigSHA512: crypto.SHA512}
	samlMethods = map[string]samlMethod{
		dsigRSASHA256:   {crypto.SHA256, false},
		dsigRSASHA384:   {crypto.SHA384, false},
		dsigRSASHA512:   {crypto.SHA512, false},
		dsigECDSASHA256: {crypto.SHA256, true},
		dsigECDSASHA384: {crypto.SHA384, true},
		dsigECDSASHA512: {crypto.SHA512, true},
	}
)

// samlSignature is an enveloped signature whose shape has been checked.
type samlSignature struct {
	el, sig, signedInfo *xnode
	method              string
	siPrefixes          []string // SignedInfo's InclusiveNamespaces PrefixList
	refPrefixes         []string // the Reference's
	digest              crypto.Hash
	digestValue         string
	sigValue            string
	keyInfo             bool   // a KeyInfo is present
	hasCert             bool   // it holds an X509Certificate
	certText            string // its base64 text
	certDER             []byte // decoded, when compared as DER (see resolveCert)
}

// signatureOf checks the shape of el's enveloped signature before any
// cryptography: one ds:Signature child (SignedInfo, SignatureValue,
// optional KeyInfo, nothing else); one Reference whose URI is "#" and
// el's own ID; allow-listed algorithms; the transforms exactly
// enveloped-signature then exclusive c14n. The KeyInfo certificate, if
// any, only names which key to use: it must be in the key set.
func (v *SAMLVerifier) signatureOf(el *xnode, s *samlSignature) error {
	sig, err := child(el, nsDSig, "Signature")
	if err != nil {
		return err
	}
	if sig == nil {
		return ErrSAMLUnsigned
	}
	id := attr(el, "ID")
	si, err := child(sig, nsDSig, "SignedInfo")
	if err != nil || si == nil || id == "" {
		return fmt.Errorf("%w: missing SignedInfo or ID", ErrSAMLReference)
	}
	var ref *xnode
	refs := 0
	for c := si.first; c != nil; c = c.next {
		if c.is(nsDSig, "Reference") {
			ref, refs = c, refs+1
		}
	}
	if refs != 1 || !isFragmentRef(attr(ref, "URI"), id) {
		return fmt.Errorf("%w: want one Reference to #%s", ErrSAMLReference, clip(id))
	}
	*s = samlSignature{el: el, sig: sig, signedInfo: si}
	if err := v.algorithms(s, si, ref); err != nil {
		return err
	}
	var kb [4]*xnode
	kids := elements(kb[:0], sig)
	if len(kids) < 2 || len(kids) > 3 || kids[0] != si || !kids[1].is(nsDSig, "SignatureValue") ||
		len(kids) == 3 && !kids[2].is(nsDSig, "KeyInfo") {
		return fmt.Errorf("%w: Signature must hold SignedInfo, SignatureValue and at most a KeyInfo", ErrSAMLMalformed)
	}
	if s.sigValue, err = text(kids[1]); err != nil {
		return err
	}
	if len(kids) == 3 {
		s.keyInfo = true
		if s.certText, s.hasCert, err = keyInfoCert(kids[2]); err != nil {
			return err
		}
	}
	return nil
}

// isFragmentRef reports whether uri is "#" + id.
func isFragmentRef(uri, id string) bool {
	return len(uri) == len(id)+1 && uri[0] == '#' && uri[1:] == id
}

// elements appends el's child elements to buf.
func elements(buf []*xnode, el *xnode) []*xnode {
	for c := el.first; c != nil; c = c.next {
		if c.elem {
			buf = append(buf, c)
		}
	}
	return buf
}

// hasElements reports whether el has a child element.
func hasElements(el *xnode) bool {
	for c := el.first; c != nil; c = c.next {
		if c.elem {
			return true
		}
	}
	return false
}

// algorithms checks every algorithm the signature names, and that
// SignedInfo and the Reference hold nothing else.
func (v *SAMLVerifier) algorithms(s *samlSignature, si, ref *xnode) error {
	alg := func(parent *xnode, tag string, ok func(string) bool) (*xnode, error) {
		el, err := child(parent, nsDSig, tag)
		if err != nil {
			return nil, err
		}
		if el == nil || !ok(attr(el, "Algorithm")) {
			a := ""
			if el != nil {
				a = attr(el, "Algorithm")
			}
			return nil, fmt.Errorf("%w: %s %s", ErrSAMLAlgorithm, tag, clip(a))
		}
		return el, nil
	}
	cm, err := alg(si, "CanonicalizationMethod", func(a string) bool { return a == dsigExcC14N })
	if err != nil {
		return err
	}
	sm, err := alg(si, "SignatureMethod", func(a string) bool { return slices.Contains(v.methods, a) })
	if err != nil {
		return err
	}
	dm, err := alg(ref, "DigestMethod", func(a string) bool { _, ok := samlDigests[a]; return ok })
	if err != nil {
		return err
	}
	s.method, s.digest = attr(sm, "Algorithm"), samlDigests[attr(dm, "Algorithm")]
	if s.siPrefixes, err = inclusivePrefixes(cm); err != nil {
		return err
	}
	ts, err := child(ref, nsDSig, "Transforms")
	if err != nil {
		return err
	}
	if ts == nil {
		return fmt.Errorf("%w: no Transforms (enveloped-signature and exclusive c14n are required)", ErrSAMLAlgorithm)
	}
	var tb, kb [4]*xnode
	t := elements(tb[:0], ts)
	for _, x := range t {
		if !x.is(nsDSig, "Transform") || (attr(x, "Algorithm") != dsigEnveloped && attr(x, "Algorithm") != dsigExcC14N) {
			return fmt.Errorf("%w: transform %s", ErrSAMLAlgorithm, clip(attr(x, "Algorithm")))
		}
	}
	if len(t) != 2 || attr(t[0], "Algorithm") != dsigEnveloped || attr(t[1], "Algorithm") != dsigExcC14N || hasElements(t[0]) {
		return fmt.Errorf("%w: the transforms must be enveloped-signature then exclusive c14n", ErrSAMLAlgorithm)
	}
	if s.refPrefixes, err = inclusivePrefixes(t[1]); err != nil {
		return err
	}
	dv, err := child(ref, nsDSig, "DigestValue")
	if err != nil || dv == nil {
		return fmt.Errorf("%w: Reference without DigestValue", ErrSAMLMalformed)
	}
	if s.digestValue, err = text(dv); err != nil {
		return err
	}
	if k := elements(kb[:0], si); len(k) != 3 || k[0] != cm || k[1] != sm || k[2] != ref {
		return fmt.Errorf("%w: SignedInfo must hold CanonicalizationMethod, SignatureMethod and one Reference", ErrSAMLMalformed)
	}
	if k := elements(kb[:0], ref); len(k) != 3 || k[0] != ts || k[1] != dm || k[2] != dv {
		return fmt.Errorf("%w: Reference must hold Transforms, DigestMethod and DigestValue", ErrSAMLMalformed)
	}
	if hasElements(sm) || hasElements(dm) {
		return fmt.Errorf("%w: parameters of SignatureMethod or DigestMethod", ErrSAMLAlgorithm)
	}
	return nil
}

// inclusivePrefixes reads the InclusiveNamespaces PrefixList of an
// exclusive c14n method or transform, its only allowed content.
func inclusivePrefixes(m *xnode) ([]string, error) {
	var kb [2]*xnode
	k := elements(kb[:0], m)
	switch {
	case len(k) == 0:
		return nil, nil
	case len(k) > 1 || !k[0].is(nsExcC14N, "InclusiveNamespaces") || k[0].first != nil:
		return nil, fmt.Errorf("%w: unexpected content in an exclusive c14n algorithm", ErrSAMLAlgorithm)
	}
	return parsePrefixList(attr(k[0], "PrefixList"))
}

// keyInfoCert reads the text of the first X509Certificate of the
// signature's KeyInfo (not decoded: it only names which certificate of
// the key set to use, see resolveCert).
func keyInfoCert(ki *xnode) (string, bool, error) {
	data, err := child(ki, nsDSig, "X509Data")
	if err != nil || data == nil {
		return "", false, err
	}
	var c *xnode
	for x := data.first; x != nil && c == nil; x = x.next {
		if x.is(nsDSig, "X509Certificate") {
			c = x
		}
	}
	if c == nil {
		return "", false, nil
	}
	b64, err := text(c)
	if err != nil {
		return "", false, err
	}
	if b64 == "" {
		return "", false, fmt.Errorf("%w: KeyInfo certificate: not base64", ErrSAMLMalformed)
	}
	return b64, true, nil
}

// resolveCert decides how the KeyInfo certificate is compared with the
// key set's: as text when it is exactly the base64 form of one of ks's
// certificates (each computed once per key set, so equal text is equal
// DER), otherwise decoded and compared as DER.
func (s *samlSignature) resolveCert(ks *KeySet) error {
	if !s.hasCert || s.certDER != nil {
		return nil
	}
	for i := range ks.entries {
		if b := ks.entries[i].certB64; b != "" && b == s.certText {
			return nil
		}
	}
	_, err := s.der()
	return err
}

// der returns the KeyInfo certificate decoded (white space ignored).
func (s *samlSignature) der() ([]byte, error) {
	if s.certDER != nil {
		return s.certDER, nil
	}
	clean := make([]byte, 0, len(s.certText))
	for i := 0; i < len(s.certText); i++ {
		switch b := s.certText[i]; b {
		case ' ', '\t', '\n', '\r', '\f':
		default:
			clean = append(clean, b)
		}
	}
	n, err := base64.StdEncoding.Decode(clean, clean)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("%w: KeyInfo certificate: not base64", ErrSAMLMalformed)
	}
	s.certDER = clean[:n]
	return s.certDER, nil
}

// named reports whether e's certificate is the one KeyInfo names (any,
// when it names none).
func (s *samlSignature) named(e *keyEntry) bool {
	switch {
	case !s.hasCert:
		return true
	case s.certDER != nil:
		return bytes.Equal(s.certDER, e.key.Certs[0].Raw)
	}
	return s.certText == e.certB64
}

// samlKey is a certificate of the key set that could have signed.
type samlKey struct {
	cert *x509.Certificate
	x5t  string
}

// samlCerts returns the usable certificates of ks that could have signed
// with a method bound to EC keys (ec) or RSA keys: the one KeyInfo names,
// or all when it names none. wrong is a certificate that would have
// qualified but for its key type, if any.
func samlCerts(out []samlKey, ks *KeySet, s *samlSignature, ec bool, limit int) (_ []samlKey, wrong *keyEntry) {
	for i := range ks.entries {
		e := &ks.entries[i]
		if e.unusable != nil || len(e.key.Certs) == 0 {
			continue
		}
		c := e.key.Certs[0]
		if !s.named(e) {
			continue
		}
		if isEC := e.fam == famP256 || e.fam == famP384 || e.fam == famP521; isEC != ec || !ec && e.fam != famRSA {
			if wrong == nil {
				wrong = e
			}
			continue
		}
		out = append(out, samlKey{c, e.x5t})
		if len(out) == limit {
			break
		}
	}
	return out, wrong
}

// sigBufs are a verification's buffers: the canonical form, and the
// decoded signature value.
type sigBufs struct{ c14n, sig []byte }

// c14nBufs recycles them.
var c14nBufs = sync.Pool{New: func() any { return &sigBufs{c14n: make([]byte, 0, 8<<10), sig: make([]byte, 0, 512)} }}

// validated checks s against the key set (refreshing once, throttled
// like JWTs, when the signing certificate is unknown): the signature over
// the exclusive canonical SignedInfo, then the digest of the exclusive
// canonical signed element without its signature. It returns the key that
// verified: the signed element, in the one tree both canonicalisation and
// reading use, is what the caller reads.
func (v *SAMLVerifier) validated(ctx context.Context, s *samlSignature, now time.Time) (samlKey, error) {
	ks, fresh, err := v.cache.keys(ctx, now)
	if err != nil {
		return samlKey{}, err
	}
	m, ok := samlMethods[s.method]
	if !ok {
		return samlKey{}, fmt.Errorf("%w: signature method %s needs a key this verifier does not use", ErrBadSignature, clip(s.method))
	}
	if err := s.resolveCert(ks); err != nil {
		return samlKey{}, err
	}
	var cb [4]samlKey
	certs, wrong := samlCerts(cb[:0], ks, s, m.ec, DefaultMaxKeyTries)
	if len(certs) == 0 && s.hasCert && wrong == nil {
		der, err := s.der()
		if err != nil {
			return samlKey{}, err
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return samlKey{}, fmt.Errorf("%w: KeyInfo certificate: %v", ErrSAMLMalformed, err)
		}
	}
	var out missOutcome
	for range maxMissRefreshes {
		if len(certs) > 0 || fresh || wrong != nil && s.hasCert {
			break // a named certificate of the wrong type stays so
		}
		out = v.cache.refreshOnMiss(ctx, ks, now)
		if out.ks != nil && out.ks != ks {
			ks = out.ks
			certs, wrong = samlCerts(cb[:0], ks, s, m.ec, DefaultMaxKeyTries)
		}
		if out.final {
			break
		}
	}
	if len(certs) == 0 && wrong != nil {
		return samlKey{}, fmt.Errorf("%w: signature method %s cannot use the %s key of certificate x5t %s",
			ErrKeyMismatch, clip(s.method), familyNames[wrong.fam], wrong.x5t)
	}
	if len(certs) == 0 {
		what := "an unnamed signing certificate"
		if s.hasCert {
			der, _ := s.der() // decoded above: no certificate had its text
			sum := sha1.Sum(der)
			what = "certificate x5t " + clip(base64.RawURLEncoding.EncodeToString(sum[:]))
		}
		return samlKey{}, (&missError{key: what}).explain(out, ks)
	}
	if s.keyInfo && !s.hasCert {
		return samlKey{}, fmt.Errorf("%w: KeyInfo without an X509Certificate", ErrBadSignature)
	}
	bufs := c14nBufs.Get().(*sigBufs)
	defer c14nBufs.Put(bufs)
	key, err := v.checkSignedInfo(bufs, s, m, certs, now)
	if err != nil {
		return samlKey{}, err
	}
	var wb [sha512.Size]byte
	want, err := base64.StdEncoding.AppendDecode(wb[:0], stringBytes(s.digestValue))
	if err != nil || len(want) != s.digest.Size() || len(want) < samlMinDigestLen {
		return samlKey{}, fmt.Errorf("%w: DigestValue", ErrBadSignature)
	}
	bufs.c14n, err = canonicalize(bufs.c14n[:0], s.el, s.sig, s.refPrefixes)
	if err != nil {
		return samlKey{}, err
	}
	var sum [sha512.Size]byte
	if subtle.ConstantTimeCompare(hashInto(sum[:0], s.digest, bufs.c14n), want) != 1 {
		return samlKey{}, fmt.Errorf("%w: digest of the signed element does not match", ErrBadSignature)
	}
	return key, nil
}

// checkSignedInfo verifies the signature of the canonical SignedInfo
// with the first of certs that is valid now and verifies it.
func (v *SAMLVerifier) checkSignedInfo(bufs *sigBufs, s *samlSignature, m samlMethod, certs []samlKey, now time.Time) (samlKey, error) {
	sigValue, err := base64.StdEncoding.AppendDecode(bufs.sig[:0], stringBytes(s.sigValue))
	bufs.sig = sigValue[:0]
	if err != nil {
		return samlKey{}, fmt.Errorf("%w: SignatureValue is not base64", ErrBadSignature)
	}
	bufs.c14n, err = canonicalize(bufs.c14n[:0], s.signedInfo, nil, s.siPrefixes)
	if err != nil {
		return samlKey{}, err
	}
	var sum [sha512.Size]byte
	digest := hashInto(sum[:0], m.hash, bufs.c14n)
	var firstErr error
	for _, k := range certs {
		err := errCertNotValidNow
		if !now.Before(k.cert.NotBefore) && !now.After(k.cert.NotAfter) {
			err = verifySignatureValue(k.cert.PublicKey, m, digest, sigValue)
		}
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
	}
	return samlKey{}, firstErr
}

// verifySignatureValue checks sig over digest with pub, which must be of
// the key type m is bound to: RSA PKCS #1 v1.5, or ECDSA with the value as
// XML-DSig 1.1 writes it (r||s, each the size of the curve order) or, as
// goxmldsig-based signers write it, ASN.1 DER.
func verifySignatureValue(pub any, m samlMethod, digest, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !m.ec {
			return rsa.VerifyPKCS1v15(k, m.hash, digest, sig)
		}
	case *ecdsa.PublicKey:
		if !m.ec {
			break
		}
		n := (k.Curve.Params().N.BitLen() + 7) / 8
		if len(sig) == 2*n {
			r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
			if ecdsa.Verify(k, digest, r, s) {
				return nil
			}
		}
		if len(sig) > 0 && sig[0] == 0x30 && ecdsa.VerifyASN1(k, digest, sig) {
			return nil
		}
		return errors.New("ECDSA signature does not verify")
	}
	return fmt.Errorf("%w: the key type does not fit the signature method", ErrKeyMismatch)
}

var errCertNotValidNow = errors.New("certificate not valid at this time")

// stringBytes is s's bytes, for reading only.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// hashInto appends the h digest of data to dst.
func hashInto(dst []byte, h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(data)
		return append(dst, s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(data)
		return append(dst, s[:]...)
	default:
		s := sha512.Sum512(data)
		return append(dst, s[:]...)
	}
}
