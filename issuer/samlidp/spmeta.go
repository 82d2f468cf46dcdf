package samlidp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/keyroll/keyroll/clock"
	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

// SPRegistration is what a service provider's metadata registers: its
// entity ID, its HTTP-POST assertion consumer services (the default first,
// then by index) and the certificates it signs requests with.
type SPRegistration struct {
	EntityID       string
	ACS            []string
	SigningCerts   [][]byte
	RequestsSigned bool
}

// Registration reads a registration from parsed SP metadata.
func Registration(md *saml.SPMetadata) SPRegistration {
	acs := slices.Clone(md.ACS)
	slices.SortStableFunc(acs, func(a, b saml.Endpoint) int {
		switch {
		case a.IsDefault != b.IsDefault && a.IsDefault:
			return -1
		case a.IsDefault != b.IsDefault:
			return 1
		}
		return a.Index - b.Index
	})
	r := SPRegistration{EntityID: md.EntityID, RequestsSigned: md.AuthnRequestsSigned}
	for _, e := range acs {
		if e.Binding == saml.BindingHTTPPost && !slices.Contains(r.ACS, e.Location) {
			r.ACS = append(r.ACS, e.Location)
		}
	}
	for _, c := range md.SigningCerts {
		r.SigningCerts = append(r.SigningCerts, c.Raw)
	}
	return r
}

// fetchTimeout bounds one SP metadata fetch.
const fetchTimeout = 15 * time.Second

// FetchSPMetadata reads an SP's metadata from an https URL (http only to a
// loopback address), at most saml.MaxMetadataSize bytes, never following a
// redirect to plain http. hc nil: a client of its own.
func FetchSPMetadata(ctx context.Context, hc *http.Client, rawURL string) (SPRegistration, error) {
	if err := checkMetadataURL(rawURL); err != nil {
		return SPRegistration{}, err
	}
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return checkMetadataURL(req.URL.String())
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return SPRegistration{}, fmt.Errorf("SP metadata %s: %w", rawURL, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := c.Do(req)
	if err != nil {
		return SPRegistration{}, fmt.Errorf("SP metadata %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return SPRegistration{}, fmt.Errorf("SP metadata %s: HTTP %d", rawURL, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, saml.MaxMetadataSize+1))
	if err != nil {
		return SPRegistration{}, fmt.Errorf("SP metadata %s: %w", rawURL, err)
	}
	md, err := saml.ParseSPMetadata(data)
	if err != nil {
		return SPRegistration{}, fmt.Errorf("SP metadata %s: %w", rawURL, err)
	}
	return Registration(md), nil
}

func checkMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("SP metadata URL %q is not an absolute URL", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("SP metadata URL %q: https, or http to a loopback address", raw)
}

// SPApps is what the refresher reads and writes: *issuer.Manager.
type SPApps interface {
	SPMetadataApps(ctx context.Context) ([]store.Application, error)
	UpdateFromSPMetadata(ctx context.Context, clientID, entityID string, acs []string, certs [][]byte, requestsSigned bool, actor string) (bool, error)
}

// RefreshSPMetadata reads the metadata of every SAML application registered
// from a URL again and applies what changed (an SP that rolled its signing
// key, added an ACS). A fetch that fails or names another entity changes
// nothing for that application; the errors are returned together.
func RefreshSPMetadata(ctx context.Context, apps SPApps, hc *http.Client) error {
	list, err := apps.SPMetadataApps(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range list {
		reg, err := FetchSPMetadata(ctx, hc, a.Fed.SPMetadataURL)
		if err == nil {
			_, err = apps.UpdateFromSPMetadata(ctx, a.ClientID, reg.EntityID, reg.ACS, reg.SigningCerts, reg.RequestsSigned, "sp-metadata")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RunSPRefresh refreshes SP metadata every interval until ctx ends,
// logging what fails.
func RunSPRefresh(ctx context.Context, apps SPApps, clk clock.Clock, every time.Duration, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-clk.After(every):
		}
		if err := RefreshSPMetadata(ctx, apps, nil); err != nil && ctx.Err() == nil {
			log.Warn("SP metadata refresh failed; the applications keep their registration", "err", err)
		}
	}
}
