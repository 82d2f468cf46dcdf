package guard

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// rejectLogEvery is the least time between two logged rejections; those in
// between are counted and the count is logged with the next one.
const rejectLogEvery = 100 * time.Millisecond

// rejectLog logs rejected requests with their reason, at most ten a
// second, so a flood of bad tokens cannot flood the log.
type rejectLog struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (l *rejectLog) rejected(r *http.Request, err error) {
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < rejectLogEvery && !now.Before(l.last) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	attrs := []any{"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err}
	if n > 0 {
		attrs = append(attrs, "also_rejected_unlogged", n)
	}
	l.log.Warn("request rejected", attrs...)
}
