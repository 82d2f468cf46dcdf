package issuer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

const adminActor = "admin"

func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/keys", s.listKeys)
	mux.HandleFunc("POST /admin/keys/rotate", s.rotate)
	mux.HandleFunc("POST /admin/keys/revoke", s.revoke)
	mux.HandleFunc("POST /admin/keys/transient", s.publishTransient)
	mux.HandleFunc("DELETE /admin/keys/transient/{key}", s.withdrawTransient)
	mux.HandleFunc("GET /admin/events", s.events)
	mux.HandleFunc("GET /admin/timeline", s.timeline)
	s.appRoutes(mux)
	return mux
}

func (s *Server) keyInfos(ks []lifecycle.Key) []KeyInfo {
	out := make([]KeyInfo, 0, len(ks))
	for _, k := range ks {
		out = append(out, NewKeyInfo(k, s.m.cfg.Policy))
	}
	return out
}

func eventInfos(ev []lifecycle.Event) []EventInfo {
	out := make([]EventInfo, 0, len(ev))
	for _, e := range ev {
		out = append(out, NewEventInfo(e))
	}
	return out
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.keyInfos(s.m.Snapshot().Keys))
}

// decode reads a JSON body strictly: known fields only, one value.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) rotate(w http.ResponseWriter, r *http.Request) {
	var req RotateRequest
	if !decode(w, r, &req) {
		return
	}
	ev, err := s.m.Rotate(r.Context(), req.Urgent, adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, eventInfos(ev))
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var req RevokeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Key == "" {
		writeError(w, http.StatusBadRequest, "bad_request", `request body: "key" (a thumbprint or kid) is required`)
		return
	}
	ev, err := s.m.Revoke(r.Context(), req.Key, adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, eventInfos(ev))
}

// publishTransient publishes a fresh transient key for a rollover drill
// (never promoted; withdrawn by the drill or by the policy after
// lifecycle.TransientLifetime) and answers 201 with it.
func (s *Server) publishTransient(w http.ResponseWriter, r *http.Request) {
	k, err := s.m.PublishTransient(r.Context(), adminActor)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewKeyInfo(k, s.m.cfg.Policy))
}

// withdrawTransient unpublishes the transient key named by thumbprint or
// kid and answers with it. A key already withdrawn is not an error; a key
// that is not transient is refused (409): revoke it instead.
func (s *Server) withdrawTransient(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("key")
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	if k, ok := s.findKey(ref); ok && !k.Transient {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("key %s is not a transient drill key; nothing changed (to withdraw it, keyroll keys revoke)", k.Thumbprint))
		return
	}
	if err := s.m.WithdrawTransient(r.Context(), ref, adminActor); err != nil {
		writeErr(w, err)
		return
	}
	k, ok := s.findKey(ref)
	if !ok {
		writeErr(w, fmt.Errorf("%w: %s", lifecycle.ErrUnknownKey, clip(ref)))
		return
	}
	writeJSON(w, http.StatusOK, NewKeyInfo(k, s.m.cfg.Policy))
}

// findKey looks ref (thumbprint or kid) up in the current snapshot.
func (s *Server) findKey(ref string) (lifecycle.Key, bool) {
	ks := s.m.Snapshot().Keys
	if i := lifecycle.Find(ks, ref); i >= 0 {
		return ks[i], true
	}
	return lifecycle.Key{}, false
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("since: %q is not an RFC 3339 time", v))
			return
		}
		since = t
	}
	limit, err := queryInt(r, "limit", 0, 100000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	ev, err := s.m.cfg.Store.Events(r.Context(), since, limit)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, eventInfos(ev))
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	months, err := queryInt(r, "months", 12, 120)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if months == 0 {
		months = 12
	}
	now := s.m.Now()
	from, until := now.AddDate(0, -months, 0), now.AddDate(0, months, 0)
	past, err := s.m.cfg.Store.Events(r.Context(), from, 0)
	if err != nil {
		writeErr(w, err)
		return
	}
	snap := s.m.Snapshot()
	writeJSON(w, http.StatusOK, TimelineInfo{
		Now: now, From: from, Until: until,
		Keys:     s.keyInfos(snap.Keys),
		Past:     eventInfos(past),
		Forecast: eventInfos(lifecycle.Forecast(snap.Keys, s.m.cfg.Policy, now, until)),
	})
}

func queryInt(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("%s: want a whole number from 0 to %d, got %q", name, max, v)
	}
	return n, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
