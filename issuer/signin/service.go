package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/issuer/throttle"
	"github.com/keyroll/keyroll/store"
)

// FormLifetime is how long a sign-in form may be submitted.
const FormLifetime = 10 * time.Minute

// Store is what sign-in reads: the shared form key and the test users.
type Store interface {
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
	User(ctx context.Context, username string) (store.User, error)
}

// Service seals sign-in requests and checks passwords.
type Service struct {
	st     Store
	now    func() time.Time
	log    *slog.Logger
	secure bool // cookies only over https

	formKeyMu sync.Mutex
	formKey   []byte // HMAC key of the sign-in forms, shared by replicas via the store

	hashing chan struct{} // bounds concurrent password hashing

	// Users throttles password guessing by user name and address;
	// Clients throttles client-secret guessing at the token endpoint.
	Users, Clients *throttle.Guard
}

// New returns a sign-in service. secure marks cookies Secure (an https issuer).
func New(st Store, now func() time.Time, log *slog.Logger, secure bool) *Service {
	return &Service{st: st, now: now, log: log, secure: secure, hashing: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		Users: throttle.NewGuard("sign-in", now, nil), Clients: throttle.NewGuard("client authentication", now, nil)}
}

// SetAudit sets where throttling is audited (the issuer's audit log).
func (s *Service) SetAudit(audit func(ctx context.Context, reason string)) {
	s.Users.SetAudit(audit)
	s.Clients.SetAudit(audit)
}

// SignIn checks a user's password from the network address addr, throttled:
// while the user name or the address must wait, the password is not
// checked and wait says for how long (answer 429 with it); after a wrong
// password wait is the delay the next attempt will meet. An unknown user
// and a wrong password are answered alike.
func (s *Service) SignIn(ctx context.Context, addr, username, password string) (u store.User, ok bool, wait time.Duration, throttled bool, err error) {
	if w := s.Users.Wait(username, addr); w > 0 {
		return store.User{}, false, w, true, nil
	}
	u, ok, err = s.CheckUser(ctx, username, password)
	switch {
	case err != nil:
		return store.User{}, false, 0, false, err
	case !ok:
		return store.User{}, false, s.Users.Failed(ctx, username, addr), false, nil
	}
	s.Users.Succeeded(username)
	return u, true, 0, false, nil
}

// ClientAddr is the throttling key of a request's network peer: its IP
// address (IPv6 by /64). Proxy headers are not trusted.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return host
}

// formKeySetting names the setting holding the sign-in form HMAC key.
const formKeySetting = "oauth_form_key"

// key returns the HMAC key of sign-in forms, creating it in the store on
// first use so that every replica shares it.
func (s *Service) key(ctx context.Context) ([]byte, error) {
	s.formKeyMu.Lock()
	defer s.formKeyMu.Unlock()
	if s.formKey != nil {
		return s.formKey, nil
	}
	k, err := s.st.InitSetting(ctx, formKeySetting, []byte(credential.Random(32)))
	if err != nil {
		return nil, fmt.Errorf("sign-in form key: %w", err)
	}
	if len(k) < 32 {
		return nil, fmt.Errorf("sign-in form key: the stored setting %s is too short", formKeySetting)
	}
	s.formKey = k
	return k, nil
}

// envelope is what a handle carries: the protocol that sealed it, when,
// and the protocol's own request.
type envelope struct {
	Proto  string          `json:"p"`
	Issued int64           `json:"t"`
	Req    json.RawMessage `json:"r"`
}

// Seal makes the form handle of a protocol's request: the request as JSON,
// and an HMAC over it, the protocol's name and the browser's cookie.
func (s *Service) Seal(ctx context.Context, proto string, req any, cookie string) (string, error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", err
	}
	inner, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(envelope{Proto: proto, Issued: s.now().Unix(), Req: inner})
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(js)
	return payload + "." + base64.RawURLEncoding.EncodeToString(formMAC(key, payload, cookie)), nil
}

// Errors of Open.
var (
	// ErrBadHandle: the handle was not sealed for this browser and protocol, or was altered.
	ErrBadHandle = errors.New("sign-in form handle does not verify")
	// ErrExpired: the form is older than FormLifetime.
	ErrExpired = errors.New("sign-in form has expired")
)

// Open checks a form handle against the browser's cookie and the protocol,
// and decodes the request into req.
func (s *Service) Open(ctx context.Context, proto, handle, cookie string, req any) error {
	key, err := s.key(ctx)
	if err != nil {
		return err
	}
	payload, mac64, ok := strings.Cut(handle, ".")
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	if !ok || err != nil || !hmac.Equal(mac, formMAC(key, payload, cookie)) {
		return ErrBadHandle
	}
	js, err := base64.RawURLEncoding.DecodeString(payload)
	var env envelope
	if err != nil || json.Unmarshal(js, &env) != nil || env.Proto != proto || json.Unmarshal(env.Req, req) != nil {
		return ErrBadHandle
	}
	if s.now().Sub(time.Unix(env.Issued, 0)) > FormLifetime {
		return ErrExpired
	}
	return nil
}

func formMAC(key []byte, payload, cookie string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("keyroll sign-in form v2\x00" + cookie + "\x00" + payload))
	return h.Sum(nil)
}

// CookieName is the sign-in cookie: it binds a form to the browser that
// opened it, so a form handle copied into another browser (login CSRF)
// is refused.
const CookieName = "keyroll_signin"

// Cookie returns the browser's sign-in cookie value, or a fresh one.
func Cookie(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil && len(c.Value) == 43 {
		if _, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	return credential.Random(32)
}

// SetCookie sets the sign-in cookie for path (the endpoint the form posts
// to, under the issuer URL's path).
func (s *Service) SetCookie(w http.ResponseWriter, path, value string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: path,
		MaxAge: int(FormLifetime / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure})
}

// CheckUser verifies a test user's password. An unknown user costs as much
// as a wrong password, so timing does not tell which user names exist; at
// most GOMAXPROCS hashes run at once.
func (s *Service) CheckUser(ctx context.Context, username, password string) (store.User, bool, error) {
	if username == "" || password == "" || len(password) > 1024 || len(username) > 256 {
		return store.User{}, false, nil
	}
	select {
	case s.hashing <- struct{}{}:
		defer func() { <-s.hashing }()
	case <-ctx.Done():
		return store.User{}, false, ctx.Err()
	}
	u, err := s.st.User(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		credential.VerifyPassword(password, credential.DummyHash())
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	ok, err := credential.VerifyPassword(password, u.PasswordHash)
	if err != nil {
		s.log.Error("stored password hash is unusable", "user", u.Username, "err", err)
		return store.User{}, false, nil
	}
	return u, ok, nil
}

// HostOf is the host a sign-in page names as where the user returns.
func HostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}
