package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/drill"
	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/issuer/console"
	"github.com/keyroll/keyroll/issuer/readiness"
	"github.com/keyroll/keyroll/store"
)

// evidenceOptions is what keyroll serve gives the console.
func evidenceOptions(m *issuer.Manager) console.Options {
	return console.Options{Tokens: minter{}, Readiness: console.IssuerReadiness(m, nil, 7*24*time.Hour), Drills: console.StoreHistory(m)}
}

// recordDrill stores a drill of app as keyroll drill does, through the
// manager, with its report.
func recordDrill(t *testing.T, m *issuer.Manager, app string, verdict drill.Verdict, reason string, keys ...store.DrillKey) {
	t.Helper()
	now := m.Now()
	js, err := json.Marshal(&drill.Report{App: app, Mode: "api", Target: "https://api.example.com/", Verdict: verdict, Reason: reason, Started: now, Finished: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.RecordDrill(context.Background(), app, store.DrillRecord{Mode: "api", Target: "https://api.example.com/",
		Verdict: string(verdict), Reason: reason, Started: now, Finished: now, Keys: keys, Report: js}); err != nil {
		t.Fatal(err)
	}
}

// TestAppsReadiness: the Applications page shows each application's
// readiness verdict and reason, the same as keyroll readiness.
func TestAppsReadiness(t *testing.T) {
	e := newEnvWith(t, issuerURL, evidenceOptions)
	ctx := context.Background()
	for _, name := range []string{"orders", "billing", "portal"} {
		if _, _, err := e.m.CreateApp(ctx, issuer.AppSpec{Name: name}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	p := e.primary()
	recordDrill(t, e.m, "orders", drill.NotReady, "rejects the primary key", store.DrillKey{KID: p.KID, Thumbprint: p.Thumbprint, State: "primary", Outcome: "rejected"})
	recordDrill(t, e.m, "portal", drill.Ready, "accepts every published key", store.DrillKey{KID: p.KID, Thumbprint: p.Thumbprint, State: "primary", Outcome: "accepted"})

	want, err := e.m.Readiness(ctx, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]readiness.Verdict{}
	for _, a := range want {
		verdicts[a.App] = a.Verdict
	}
	if verdicts["orders"] != readiness.NotReady || verdicts["billing"] != readiness.Unknown || verdicts["portal"] != readiness.Ready {
		t.Fatalf("readiness %v", verdicts)
	}
	page := e.do(http.MethodGet, "/console/apps", nil, e.signIn(), nil).Body.String()
	for _, a := range want {
		row := rowOf(t, page, a.App)
		class := map[readiness.Verdict]string{readiness.NotReady: "not-ready", readiness.Unknown: "unknown", readiness.Ready: "ready"}[a.Verdict]
		for _, s := range []string{`<span class="verdict-` + class + `">` + string(a.Verdict) + `</span>`, "<br>" + htmlEscape(a.Reason) + "<br>", "checked " + e.m.Now().Format("2006-01-02 15:04 UTC")} {
			if !strings.Contains(row, s) {
				t.Errorf("%s's row does not say %q:\n%s", a.App, s, row)
			}
		}
	}
	if !strings.Contains(page, `<th scope="col">Readiness</th>`) {
		t.Error("no Readiness column")
	}
}

// rowOf is the table row of the application named name.
func rowOf(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `<th scope="row">`+name+`<br>`)
	if i < 0 {
		t.Fatalf("no row for %s:\n%s", name, page)
	}
	row, _, _ := strings.Cut(page[i:], "</tr>")
	return row
}

var htmlEscape = strings.NewReplacer(`'`, "&#39;", `"`, "&#34;").Replace

// TestDrillHistoryStored: the Drill page lists the store's drill history,
// a command-line drill included; a drill run from the console records
// itself there like one, with who ran it; another replica shows both.
func TestDrillHistoryStored(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()
	e := newEnvWith(t, issuerURL, evidenceOptions)
	ctx := context.Background()
	if _, _, err := e.m.CreateApp(ctx, issuer.AppSpec{Name: "orders"}, "test"); err != nil {
		t.Fatal(err)
	}
	recordDrill(t, e.m, "orders", drill.NotReady, "rejects the next key ABCD…1234")
	c := e.signIn()
	page := e.do(http.MethodGet, "/console/drill", nil, c, nil).Body.String()
	for _, s := range []string{"<td>orders</td><td>command line</td>", `<span class="verdict-not-ready">not ready</span>`, "rejects the next key ABCD…1234"} {
		if !strings.Contains(page, s) {
			t.Errorf("the drill page does not say %q:\n%s", s, page)
		}
	}

	w := e.do(http.MethodPost, "/console/drill", url.Values{"app": {"orders"}, "api": {api.URL}, "csrf": {e.csrf(c)}}, c, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("start drill: %d %s", w.Code, w.Body)
	}
	e.h.Wait()
	ds, err := e.st.Drills(ctx, "", 0)
	if err != nil || len(ds) != 2 {
		t.Fatalf("stored drills %+v %v", ds, err)
	}
	var rep drill.Report
	if err := json.Unmarshal(ds[0].Report, &rep); err != nil || rep.Actor != "console:"+adminName || ds[0].Verdict != string(drill.Inconclusive) || rep.HistoryID != 0 {
		t.Errorf("the console's drill is stored as %+v with report %+v (%v)", ds[0], rep, err)
	}
	run := e.do(http.MethodGet, w.Header().Get("Location"), nil, c, nil).Body.String()
	if !strings.Contains(run, "drill: recorded as drill ") {
		t.Errorf("the run's progress does not say it was recorded:\n%s", run)
	}

	other := e.replica(evidenceOptions)
	page = other.do(http.MethodGet, "/console/drill", nil, c, nil).Body.String()
	newest := strings.Index(page, "<td>orders</td><td>"+adminName+"</td>")
	older := strings.Index(page, "<td>orders</td><td>command line</td>")
	if newest < 0 || older < newest || !strings.Contains(page, `<span class="verdict-inconclusive">inconclusive</span>`) {
		t.Errorf("the other replica's drill page does not list both drills, newest first:\n%s", page)
	}
}
