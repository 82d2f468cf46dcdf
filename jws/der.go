package jws

import (
	"encoding/asn1"
	"math/big"
)

// appendDER appends the ASN.1 DER form of the ECDSA signature (r, s), given
// as big-endian byte strings, to dst: SEQUENCE { INTEGER r, INTEGER s }.
func appendDER(dst, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	n := intLen(r) + intLen(s)
	dst = append(dst, 0x30)
	if n >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(n))
	dst = appendInt(dst, r)
	return appendInt(dst, s)
}

func trimZeros(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

// intLen is the encoded size of an INTEGER holding the unsigned v (< 128
// content bytes, which holds for every supported curve).
func intLen(v []byte) int {
	if v[0]&0x80 != 0 {
		return 2 + len(v) + 1
	}
	return 2 + len(v)
}

func appendInt(dst, v []byte) []byte {
	dst = append(dst, 0x02)
	if v[0]&0x80 != 0 {
		return append(append(dst, byte(len(v)+1), 0), v...)
	}
	return append(append(dst, byte(len(v))), v...)
}

// fixedRS converts a DER ECDSA signature to the r||s form of RFC 7518, each
// integer left-padded to size bytes.
func fixedRS(der []byte, size int) ([]byte, bool) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
		return nil, false
	}
	if (sig.R.BitLen()+7)/8 > size || (sig.S.BitLen()+7)/8 > size {
		return nil, false
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, true
}
