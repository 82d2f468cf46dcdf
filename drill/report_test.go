package drill

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDrillVerdictWording(t *testing.T) {
	d := func(s string) *time.Time {
		tm, _ := time.Parse(time.DateOnly, s)
		return &tm
	}
	tp := "3A38FA984E8560F19AADC9F86FE9594BB6AD049B"
	rejected := func(state string) Result {
		r := Result{Thumbprint: tp, State: state}
		r.record(Rejected, Evidence{Status: 401})
		return r
	}
	next := rejected("next")
	next.PromoteAt = d("2026-12-24")
	retired := rejected("retired")
	retired.RetiredAt, retired.UnpublishAt = d("2026-01-02"), d("2026-01-16")
	cases := []struct {
		mode string
		res  Result
		want string
	}{
		{"web", next, "rejects the next key 3A38…049B, which becomes primary on 2026-12-24; sign-in will fail from then"},
		{"api", next, "rejects the next key 3A38…049B, which becomes primary on 2026-12-24; its tokens will be refused from then"},
		{"web", rejected("next"), "rejects the next key 3A38…049B, which becomes primary when an operator promotes it; sign-in will fail from then"},
		{"web", rejected("primary"), "rejects the primary key 3A38…049B, which signs every token now; sign-in fails now"},
		{"api", rejected("primary"), "rejects the primary key 3A38…049B, which signs every token now; its tokens are refused now"},
		{"web", retired, "rejects the retired key 3A38…049B: tokens signed before its retirement on 2026-01-02 fail until it is unpublished on 2026-01-16"},
		{"web", rejected("retired"), "rejects the retired key 3A38…049B: tokens signed before its retirement fail until it is unpublished"},
		{"web", rejected("fresh"), "does not refresh on an unknown key: an emergency rollover would break sign-in at once"},
	}
	for _, c := range cases {
		r := &Report{Mode: c.mode, Results: []Result{c.res}}
		r.decide(context.Background(), nil)
		if r.Verdict != NotReady || r.Reason != c.want || r.ExitCode() != 1 {
			t.Errorf("%s %s: %s %q (exit %d)\nwant %q", c.mode, c.res.State, r.Verdict, r.Reason, r.ExitCode(), c.want)
		}
	}
}

func TestDrillVerdictOrderAndExitCodes(t *testing.T) {
	res := func(state string, o Outcome) Result {
		r := Result{Thumbprint: "AAAA000000000000000000000000000000000000", State: state}
		r.record(o, Evidence{Status: 500})
		return r
	}
	r := &Report{Mode: "api", Results: []Result{res("next", Undecided), res("retired", Rejected), res("primary", Rejected)}}
	r.decide(context.Background(), nil)
	if len(r.Reasons) != 3 || !strings.HasPrefix(r.Reasons[0], "rejects the primary") || !strings.HasPrefix(r.Reasons[1], "rejects the retired") ||
		!strings.HasPrefix(r.Reasons[2], "could not test the next") {
		t.Errorf("reasons not most urgent first: %q", r.Reasons)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		stop error
		res  []Result
		left bool
		want Verdict
		code int
	}{
		{context.Background(), nil, []Result{res("primary", Accepted)}, false, Ready, 0},
		{context.Background(), nil, []Result{res("primary", Accepted)}, true, Ready, 2},
		{context.Background(), nil, []Result{res("primary", Rejected)}, true, NotReady, 2},
		{context.Background(), nil, []Result{res("primary", Undecided)}, false, Inconclusive, 2},
		{cancelled, nil, []Result{res("primary", Rejected)}, false, Interrupted, 2},
		{context.Background(), context.Canceled, nil, false, Interrupted, 2},
		{context.Background(), errors.New("boom"), nil, false, Failed, 2},
	} {
		r := &Report{Results: c.res}
		if c.left {
			r.Cleanup.Left = []Leftover{{What: "x"}}
		}
		r.decide(c.ctx, c.stop)
		if r.Verdict != c.want || r.ExitCode() != c.code {
			t.Errorf("%+v: %s exit %d, want %s exit %d", c, r.Verdict, r.ExitCode(), c.want, c.code)
		}
	}
}

func TestDrillEvidenceIsSafe(t *testing.T) {
	u, _ := url.Parse("https://user:pw@app.example/cb?code=SECRET&state=abc&Access_Token=T0K#frag")
	got := redactURL(u)
	if strings.Contains(got, "SECRET") || strings.Contains(got, "T0K") || strings.Contains(got, "pw") || strings.Contains(got, "frag") || !strings.Contains(got, "state=abc") {
		t.Errorf("redactURL = %q", got)
	}
	if got := redactLocation(u, "/x?login_request=H&id_token=I"); strings.Contains(got, "=H") || strings.Contains(got, "=I") {
		t.Errorf("redactLocation = %q", got)
	}
	if got := printable("a\x1b[31m\tb\n\xffc", 100); got != "a [31m b �c" {
		t.Errorf("printable = %q", got)
	}
	if got := clip(strings.Repeat("é", 200), 11); got != "éééé…" || len(got) > 11 {
		t.Errorf("clip = %q (%d bytes)", got, len(got))
	}
	if got := (Evidence{Status: 401, WWWAuthenticate: strings.Repeat("x", 500)}).Summary(); len(got) > 160 {
		t.Errorf("summary is %d bytes", len(got))
	}
	if got := netError(&url.Error{Op: "Get", URL: "http://app/cb?code=SECRET", Err: errors.New("connection refused")}); got != "Get: connection refused" {
		t.Errorf("netError = %q", got)
	}
	if got := pageTitle([]byte("<html><TITLE>Sign-in\nfailed</TITLE>")); got != "Sign-in failed" {
		t.Errorf("pageTitle = %q", got)
	}
}

func TestDrillSameTarget(t *testing.T) {
	p := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	for _, c := range []struct {
		got, want string
		same      bool
	}{
		{"https://app.example/", "https://APP.example", true},
		{"https://app.example/?session=1", "https://app.example/", true},
		{"https://app.example/home", "https://app.example/", false},
		{"http://app.example/", "https://app.example/", false},
		{"https://app.example:8443/", "https://app.example/", false},
	} {
		if got := sameTarget(p(c.got), p(c.want)); got != c.same {
			t.Errorf("sameTarget(%s, %s) = %v", c.got, c.want, got)
		}
	}
	if Abbrev("3A38FA984E8560F19AADC9F86FE9594BB6AD049B") != "3A38…049B" || Abbrev("short") != "short" {
		t.Error("Abbrev")
	}
	if shellQuote("Payroll API") != "'Payroll API'" || shellQuote("it's") != `'it'\''s'` || shellQuote("api-1") != "api-1" {
		t.Error("shellQuote")
	}
}
