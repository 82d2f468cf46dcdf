package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/drill/drilltest"
	"github.com/keyroll/keyroll/verify"
)

// TestReadinessCLI: two applications drilled ready; after a rotation one
// fetches the keys through its own URL and the other does not. readiness
// names the one without the next key and exits 1; once it fetches, 0.
func TestReadinessCLI(t *testing.T) {
	s := startServe(t, func(string) string { return "" }, "--store", "sqlite:"+filepath.Join(t.TempDir(), "keyroll.db"), "--key-alg", "ES256")
	admin := &adminapi.Client{BaseURL: s.url}
	urls := map[string]*adminapi.AppURLs{}
	for _, name := range []string{"orders", "billing"} {
		if _, errs, code := runIn(t, "", "apps", "create", name, "--audience", "api://"+name, "--server", s.url); code != 0 {
			t.Fatal(errs)
		}
		out, _, _ := runIn(t, "", "apps", "show", name, "--server", s.url)
		if !strings.Contains(out, "keys URL:        "+s.url+"/.well-known/jwks.json?appid=") {
			t.Errorf("apps show does not print the app's keys URL:\n%s", out)
		}
		a, err := admin.App(context.Background(), name)
		if err != nil || a.URLs == nil {
			t.Fatalf("app %s: %+v %v", name, a, err)
		}
		urls[name] = a.URLs
		// A correct API (keyroll's verify library) is drilled ready.
		v, err := verify.New(s.url, verify.Discovery(s.url), verify.WithAudience("api://"+name), verify.WithMinRefreshInterval(time.Nanosecond))
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(drilltest.LibraryAPI(v))
		defer api.Close()
		if out, errs, code := runIn(t, "", "drill", "--app", name, "--api", api.URL, "--server", s.url); code != 0 {
			t.Fatalf("drill %s: exit %d\n%s\n%s", name, code, out, errs)
		} else if !strings.Contains(errs, "recorded as drill") {
			t.Errorf("the drill does not say it was recorded:\n%s", errs)
		}
	}
	out, errs, code := runIn(t, "", "readiness", "--server", s.url)
	if code != 0 || strings.Count(out, "READY") != 2 {
		t.Fatalf("before the rotation: exit %d\n%s\n%s", code, out, errs)
	}
	out, _, code = runIn(t, "", "drill", "history", "billing", "--server", s.url)
	if code != 0 || !strings.Contains(out, "READY") || !strings.Contains(out, "primary") {
		t.Errorf("drill history: exit %d\n%s", code, out)
	}

	if _, errs, code := runIn(t, "", "keys", "rotate", "--server", s.url); code != 0 {
		t.Fatal(errs)
	}
	get(t, urls["orders"].JWKS)
	out, errs, code = runIn(t, "", "readiness", "--server", s.url)
	if code != 1 {
		t.Fatalf("after the rotation: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	var billingLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "billing") {
			billingLine = l
		}
		if strings.HasPrefix(l, "orders") && !strings.Contains(l, "READY") {
			t.Errorf("orders fetched the next key and was drilled ready: %s", l)
		}
	}
	if !strings.Contains(billingLine, "AT RISK") || !strings.Contains(billingLine, "has not fetched the next key") {
		t.Errorf("readiness does not name billing:\n%s", out)
	}
	out, _, code = runIn(t, "", "readiness", "--server", s.url, "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 1 || len(rows) != 2 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	for _, r := range rows {
		for _, k := range []string{"app", "client_id", "protocol", "last_key_fetch", "has_next_key", "last_drill", "verdict", "reason"} {
			if _, ok := r[k]; !ok {
				t.Errorf("--json row has no %s: %v", k, r)
			}
		}
		if r["app"] == "billing" && (r["has_next_key"] != false || r["last_key_fetch"] != nil) {
			t.Errorf("billing: %v", r)
		}
	}

	// billing fetches its metadata URL (a 304 would do as well): ready.
	req, _ := http.NewRequest(http.MethodGet, urls["billing"].Metadata, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	out, errs, code = runIn(t, "", "readiness", "--server", s.url)
	if code != 0 {
		t.Fatalf("after billing fetched: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestReadinessCLIUnreachable(t *testing.T) {
	_, errs, code := runIn(t, "", "readiness", "--server", "http://127.0.0.1:1")
	if code != 3 || !strings.Contains(errs, "could not check") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
