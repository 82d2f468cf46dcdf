package main

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fixtures "github.com/keyroll/keyroll/ops/opstest"
	"github.com/keyroll/keyroll/ops/timeline"
)

func opsDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedCert writes a certificate valid until notAfter as PEM and returns the file.
func seedCert(t *testing.T, notBefore, notAfter string) string {
	c := fixtures.NewCert(t, "ADFS Signing - fs.contoso.com", opsDate(notBefore), opsDate(notAfter))
	path := filepath.Join(t.TempDir(), "signing.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}), 0o644)
	return path
}

func milestones(t *testing.T, out string) map[string]string {
	t.Helper()
	var got timelineJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Timelines) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, ms := range got.Timelines[0].Milestones {
		m[ms.Name] = ms.Date.Format(time.DateOnly)
	}
	return m
}

// TestTimelineSeed002: seed 002's worked example comes out exactly.
func TestTimelineSeed002(t *testing.T) {
	cert := seedCert(t, "2013-07-25", "2014-07-25")
	out, stderr, code := opsRun(t, "timeline", "--cert", cert, "--at", "2014-07-01", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[string]string{timeline.Alert: "2014-06-25", timeline.Generated: "2014-07-05", timeline.Promoted: "2014-07-10",
		timeline.Critical: "2014-07-23", timeline.Expires: "2014-07-25", timeline.NextExpiry: "2015-07-05"}
	got := milestones(t, out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	out, _, _ = opsRun(t, "timeline", "--cert", cert, "--at", "2014-07-01")
	for _, s := range []string{"2014-07-05", "next generated", "2014-07-10", "next promoted", "in 9 d", "certificate", "today", "^"} {
		if !strings.Contains(out, s) {
			t.Errorf("table/chart lacks %q:\n%s", s, out)
		}
	}
}

func TestTimelineThresholdFlags(t *testing.T) {
	cert := seedCert(t, "2013-07-25", "2014-07-25")
	out, _, code := opsRun(t, "timeline", "--cert", cert, "--json", "--generation-threshold", "30d",
		"--promotion-threshold", "10d", "--critical-threshold", "3d", "--certificate-duration", "730d", "--alert-days", "60")
	got := milestones(t, out)
	want := map[string]string{timeline.Alert: "2014-05-26", timeline.Generated: "2014-06-25", timeline.Promoted: "2014-07-05",
		timeline.Critical: "2014-07-22", timeline.NextExpiry: "2016-06-24"}
	for k, v := range want {
		if got[k] != v || code != 0 {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

func TestTimelineFromProvider(t *testing.T) {
	srv := fixtures.NewServer(t, false)
	srv.Set("/md", fixtures.Read(t, "federation-metadata/adfs-bwqa-broadsoft.xml"))
	out, stderr, code := opsRun(t, "timeline", srv.URL+"/md", "--at", "2019-01-01", "--json")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	// Certificate 2018-01-24..2019-01-24.
	got := milestones(t, out)
	if got[timeline.Generated] != "2019-01-04" || got[timeline.Promoted] != "2019-01-09" || got[timeline.Expires] != "2019-01-24" {
		t.Errorf("milestones %v", got)
	}
	if !strings.Contains(out, "signed the metadata") {
		t.Errorf("signer method missing:\n%s", out)
	}
}

func TestTimelineErrors(t *testing.T) {
	if _, _, code := opsRun(t, "timeline", "--cert", "x.pem", "https://idp.example.com"); code != exitUsage {
		t.Errorf("both: exit %d", code)
	}
	if _, _, code := opsRun(t, "timeline", "--cert", "x.pem", "--at", "July"); code != exitUsage {
		t.Errorf("bad --at: exit %d", code)
	}
	notCert := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notCert, []byte("hello"), 0o644)
	if _, stderr, code := opsRun(t, "timeline", "--cert", notCert); code != 1 || !strings.Contains(stderr, "no certificate") {
		t.Errorf("not a cert: %d %s", code, stderr)
	}
	if _, stderr, code := opsRun(t, "timeline", fixtures.Path(t, "jwks/google-oauth2-v3-certs.json")); code != 1 || !strings.Contains(stderr, "no certificate") {
		t.Errorf("bare JWKS: %d %s", code, stderr)
	}
	if _, _, code := opsRun(t, "timeline", "--cert", notCert, "--promotion-threshold", "0d"); code != exitUsage {
		t.Errorf("zero threshold: exit %d", code)
	}
}
