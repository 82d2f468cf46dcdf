package admin

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/internal/strictjson"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
)

func (s *Handler) keyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/keys", s.listKeys)
	mux.HandleFunc("POST /admin/keys/rotate", s.rotate)
	mux.HandleFunc("POST /admin/keys/revoke", s.revoke)
	mux.HandleFunc("POST /admin/keys/repair", s.repair)
	mux.HandleFunc("POST /admin/keys/transient", s.publishTransient)
	mux.HandleFunc("DELETE /admin/keys/transient/{key}", s.withdrawTransient)
	mux.HandleFunc("GET /admin/events", s.events)
	mux.HandleFunc("GET /admin/timeline", s.timeline)
}

func (s *Handler) keyInfos(ks []lifecycle.Key) []adminapi.KeyInfo {
	out := make([]adminapi.KeyInfo, 0, len(ks))
	h := s.m.Hold()
	for _, k := range ks {
		ki := adminapi.NewKeyInfo(k, s.m.Policy())
		if k.State == lifecycle.Next && h.Holds(k.KID) {
			ki.PromotionWaitsFor = h.Waiting
			if by := lifecycle.PromoteBy(ks, s.m.Policy()); !by.IsZero() {
				ki.PromoteBy = &by
			}
		}
		ki.Damaged = s.m.Damaged(k.KID)
		out = append(out, ki)
	}
	return out
}

func (s *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, s.keyInfos(s.m.Snapshot().Keys))
}

// decode reads a JSON body strictly: one value, known members only, none
// twice, nothing after it (internal/strictjson).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = strictjson.Decode(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "request body: "+err.Error())
		return false
	}
	return true
}

func (s *Handler) rotate(w http.ResponseWriter, r *http.Request) {
	var req adminapi.RotateRequest
	if !decode(w, r, &req) {
		return
	}
	ev, err := s.m.Rotate(r.Context(), req.Urgent, actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, eventInfos(ev))
}

func (s *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req adminapi.RevokeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Key == "" {
		writeError(w, http.StatusBadRequest, "bad_request", `request body: "key" (a thumbprint or kid) is required`)
		return
	}
	ev, err := s.m.Revoke(r.Context(), req.Key, actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, eventInfos(ev))
}

// publishTransient publishes a fresh transient key for a rollover drill
// (never promoted; withdrawn by the drill or by the policy after
// lifecycle.TransientLifetime) and answers 201 with it.
func (s *Handler) publishTransient(w http.ResponseWriter, r *http.Request) {
	k, err := s.m.PublishTransient(r.Context(), actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, adminapi.NewKeyInfo(k, s.m.Policy()))
}

// withdrawTransient unpublishes the transient key named by thumbprint or
// kid and answers with it. A key already withdrawn is not an error; a key
// that is not transient is refused (409): revoke it instead.
func (s *Handler) withdrawTransient(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("key")
	if err := s.m.Refresh(r.Context()); err != nil {
		writeErr(w, err)
		return
	}
	if k, ok := s.findKey(ref); ok && !k.Transient {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("key %s is not a transient drill key; nothing changed (to withdraw it, keyroll keys revoke)", k.Thumbprint))
		return
	}
	if err := s.m.WithdrawTransient(r.Context(), ref, actorOf(r)); err != nil {
		writeErr(w, err)
		return
	}
	k, ok := s.findKey(ref)
	if !ok {
		writeErr(w, fmt.Errorf("%w: %s", lifecycle.ErrUnknownKey, issuer.Clip(ref)))
		return
	}
	httpjson.Write(w, http.StatusOK, adminapi.NewKeyInfo(k, s.m.Policy()))
}

// findKey looks ref (thumbprint or kid) up in the current snapshot.
func (s *Handler) findKey(ref string) (lifecycle.Key, bool) {
	ks := s.m.Snapshot().Keys
	if i := lifecycle.Find(ks, ref); i >= 0 {
		return ks[i], true
	}
	return lifecycle.Key{}, false
}

func (s *Handler) events(w http.ResponseWriter, r *http.Request) {
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
	ev, err := s.m.Events(r.Context(), since, limit)
	if err != nil {
		writeErr(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, eventInfos(ev))
}

func (s *Handler) timeline(w http.ResponseWriter, r *http.Request) {
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
	past, err := s.m.Events(r.Context(), from, 0)
	if err != nil {
		writeErr(w, err)
		return
	}
	snap := s.m.Snapshot()
	httpjson.Write(w, http.StatusOK, adminapi.TimelineInfo{
		Now: now, From: from, Until: until,
		Keys:     s.keyInfos(snap.Keys),
		Past:     eventInfos(past),
		Forecast: eventInfos(lifecycle.ForecastHeld(snap.Keys, s.m.Policy(), now, until, s.m.Hold())),
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

// repair shows or applies the smallest change that makes the key set
// consistent (several primaries, no primary, an unpromotable next key).
func (s *Handler) repair(w http.ResponseWriter, r *http.Request) {
	var req adminapi.RepairRequest
	if !decode(w, r, &req) {
		return
	}
	res, err := s.m.Repair(r.Context(), req.Apply, actorOf(r))
	if err != nil {
		writeErr(w, err)
		return
	}
	out := adminapi.RepairInfo{Problems: []adminapi.ProblemInfo{}, Events: eventInfos(res.Events), Applied: res.Applied}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, adminapi.ProblemInfo{Kind: string(p.Kind), Thumbprints: p.Thumbprints, Text: p.Text})
	}
	httpjson.Write(w, http.StatusOK, out)
}
