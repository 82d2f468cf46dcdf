package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// Notifier defaults.
const (
	DefaultQueueSize  = 1000
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	postTimeout       = 10 * time.Second
)

// Notifier delivers events to a webhook as JSON POSTs, one at a time and in
// order, from its own goroutine ([Notifier.Run]). [Notifier.Enqueue] never
// blocks: when the queue is full the oldest event is dropped (and counted).
// A failed delivery (network error, 5xx, 408, 429) is retried with
// exponential backoff until it succeeds; a 4xx answer is final and the event
// is dropped, since repeating the same request cannot succeed.
type Notifier struct {
	URL        string
	Client     *http.Client
	Clock      clock.Clock
	QueueSize  int
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Log receives one line per failed or dropped delivery; nil discards.
	Log func(msg string)
	// Result, if set, is called after each delivery attempt.
	Result func(delivered bool)

	mu      sync.Mutex
	queue   []Event
	changed chan struct{} // closed and replaced whenever the queue changes
	dropped int
}

// ErrBadWebhook: the webhook is not an absolute http or https URL with a host.
var ErrBadWebhook = errors.New("the webhook must be an absolute http:// or https:// URL with a host")

// ValidateWebhook checks endpoint before any event is sent to it. The error
// does not repeat the URL, which may carry a token.
func ValidateWebhook(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%w: it does not parse as a URL", ErrBadWebhook)
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return fmt.Errorf("%w (scheme %q)", ErrBadWebhook, u.Scheme)
	}
	return nil
}

// NewNotifier returns a notifier for the webhook endpoint with the defaults.
func NewNotifier(endpoint string, c clock.Clock) *Notifier {
	return &Notifier{URL: endpoint, Client: http.DefaultClient, Clock: c, QueueSize: DefaultQueueSize,
		MinBackoff: DefaultMinBackoff, MaxBackoff: DefaultMaxBackoff}
}

// Enqueue adds e to the queue without blocking.
func (n *Notifier) Enqueue(e Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) >= max(n.QueueSize, 1) {
		n.queue = n.queue[1:]
		n.dropped++
		n.log(fmt.Sprintf("webhook queue full (%d): dropped the oldest event", n.QueueSize))
	}
	n.queue = append(n.queue, e)
	n.signal()
}

// Pending returns the events not yet delivered, oldest first.
func (n *Notifier) Pending() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Event(nil), n.queue...)
}

// Dropped returns how many events were dropped (queue overflow or a final 4xx).
func (n *Notifier) Dropped() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped
}

// Drain waits until every queued event is delivered or ctx ends.
func (n *Notifier) Drain(ctx context.Context) error {
	for {
		n.mu.Lock()
		empty, ch := len(n.queue) == 0, n.changedCh()
		n.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run delivers queued events until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		e, ch, ok := n.head()
		if !ok {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := n.post(ctx, e)
		if n.Result != nil {
			n.Result(err == nil)
		}
		var final *finalError
		switch {
		case err == nil || errors.As(err, &final):
			if err != nil {
				n.log(fmt.Sprintf("webhook refused event %s for good: %v", e.ID, err))
			}
			n.remove(e.ID, err != nil)
			backoff = 0
			continue
		}
		backoff = min(max(2*backoff, n.MinBackoff), n.MaxBackoff)
		n.log(fmt.Sprintf("webhook delivery of event %s failed (%v); retrying in %s", e.ID, err, backoff))
		select {
		case <-n.Clock.After(backoff):
		case <-ctx.Done():
			return
		}
	}
}

func (n *Notifier) head() (Event, <-chan struct{}, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) == 0 {
		return Event{}, n.changedCh(), false
	}
	return n.queue[0], n.changedCh(), true
}

// changedCh returns the channel closed at the next queue change; n.mu is held.
func (n *Notifier) changedCh() <-chan struct{} {
	if n.changed == nil {
		n.changed = make(chan struct{})
	}
	return n.changed
}

// remove drops the head if it is still event id (an overflow may have
// dropped it meanwhile).
func (n *Notifier) remove(id string, dropped bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) > 0 && n.queue[0].ID == id {
		n.queue = n.queue[1:]
		if dropped {
			n.dropped++
		}
		n.signal()
	}
}

func (n *Notifier) signal() {
	if n.changed != nil {
		close(n.changed)
	}
	n.changed = make(chan struct{})
}

func (n *Notifier) log(msg string) {
	if n.Log != nil {
		n.Log(msg)
	}
}

// finalError is a delivery the receiver refused in a way a retry cannot fix.
type finalError struct{ status int }

// Error implements error.
func (e *finalError) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

func (n *Notifier) post(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return &finalError{}
	}
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keyroll-watch")
	resp, err := n.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err // without the URL: webhook URLs often embed a secret
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return &finalError{status: resp.StatusCode}
	}
	return fmt.Errorf("HTTP %d", resp.StatusCode)
}
