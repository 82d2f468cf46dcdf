// Package pkcs11 keeps keyroll's signing keys in a hardware security
// module through PKCS #11 (tested against SoftHSM2). A [Token] is a
// [keys.Backend]: it generates every key pair inside the token (private
// objects CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE,
// labelled with the key's kid), self-signs its certificate through the
// token, signs with it there, and gives the store only a [keys.Reference]
// (token label and CKA_ID), never private key bytes.
//
// Several Tokens in one process share the module (loaded and initialised
// once, finalised when the last one closes), which is how replicas in one
// test, or one replica reopening after a failure, use a token.
package pkcs11
