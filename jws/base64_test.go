package jws

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// decodeB64 agrees with encoding/base64's strict unpadded base64url decoder,
// except that it also refuses line breaks, which encoding/base64 skips.
func checkDecode(t *testing.T, src string) {
	t.Helper()
	want, err := base64.RawURLEncoding.Strict().DecodeString(src)
	stdOK := err == nil && !bytes.ContainsAny([]byte(src), "\r\n")
	dst := make([]byte, decodedLen(len(src))+2)
	n, ok := decodeB64(dst, src)
	if ok != stdOK || ok && !bytes.Equal(dst[:n], want) {
		t.Fatalf("decodeB64(%q) = %x, %v; encoding/base64: %x, %v", src, dst[:n], ok, want, err)
	}
}

func TestDecodeB64(t *testing.T) {
	const chars = "AQgw_-+/=.\n \x00\xffaz09"
	var build func(prefix string, depth int)
	build = func(prefix string, depth int) { // every string of up to 4 of chars
		checkDecode(t, prefix)
		if depth < 4 {
			for i := range len(chars) {
				build(prefix+chars[i:i+1], depth+1)
			}
		}
	}
	build("", 0)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		s := base64.RawURLEncoding.EncodeToString(b)
		checkDecode(t, s)
		if len(s) > 0 { // corrupt one character
			c := []byte(s)
			c[r.IntN(len(c))] = chars[r.IntN(len(chars))]
			checkDecode(t, string(c))
		}
	}
}

func FuzzDecodeB64(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9")
	f.Add("AB")
	f.Add("A")
	f.Fuzz(func(t *testing.T, s string) { checkDecode(t, s) })
}
