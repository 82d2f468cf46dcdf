package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

const upsertFetch = `INSERT INTO keyroll_fetches (day, client_id, client, document, count, not_modified, last_at, generation, next_kid)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (day, client_id, client, document) DO UPDATE SET
		count = count + excluded.count,
		not_modified = not_modified + excluded.not_modified,
		generation = CASE WHEN excluded.last_at >= last_at THEN excluded.generation ELSE generation END,
		next_kid = CASE WHEN excluded.last_at >= last_at THEN excluded.next_kid ELSE next_kid END,
		last_at = MAX(last_at, excluded.last_at)`

// RecordFetches adds fetch rollups in one transaction.
func (s *Store) RecordFetches(ctx context.Context, fetches []store.Fetch) error {
	enc := make([]rows.Fetch, 0, len(fetches))
	for _, f := range fetches {
		r, err := rows.EncodeFetch(f)
		if err != nil {
			return err
		}
		enc = append(enc, r)
	}
	if len(enc) == 0 {
		return nil
	}
	return s.write(ctx, "record key fetches", func(tx *sql.Tx) error {
		for _, r := range enc {
			if _, err := tx.ExecContext(ctx, upsertFetch, r.Day, r.ClientID, r.Client, r.Document, r.Count,
				r.NotModified, r.LastAt, r.Generation, r.NextKID); err != nil {
				return err
			}
		}
		return nil
	})
}

// Fetches returns the rollups of days from since's day on.
func (s *Store) Fetches(ctx context.Context, since time.Time) ([]store.Fetch, error) {
	q, err := s.r.QueryContext(ctx, `SELECT day, client_id, client, document, count, not_modified, last_at, generation, next_kid
		FROM keyroll_fetches WHERE day >= ? ORDER BY day, client_id, client, document`, rows.DayNanos(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read key fetches: %w", err)
	}
	defer q.Close()
	var out []store.Fetch
	for q.Next() {
		var r rows.Fetch
		if err := q.Scan(&r.Day, &r.ClientID, &r.Client, &r.Document, &r.Count, &r.NotModified, &r.LastAt, &r.Generation, &r.NextKID); err != nil {
			return nil, fmt.Errorf("%w: fetch row: %v", store.ErrCorrupt, err)
		}
		out = append(out, r.Decode())
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read key fetches: %w", err)
	}
	return out, nil
}

// PruneFetches deletes the rollups of days before before's day.
func (s *Store) PruneFetches(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "prune key fetches", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM keyroll_fetches WHERE day < ?`, rows.DayNanos(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PutDrill stores a drill record.
func (s *Store) PutDrill(ctx context.Context, d store.DrillRecord) (int64, error) {
	r, err := rows.EncodeDrill(d)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.write(ctx, "record a drill", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO keyroll_drills (client_id, app, mode, target, verdict, reason, started, finished, keys, report)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ClientID, r.App, r.Mode, r.Target, r.Verdict, r.Reason, r.Started, r.Finished, r.Keys, r.Report)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// Drills returns drill records, newest first.
func (s *Store) Drills(ctx context.Context, clientID string, limit int) ([]store.DrillRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	q, err := s.r.QueryContext(ctx, `SELECT id, client_id, app, mode, target, verdict, reason, started, finished, keys, report
		FROM keyroll_drills WHERE ? = '' OR client_id = ? ORDER BY id DESC LIMIT ?`, clientID, clientID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read drills: %w", err)
	}
	defer q.Close()
	var out []store.DrillRecord
	for q.Next() {
		var r rows.Drill
		var id int64
		if err := q.Scan(&id, &r.ClientID, &r.App, &r.Mode, &r.Target, &r.Verdict, &r.Reason, &r.Started, &r.Finished, &r.Keys, &r.Report); err != nil {
			return nil, fmt.Errorf("%w: drill row: %v", store.ErrCorrupt, err)
		}
		d, err := r.Decode(id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read drills: %w", err)
	}
	return out, nil
}
