package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
)

// Event kinds the Events page filters by.
const (
	kindKey     = "key"     // a key changed state
	kindApp     = "app"     // an application's signing key or registration changed
	kindConsole = "console" // a notice: sign-in, sign-out, administrators
)

// kindOf classifies an audit event.
func kindOf(e lifecycle.Event) string {
	switch {
	case e.App != "":
		return kindApp
	case e.To != "":
		return kindKey
	}
	return kindConsole
}

// maxEventRows bounds the Events page; the newest are shown.
const maxEventRows = 500

type eventRow struct {
	lifecycle.Event
	Kind, Change string
}

type eventsData struct {
	Kind, From, To string
	Kinds          []string
	Rows           []eventRow
	Total          int // matching events, of which Rows shows the newest
}

func (h *Handler) eventsPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	now := h.m.Now()
	d := eventsData{Kind: q.Get("kind"), From: q.Get("from"), To: q.Get("to"), Kinds: []string{kindKey, kindApp, kindConsole}}
	v := view{Title: "Events", Nav: "events", Admin: s.admin, CSRF: s.csrf}
	from := now.AddDate(0, 0, -30)
	if d.From == "" {
		d.From = dayOf(from)
	}
	var until time.Time
	var err error
	if from, err = time.Parse(time.DateOnly, d.From); err != nil {
		v.Error, from = "The start date is not a date (YYYY-MM-DD); showing the last 30 days.", now.AddDate(0, 0, -30)
	}
	if d.To != "" {
		if until, err = time.Parse(time.DateOnly, d.To); err != nil {
			v.Error, until = "The end date is not a date (YYYY-MM-DD); ignoring it.", time.Time{}
		}
	}
	if d.Kind != "" && d.Kind != kindKey && d.Kind != kindApp && d.Kind != kindConsole {
		v.Error, d.Kind = "Unknown kind; showing every kind.", ""
	}
	ev, err := h.m.Events(r.Context(), from, 0)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, s, "The audit log cannot be read: "+err.Error())
		return
	}
	for i := len(ev) - 1; i >= 0; i-- {
		e := ev[i]
		k := kindOf(e)
		if (d.Kind != "" && k != d.Kind) || (!until.IsZero() && !e.Time.Before(until.AddDate(0, 0, 1))) {
			continue
		}
		d.Total++
		if len(d.Rows) < maxEventRows {
			row := eventRow{Event: e, Kind: k}
			switch k {
			case kindKey:
				row.Change = transition(e)
			case kindApp:
				row.Change = "app " + e.App
			}
			d.Rows = append(d.Rows, row)
		}
	}
	v.Data = d
	h.render(w, http.StatusOK, "events.html", v)
}

// kindLabel names a kind for people.
func kindLabel(k string) string {
	return map[string]string{kindKey: "Key changes", kindApp: "Applications", kindConsole: "Console and administrators"}[strings.TrimSpace(k)]
}
