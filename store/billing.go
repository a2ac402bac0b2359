package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ringback/ringback/internal/tenantspec"
)

// BillingAccount is the Stripe customer and subscription that pay for a tenant. It outlives the
// tenant: erasing a tenant leaves its billing rows for the seven years the law asks (P14).
type BillingAccount struct {
	TenantID           string `json:"tenant_id"`
	CustomerID         string `json:"stripe_customer_id"`
	SubscriptionID     string `json:"stripe_subscription_id,omitempty"`
	SubscriptionStatus string `json:"subscription_status,omitempty"`
	// TenantStatus is the tenant's status (active, closing, closed) when the account is read, or ""
	// once the tenant has been erased. Writes ignore it.
	TenantStatus string    `json:"tenant_status,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Shapes of the Stripe ids the billing tables accept (the schema checks them again). Stripe ids
// are a prefix and base-62 characters; refusing separators and long digit runs keeps anything
// shaped like a card number out of every column (P20).
var (
	stripeCustomerID     = regexp.MustCompile(`^cus_[A-Za-z0-9]{1,250}$`)
	stripeSubscriptionID = regexp.MustCompile(`^sub_[A-Za-z0-9]{1,250}$`)
	stripeInvoiceID      = regexp.MustCompile(`^in_[A-Za-z0-9]{1,250}$`)
	stripeEventID        = regexp.MustCompile(`^evt_[A-Za-z0-9]{1,250}$`)
	stripeEventType      = regexp.MustCompile(`^[a-z_.]{1,100}$`)
	subscriptionStatus   = regexp.MustCompile(`^[a-z_]{1,40}$`)
	currencyCode         = regexp.MustCompile(`^[a-z]{3}$`)
	longDigitRun         = regexp.MustCompile(`[0-9]{13}`)
)

func validStripeID(re *regexp.Regexp, id string) bool {
	return re.MatchString(id) && !longDigitRun.MatchString(id)
}

// ValidStripeCustomerID reports whether id has the shape of a Stripe customer id.
func ValidStripeCustomerID(id string) bool { return validStripeID(stripeCustomerID, id) }

// ValidStripeSubscriptionID reports whether id has the shape of a Stripe subscription id.
func ValidStripeSubscriptionID(id string) bool { return validStripeID(stripeSubscriptionID, id) }

// ValidStripeEventID reports whether id has the shape of a Stripe event id.
func ValidStripeEventID(id string) bool { return validStripeID(stripeEventID, id) }

// queryer is what billing reads and writes need from a pool or a transaction, so the same code
// serves both the store's own calls and a Stripe event's transaction.
type queryer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// UpsertBillingAccount records the tenant's Stripe customer and, when a.SubscriptionID is set, its
// subscription. An empty SubscriptionID keeps the one recorded. The status given here is only the
// one Stripe answered at creation: it is recorded for a subscription not seen before, and never
// overwrites a status a webhook has since delivered for the same subscription.
func (s *Store) UpsertBillingAccount(ctx context.Context, a BillingAccount) error {
	if !tenantspec.ValidID(a.TenantID) {
		return errors.New("billing account: invalid tenant id")
	}
	if !ValidStripeCustomerID(a.CustomerID) {
		return errors.New("billing account: invalid Stripe customer id")
	}
	if a.SubscriptionID != "" && !ValidStripeSubscriptionID(a.SubscriptionID) {
		return errors.New("billing account: invalid Stripe subscription id")
	}
	if a.SubscriptionStatus != "" && (a.SubscriptionID == "" || !subscriptionStatus.MatchString(a.SubscriptionStatus)) {
		return errors.New("billing account: a subscription status needs a subscription and must be a Stripe status")
	}
	// A customer that changes takes its (possibly empty) subscription with it; the same customer
	// keeps its subscription unless a new one is given.
	_, err := s.pool.Exec(ctx, `
		INSERT INTO control.billing_accounts AS b (tenant_id, stripe_customer_id, stripe_subscription_id, subscription_status)
		VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''))
		ON CONFLICT (tenant_id) DO UPDATE SET
			stripe_customer_id = EXCLUDED.stripe_customer_id,
			stripe_subscription_id = CASE
				WHEN EXCLUDED.stripe_customer_id <> b.stripe_customer_id THEN EXCLUDED.stripe_subscription_id
				ELSE coalesce(EXCLUDED.stripe_subscription_id, b.stripe_subscription_id) END,
			subscription_status = CASE
				WHEN EXCLUDED.stripe_customer_id <> b.stripe_customer_id THEN EXCLUDED.subscription_status
				WHEN EXCLUDED.stripe_subscription_id IS NULL THEN b.subscription_status
				WHEN EXCLUDED.stripe_subscription_id IS DISTINCT FROM b.stripe_subscription_id OR b.subscription_status IS NULL
					THEN EXCLUDED.subscription_status
				ELSE b.subscription_status END,
			status_at = CASE
				WHEN EXCLUDED.stripe_customer_id <> b.stripe_customer_id THEN NULL
				WHEN EXCLUDED.stripe_subscription_id IS DISTINCT FROM b.stripe_subscription_id
					AND EXCLUDED.stripe_subscription_id IS NOT NULL THEN NULL
				ELSE b.status_at END,
			updated_at = now()`,
		a.TenantID, a.CustomerID, a.SubscriptionID, a.SubscriptionStatus)
	if isUniqueViolation(err, "billing_accounts_stripe_customer_id_key") {
		return errors.New("billing account: the Stripe customer already pays for another tenant")
	}
	if err != nil {
		return fmt.Errorf("billing account: %w", err)
	}
	return nil
}

const billingAccountColumns = `
	b.tenant_id, b.stripe_customer_id, coalesce(b.stripe_subscription_id, ''), coalesce(b.subscription_status, ''),
	coalesce(t.status, ''), b.updated_at`

func scanBillingAccount(row pgx.Row) (BillingAccount, error) {
	var a BillingAccount
	err := row.Scan(&a.TenantID, &a.CustomerID, &a.SubscriptionID, &a.SubscriptionStatus, &a.TenantStatus, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return BillingAccount{}, ErrNotFound
	}
	return a, err
}

// BillingAccount returns the tenant's billing account, or ErrNotFound when none was created.
func (s *Store) BillingAccount(ctx context.Context, tenantID string) (BillingAccount, error) {
	if !tenantspec.ValidID(tenantID) {
		return BillingAccount{}, ErrNotFound
	}
	a, err := scanBillingAccount(s.pool.QueryRow(ctx, `SELECT `+billingAccountColumns+`
		FROM control.billing_accounts b LEFT JOIN control.tenants t ON t.id = b.tenant_id
		WHERE b.tenant_id = $1`, tenantID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return BillingAccount{}, fmt.Errorf("load billing account: %w", err)
	}
	return a, err
}

// BillingAccountByCustomer finds the tenant a Stripe customer pays for, or ErrNotFound.
func (s *Store) BillingAccountByCustomer(ctx context.Context, customerID string) (BillingAccount, error) {
	return billingAccountByCustomer(ctx, s.pool, customerID)
}

func billingAccountByCustomer(ctx context.Context, q queryer, customerID string) (BillingAccount, error) {
	if !ValidStripeCustomerID(customerID) {
		return BillingAccount{}, ErrNotFound
	}
	a, err := scanBillingAccount(q.QueryRow(ctx, `SELECT `+billingAccountColumns+`
		FROM control.billing_accounts b LEFT JOIN control.tenants t ON t.id = b.tenant_id
		WHERE b.stripe_customer_id = $1`, customerID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return BillingAccount{}, fmt.Errorf("find billing account: %w", err)
	}
	return a, err
}

// SubscriptionEvent is what one Stripe subscription event says.
type SubscriptionEvent struct {
	CustomerID     string
	SubscriptionID string
	Status         string
	// At is the event's creation time, which orders events Stripe may deliver out of order.
	At time.Time
}

// SubscriptionChange is the outcome of recording a SubscriptionEvent.
type SubscriptionChange struct {
	TenantID string
	// TenantStatus is the tenant's status, or "" when the tenant has been erased.
	TenantStatus string
	// PreviousSubscriptionID and PreviousStatus are what the account held before the event.
	PreviousSubscriptionID string
	PreviousStatus         string
	// Applied is false when the event was older than the recorded status, was about a
	// subscription that is not the tenant's current one, or would revive an ended subscription.
	Applied bool
}

// RecordSubscriptionStatus applies a subscription event to the customer's billing account. It
// returns ErrNotFound for a customer that pays for no tenant.
func (s *Store) RecordSubscriptionStatus(ctx context.Context, ev SubscriptionEvent) (SubscriptionChange, error) {
	var c SubscriptionChange
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		c, err = recordSubscriptionStatus(ctx, tx, ev)
		return err
	})
	return c, err
}

// endedStatuses are the statuses a Stripe subscription never leaves.
var endedStatuses = map[string]bool{"canceled": true, "incomplete_expired": true}

func recordSubscriptionStatus(ctx context.Context, tx pgx.Tx, ev SubscriptionEvent) (SubscriptionChange, error) {
	if !ValidStripeCustomerID(ev.CustomerID) {
		return SubscriptionChange{}, ErrNotFound
	}
	if !ValidStripeSubscriptionID(ev.SubscriptionID) || !subscriptionStatus.MatchString(ev.Status) || ev.At.IsZero() {
		return SubscriptionChange{}, errors.New("subscription event: invalid subscription id, status or time")
	}
	var c SubscriptionChange
	var statusAt *time.Time
	err := tx.QueryRow(ctx, `
		SELECT b.tenant_id, coalesce(t.status, ''), coalesce(b.stripe_subscription_id, ''),
		       coalesce(b.subscription_status, ''), b.status_at
		FROM control.billing_accounts b LEFT JOIN control.tenants t ON t.id = b.tenant_id
		WHERE b.stripe_customer_id = $1
		FOR UPDATE OF b`, ev.CustomerID).Scan(&c.TenantID, &c.TenantStatus, &c.PreviousSubscriptionID, &c.PreviousStatus, &statusAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return SubscriptionChange{}, ErrNotFound
	}
	if err != nil {
		return SubscriptionChange{}, fmt.Errorf("subscription event: %w", err)
	}
	same := c.PreviousSubscriptionID == ev.SubscriptionID
	switch {
	case statusAt != nil && statusAt.After(ev.At):
		// Older than what is recorded.
	case same && endedStatuses[c.PreviousStatus] && !endedStatuses[ev.Status]:
		// An ended subscription stays ended; an update from the same second arrived late.
	case !same && c.PreviousSubscriptionID != "" && endedStatuses[ev.Status]:
		// The end of a subscription the tenant has since replaced.
	default:
		c.Applied = true
	}
	if !c.Applied {
		return c, nil
	}
	if _, err := tx.Exec(ctx, `
		UPDATE control.billing_accounts
		SET stripe_subscription_id = $2, subscription_status = $3, status_at = $4, updated_at = now()
		WHERE tenant_id = $1`, c.TenantID, ev.SubscriptionID, ev.Status, ev.At); err != nil {
		return SubscriptionChange{}, fmt.Errorf("subscription event: %w", err)
	}
	return c, nil
}

// Billing record statuses.
const (
	InvoicePaid          = "paid"
	InvoicePaymentFailed = "payment_failed"
)

// BillingRecord is one invoice as Stripe reported it. It holds no payment details.
type BillingRecord struct {
	InvoiceID  string `json:"stripe_invoice_id"`
	TenantID   string `json:"tenant_id"`
	CustomerID string `json:"stripe_customer_id"`
	// Status is InvoicePaid or InvoicePaymentFailed.
	Status string `json:"status"`
	// AmountMinor is in the currency's minor unit (cents): the amount paid, or the amount due
	// when the payment failed.
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	// PeriodStart and PeriodEnd are the invoice's period as Stripe reports it; zero when absent.
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// maxAmountMinor is the schema's bound on amounts: below 13 digits, so never a card number.
const maxAmountMinor = 99_999_999_999

// RecordInvoice stores an invoice's outcome once. A repeat of the same outcome changes nothing; a
// payment after a failure turns the record into paid; a failure reported after the payment is
// ignored. It reports whether the record was created or changed.
func (s *Store) RecordInvoice(ctx context.Context, r BillingRecord) (bool, error) {
	return recordInvoice(ctx, s.pool, r)
}

func recordInvoice(ctx context.Context, q queryer, r BillingRecord) (bool, error) {
	switch {
	case !validStripeID(stripeInvoiceID, r.InvoiceID):
		return false, errors.New("billing record: invalid Stripe invoice id")
	case !tenantspec.ValidID(r.TenantID):
		return false, errors.New("billing record: invalid tenant id")
	case !ValidStripeCustomerID(r.CustomerID):
		return false, errors.New("billing record: invalid Stripe customer id")
	case r.Status != InvoicePaid && r.Status != InvoicePaymentFailed:
		return false, errors.New("billing record: status must be paid or payment_failed")
	case r.AmountMinor < 0 || r.AmountMinor > maxAmountMinor:
		return false, errors.New("billing record: amount out of range")
	case !currencyCode.MatchString(r.Currency):
		return false, errors.New("billing record: currency must be a lower-case ISO 4217 code")
	case r.OccurredAt.IsZero():
		return false, errors.New("billing record: occurred_at is required")
	}
	tag, err := q.Exec(ctx, `
		INSERT INTO control.billing_records AS r
			(stripe_invoice_id, tenant_id, stripe_customer_id, status, amount_minor, currency, period_start, period_end, occurred_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (stripe_invoice_id) DO UPDATE SET
			status = EXCLUDED.status, amount_minor = EXCLUDED.amount_minor, occurred_at = EXCLUDED.occurred_at
		WHERE r.status = 'payment_failed' AND EXCLUDED.status = 'paid'`,
		r.InvoiceID, r.TenantID, r.CustomerID, r.Status, r.AmountMinor, r.Currency,
		optionalTime(r.PeriodStart), optionalTime(r.PeriodEnd), r.OccurredAt)
	if err != nil {
		return false, fmt.Errorf("billing record: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// BillingRecords returns the tenant's invoices, oldest first.
func (s *Store) BillingRecords(ctx context.Context, tenantID string) ([]BillingRecord, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT stripe_invoice_id, tenant_id, stripe_customer_id, status, amount_minor, currency,
		       period_start, period_end, occurred_at
		FROM control.billing_records WHERE tenant_id = $1 ORDER BY occurred_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list billing records: %w", err)
	}
	records, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (BillingRecord, error) {
		var r BillingRecord
		var start, end *time.Time
		err := row.Scan(&r.InvoiceID, &r.TenantID, &r.CustomerID, &r.Status, &r.AmountMinor, &r.Currency,
			&start, &end, &r.OccurredAt)
		if start != nil {
			r.PeriodStart = *start
		}
		if end != nil {
			r.PeriodEnd = *end
		}
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list billing records: %w", err)
	}
	return records, nil
}

// BillingRetention is how long billing records are kept (P14).
const BillingRetention = 7 * 365 * 24 * time.Hour

// PruneBillingRecords deletes billing records that occurred before olderThan and returns how many
// it deleted; the retention sweep passes now minus seven years. Billing accounts are not touched:
// they are one small row per tenant that ever paid, and they resolve late webhooks.
func (s *Store) PruneBillingRecords(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.IsZero() {
		return 0, errors.New("prune billing records: a cut-off time is required")
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM control.billing_records WHERE occurred_at < $1`, olderThan)
	if err != nil {
		return 0, fmt.Errorf("prune billing records: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// StripeEventRetention is how long a handled event's id is kept to recognise a redelivery:
// Stripe retries an undelivered event for up to three days, each attempt signed afresh.
const StripeEventRetention = 30 * 24 * time.Hour

// PruneStripeEvents forgets the ids of events received before olderThan. A cut-off closer than
// StripeEventRetention to now is refused: a redelivery could then be handled twice.
func (s *Store) PruneStripeEvents(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.IsZero() || olderThan.After(time.Now().Add(-StripeEventRetention)) {
		return 0, errors.New("prune stripe events: the cut-off must be at least 30 days ago")
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM control.stripe_events WHERE received_at < $1`, olderThan)
	if err != nil {
		return 0, fmt.Errorf("prune stripe events: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimStripeEvent records a Stripe event id and reports whether it was new. A false answer means
// the event was already handled (or is being handled by a concurrent delivery that has since
// committed).
func (s *Store) ClaimStripeEvent(ctx context.Context, eventID, eventType string) (bool, error) {
	return claimStripeEvent(ctx, s.pool, eventID, eventType)
}

func claimStripeEvent(ctx context.Context, q queryer, eventID, eventType string) (bool, error) {
	if !ValidStripeEventID(eventID) || !stripeEventType.MatchString(eventType) {
		return false, errors.New("stripe event: invalid id or type")
	}
	// A concurrent claim of the same id waits here for the first one's transaction: it gets the
	// row if that one rolled back, and nothing if it committed.
	tag, err := q.Exec(ctx, `
		INSERT INTO control.stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, eventID, eventType)
	if err != nil {
		return false, fmt.Errorf("claim stripe event: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// StripeEventTx is the transaction one Stripe event is handled in: the claim of its id and
// everything the event changes commit together, or not at all.
type StripeEventTx struct {
	tx pgx.Tx
}

// BillingAccountByCustomer is Store.BillingAccountByCustomer inside the event's transaction.
func (t StripeEventTx) BillingAccountByCustomer(ctx context.Context, customerID string) (BillingAccount, error) {
	return billingAccountByCustomer(ctx, t.tx, customerID)
}

// RecordSubscriptionStatus is Store.RecordSubscriptionStatus inside the event's transaction.
func (t StripeEventTx) RecordSubscriptionStatus(ctx context.Context, ev SubscriptionEvent) (SubscriptionChange, error) {
	return recordSubscriptionStatus(ctx, t.tx, ev)
}

// RecordInvoice is Store.RecordInvoice inside the event's transaction.
func (t StripeEventTx) RecordInvoice(ctx context.Context, r BillingRecord) (bool, error) {
	return recordInvoice(ctx, t.tx, r)
}

// HandleStripeEvent claims eventID and runs fn in the same transaction. It reports false without
// calling fn when the event was handled before. When fn fails nothing is kept, the claim included,
// so Stripe's next delivery of the event is handled afresh.
func (s *Store) HandleStripeEvent(ctx context.Context, eventID, eventType string, fn func(StripeEventTx) error) (bool, error) {
	claimed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if claimed, err = claimStripeEvent(ctx, tx, eventID, eventType); err != nil || !claimed {
			return err
		}
		if err := fn(StripeEventTx{tx: tx}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE control.stripe_events SET processed_at = clock_timestamp() WHERE id = $1`, eventID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("handle stripe event: %w", err)
	}
	return claimed, nil
}
