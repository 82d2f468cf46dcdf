package rows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/store"
)

// Fetch is a fetch rollup as stored.
type Fetch struct {
	Day                        int64
	ClientID, Client, Document string
	Count, NotModified, LastAt int64
	Generation                 int64
	NextKID                    string
}

// EncodeFetch encodes f for writing, its day truncated to UTC midnight;
// the error wraps store.ErrConflict.
func EncodeFetch(f store.Fetch) (Fetch, error) {
	bad := func(why string) (Fetch, error) {
		return Fetch{}, fmt.Errorf("%w: fetch rollup of %q by %q%q: %s", store.ErrConflict, f.Document, f.ClientID, f.Client, why)
	}
	switch {
	case f.Document == "":
		return bad("no document")
	case (f.ClientID == "") == (f.Client == ""):
		return bad("name exactly one of an application and an unattributed client")
	case f.Count < 1 || f.NotModified < 0 || f.NotModified > f.Count:
		return bad(fmt.Sprintf("counts %d (%d not modified)", f.Count, f.NotModified))
	case f.LastAt.IsZero():
		return bad("no time")
	}
	day, err := Nanos(store.FetchDay(f.Day))
	if err != nil {
		return bad(err.Error())
	}
	last, err := Nanos(f.LastAt)
	if err != nil {
		return bad(err.Error())
	}
	return Fetch{Day: day, ClientID: f.ClientID, Client: f.Client, Document: string(f.Document),
		Count: f.Count, NotModified: f.NotModified, LastAt: last, Generation: f.Generation, NextKID: f.NextKID}, nil
}

// Decode turns a stored row back into a rollup.
func (r Fetch) Decode() store.Fetch {
	return store.Fetch{Day: FromNanos(r.Day), ClientID: r.ClientID, Client: r.Client, Document: store.Document(r.Document),
		Count: r.Count, NotModified: r.NotModified, LastAt: FromNanos(r.LastAt), Generation: r.Generation, NextKID: r.NextKID}
}

// DayNanos is the stored form of t's UTC day, clamped to the storable range.
func DayNanos(t time.Time) int64 {
	if t.IsZero() {
		return SinceNanos(t)
	}
	return SinceNanos(store.FetchDay(t))
}

// Drill is a drill record as stored; Keys is a JSON array.
type Drill struct {
	ClientID, App, Mode, Target, Verdict, Reason string
	Started, Finished                            int64
	Keys                                         string
	Report                                       []byte
}

// EncodeDrill encodes d for writing; the error wraps store.ErrConflict.
func EncodeDrill(d store.DrillRecord) (Drill, error) {
	bad := func(why string) (Drill, error) {
		return Drill{}, fmt.Errorf("%w: drill record of %q: %s", store.ErrConflict, d.ClientID, why)
	}
	if d.ClientID == "" || d.Verdict == "" {
		return bad("a client id and a verdict are required")
	}
	keys := d.Keys
	if keys == nil {
		keys = []store.DrillKey{}
	}
	js, err := json.Marshal(keys)
	if err != nil {
		return bad(err.Error())
	}
	r := Drill{ClientID: d.ClientID, App: d.App, Mode: d.Mode, Target: d.Target, Verdict: d.Verdict, Reason: d.Reason,
		Keys: string(js), Report: d.Report}
	if r.Report == nil {
		r.Report = []byte{}
	}
	if r.Started, err = Nanos(d.Started); err == nil {
		r.Finished, err = Nanos(d.Finished)
	}
	if err != nil {
		return bad(err.Error())
	}
	return r, nil
}

// Decode turns a stored row back into a record; the error wraps store.ErrCorrupt.
func (r Drill) Decode(id int64) (store.DrillRecord, error) {
	d := store.DrillRecord{ID: id, ClientID: r.ClientID, App: r.App, Mode: r.Mode, Target: r.Target, Verdict: r.Verdict,
		Reason: r.Reason, Started: FromNanos(r.Started), Finished: FromNanos(r.Finished), Report: r.Report}
	if err := json.Unmarshal([]byte(r.Keys), &d.Keys); err != nil {
		return store.DrillRecord{}, fmt.Errorf("%w: drill record %d: keys: %v", store.ErrCorrupt, id, err)
	}
	if len(d.Report) == 0 {
		d.Report = nil
	}
	return d, nil
}
