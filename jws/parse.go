package jws

import (
	"strconv"
	"strings"
)

// MaxTokenSize is the longest compact token, in bytes, that [Parse] accepts:
// 16 KiB. Real ID and access tokens are a few kilobytes; anything longer is
// refused with [ErrTooLarge] before any decoding, which bounds the work an
// unauthenticated request can cause.
const MaxTokenSize = 16 << 10

// Header is the protected header of a token. Parse fills only the members
// listed here; other members are checked for syntax and ignored.
type Header struct {
	Alg     string // "alg": algorithm, one of Algorithms
	Kid     string // "kid": key ID
	Typ     string // "typ": media type of the token, e.g. "JWT"
	Cty     string // "cty": media type of the payload
	X5t     string // "x5t": base64url SHA-1 of the signing certificate
	X5tS256 string // "x5t#S256": base64url SHA-256 of the signing certificate
	// Crit lists extensions the recipient must understand. keyroll
	// understands none: Parse rejects any token with crit (so it is always
	// nil on a parsed token) and Sign refuses a non-empty Crit.
	Crit []string
}

// Token is a parsed compact JWS whose signature has NOT been checked.
type Token struct {
	Header       Header
	RawHeader    []byte // decoded header JSON
	Payload      []byte // decoded payload
	SigningInput string // the first two segments with the dot, as sent
	Signature    []byte
}

// Parse parses a compact JWS (header.payload.signature) and checks its
// header against keyroll's policy (see the package documentation). It does
// not verify the signature: call [VerifySignature] with a key chosen by the
// caller. RawHeader, Payload and Signature share one buffer.
func Parse(token string) (*Token, error) {
	if len(token) > MaxTokenSize {
		return nil, fail(ErrTooLarge, strconv.Itoa(len(token))+" bytes, limit "+strconv.Itoa(MaxTokenSize))
	}
	dot1, dot2, err := split(token)
	if err != nil {
		return nil, err
	}
	hSeg, pSeg, sSeg := token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	buf := make([]byte, decodedLen(len(hSeg))+decodedLen(len(pSeg))+decodedLen(len(sSeg))+2)
	raw, rest, err := decode(buf, hSeg, "header")
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(raw) // before the rest, so bad headers are cheap to refuse
	if err != nil {
		return nil, err
	}
	payload, rest, err := decode(rest, pSeg, "payload")
	if err != nil {
		return nil, err
	}
	sig, _, err := decode(rest, sSeg, "signature")
	if err != nil {
		return nil, err
	}
	if len(sig) == 0 {
		return nil, fail(ErrEmptySignature, "")
	}
	return &Token{Header: h, RawHeader: raw, Payload: payload, SigningInput: token[:dot2], Signature: sig}, nil
}

// split finds the two dots of a compact token.
func split(token string) (dot1, dot2 int, err error) {
	dot1 = strings.IndexByte(token, '.')
	if dot1 < 0 {
		return 0, 0, fail(ErrMalformed, "fewer than three segments")
	}
	dot2 = strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return 0, 0, fail(ErrMalformed, "fewer than three segments")
	}
	dot2 += dot1 + 1
	switch {
	case strings.IndexByte(token[dot2+1:], '.') >= 0:
		return 0, 0, fail(ErrMalformed, "more than three segments")
	case dot1 == 0:
		return 0, 0, fail(ErrMalformed, "empty header segment")
	}
	return dot1, dot2, nil
}

// decode decodes seg into the front of buf and returns the decoded bytes
// (capacity-limited, so appending to them cannot overwrite the next part)
// and the rest of buf.
func decode(buf []byte, seg, what string) (out, rest []byte, err error) {
	n, ok := decodeB64(buf, seg)
	if !ok {
		return nil, nil, fail(ErrEncoding, what+" is not canonical unpadded base64url")
	}
	return buf[:n:n], buf[n:], nil
}
