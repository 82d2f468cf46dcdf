// Package jws parses, verifies and produces compact JSON Web Signatures
// (RFC 7515) for the asymmetric algorithms keyroll uses.
//
// # Parsing
//
// [Parse] splits a compact token, decodes its three base64url segments into
// one buffer and reads the protected header with keyroll's strict JSON
// scanner (internal/jsonscan, shared with verify's claims; no reflection). It is strict: it rejects anything that is not
// exactly one well-formed protected header, payload and signature, and every
// header that asks for something keyroll does not do:
//
//   - alg missing ([ErrMissingAlg]), "none" in any case ([ErrAlgNone]),
//     HMAC or any algorithm not in [Algorithms] ([ErrUnsupportedAlg]);
//   - jwk, jku, x5u or x5c members ([ErrEmbeddedKey]): the key that verifies a
//     token is chosen by the relying party, never by the token;
//   - crit or b64 members ([ErrUnsupportedCrit]): keyroll implements no
//     extensions, so an unencoded payload (RFC 7797) is never accepted;
//   - duplicate member names, including escaped spellings such as "al\u0067"
//     ([ErrDuplicateHeader]);
//   - tokens longer than [MaxTokenSize] ([ErrTooLarge]).
//
// A parsed [Token] has NOT been verified. Its payload is opaque bytes.
//
// # Verifying and signing
//
// [VerifySignature] checks a signature for an algorithm and a public key
// chosen by the caller; the key type must match the algorithm and weak RSA
// keys are refused before any cryptography runs. [Sign] produces a compact
// token with a [crypto.Signer], so the private key may live in a KMS or HSM.
//
// Every error is an [*Error] whose Reason is one of the Err* sentinels, so
// callers can use [errors.Is] or switch on Reason.
package jws
