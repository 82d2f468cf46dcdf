package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/console"
	"github.com/keyroll/keyroll/store"
)

// minter signs nothing: the token's kid is what the drill checks, so a
// token that names no kid leaves every key test undecided. That is enough
// to see a drill run from the console to its end and clean up.
type minter struct{}

func (minter) AppToken(context.Context, store.Application) (any, error) {
	return &adminapi.TokenResponse{AccessToken: "x.y.z", TokenType: "Bearer"}, nil
}

// TestDrillFromConsole: a drill confirmed on the Drill page runs, its
// page shows the progress and then the verdict, the application's
// override is put back, and the pins it made are audited as console:ada.
func TestDrillFromConsole(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()
	history := console.NewMemoryHistory(5)
	e := newEnv(t, issuerURL, console.Options{Tokens: minter{}, Drills: history})
	app, _, err := e.m.CreateApp(context.Background(), issuer.AppSpec{Name: "orders"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := e.signIn()
	token := e.csrf(c)
	w := e.do(http.MethodGet, "/console/drill?app=orders&api="+url.QueryEscape(api.URL), nil, c, nil)
	if !strings.Contains(w.Body.String(), "Run the drill") {
		t.Fatalf("drill confirmation: %d %s", w.Code, w.Body)
	}
	if w := e.do(http.MethodGet, "/console/drill?app=orders&api=ftp://x", nil, c, nil); !strings.Contains(w.Body.String(), "absolute http or https URL") {
		t.Errorf("a bad URL is not refused:\n%s", w.Body)
	}
	w = e.do(http.MethodPost, "/console/drill", url.Values{"app": {"orders"}, "api": {api.URL}, "csrf": {token}}, c, nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/drill/runs/") {
		t.Fatalf("start drill: %d %s", w.Code, w.Body)
	}
	run := w.Header().Get("Location")
	e.h.Wait()
	page := e.do(http.MethodGet, run, nil, c, nil).Body.String()
	if !strings.Contains(page, `id="verdict"`) || strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "drill: OIDC application orders") {
		t.Errorf("finished drill page:\n%s", page)
	}
	if a, _ := e.st.App(context.Background(), app.ClientID); a.KeyThumbprint != "" {
		t.Errorf("the drill left the override %q", a.KeyThumbprint)
	}
	recs, _ := history.Recent(context.Background(), 5)
	if len(recs) != 1 || recs[0].Admin != adminName || recs[0].Report.App != "orders" {
		t.Errorf("history %+v", recs)
	}
	ev, _ := e.st.Events(context.Background(), time.Time{}, 0)
	pinned := false
	for _, x := range ev {
		pinned = pinned || (x.App == "orders" && x.Actor == "console:ada" && strings.Contains(x.Reason, "override set"))
	}
	if !pinned {
		t.Error("the drill's pins are not audited as console:ada")
	}
}
