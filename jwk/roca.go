package jwk

import "math/big"

// ROCA (CVE-2017-15361): RSA keys made by a flawed Infineon library have
// primes of the form k*M + (65537^a mod M), so the modulus is, modulo each
// small prime p dividing M, a power of 65537. The test below is the published
// fingerprint (Nemec et al., CCS 2017): n mod p lies in the subgroup generated
// by 65537 for every listed p. A random modulus passes with probability about
// 2^-30, so a false positive is practically impossible.

var rocaPrimes = []uint64{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79,
	83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167}

// rocaSubgroups[i] is a bit set of the powers of 65537 modulo rocaPrimes[i].
var rocaSubgroups = func() [][3]uint64 {
	sets := make([][3]uint64, len(rocaPrimes))
	for i, p := range rocaPrimes {
		for x := uint64(1); ; {
			sets[i][x/64] |= 1 << (x % 64)
			if x = x * 65537 % p; x == 1 {
				break
			}
		}
	}
	return sets
}()

// hasROCAFingerprint reports whether n looks like a ROCA-vulnerable modulus.
func hasROCAFingerprint(n *big.Int) bool {
	var r, p big.Int
	for i, prime := range rocaPrimes {
		v := r.Mod(n, p.SetUint64(prime)).Uint64()
		if rocaSubgroups[i][v/64]&(1<<(v%64)) == 0 {
			return false
		}
	}
	return true
}
