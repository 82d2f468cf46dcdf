package issuer

import (
	"net/http"
)

func (s *Server) appRoutes(mux *http.ServeMux) {
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

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	apps, err := s.p.st().Apps(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]AppInfo, 0, len(apps))
	for _, a := range apps {
		out = append(out, s.p.appInfo(r.Context(), a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	var req CreateAppRequest
	if !decode(w, r, &req) {
		return
	}
	out, err := s.p.createApp(r.Context(), req, adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) showApp(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	app, err := s.p.findApp(r.Context(), r.PathValue("app"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.p.appInfo(r.Context(), app))
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	if err := s.p.deleteApp(r.Context(), r.PathValue("app"), adminActor); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) overrideApp(w http.ResponseWriter, r *http.Request) {
	var req OverrideRequest
	if !decode(w, r, &req) {
		return
	}
	out, err := s.p.override(r.Context(), r.PathValue("app"), req, adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) restoreApp(w http.ResponseWriter, r *http.Request) {
	out, err := s.p.restoreDefault(r.Context(), r.PathValue("app"), adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.p.st().Users(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]UserInfo, 0, len(users))
	for _, u := range users {
		out = append(out, UserInfo{Username: u.Username, CreatedAt: u.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if !decode(w, r, &req) {
		return
	}
	out, err := s.p.createUser(r.Context(), req)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.p.st().DeleteUser(r.Context(), r.PathValue("user")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// appToken issues the application an access token as client_credentials
// would (sub and client_id the client id, aud its audience, signed with its
// effective key) without its secret: for tests such as the rollover drill.
func (s *Server) appToken(w http.ResponseWriter, r *http.Request) {
	app, err := s.p.findApp(r.Context(), r.PathValue("app"))
	if err != nil {
		writeErr(w, err)
		return
	}
	resp, err := s.p.mint(r.Context(), grant{app: app})
	if err != nil {
		writeErr(w, err)
		return
	}
	s.p.log().Info("admin issued a test token", "app", app.Name, "actor", adminActor)
	writeJSON(w, http.StatusOK, resp)
}
