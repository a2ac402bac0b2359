// Package billing holds the activities that put a tenant on a Stripe subscription: a customer,
// then a subscription to the configured price. Every call carries an idempotency key derived from
// the tenant and the step, and the ids Stripe returns are stored before the activity completes, so
// a retried activity never creates a second customer or subscription.
//
// Stripe holds every payment detail. Ringback sends it the business name and the tenant id (as
// metadata) and nothing else: no owner phone, email or address.
package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// Error types the activities mark non-retryable; workflows can branch on them.
const (
	// ErrTypeStripeRejected: Stripe refused the request with a 4xx that retrying cannot change
	// (bad parameters, a refused key, a missing price).
	ErrTypeStripeRejected = "StripeRejected"
	// ErrTypeInvalidInput: the activity's input can never succeed.
	ErrTypeInvalidInput = "InvalidInput"
)

const (
	// RequestTimeout bounds one HTTP request to Stripe.
	RequestTimeout = 20 * time.Second
	// AttemptTimeout is the activities' StartToClose timeout: one request and the store write.
	AttemptTimeout = 30 * time.Second
	// RetryWindow is the activities' ScheduleToClose timeout. Stripe keeps an idempotency key for
	// 24 hours; a retry after that could create a second customer if the first one was created but
	// never stored, so retries stop an hour inside the window.
	RetryWindow = 23 * time.Hour
)

// RetryPolicy retries transient failures (network, 429, 409, 5xx, the database) with backoff.
func RetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Minute,
		NonRetryableErrorTypes: []string{ErrTypeStripeRejected, ErrTypeInvalidInput},
	}
}

// ActivityOptions are the options a workflow executes the billing activities with.
func ActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    AttemptTimeout,
		ScheduleToCloseTimeout: RetryWindow,
		RetryPolicy:            RetryPolicy(),
	}
}

// Accounts is the persistence the activities need.
type Accounts interface {
	BillingAccount(ctx context.Context, tenantID string) (store.BillingAccount, error)
	UpsertBillingAccount(ctx context.Context, a store.BillingAccount) error
}

// Billing is registered with the worker; workflows reference its methods through a typed nil
// pointer.
type Billing struct {
	// Stripe is the API client; NewClient builds one.
	Stripe   *client.API
	Accounts Accounts
}

// ClientOptions configures the Stripe API client.
type ClientOptions struct {
	SecretKey string
	// APIURL replaces https://api.stripe.com (stripe-mock in tests). Empty: Stripe.
	APIURL string
	// HTTPClient sends the requests; nil means a client with RequestTimeout.
	HTTPClient *http.Client
}

// NewClient returns a Stripe API client. The library's own retries are off: Temporal retries the
// activity instead, with the same idempotency key, and every attempt shows in the history. The
// library's logger is off too, because its messages quote Stripe's error bodies.
func NewClient(o ClientOptions) (*client.API, error) {
	if o.SecretKey == "" {
		return nil, errors.New("stripe: a secret key is required")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: RequestTimeout}
	}
	config := func(u string) *stripe.BackendConfig {
		c := &stripe.BackendConfig{
			HTTPClient:        hc,
			MaxNetworkRetries: stripe.Int64(0),
			LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		}
		if u != "" {
			c.URL = stripe.String(u)
		}
		return c
	}
	if o.APIURL != "" {
		u, err := url.Parse(o.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("stripe: the API URL is not an http(s) URL")
		}
	}
	return client.New(o.SecretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, config(o.APIURL)),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, config("")),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, config("")),
	}), nil
}

// Steps name the calls in idempotency keys.
const (
	stepCreateCustomer     = "create-customer"
	stepCreateSubscription = "create-subscription"
)

// idempotencyKey is the same on every attempt of one step for one tenant, so Stripe answers a
// retry with the object the first attempt created.
func idempotencyKey(tenantID, step string) string {
	return "ringback/onboard/" + tenantID + "/" + step
}

// maxNameLen is Stripe's limit on a customer's name.
const maxNameLen = 256

// CreateCustomerInput names the tenant to create a Stripe customer for.
type CreateCustomerInput struct {
	TenantID string
	// Name is the business name, the only descriptive data sent to Stripe.
	Name string
}

// CreateCustomer creates the tenant's Stripe customer and stores its id, and returns the id. A
// tenant that already has one gets it back without a call to Stripe.
func (b *Billing) CreateCustomer(ctx context.Context, in CreateCustomerInput) (string, error) {
	const op = "create stripe customer"
	name := strings.TrimSpace(in.Name)
	if !tenantspec.ValidID(in.TenantID) {
		return "", invalidInput(op, "invalid tenant id")
	}
	if name == "" || utf8.RuneCountInString(name) > maxNameLen || !utf8.ValidString(name) {
		return "", invalidInput(op, fmt.Sprintf("the business name must be 1 to %d characters of text", maxNameLen))
	}
	acc, err := b.Accounts.BillingAccount(ctx, in.TenantID)
	if err == nil {
		return acc.CustomerID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%s: %w", op, err)
	}

	params := &stripe.CustomerParams{Name: stripe.String(name)}
	params.Context = ctx
	params.AddMetadata("tenant_id", in.TenantID)
	params.SetIdempotencyKey(idempotencyKey(in.TenantID, stepCreateCustomer))
	c, err := b.Stripe.Customers.New(params)
	if err != nil {
		return "", classify(op, err)
	}
	if !store.ValidStripeCustomerID(c.ID) {
		return "", fmt.Errorf("%s: Stripe answered without a valid customer id", op)
	}
	if err := b.Accounts.UpsertBillingAccount(ctx, store.BillingAccount{TenantID: in.TenantID, CustomerID: c.ID}); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	logInfo(ctx, "stripe customer created", "tenant_id", in.TenantID, "stripe_customer_id", c.ID)
	return c.ID, nil
}

// CreateSubscriptionInput subscribes a tenant's customer to a price.
type CreateSubscriptionInput struct {
	TenantID   string
	CustomerID string
	PriceID    string
}

// CreateSubscriptionResult is the subscription Stripe created.
type CreateSubscriptionResult struct {
	SubscriptionID string
	// Status is Stripe's subscription status at creation (active, trialing, incomplete, …).
	Status string
}

// CreateSubscription subscribes the tenant's customer to the price and stores the subscription.
// A tenant that already has a subscription gets it back, with its recorded status, without a call
// to Stripe.
func (b *Billing) CreateSubscription(ctx context.Context, in CreateSubscriptionInput) (CreateSubscriptionResult, error) {
	const op = "create stripe subscription"
	switch {
	case !tenantspec.ValidID(in.TenantID):
		return CreateSubscriptionResult{}, invalidInput(op, "invalid tenant id")
	case !store.ValidStripeCustomerID(in.CustomerID):
		return CreateSubscriptionResult{}, invalidInput(op, "invalid Stripe customer id")
	case in.PriceID == "" || len(in.PriceID) > 255 || strings.ContainsAny(in.PriceID, " \t\r\n"):
		return CreateSubscriptionResult{}, invalidInput(op, "invalid Stripe price id")
	}
	acc, err := b.Accounts.BillingAccount(ctx, in.TenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return CreateSubscriptionResult{}, fmt.Errorf("%s: %w", op, err)
	case acc.CustomerID != in.CustomerID:
		return CreateSubscriptionResult{}, invalidInput(op, "the customer is not the tenant's Stripe customer")
	case acc.SubscriptionID != "":
		return CreateSubscriptionResult{SubscriptionID: acc.SubscriptionID, Status: acc.SubscriptionStatus}, nil
	}

	params := &stripe.SubscriptionParams{
		Customer: stripe.String(in.CustomerID),
		Items:    []*stripe.SubscriptionItemsParams{{Price: stripe.String(in.PriceID)}},
	}
	params.Context = ctx
	params.AddMetadata("tenant_id", in.TenantID)
	params.SetIdempotencyKey(idempotencyKey(in.TenantID, stepCreateSubscription))
	sub, err := b.Stripe.Subscriptions.New(params)
	if err != nil {
		return CreateSubscriptionResult{}, classify(op, err)
	}
	if !store.ValidStripeSubscriptionID(sub.ID) || sub.Status == "" {
		return CreateSubscriptionResult{}, fmt.Errorf("%s: Stripe answered without a valid subscription id and status", op)
	}
	res := CreateSubscriptionResult{SubscriptionID: sub.ID, Status: string(sub.Status)}
	if err := b.Accounts.UpsertBillingAccount(ctx, store.BillingAccount{
		TenantID: in.TenantID, CustomerID: in.CustomerID, SubscriptionID: res.SubscriptionID, SubscriptionStatus: res.Status,
	}); err != nil {
		return CreateSubscriptionResult{}, fmt.Errorf("%s: %w", op, err)
	}
	logInfo(ctx, "stripe subscription created", "tenant_id", in.TenantID, "stripe_subscription_id", res.SubscriptionID, "status", res.Status)
	return res, nil
}

func invalidInput(op, reason string) error {
	return temporal.NewNonRetryableApplicationError(op+": "+reason, ErrTypeInvalidInput, nil)
}

// classify turns a stripe-go error into the activity's error. Stripe's messages can quote the
// parameters sent (the business name), so only the status, type, code, parameter name and request
// id are kept. A 4xx is final except 429 (rate limited) and 409 (a concurrent request with the
// same idempotency key is still running: the retry gets its result).
func classify(op string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		desc := fmt.Sprintf("%s: stripe answered http %d (%s", op, se.HTTPStatusCode, se.Type)
		if se.Code != "" {
			desc += ", code " + string(se.Code)
		}
		if se.Param != "" {
			desc += ", param " + se.Param
		}
		if se.RequestID != "" {
			desc += ", request " + se.RequestID
		}
		desc += ")"
		status := se.HTTPStatusCode
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusConflict {
			return temporal.NewNonRetryableApplicationError(desc, ErrTypeStripeRejected, nil)
		}
		return errors.New(desc)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// The URL holds only the endpoint path; keep the cause.
		return fmt.Errorf("%s: transport: %w", op, uerr.Err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func logInfo(ctx context.Context, msg string, kv ...any) {
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Info(msg, kv...)
	}
}
