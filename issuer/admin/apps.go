package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

func (s *Handler) appRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/apps", s.listApps)
	mux.HandleFunc("POST /admin/apps", s.createApp)
	mux.HandleFunc("GET /admin/apps/{app}", s.showApp)
	mux.HandleFunc("DELETE /admin/apps/{app}", s.deleteApp)
	mux.HandleFunc("POST /admin/apps/{app}/override", s.overrideApp)
	mux.HandleFunc("POST /admin/apps/{app}/restore-default", s.restoreApp)
	mux.HandleFunc("POST /admin/apps/{app}/token", s.appToken)
	mux.HandleFunc("GET /admin/users", s.listUsers)
	mux.HandleFunc("POST /admin/users", s.createUser)
	mux.HandleFunc("DELETE /admin/users/{user}", s.deleteUser)
}

// appInfo renders an application with the key that signs its tokens now.
func (s *Handler) appInfo(r *http.Request, app store.Application) adminapi.AppInfo {
	return appInfoOf(r.Context(), s.m, app)
}

func appInfoOf(ctx context.Context, m *issuer.Manager, app store.Application) adminapi.AppInfo {
	info := adminapi.AppInfo{ClientID: app.ClientID, Name: app.Name, Protocol: string(app.Proto()),
		Public: app.Proto() == store.ProtocolOIDC && app.Public(), RedirectURIs: app.RedirectURIs,
		Audience: app.Audience, TokenLifetimeSeconds: int64(app.TokenLifetime / time.Second), KeyOverride: app.KeyThumbprint,
		CreatedAt: app.CreatedAt, UpdatedAt: app.UpdatedAt}
	if info.RedirectURIs == nil {
		info.RedirectURIs = []string{}
	}
	if app.Proto() != store.ProtocolOIDC {
		info.Fed = fedInfo(app.Fed)
	}
	u := m.AppURLs(app.ClientID)
	info.URLs = &adminapi.AppURLs{Discovery: u[store.DocDiscovery], JWKS: u[store.DocJWKS], Metadata: u[store.DocMetadata]}
	ak := m.AppKeyOf(ctx, app)
	info.Warning = ak.Warning
	if c := ak.Choice; c != nil {
		k := c.Key
		info.SigningKey = &adminapi.AppKeyInfo{Thumbprint: k.Thumbprint, KID: k.KID, Alg: k.Alg, State: string(k.State), NotAfter: k.NotAfter, Override: c.Override}
	}
	return info
}

func fedInfo(f store.FedSettings) *adminapi.FedInfo {
	out := &adminapi.FedInfo{SPMetadataURL: f.SPMetadataURL, RequestsSigned: f.RequestsSigned, Sign: f.Sign,
		NameIDFormat: f.NameIDFormat, TokenType: f.TokenType, SPCerts: f.SPCerts}
	if out.Sign == "" {
		out.Sign = "both"
	}
	return out
}

func (s *Handler) listApps(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	apps, err := s.m.Apps(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]adminapi.AppInfo, 0, len(apps))
	for _, a := range apps {
		out = append(out, s.appInfo(r, a))
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Handler) createApp(w http.ResponseWriter, r *http.Request) {
	var req adminapi.CreateAppRequest
	if !decode(w, r, &req) {
		return
	}
	if req.TokenLifetimeSeconds < 0 || req.TokenLifetimeSeconds > int64(100*365*24*time.Hour/time.Second) {
		writeErr(w, issuer.Invalid("token lifetime of %d seconds", req.TokenLifetimeSeconds))
		return
	}
	spec := issuer.AppSpec{Name: req.Name, Protocol: store.Protocol(req.Protocol), Audience: req.Audience,
		RedirectURIs: req.RedirectURIs, Public: req.Public, TokenLifetime: time.Duration(req.TokenLifetimeSeconds) * time.Second}
	if f := req.Fed; f != nil {
		spec.Fed = store.FedSettings{SPMetadataURL: f.SPMetadataURL, SPCerts: f.SPCerts, RequestsSigned: f.RequestsSigned,
			Sign: f.Sign, NameIDFormat: f.NameIDFormat, TokenType: f.TokenType}
	}
	if spec.Protocol == store.ProtocolSAML && spec.Fed.SPMetadataURL != "" {
		if err := s.fromSPMetadata(r, &spec); err != nil {
			writeErr(w, err)
			return
		}
	}
	app, secret, err := s.m.CreateApp(r.Context(), spec, actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, adminapi.CreatedApp{App: s.appInfo(r, app), ClientSecret: secret})
}

func (s *Handler) showApp(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	app, err := s.m.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, s.appInfo(r, app))
}

func (s *Handler) deleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.m.DeleteApp(r.Context(), r.PathValue("app"), actorOf(r)); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Handler) overrideApp(w http.ResponseWriter, r *http.Request) {
	var req adminapi.OverrideRequest
	if !decode(w, r, &req) {
		return
	}
	if err := req.Check(); err != nil {
		writeErr(w, issuer.Invalid("%v", err))
		return
	}
	out, err := s.m.Override(r.Context(), r.PathValue("app"),
		issuer.KeyRef{Key: req.Key, Next: req.Next, Latest: req.Latest, AllowUnpublished: req.AllowUnpublished}, actorOf(r))
	s.writeChange(w, r, out, err)
}

func (s *Handler) restoreApp(w http.ResponseWriter, r *http.Request) {
	out, err := s.m.RestoreDefault(r.Context(), r.PathValue("app"), actorOf(r))
	s.writeChange(w, r, out, err)
}

func (s *Handler) writeChange(w http.ResponseWriter, r *http.Request, c *issuer.AppChange, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, adminapi.OverrideResult{App: s.appInfo(r, c.App), Changed: c.Changed, Events: eventInfos(c.Events)})
}

func eventInfos(ev []lifecycle.Event) []adminapi.EventInfo {
	out := make([]adminapi.EventInfo, 0, len(ev))
	for _, e := range ev {
		out = append(out, adminapi.NewEventInfo(e))
	}
	return out
}

func (s *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.m.Users(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]adminapi.UserInfo, 0, len(users))
	for _, u := range users {
		out = append(out, adminapi.UserInfo{Username: u.Username, CreatedAt: u.CreatedAt})
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var req adminapi.CreateUserRequest
	if !decode(w, r, &req) {
		return
	}
	u, generated, err := s.m.CreateUser(r.Context(), req.Username, req.Password)
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, adminapi.CreatedUser{User: adminapi.UserInfo{Username: u.Username, CreatedAt: u.CreatedAt}, Password: generated})
}

func (s *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.m.DeleteUser(r.Context(), r.PathValue("user")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// appToken issues the application an access token as client_credentials
// would (sub and client_id the client id, aud its audience, signed with its
// effective key) without its secret: for tests such as the rollover drill.
func (s *Handler) appToken(w http.ResponseWriter, r *http.Request) {
	if s.tokens == nil {
		writeError(w, http.StatusNotFound, "not_found", "this server issues no test tokens")
		return
	}
	app, err := s.m.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		writeErr(w, err)
		return
	}
	resp, err := s.tokens.AppToken(r.Context(), app)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.m.Logger().Info("admin issued a test token", "app", app.Name, "actor", actorOf(r))
	httpjson.Write(w, http.StatusOK, resp)
}

// fromSPMetadata fills what a SAML registration leaves open from the SP's
// metadata URL: entity ID, ACS URLs, signing certificates.
func (s *Handler) fromSPMetadata(r *http.Request, spec *issuer.AppSpec) error {
	if s.spMeta == nil {
		return issuer.Invalid("this server does not read SP metadata URLs")
	}
	reg, err := s.spMeta(r.Context(), spec.Fed.SPMetadataURL)
	if err != nil {
		return issuer.Invalid("%v", err)
	}
	if spec.Audience == "" {
		spec.Audience = reg.EntityID
	} else if spec.Audience != reg.EntityID {
		return issuer.Invalid("the SP metadata names the entity %q, not %q", issuer.Clip(reg.EntityID), issuer.Clip(spec.Audience))
	}
	if len(spec.RedirectURIs) == 0 {
		spec.RedirectURIs = reg.ACS
	}
	if len(spec.Fed.SPCerts) == 0 {
		spec.Fed.SPCerts = reg.SigningCerts
	}
	spec.Fed.RequestsSigned = spec.Fed.RequestsSigned || reg.RequestsSigned
	return nil
}
