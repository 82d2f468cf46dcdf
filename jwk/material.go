package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"math/big"
	"strconv"
)

// publicKey reads the key material members of a key of type kty.
func publicKey(m members, kty string) (crypto.PublicKey, error) {
	switch kty {
	case "RSA":
		return rsaKey(m)
	case "EC":
		return ecKey(m)
	}
	return okpKey(m)
}

func rsaKey(m members) (crypto.PublicKey, error) {
	n, err := m.bytes("n")
	if err != nil {
		return nil, err
	}
	e, err := m.bytes("e")
	if err != nil {
		return nil, err
	}
	if len(n) == 0 || len(e) == 0 {
		return nil, errors.New(`RSA key needs "n" and "e"`)
	}
	e = trimZeros(e)
	if len(e) > 4 {
		return nil, keyErr(ErrWeakKey, "RSA exponent longer than 32 bits")
	}
	var exp int
	for _, c := range e {
		exp = exp<<8 | int(c)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	// Size and exponent are checked with the alg (checkAlg); ROCA here.
	if hasROCAFingerprint(pub.N) {
		return nil, keyErr(ErrWeakKey, "RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
	}
	return pub, nil
}

// leading zero octets in n or e are tolerated: some libraries emit them.
func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// curves maps a JWK crv to its curve and coordinate size.
func curveOf(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

func ecKey(m members) (crypto.PublicKey, error) {
	crv, err := m.str("crv")
	if err != nil {
		return nil, err
	}
	curve, size := curveOf(crv)
	if curve == nil {
		return nil, keyErr(ErrUnsupported, "EC crv "+quoteShort(crv))
	}
	x, err := m.bytes("x")
	if err != nil {
		return nil, err
	}
	y, err := m.bytes("y")
	if err != nil {
		return nil, err
	}
	if len(x) != size || len(y) != size {
		return nil, errors.New(crv + ` "x" and "y" must be ` + strconv.Itoa(size) + " bytes each")
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, errors.New("EC point is not on " + crv)
	}
	return pub, nil
}

func okpKey(m members) (crypto.PublicKey, error) {
	crv, err := m.str("crv")
	if err != nil {
		return nil, err
	}
	if crv != "Ed25519" {
		return nil, keyErr(ErrUnsupported, "OKP crv "+quoteShort(crv))
	}
	x, err := m.bytes("x")
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New(`Ed25519 "x" must be 32 bytes`)
	}
	return ed25519.PublicKey(x), nil
}
