package admin

import (
	"net/http"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
)

func (s *Handler) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/admins", s.listAdmins)
	mux.HandleFunc("POST /admin/admins", s.createAdmin)
	mux.HandleFunc("DELETE /admin/admins/{name}", s.deleteAdmin)
}

func (s *Handler) listAdmins(w http.ResponseWriter, r *http.Request) {
	admins, err := s.m.Admins(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]adminapi.AdminInfo, 0, len(admins))
	for _, a := range admins {
		out = append(out, adminapi.AdminInfo{Name: a.Name, CreatedAt: a.CreatedAt})
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (s *Handler) createAdmin(w http.ResponseWriter, r *http.Request) {
	var req adminapi.CreateAdminRequest
	if !decode(w, r, &req) {
		return
	}
	a, generated, err := s.m.CreateAdmin(r.Context(), req.Name, req.Password, actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, adminapi.CreatedAdmin{Admin: adminapi.AdminInfo{Name: a.Name, CreatedAt: a.CreatedAt}, Password: generated})
}

func (s *Handler) deleteAdmin(w http.ResponseWriter, r *http.Request) {
	if err := s.m.DeleteAdmin(r.Context(), r.PathValue("name"), actorOf(r)); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
