package verify

import (
	"encoding/json"
	"time"
	"unsafe"

	"github.com/keyroll/keyroll/jws"
)

// Claims is what a verified token says: its registered claims, its
// protected header and its raw payload for everything else.
type Claims struct {
	Issuer    string     // iss
	Subject   string     // sub
	Audience  []string   // aud; a single string becomes one element
	Expiry    time.Time  // exp
	NotBefore time.Time  // nbf; zero if absent
	IssuedAt  time.Time  // iat; zero if absent
	ID        string     // jti
	TenantID  string     // tid (Entra ID tenant)
	Header    jws.Header // the protected header
	KeyID     string     // kid of the key that verified the signature

	payload string
	present uint8     // registered claims seen, by claim bit
	audBuf  [2]string // backs Audience for up to two values without allocating
}

// Payload returns the token's JSON payload exactly as signed.
func (c *Claims) Payload() string { return c.payload }

// Unmarshal decodes the payload into v with encoding/json, for private
// claims (roles, scp, email, ...).
func (c *Claims) Unmarshal(v any) error { return json.Unmarshal([]byte(c.payload), v) }

// Has reports whether the token carries the registered claim name (one of
// iss, sub, aud, exp, nbf, iat, jti, tid).
func (c *Claims) Has(name string) bool {
	bit := claimBit(name)
	return bit != 0 && c.present&bit != 0
}

// Registered claims, one bit each.
const (
	clIss uint8 = 1 << iota
	clSub
	clAud
	clExp
	clNbf
	clIat
	clJti
	clTid
)

var claimNames = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "tid"}

func claimBit(name string) uint8 {
	switch name {
	case "iss":
		return clIss
	case "sub":
		return clSub
	case "aud":
		return clAud
	case "exp":
		return clExp
	case "nbf":
		return clNbf
	case "iat":
		return clIat
	case "jti":
		return clJti
	case "tid":
		return clTid
	}
	return 0
}

// payloadString views a parsed token's payload as a string without
// copying it. This is safe because jws.Parse decodes into a buffer owned
// by that one Token, nothing writes to it afterwards, and the Token never
// leaves this package: the bytes are immutable for as long as the string
// (and the Claims holding it) lives.
func payloadString(tok *jws.Token) string {
	if len(tok.Payload) == 0 {
		return ""
	}
	return unsafe.String(&tok.Payload[0], len(tok.Payload))
}
