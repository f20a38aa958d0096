package notify

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// SubscriptionStreamPrefix starts the name of every app's subscription stream.
const SubscriptionStreamPrefix = "subscriptions-"

// SubscriptionStream names the stream that holds app's subscription events.
func SubscriptionStream(app string) string {
	return SubscriptionStreamPrefix + url.PathEscape(app)
}

// Event types of the subscription streams (stable, versioned).
const (
	TypeSubscriptionCreated = "subscription.created.v1"
	TypeSubscriptionDeleted = "subscription.deleted.v1"
)

// Notification types a subscription may ask for.
const (
	EventFinal   = "meeting.final"
	EventRevised = "meeting.revised"
)

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Sentinel errors.
var (
	// ErrNotFound: no such subscription or delivery in the caller's app.
	ErrNotFound = errors.New("notify: not found")
	// ErrNotOwner: this replica does not deliver notifications (its
	// delivery log is elsewhere).
	ErrNotOwner = errors.New("notify: this replica does not deliver notifications")
)

// InvalidError is a request value that cannot be accepted; Param names it.
type InvalidError struct {
	Param, Reason string
}

func (e *InvalidError) Error() string { return e.Param + ": " + e.Reason }

func invalid(param, format string, args ...any) error {
	return &InvalidError{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// Subscription is a subscription as the API shows it. Secret is set only
// in the answer of Create.
type Subscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one notification owed to one subscription, with its attempts.
type Delivery struct {
	// ID is the webhook-id, the same on every attempt.
	ID             string     `json:"id"`
	SubscriptionID string     `json:"subscription_id"`
	AppID          string     `json:"-"`
	SessionID      string     `json:"session_id"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	CreatedAt      time.Time  `json:"created_at"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	// History holds the latest attempts (at most maxHistory), oldest first.
	History []Attempt `json:"history"`
	// RetryFrom starts the retry window (the first attempt, or a manual retry).
	RetryFrom time.Time `json:"retry_from"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

const maxHistory = 10

// subscriptionCreated is the data of TypeSubscriptionCreated.
type subscriptionCreated struct {
	ID     string   `json:"id"`
	AppID  string   `json:"app_id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
	// CreatedAt is the clock's time at creation (shown to the customer).
	CreatedAt time.Time `json:"created_at"`
}

// subscriptionDeleted is the data of TypeSubscriptionDeleted.
type subscriptionDeleted struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	DeletedAt time.Time `json:"deleted_at"`
}

// subRecord is a subscription as the notifier keeps it.
type subRecord struct {
	subscriptionCreated
	// LoggedAt is the log's RecordedAt of the created event: it decides
	// which meetings the subscription is owed (those quiet after it).
	LoggedAt time.Time `json:"logged_at"`
	Deleted  bool      `json:"deleted,omitempty"`
}

func (r subRecord) wants(typ string) bool {
	for _, e := range r.Events {
		if e == typ {
			return true
		}
	}
	return false
}

func (r subRecord) public() Subscription {
	return Subscription{ID: r.ID, URL: r.URL, Events: append([]string(nil), r.Events...), CreatedAt: r.CreatedAt.UTC()}
}
