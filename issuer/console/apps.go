package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Readiness supplies fleet readiness verdicts for the Applications page
// (the readiness report of keyroll readiness). The console calls it once
// per page view; an error is shown on the page, never fatal.
type Readiness interface {
	// Verdicts returns the current verdict of each application it knows,
	// by client id; applications missing from the map show no verdict.
	Verdicts(ctx context.Context) (map[string]ReadinessVerdict, error)
}

// ReadinessVerdict is one application's readiness as the console shows it.
type ReadinessVerdict struct {
	Verdict string    // e.g. "ready", "not ready", "unknown"
	Reason  string    // one line
	Checked time.Time // when the evidence was gathered; zero: unknown
}

// appRow is an application as the Applications page lists it.
type appRow struct {
	App       store.Application
	Protocol  string
	Key       *lifecycle.Key // the key that signs its tokens now; nil: none can
	Override  bool           // Key is its override
	Warning   string
	Readiness *ReadinessVerdict
}

type appsData struct {
	Apps           []appRow
	HasReadiness   bool
	ReadinessError string
}

var protocolNames = map[store.Protocol]string{store.ProtocolOIDC: "OIDC", store.ProtocolSAML: "SAML 2.0", store.ProtocolWSFed: "WS-Federation"}

var appsMessages = map[string]string{
	"override": "Done: the application's tokens are signed with the chosen key.",
	"restored": "Done: the application's tokens are signed with the primary again.",
	"same":     "Nothing changed: the application was already so.",
}

func (h *Handler) appRow(ctx context.Context, a store.Application) appRow {
	row := appRow{App: a, Protocol: protocolNames[a.Proto()]}
	ak := h.m.AppKeyOf(ctx, a)
	row.Warning = ak.Warning
	if c := ak.Choice; c != nil {
		k := c.Key
		row.Key, row.Override = &k, c.Override
	}
	return row
}

func (h *Handler) appsPage(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.m.Refresh(r.Context()); err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The keys cannot be read: "+err.Error())
		return
	}
	apps, err := h.m.Apps(r.Context())
	if err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The applications cannot be read: "+err.Error())
		return
	}
	d := appsData{HasReadiness: h.opts.Readiness != nil}
	var verdicts map[string]ReadinessVerdict
	if d.HasReadiness {
		if verdicts, err = h.opts.Readiness.Verdicts(r.Context()); err != nil {
			d.ReadinessError = "Readiness verdicts cannot be read: " + err.Error()
		}
	}
	for _, a := range apps {
		row := h.appRow(r.Context(), a)
		if v, ok := verdicts[a.ClientID]; ok {
			row.Readiness = &v
		}
		d.Apps = append(d.Apps, row)
	}
	h.render(w, http.StatusOK, "apps.html", view{Title: "Applications", Nav: "apps", Admin: s.admin, CSRF: s.csrf,
		Notice: appsMessages[r.URL.Query().Get("done")], Data: d})
}

type overrideData struct {
	App     appRow
	Choices []lifecycle.Key // published keys it may be pinned to
	Chosen  *lifecycle.Key  // set on the confirmation step
}

// overrideConfirm shows the keys to choose from, then (with key=) what
// the override will do, with the form that does it.
func (h *Handler) overrideConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := h.findApp(w, r, s)
	if !ok {
		return
	}
	d := overrideData{App: h.appRow(r.Context(), a)}
	for _, k := range h.m.Snapshot().Keys {
		if k.State.Published() && !k.Transient {
			d.Choices = append(d.Choices, k)
		}
	}
	if ref := r.URL.Query().Get("key"); ref != "" {
		k, found := h.findKey(ref)
		if !found || !k.State.Published() {
			h.fail(w, http.StatusNotFound, s, "There is no published key with that thumbprint.")
			return
		}
		d.Chosen = &k
	}
	h.render(w, http.StatusOK, "override.html", view{Title: "Override " + a.Name, Nav: "apps", Admin: s.admin, CSRF: s.csrf, Data: d})
}

func (h *Handler) override(w http.ResponseWriter, r *http.Request, s *session) {
	key := r.PostFormValue("key")
	if key == "" {
		h.fail(w, http.StatusBadRequest, s, "Choose a key. Nothing was changed.")
		return
	}
	c, err := h.m.Override(r.Context(), r.PathValue("app"), issuer.KeyRef{Key: key}, h.actor(s))
	h.appChanged(w, r, s, c, err, "override")
}

func (h *Handler) restoreConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := h.findApp(w, r, s)
	if !ok {
		return
	}
	h.render(w, http.StatusOK, "restore.html", view{Title: "Restore " + a.Name, Nav: "apps", Admin: s.admin, CSRF: s.csrf,
		Data: overrideData{App: h.appRow(r.Context(), a)}})
}

func (h *Handler) restore(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := h.m.RestoreDefault(r.Context(), r.PathValue("app"), h.actor(s))
	h.appChanged(w, r, s, c, err, "restored")
}

func (h *Handler) appChanged(w http.ResponseWriter, r *http.Request, s *session, c *issuer.AppChange, err error, done string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, http.StatusNotFound, s, "There is no such application. Nothing was changed.")
		return
	case err != nil:
		h.actionFailed(w, s, err)
		return
	case !c.Changed:
		done = "same"
	}
	http.Redirect(w, r, "/console/apps?done="+done, http.StatusSeeOther)
}

func (h *Handler) findApp(w http.ResponseWriter, r *http.Request, s *session) (store.Application, bool) {
	a, err := h.m.FindApp(r.Context(), r.PathValue("app"))
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, http.StatusNotFound, s, "There is no such application.")
		return a, false
	}
	if err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The application cannot be read: "+err.Error())
		return a, false
	}
	return a, true
}
