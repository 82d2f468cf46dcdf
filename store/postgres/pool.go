package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// errClosed is returned by a store that has been closed.
var errClosed = errors.New("postgres: store is closed")

// pool is a small bounded connection pool. (pgxpool needs modules this
// project does not carry; the store needs only acquire and release.)
type pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection in use
	idle  chan *pgx.Conn

	mu     sync.Mutex
	closed bool
}

func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, size), idle: make(chan *pgx.Conn, size)}
}

// acquire returns a connection for the caller's exclusive use; the caller
// must release it.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.isClosed() {
		<-p.slots
		return nil, errClosed
	}
	for {
		select {
		case c := <-p.idle:
			if c.IsClosed() {
				continue
			}
			return c, nil
		default:
		}
		c, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return c, nil
	}
}

// release returns c to the pool, or closes it if it is broken, inside a
// transaction, or the pool is closed.
func (p *pool) release(c *pgx.Conn) {
	defer func() { <-p.slots }()
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' || !p.putIdle(c) {
		closeConn(c)
	}
}

// putIdle keeps c for reuse, unless the pool is closed or full.
func (p *pool) putIdle(c *pgx.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	select {
	case p.idle <- c:
		return true
	default:
		return false
	}
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close closes the idle connections; connections in use are closed when
// they are released.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for {
		select {
		case c := <-p.idle:
			closeConn(c)
		default:
			return
		}
	}
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Close(ctx)
}
