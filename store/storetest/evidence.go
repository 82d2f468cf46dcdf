package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyroll/keyroll/store"
)

// testFetches: rollups add up per day and client, the latest fetch names
// the generation, application and unattributed clients are kept apart.
func testFetches(t *testing.T, s store.Store) {
	ctx := t.Context()
	day1 := base.Add(-5 * time.Hour) // 04:26 in +05:30 is the previous UTC day
	app := store.Fetch{Day: day1, ClientID: "client-a", Document: store.DocJWKS, Count: 3, NotModified: 1,
		LastAt: day1, Generation: 7, NextKID: "kid-007"}
	anon := store.Fetch{Day: day1, Client: "curl/8 @ 203.0.113.0/24", Document: store.DocMetadata, Count: 1, LastAt: day1, Generation: 7}
	if err := s.RecordFetches(ctx, []store.Fetch{app, anon}); err != nil {
		t.Fatal(err)
	}
	// An older fetch arriving later adds its counts but not its generation.
	older := app
	older.Count, older.NotModified, older.LastAt, older.Generation, older.NextKID = 2, 2, day1.Add(-time.Minute), 6, ""
	newer := app
	newer.Count, newer.NotModified, newer.LastAt, newer.Generation, newer.NextKID = 1, 0, day1.Add(time.Minute), 8, "kid-008"
	if err := s.RecordFetches(ctx, []store.Fetch{older}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFetches(ctx, []store.Fetch{newer}); err != nil {
		t.Fatal(err)
	}
	day2 := day1.Add(24 * time.Hour)
	next := store.Fetch{Day: day2, ClientID: "client-a", Document: store.DocJWKS, Count: 1, LastAt: day2, Generation: 9, NextKID: "kid-008"}
	if err := s.RecordFetches(ctx, []store.Fetch{next}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetches(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Fetch{
		{Day: store.FetchDay(day1), ClientID: "", Client: anon.Client, Document: store.DocMetadata, Count: 1, LastAt: day1.UTC(), Generation: 7},
		{Day: store.FetchDay(day1), ClientID: "client-a", Document: store.DocJWKS, Count: 6, NotModified: 3,
			LastAt: newer.LastAt.UTC(), Generation: 8, NextKID: "kid-008"},
		{Day: store.FetchDay(day2), ClientID: "client-a", Document: store.DocJWKS, Count: 1, LastAt: day2.UTC(), Generation: 9, NextKID: "kid-008"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Fetches:\n got %+v\nwant %+v", got, want)
	}
	got, err = s.Fetches(ctx, day2.Add(time.Minute)) // later the same UTC day
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Generation != 9 {
		t.Fatalf("Fetches since day 2: %+v", got)
	}
	n, err := s.PruneFetches(ctx, day2)
	if err != nil || n != 2 {
		t.Fatalf("PruneFetches = %d, %v; want 2 rows", n, err)
	}
	if got, _ := s.Fetches(ctx, time.Time{}); len(got) != 1 {
		t.Fatalf("after pruning: %+v", got)
	}
	for _, bad := range []store.Fetch{
		{Day: day1, Document: store.DocJWKS, Count: 1, LastAt: day1},
		{Day: day1, ClientID: "a", Client: "b", Document: store.DocJWKS, Count: 1, LastAt: day1},
		{Day: day1, ClientID: "a", Document: store.DocJWKS, Count: 0, LastAt: day1},
		{Day: day1, ClientID: "a", Document: store.DocJWKS, Count: 1, NotModified: 2, LastAt: day1},
		{Day: day1, ClientID: "a", Count: 1, LastAt: day1},
	} {
		if err := s.RecordFetches(ctx, []store.Fetch{bad}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("RecordFetches(%+v) = %v, want ErrConflict", bad, err)
		}
	}
}

// testFetchesConcurrent: batches from several writers (replicas) add up.
func testFetchesConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.RecordFetches(ctx, []store.Fetch{{Day: base, ClientID: "c", Document: store.DocJWKS, Count: 2,
				LastAt: base.Add(time.Duration(i) * time.Second), Generation: int64(i)}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Fetches(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Count != 16 || got[0].Generation != 7 {
		t.Fatalf("after 8 concurrent batches: %+v, want count 16, generation 7", got)
	}
}

// testDrills: records round-trip, newest first, per application or all.
func testDrills(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.Drills(ctx, "", 0); err != nil || len(got) != 0 {
		t.Fatalf("Drills on an empty store = %v, %v", got, err)
	}
	var ids []int64
	for i := range 3 {
		d := store.DrillRecord{ClientID: fmt.Sprintf("client-%d", i%2), App: "app", Mode: "api", Target: "https://api.example/",
			Verdict: "ready", Reason: "accepts every published key", Started: base.Add(time.Duration(i) * time.Hour),
			Finished: base.Add(time.Duration(i)*time.Hour + time.Minute),
			Keys: []store.DrillKey{{KID: "kid-001", Thumbprint: "AB", State: "next", Outcome: "accepted"},
				{KID: "kid-000", Thumbprint: "CD", State: "primary", Outcome: "rejected"}},
			Report: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		if i == 2 {
			d.Keys, d.Report = nil, nil
		}
		id, err := s.PutDrill(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Fatalf("drill ids do not grow: %v then %d", ids, id)
		}
		ids = append(ids, id)
	}
	all, err := s.Drills(ctx, "", 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("Drills = %d records, %v", len(all), err)
	}
	if all[0].ID != ids[2] || all[2].ID != ids[0] {
		t.Fatalf("not newest first: %d, %d, %d", all[0].ID, all[1].ID, all[2].ID)
	}
	if all[0].Keys != nil && len(all[0].Keys) != 0 || all[0].Report != nil {
		t.Fatalf("empty keys and report came back as %+v, %q", all[0].Keys, all[0].Report)
	}
	c0, err := s.Drills(ctx, "client-0", 1)
	if err != nil || len(c0) != 1 {
		t.Fatalf("Drills(client-0, 1) = %v, %v", c0, err)
	}
	want := store.DrillRecord{ID: ids[2], ClientID: "client-0", App: "app", Mode: "api", Target: "https://api.example/",
		Verdict: "ready", Reason: "accepts every published key", Started: base.Add(2 * time.Hour).UTC(),
		Finished: base.Add(2*time.Hour + time.Minute).UTC(), Keys: []store.DrillKey{}}
	if !reflect.DeepEqual(c0[0], want) {
		t.Fatalf("Drills(client-0):\n got %+v\nwant %+v", c0[0], want)
	}
	c1, _ := s.Drills(ctx, "client-1", 0)
	if len(c1) != 1 || c1[0].Keys[1].Outcome != "rejected" || string(c1[0].Report) != `{"n":1}` {
		t.Fatalf("Drills(client-1) = %+v", c1)
	}
	if _, err := s.PutDrill(ctx, store.DrillRecord{Verdict: "ready"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutDrill without a client id = %v, want ErrConflict", err)
	}
}
