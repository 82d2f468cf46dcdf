// Package opstest gives keyroll's operator-toolkit tests the real provider
// documents of testdata/fixtures/real-world, a local HTTP server to serve
// them, and openssl's view of a certificate to compare against. It is
// imported only by tests.
package opstest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/internal/fixtures"
)

// Dir returns the real-world fixture directory (testdata/fixtures/real-world).
func Dir(t testing.TB) string {
	t.Helper()
	return filepath.Join(fixtures.Dir(t), "real-world")
}

// Path returns the path of a fixture, e.g. "jwks/google-oauth2-v3-certs.json".
func Path(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(Dir(t), rel)
}

// Read returns a fixture's bytes.
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Server serves documents by path; tests change them between requests.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	docs  map[string][]byte
	fail  map[string]int // path → status to answer instead
	count map[string]int
}

// NewServer starts a plain-http loopback server; tls starts an https one.
func NewServer(t testing.TB, tls bool) *Server {
	s := &Server{docs: map[string][]byte{}, fail: map[string]int{}, count: map[string]int{}}
	h := http.HandlerFunc(s.serve)
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	doc, ok := s.docs[r.URL.Path]
	status := s.fail[r.URL.Path]
	s.count[r.URL.Path]++
	s.mu.Unlock()
	switch {
	case status != 0:
		http.Error(w, "failing on purpose", status)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Write(doc)
	}
}

// Set serves doc at path (nil removes it).
func (s *Server) Set(path string, doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if doc == nil {
		delete(s.docs, path)
		return
	}
	s.docs[path] = doc
}

// Fail answers requests for path with status (0 to stop failing).
func (s *Server) Fail(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = status
}

// Requests returns how many requests path received.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[path]
}

// Cert is what openssl prints for a certificate.
type Cert struct {
	SHA1, SHA256        string // upper-case hex without colons
	NotBefore, NotAfter time.Time
}

// OpenSSL runs `openssl x509 -fingerprint -dates` on a DER certificate. It
// skips the test when openssl is missing, unless CI is "true".
func OpenSSL(t testing.TB, der []byte) Cert {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required under CI")
		}
		t.Skip("openssl not installed: cannot compare thumbprints with openssl's")
	}
	file := filepath.Join(t.TempDir(), "cert.der")
	if err := os.WriteFile(file, der, 0o644); err != nil {
		t.Fatal(err)
	}
	var c Cert
	for _, alg := range []string{"-sha1", "-sha256"} {
		out, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", file, "-noout", "-fingerprint", alg, "-dates").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl: %v: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			switch {
			case strings.HasSuffix(k, "Fingerprint") && alg == "-sha1":
				c.SHA1 = strings.ReplaceAll(v, ":", "")
			case strings.HasSuffix(k, "Fingerprint"):
				c.SHA256 = strings.ReplaceAll(v, ":", "")
			case k == "notBefore":
				c.NotBefore = parseDate(t, v)
			case k == "notAfter":
				c.NotAfter = parseDate(t, v)
			}
		}
	}
	if c.SHA1 == "" || c.SHA256 == "" || c.NotBefore.IsZero() || c.NotAfter.IsZero() {
		t.Fatalf("could not read openssl output: %+v", c)
	}
	return c
}

func parseDate(t testing.TB, v string) time.Time {
	d, err := time.Parse("Jan _2 15:04:05 2006 MST", strings.Join(strings.Fields(v), " "))
	if err != nil {
		d, err = time.Parse("Jan 2 15:04:05 2006 MST", strings.Join(strings.Fields(v), " "))
	}
	if err != nil {
		t.Fatalf("openssl date %q: %v", v, err)
	}
	return d.UTC()
}
