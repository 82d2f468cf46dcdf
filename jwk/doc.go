// Package jwk reads and writes JSON Web Keys and key sets (RFC 7517) holding
// the public signature-verification keys keyroll publishes and consumes.
//
// # Reading
//
// [ParseSet] reads a JWKS. A document that is not a key set at all is an
// error; each key that keyroll cannot or must not use is skipped and reported
// as a [*KeyError] naming its kid and the reason, and the other keys are kept.
// A key is skipped when it is malformed (bad member types or base64url, an
// EC point off its curve, duplicate members), symmetric ("oct"), contains
// private key members, is of an unknown type or curve, is marked for
// encryption only, names an alg that is unknown or does not fit the key, is
// a weak RSA key (modulus outside 2048..8192 bits, even exponent or 1, ROCA
// fingerprint), or carries an x5c certificate or x5t thumbprint that does not
// match it. Keys that share a kid but differ are all skipped. [ParseKey]
// reads one key with the same rules.
//
// # Writing
//
// [Key.MarshalJSON] renders a public key with members in a fixed order, and
// [Set] marshals as a JWKS document. [FromCertificate] builds the key that
// publishes a signing certificate, with x5c, x5t and x5t#S256.
package jwk
