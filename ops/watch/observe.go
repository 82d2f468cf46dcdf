package watch

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/ops"
)

// Config are the watch thresholds.
type Config struct {
	// WarnDays: a certificate expiring within this many days gives an
	// Expiring event (once per certificate).
	WarnDays int
	// UnreachableAfter: fetches failing for this long give an Unreachable
	// event (once per outage).
	UnreachableAfter time.Duration
}

// Defaults: warn 30 days before expiry, report an outage after an hour.
const (
	DefaultWarnDays         = 30
	DefaultUnreachableAfter = time.Hour
)

// Observe updates ps with the outcome of one fetch of provider at now and
// returns the events it implies. The first successful fetch records the
// keys without reporting them as added.
func Observe(ps *Provider, provider string, pub *ops.Published, fetchErr error, now time.Time, cfg Config) []Event {
	ps.LastAttempt = now
	if errors.Is(fetchErr, ops.ErrPinnedSignerMismatch) {
		return refused(ps, provider, fetchErr, now)
	}
	if fetchErr != nil {
		return failed(ps, provider, fetchErr, now, cfg)
	}
	var events []Event
	if ps.ReportedDown {
		events = append(events, newEvent(now, provider, Reachable, nil, "reachable again after failing since "+ps.FailingSince.UTC().Format(time.RFC3339)))
	}
	ps.FailingSince, ps.ReportedDown, ps.LastError, ps.LastSuccess = time.Time{}, false, "", now
	cur := currentKeys(ps, pub, now)
	if ps.Seen {
		events = append(events, keyChanges(ps.Keys, cur, provider, now)...)
	}
	events = append(events, expiry(cur, provider, now, cfg)...)
	events = append(events, anyValid(ps, cur, provider, now)...)
	events = append(events, signature(ps, pub, provider, now)...)
	ps.Keys, ps.Seen = cur, true
	return events
}

// refused reports metadata that a pinned signer did not sign: at once
// (it is an attack or a rollover of the metadata signer, not an outage),
// once until it is signed again; the keys seen are kept unchanged.
func refused(ps *Provider, provider string, err error, now time.Time) []Event {
	ps.LastError = err.Error()
	prev := ps.Signature
	ps.Signature = "invalid"
	if prev == "invalid" {
		return nil
	}
	return []Event{newEvent(now, provider, SignatureInvalid, nil, "metadata refused: "+err.Error())}
}

func failed(ps *Provider, provider string, err error, now time.Time, cfg Config) []Event {
	if ps.FailingSince.IsZero() {
		ps.FailingSince = now
	}
	ps.LastError = err.Error()
	if ps.ReportedDown || now.Sub(ps.FailingSince) < cfg.UnreachableAfter {
		return nil
	}
	ps.ReportedDown = true
	msg := fmt.Sprintf("unreachable since %s: %v", ps.FailingSince.UTC().Format(time.RFC3339), err)
	return []Event{newEvent(now, provider, Unreachable, nil, msg)}
}

// currentKeys describes the fetched keys, carrying over what was already
// reported about each.
func currentKeys(ps *Provider, pub *ops.Published, now time.Time) map[string]*KeyState {
	cur := map[string]*KeyState{}
	for _, k := range pub.Keys {
		ks := &KeyState{ID: k.ID(), KID: k.KID, Subject: k.Subject, NotAfter: k.NotAfter, FirstSeen: now}
		if old := ps.Keys[ks.ID]; old != nil {
			ks.FirstSeen, ks.WarnedExpiring, ks.ReportedExpired = old.FirstSeen, old.WarnedExpiring, old.ReportedExpired
		}
		cur[ks.ID] = ks
	}
	return cur
}

func keyChanges(old, cur map[string]*KeyState, provider string, now time.Time) []Event {
	var events []Event
	for _, id := range sortedIDs(cur) {
		if old[id] == nil {
			k := cur[id]
			events = append(events, newEvent(now, provider, KeyAdded, k, "new signing key published"+validity(k)))
		}
	}
	for _, id := range sortedIDs(old) {
		if cur[id] == nil {
			events = append(events, newEvent(now, provider, KeyRemoved, old[id], "signing key no longer published"))
		}
	}
	return events
}

func validity(k *KeyState) string {
	if k.NotAfter.IsZero() {
		return ""
	}
	return ", valid until " + ops.Date(k.NotAfter)
}

func expiry(cur map[string]*KeyState, provider string, now time.Time, cfg Config) []Event {
	warn := time.Duration(cfg.WarnDays) * lifecycle.Day
	var events []Event
	for _, id := range sortedIDs(cur) {
		k := cur[id]
		switch {
		case k.NotAfter.IsZero():
		case !now.Before(k.NotAfter) && !k.ReportedExpired:
			k.ReportedExpired = true
			events = append(events, newEvent(now, provider, ExpiredPublished, k, "certificate expired "+ops.Date(k.NotAfter)+" but is still published"))
		case now.Before(k.NotAfter) && k.NotAfter.Sub(now) <= warn && !k.WarnedExpiring:
			k.WarnedExpiring = true
			left := int(k.NotAfter.Sub(now) / lifecycle.Day)
			events = append(events, newEvent(now, provider, Expiring, k, fmt.Sprintf("certificate expires in %d days (%s)", left, ops.Date(k.NotAfter))))
		}
	}
	return events
}

// anyValid reports, once, a provider whose published certificates have
// all expired (relying parties that check validity accept nothing it
// signs), and when a valid one is published again. Keys without a
// certificate (a bare JWKS) count as valid: nothing says otherwise.
func anyValid(ps *Provider, cur map[string]*KeyState, provider string, now time.Time) []Event {
	valid := len(cur) == 0
	for _, k := range cur {
		if k.NotAfter.IsZero() || now.Before(k.NotAfter) {
			valid = true
		}
	}
	switch {
	case !valid && !ps.ReportedNoValid:
		ps.ReportedNoValid = true
		return []Event{newEvent(now, provider, NoValidKey, nil, fmt.Sprintf("every one of the %d published certificates has expired: nothing valid signs", len(cur)))}
	case valid && ps.ReportedNoValid:
		ps.ReportedNoValid = false
		return []Event{newEvent(now, provider, ValidKey, nil, "a valid certificate is published again")}
	}
	return nil
}

func signature(ps *Provider, pub *ops.Published, provider string, now time.Time) []Event {
	status := ""
	if pub.Kind == ops.KindMetadata {
		status = "unsigned"
		if pub.Signature.Signed {
			status = map[bool]string{true: "valid", false: "invalid"}[pub.Signature.Valid]
		}
	}
	prev := ps.Signature
	ps.Signature = status
	switch {
	case status == "invalid" && prev != "invalid":
		return []Event{newEvent(now, provider, SignatureInvalid, nil, "metadata signature does not verify: "+pub.Signature.Err)}
	case status == "valid" && prev == "invalid":
		return []Event{newEvent(now, provider, SignatureValid, nil, "metadata signature verifies again")}
	case status == "unsigned" && prev == "valid":
		return []Event{newEvent(now, provider, SignatureInvalid, nil, "metadata is no longer signed")}
	}
	return nil
}

func sortedIDs(m map[string]*KeyState) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
