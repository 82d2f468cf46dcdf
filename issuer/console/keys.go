package console

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
)

// keyRow is a key as the Keys page lists it.
type keyRow struct {
	lifecycle.Key
	UnpublishAt time.Time
	Published   bool
}

// dated is one line of the schedule under the chart.
type dated struct {
	Time     time.Time
	Forecast bool
	Key      string
	Change   string
	Actor    string
	Reason   string
}

type keysData struct {
	Keys     []keyRow
	Chart    chart
	Legend   any
	Schedule []dated
}

// keysMessages are the notices after an action, by the done parameter.
var keysMessages = map[string]string{
	"rotated": "Done: a next key is published; the policy promotes it when it is due.",
	"urgent":  "Done: a fresh key is the primary now; the old primary is retired and stays published.",
	"revoked": "Done: the key is revoked and no longer published.",
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.m.Refresh(r.Context()); err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The keys cannot be read: "+err.Error())
		return
	}
	now := h.m.Now()
	from, until := now.AddDate(0, -12, 0), now.AddDate(0, 12, 0)
	snap, p := h.m.Snapshot(), h.m.Policy()
	past, err := h.m.Events(r.Context(), from, 0)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The audit log cannot be read: "+err.Error())
		return
	}
	forecast := lifecycle.Forecast(snap.Keys, p, now, until)
	d := keysData{Legend: legend}
	for i := len(snap.Keys) - 1; i >= 0; i-- {
		k := snap.Keys[i]
		if !k.State.Published() && !k.EndedAt.IsZero() && k.EndedAt.Before(from) {
			continue
		}
		row := keyRow{Key: k, Published: k.State.Published()}
		if k.State == lifecycle.Retired {
			row.UnpublishAt = p.UnpublishAt(k)
		}
		d.Keys = append(d.Keys, row)
	}
	d.Chart = buildChart(lives(snap.Keys, forecast, p, from), p, from, until, now)
	for _, e := range past {
		if e.To != "" {
			d.Schedule = append(d.Schedule, dated{Time: e.Time, Key: abbrev(e.Thumbprint), Change: transition(e), Actor: e.Actor, Reason: e.Reason})
		}
	}
	for _, e := range forecast {
		key := e.KID // a key the policy will make has no thumbprint yet
		if e.Thumbprint != "" {
			key = abbrev(e.Thumbprint)
		}
		d.Schedule = append(d.Schedule, dated{Time: e.Time, Forecast: true, Key: key, Change: transition(e), Actor: "policy", Reason: e.Reason})
	}
	h.render(w, http.StatusOK, "keys.html", view{Title: "Keys", Nav: "keys", Admin: s.admin, CSRF: s.csrf,
		Notice: keysMessages[r.URL.Query().Get("done")], Data: d})
}

type rotateData struct {
	Urgent  bool
	Primary *lifecycle.Key
	Next    *lifecycle.Key
}

func (h *Handler) rotateConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	ks := h.m.Snapshot().Keys
	d := rotateData{Urgent: r.URL.Query().Get("urgent") == "1"}
	if i := lifecycle.PrimaryIndex(ks); i >= 0 {
		d.Primary = &ks[i]
	}
	if i := lifecycle.NextIndex(ks); i >= 0 {
		d.Next = &ks[i]
	}
	title := "Rotate"
	if d.Urgent {
		title = "Urgent rotation"
	}
	h.render(w, http.StatusOK, "rotate.html", view{Title: title, Nav: "keys", Admin: s.admin, CSRF: s.csrf, Data: d})
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request, s *session) {
	urgent := r.PostFormValue("urgent") == "1"
	if _, err := h.m.Rotate(r.Context(), urgent, h.actor(s)); err != nil {
		h.actionFailed(w, s, err)
		return
	}
	done := "rotated"
	if urgent {
		done = "urgent"
	}
	http.Redirect(w, r, "/console/keys?done="+done, http.StatusSeeOther)
}

type revokeData struct {
	Key     lifecycle.Key
	Primary bool
	Typed   string
}

func (h *Handler) findKey(ref string) (lifecycle.Key, bool) {
	ks := h.m.Snapshot().Keys
	if i := lifecycle.Find(ks, ref); i >= 0 && ref != "" {
		return ks[i], true
	}
	return lifecycle.Key{}, false
}

func (h *Handler) revokeConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	k, ok := h.findKey(r.URL.Query().Get("key"))
	if !ok || !k.State.Published() {
		h.fail(w, http.StatusNotFound, s, "There is no published key with that thumbprint.")
		return
	}
	h.render(w, http.StatusOK, "revoke.html", view{Title: "Revoke a key", Nav: "keys", Admin: s.admin, CSRF: s.csrf,
		Data: revokeData{Key: k, Primary: k.State == lifecycle.Primary}})
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, s *session) {
	k, ok := h.findKey(r.PostFormValue("key"))
	if !ok || !k.State.Published() {
		h.fail(w, http.StatusNotFound, s, "There is no published key with that thumbprint. Nothing was changed.")
		return
	}
	typed := r.PostFormValue("confirm")
	if lifecycle.NormalizeThumbprint(typed) != k.Thumbprint {
		h.render(w, http.StatusUnprocessableEntity, "revoke.html", view{Title: "Revoke a key", Nav: "keys", Admin: s.admin, CSRF: s.csrf,
			Error: "The thumbprint you typed is not this key's. Nothing was changed.",
			Data:  revokeData{Key: k, Primary: k.State == lifecycle.Primary, Typed: typed}})
		return
	}
	if _, err := h.m.Revoke(r.Context(), k.Thumbprint, h.actor(s)); err != nil {
		h.actionFailed(w, s, err)
		return
	}
	http.Redirect(w, r, "/console/keys?done=revoked", http.StatusSeeOther)
}

// actionFailed shows why the issuer refused an action.
func (h *Handler) actionFailed(w http.ResponseWriter, s *session, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, lifecycle.ErrUnknownKey):
		code = http.StatusNotFound
	case errors.Is(err, lifecycle.ErrNotPublished), errors.Is(err, lifecycle.ErrNextExists),
		errors.Is(err, lifecycle.ErrNoReplacement), errors.Is(err, lifecycle.ErrNoPrimary):
		code = http.StatusConflict
	case errors.Is(err, issuer.ErrInvalid):
		code = http.StatusBadRequest
	}
	h.fail(w, code, s, fmt.Sprintf("The issuer refused: %v", err))
}
