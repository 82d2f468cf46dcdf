package jws

import "encoding/binary"

// A strict unpadded base64url decoder, about twice as fast as
// encoding/base64 because it decodes eight characters per step through
// pre-shifted tables. Any byte outside the alphabet (padding, line breaks,
// spaces, the standard alphabet's + and /), a length of 4k+1 and non-zero
// unused bits in the last character are all refused, so every byte string
// has exactly one accepted encoding.

// decN[c] is the 6-bit value of c shifted into position N of a 24-bit group,
// or badChar if c is not in the alphabet.
var dec0, dec1, dec2, dec3 [256]uint32

const badChar = 1 << 24

func init() {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range 256 {
		dec0[i], dec1[i], dec2[i], dec3[i] = badChar, badChar, badChar, badChar
	}
	for v := range len(alphabet) {
		c, u := alphabet[v], uint32(v)
		dec0[c], dec1[c], dec2[c], dec3[c] = u<<18, u<<12, u<<6, u
	}
}

// decodedLen is the decoded size of n base64url characters.
func decodedLen(n int) int { return n * 6 / 8 }

// decodeB64 decodes src into dst and returns the number of bytes written.
// dst must hold decodedLen(len(src)) bytes; the fast path also writes up to
// two bytes past them when dst has room, so callers decoding into one buffer
// must decode in order and leave two spare bytes at its end.
func decodeB64(dst []byte, src string) (int, bool) {
	n := 0
	for len(src) >= 8 && len(dst)-n >= 8 {
		x := dec0[src[0]] | dec1[src[1]] | dec2[src[2]] | dec3[src[3]]
		y := dec0[src[4]] | dec1[src[5]] | dec2[src[6]] | dec3[src[7]]
		if x|y >= badChar {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(x)<<40|uint64(y)<<16)
		n += 6
		src = src[8:]
	}
	for len(src) >= 4 {
		x := dec0[src[0]] | dec1[src[1]] | dec2[src[2]] | dec3[src[3]]
		if x >= badChar || len(dst)-n < 3 {
			return 0, false
		}
		dst[n], dst[n+1], dst[n+2] = byte(x>>16), byte(x>>8), byte(x)
		n += 3
		src = src[4:]
	}
	return decodeTail(dst, n, src)
}

// decodeTail decodes the last 0, 2 or 3 characters, whose unused low bits
// must be zero.
func decodeTail(dst []byte, n int, src string) (int, bool) {
	switch len(src) {
	case 0:
		return n, true
	case 2:
		x := dec0[src[0]] | dec1[src[1]]
		if x >= badChar || x&0xFFFF != 0 || len(dst)-n < 1 {
			return 0, false
		}
		dst[n] = byte(x >> 16)
		return n + 1, true
	case 3:
		x := dec0[src[0]] | dec1[src[1]] | dec2[src[2]]
		if x >= badChar || x&0xFF != 0 || len(dst)-n < 2 {
			return 0, false
		}
		dst[n], dst[n+1] = byte(x>>16), byte(x>>8)
		return n + 2, true
	}
	return 0, false
}
