package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// Sign returns a compact JWS of payload with header h. h.Alg decides the
// algorithm and key.Public() must fit it as for [CheckKey]: RSA PKCS#1 v1.5
// (RS*), RSA-PSS with a salt as long as the hash (PS*), ECDSA with the
// fixed-size r||s encoding (ES*), or Ed25519 (EdDSA). key may be any
// crypto.Signer, e.g. one backed by a KMS; the signature such a signer
// returns is verified before Sign returns, so a faulty or mismatched signer
// is caught here rather than by relying parties. The standard library's own
// private keys are not re-checked: their public half is theirs by
// construction, and crypto/rsa already verifies its CRT result. A header Parse would refuse (non-empty
// Crit, invalid UTF-8) and tokens longer than MaxTokenSize are errors.
func Sign(key crypto.Signer, h Header, payload []byte) (string, error) {
	a, err := resolveAlg(h.Alg)
	if err != nil {
		return "", err
	}
	if len(h.Crit) > 0 {
		return "", fail(ErrUnsupportedCrit, "Sign does not emit crit")
	}
	if key == nil {
		return "", fail(ErrKeyMismatch, "nil signer")
	}
	pub := key.Public()
	if err := a.checkKey(pub); err != nil {
		return "", err
	}
	hdr, err := encodeHeader(h)
	if err != nil {
		return "", err
	}
	input := encodeInput(hdr, payload)
	sig, err := a.sign(key, input)
	if err != nil {
		return "", err
	}
	if !stdlibKey(key) && a.verify(pub, input, nil, sig) != nil {
		return "", fail(ErrSigner, "signature does not verify with the signer's public key")
	}
	token := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	if len(token) > MaxTokenSize {
		return "", fail(ErrTooLarge, strconv.Itoa(len(token))+" bytes, limit "+strconv.Itoa(MaxTokenSize))
	}
	return token, nil
}

// stdlibKey reports whether key is one of crypto's own private key types.
func stdlibKey(key crypto.Signer) bool {
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return true
	}
	return false
}

func encodeInput(hdr, payload []byte) string {
	enc := base64.RawURLEncoding
	buf := make([]byte, enc.EncodedLen(len(hdr))+1+enc.EncodedLen(len(payload)))
	n := enc.EncodedLen(len(hdr))
	enc.Encode(buf, hdr)
	buf[n] = '.'
	enc.Encode(buf[n+1:], payload)
	return string(buf)
}

// sign produces the JWS signature bytes of input.
func (a *algorithm) sign(key crypto.Signer, input string) ([]byte, error) {
	var (
		sig []byte
		err error
	)
	switch a.fam {
	case famEdDSA:
		sig, err = key.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	case famPSS:
		d := digest(a.hash, input)
		sig, err = key.Sign(rand.Reader, d.bytes(a.hash), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash})
	default:
		d := digest(a.hash, input)
		sig, err = key.Sign(rand.Reader, d.bytes(a.hash), a.hash)
	}
	if err != nil {
		return nil, &Error{Reason: ErrSigner, Detail: err.Error()}
	}
	if a.fam != famECDSA {
		return sig, nil
	}
	rs, ok := fixedRS(sig, a.size)
	if !ok {
		return nil, fail(ErrSigner, "ECDSA signer did not return a DER signature")
	}
	return rs, nil
}

// encodeHeader renders h as compact JSON, members in a fixed order: alg,
// kid, typ, cty, x5t, x5t#S256; empty members other than alg are omitted.
func encodeHeader(h Header) ([]byte, error) {
	fields := [...]struct{ name, value string }{
		{"alg", h.Alg}, {"kid", h.Kid}, {"typ", h.Typ}, {"cty", h.Cty}, {"x5t", h.X5t}, {"x5t#S256", h.X5tS256},
	}
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for i, f := range fields {
		if f.value == "" && i > 0 {
			continue
		}
		if !utf8.ValidString(f.value) {
			return nil, fail(ErrHeaderJSON, "header member "+strconv.Quote(f.name)+" is not valid UTF-8")
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendString(append(appendString(b, f.name), ':'), f.value)
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string; s is valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
