package jws

import "unsafe"

// stringBytes returns the bytes of s without copying. The result aliases
// immutable memory: it is only ever passed to functions that read their
// input (hashes, base64 decoding, signature verification) and never stored
// or written to. This saves a copy of the signing input on every
// verification, which is on the token hot path.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
