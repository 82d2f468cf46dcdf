package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/store"
)

// Paths of the documents the issuer publishes.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
	MetadataPath  = "/federationmetadata/2007-06/federationmetadata.xml"
	HealthPath    = "/healthz"
	ReadyPath     = "/readyz"
)

// Documents serves what the issuer publishes (discovery, JWKS, federation
// metadata) and its health, from the manager's snapshot: it never touches
// the store.
type Documents struct {
	m     *Manager
	extra map[string]any // more discovery members, set before serving
	rec   *FetchRecorder // nil: fetches are not recorded
}

// NewDocuments returns the document handlers of m.
func NewDocuments(m *Manager) *Documents { return &Documents{m: m, extra: map[string]any{}} }

// SetDiscovery adds a member to the discovery document (a protocol's
// endpoints). Call it before serving.
func (d *Documents) SetDiscovery(name string, value any) { d.extra[name] = value }

// SetRecorder records every fetch of the discovery document, the JWKS and
// the metadata with rec (attributed by ?appid=). Call it before serving.
func (d *Documents) SetRecorder(rec *FetchRecorder) { d.rec = rec }

// Register adds the document handlers to mux.
// Every document answers ?appid=CLIENT_ID with the same bytes as without it.
func (d *Documents) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+DiscoveryPath, d.discovery)
	mux.HandleFunc("GET "+JWKSPath, d.jwks)
	mux.HandleFunc("GET "+MetadataPath, d.metadata)
	mux.HandleFunc("GET "+HealthPath, d.health)
	mux.HandleFunc("GET "+ReadyPath, d.ready)
}

// Endpoint returns the absolute URL of a path under the issuer URL.
func (m *Manager) Endpoint(path string) string { return strings.TrimSuffix(m.cfg.Issuer, "/") + path }

// AppURLs returns the addresses of the published documents that attribute
// each fetch to the application clientID.
func (m *Manager) AppURLs(clientID string) map[store.Document]string {
	q := "?" + AppIDParam + "=" + url.QueryEscape(clientID)
	return map[store.Document]string{
		store.DocDiscovery: m.Endpoint(DiscoveryPath) + q,
		store.DocJWKS:      m.Endpoint(JWKSPath) + q,
		store.DocMetadata:  m.Endpoint(MetadataPath) + q,
	}
}

// maxAge is how long a client may cache a published document: never past
// the next scheduled change, and never longer than the relying parties'
// refresh interval.
func (d *Documents) maxAge(snap *Snapshot) int {
	limit := d.m.cfg.Policy.RefreshInterval
	if !snap.NextChange.IsZero() {
		limit = min(limit, snap.NextChange.Sub(d.m.Now()))
	}
	return int(max(limit, 0) / time.Second)
}

// serve answers with body, or 304 when the client holds tag, and records
// the fetch of doc served from snap.
func (d *Documents) serve(w http.ResponseWriter, r *http.Request, snap *Snapshot, doc store.Document, body []byte, tag, ctype string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", tag)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", d.maxAge(snap)))
	h.Set("Access-Control-Allow-Origin", "*")
	notModified := etagMatch(r.Header.Get("If-None-Match"), tag)
	if d.rec != nil {
		d.rec.record(requestInfo{appID: appIDOf(r.URL.RawQuery), ua: r.Header.Get("User-Agent"), addr: r.RemoteAddr}, doc, snap, notModified)
	}
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == tag || t == "*" {
			return true
		}
	}
	return false
}

func (d *Documents) jwks(w http.ResponseWriter, r *http.Request) {
	snap := d.m.Snapshot()
	d.serve(w, r, snap, store.DocJWKS, snap.JWKS, snap.JWKSETag, "application/jwk-set+json")
}

func (d *Documents) metadata(w http.ResponseWriter, r *http.Request) {
	snap := d.m.Snapshot()
	d.serve(w, r, snap, store.DocMetadata, snap.Metadata, snap.MetadataETag, "application/samlmetadata+xml")
}

func (d *Documents) discovery(w http.ResponseWriter, r *http.Request) {
	snap := d.m.Snapshot()
	algs := []string{d.m.cfg.KeySpec.Alg}
	for _, k := range snap.Published {
		if !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	slices.Sort(algs)
	doc := map[string]any{
		"issuer":                                d.m.cfg.Issuer,
		"jwks_uri":                              d.m.Endpoint(JWKSPath),
		"id_token_signing_alg_values_supported": algs,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	}
	if snap.Primary != nil {
		doc["keyroll_signing_kid"] = snap.Primary.KID // lets operator tools know the signer, not estimate it
	}
	for k, v := range d.extra {
		doc[k] = v
	}
	body, _ := json.Marshal(doc)
	d.serve(w, r, snap, store.DocDiscovery, body, etag(body), "application/json")
}

func (d *Documents) health(w http.ResponseWriter, r *http.Request) {
	code, body := d.status(r)
	httpjson.Write(w, code, body)
}

// readyTimeout bounds the store check of /readyz.
const readyTimeout = 2 * time.Second

// ready is /readyz: healthy (a primary that can sign) and the store
// reachable now, so a load balancer sends sign-ins only where they can be
// completed (codes, applications and users are read from the store).
func (d *Documents) ready(w http.ResponseWriter, r *http.Request) {
	code, body := d.status(r)
	if code == http.StatusOK {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if _, err := d.m.ks.Generation(ctx); err != nil {
			d.m.Logger().Warn("readiness: the store is unreachable", "err", err)
			body["status"], code = "the store is unreachable (see the issuer's log)", http.StatusServiceUnavailable
		}
	}
	httpjson.Write(w, code, body)
}

// status is the issuer's health: a consistent key set whose primary is
// valid and can sign.
func (d *Documents) status(r *http.Request) (int, map[string]any) {
	snap := d.m.Snapshot()
	body := map[string]any{"status": "ok", "generation": snap.Generation}
	code := http.StatusOK
	if snap.StateErr != nil {
		body["status"], code = snap.StateErr.Error(), http.StatusServiceUnavailable
	} else if snap.Primary == nil {
		body["status"], code = "no primary signing key", http.StatusServiceUnavailable
	} else {
		body["primary"], body["primary_not_after"] = snap.Primary.KID, snap.Primary.NotAfter
		if !d.m.Now().Before(snap.Primary.NotAfter) {
			body["status"], code = "primary signing certificate expired", http.StatusServiceUnavailable
		} else if d.m.SigningHealth(r.Context()) != nil {
			// The reason (token, module) goes to the log, not to anonymous callers.
			body["status"], code = "primary signing key cannot sign (see the issuer's log)", http.StatusServiceUnavailable
		}
	}
	return code, body
}
