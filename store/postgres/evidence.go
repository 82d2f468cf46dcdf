package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

const upsertFetch = `INSERT INTO keyroll_fetches (day, client_id, client, document, count, not_modified, last_at, generation, next_kid)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (day, client_id, client, document) DO UPDATE SET
		count = keyroll_fetches.count + excluded.count,
		not_modified = keyroll_fetches.not_modified + excluded.not_modified,
		generation = CASE WHEN excluded.last_at >= keyroll_fetches.last_at THEN excluded.generation ELSE keyroll_fetches.generation END,
		next_kid = CASE WHEN excluded.last_at >= keyroll_fetches.last_at THEN excluded.next_kid ELSE keyroll_fetches.next_kid END,
		last_at = GREATEST(keyroll_fetches.last_at, excluded.last_at)`

// RecordFetches adds fetch rollups in one transaction. Concurrent replicas
// add up: the upsert takes the row lock.
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
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			for _, r := range enc {
				b.Queue(upsertFetch, r.Day, r.ClientID, r.Client, r.Document, r.Count, r.NotModified, r.LastAt, r.Generation, r.NextKID)
			}
			return tx.SendBatch(ctx, b).Close()
		})
	})
	if err != nil {
		return fmt.Errorf("postgres: record key fetches: %w", err)
	}
	return nil
}

// Fetches returns the rollups of days from since's day on.
func (s *Store) Fetches(ctx context.Context, since time.Time) ([]store.Fetch, error) {
	var out []store.Fetch
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		q, err := conn.Query(ctx, `SELECT day, client_id, client, document, count, not_modified, last_at, generation, next_kid
			FROM keyroll_fetches WHERE day >= $1 ORDER BY day, client_id, client, document`, rows.DayNanos(since))
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var r rows.Fetch
			if err := q.Scan(&r.Day, &r.ClientID, &r.Client, &r.Document, &r.Count, &r.NotModified, &r.LastAt, &r.Generation, &r.NextKID); err != nil {
				return fmt.Errorf("%w: fetch row: %v", store.ErrCorrupt, err)
			}
			out = append(out, r.Decode())
		}
		return q.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read key fetches: %w", err)
	}
	return out, nil
}

// PruneFetches deletes the rollups of days before before's day.
func (s *Store) PruneFetches(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		tag, err := conn.Exec(ctx, `DELETE FROM keyroll_fetches WHERE day < $1`, rows.DayNanos(before))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune key fetches: %w", err)
	}
	return n, nil
}

// PutDrill stores a drill record.
func (s *Store) PutDrill(ctx context.Context, d store.DrillRecord) (int64, error) {
	r, err := rows.EncodeDrill(d)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `INSERT INTO keyroll_drills (client_id, app, mode, target, verdict, reason, started, finished, keys, report)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			r.ClientID, r.App, r.Mode, r.Target, r.Verdict, r.Reason, r.Started, r.Finished, r.Keys, r.Report).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: record a drill: %w", err)
	}
	return id, nil
}

// Drills returns drill records, newest first.
func (s *Store) Drills(ctx context.Context, clientID string, limit int) ([]store.DrillRecord, error) {
	var out []store.DrillRecord
	var lim any
	if limit > 0 {
		lim = limit
	}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		q, err := conn.Query(ctx, `SELECT id, client_id, app, mode, target, verdict, reason, started, finished, keys, report
			FROM keyroll_drills WHERE $1 = '' OR client_id = $1 ORDER BY id DESC LIMIT $2`, clientID, lim)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var r rows.Drill
			var id int64
			if err := q.Scan(&id, &r.ClientID, &r.App, &r.Mode, &r.Target, &r.Verdict, &r.Reason, &r.Started, &r.Finished, &r.Keys, &r.Report); err != nil {
				return fmt.Errorf("%w: drill row: %v", store.ErrCorrupt, err)
			}
			d, err := r.Decode(id)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return q.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read drills: %w", err)
	}
	return out, nil
}
