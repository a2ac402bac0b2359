package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// maxStripeBody caps a Stripe webhook body. Events embed one object (an invoice lists at most a
// page of lines), far below this.
const maxStripeBody = 1 << 20

// tenantStatusClosed is the status of a tenant whose data has been erased.
const tenantStatusClosed = "closed"

// stripeActorPrefix names Stripe as the actor of what its events cause, followed by the event id.
const stripeActorPrefix = "stripe:"

// stripeEventStore is the store side of the Stripe webhook: an event is claimed and its effects
// recorded in one transaction.
type stripeEventStore interface {
	HandleStripeEvent(ctx context.Context, eventID, eventType string, fn func(store.StripeEventTx) error) (bool, error)
}

// stripeEventTx is what handling one event may do inside its transaction.
type stripeEventTx interface {
	BillingAccountByCustomer(ctx context.Context, customerID string) (store.BillingAccount, error)
	RecordSubscriptionStatus(ctx context.Context, ev store.SubscriptionEvent) (store.SubscriptionChange, error)
	RecordInvoice(ctx context.Context, r store.BillingRecord) (bool, error)
}

// stripeWebhook handles POST /stripe/webhook: subscription changes steer account closure, invoice
// outcomes become billing records. Stripe delivers each event at least once and retries any
// non-2xx answer for days, so every answer is either 2xx (handled, or deliberately ignored) or an
// error after which nothing was kept.
type stripeWebhook struct {
	secret   string
	events   stripeEventStore
	closures ClosureControl
	log      *slog.Logger
}

func newStripeWebhook(d Deps) http.Handler {
	return &stripeWebhook{secret: d.Config.Compliance.StripeWebhookSecret, events: d.Store, closures: d.Closures, log: d.Log}
}

// handledStripeEvents are the event types the webhook acts on; Stripe may send others if the
// endpoint subscribes to more, and they are acknowledged and dropped without being recorded.
var handledStripeEvents = map[stripe.EventType]bool{
	stripe.EventTypeCustomerSubscriptionCreated: true,
	stripe.EventTypeCustomerSubscriptionUpdated: true,
	stripe.EventTypeCustomerSubscriptionDeleted: true,
	stripe.EventTypeInvoicePaid:                 true,
	stripe.EventTypeInvoicePaymentFailed:        true,
}

func (s *stripeWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := s.verify(w, r)
	if err == nil {
		err = s.handle(r.Context(), ev)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// verify reads the body and checks its Stripe-Signature before anything else looks at it.
func (s *stripeWebhook) verify(w http.ResponseWriter, r *http.Request) (stripe.Event, error) {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStripeBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return stripe.Event{}, fail(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", maxStripeBody)
		}
		return stripe.Event{}, fail(http.StatusBadRequest, "could not read body")
	}
	// The default tolerance (300 s) applies. The endpoint's API version is pinned to the
	// library's, so a version mismatch is a misconfiguration to fix, not to ignore.
	ev, err := webhook.ConstructEventWithOptions(payload, r.Header.Get("Stripe-Signature"), s.secret, webhook.ConstructEventOptions{})
	switch {
	case err == nil:
		return ev, nil
	case errors.Is(err, webhook.ErrNotSigned):
		return ev, fail(http.StatusBadRequest, "missing Stripe-Signature")
	case errors.Is(err, webhook.ErrInvalidHeader):
		return ev, fail(http.StatusBadRequest, "malformed Stripe-Signature")
	case errors.Is(err, webhook.ErrTooOld):
		return ev, fail(http.StatusBadRequest, "Stripe-Signature timestamp outside the tolerance")
	case errors.Is(err, webhook.ErrNoValidSignature):
		return ev, fail(http.StatusBadRequest, "invalid Stripe-Signature")
	case ev.APIVersion != "" && ev.APIVersion != stripe.APIVersion:
		// Signed by Stripe, so worth an error-level line: the endpoint must be re-created with
		// the library's API version. Stripe keeps retrying meanwhile, so nothing is lost.
		s.log.Error("stripe webhook: endpoint API version differs from the library's",
			slog.String("event_api_version", ev.APIVersion), slog.String("expected", stripe.APIVersion))
		return ev, fail(http.StatusBadRequest, "event API version %s, expected %s", ev.APIVersion, stripe.APIVersion)
	default:
		return ev, fail(http.StatusBadRequest, "malformed event")
	}
}

// handle applies a verified event. Its claim and its effects commit together; a closure started or
// a tenant reactivated before a failed commit is started again by Stripe's retry, which
// ClosureControl treats as the same request.
func (s *stripeWebhook) handle(ctx context.Context, ev stripe.Event) error {
	if !handledStripeEvents[ev.Type] {
		s.log.Info("stripe event ignored", slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)))
		return nil
	}
	if !store.ValidStripeEventID(ev.ID) || ev.Data == nil || len(ev.Data.Raw) == 0 || ev.Created <= 0 {
		return fail(http.StatusBadRequest, "event without a valid id, creation time or object")
	}
	claimed, err := s.events.HandleStripeEvent(ctx, ev.ID, string(ev.Type), func(tx store.StripeEventTx) error {
		switch ev.Type {
		case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentFailed:
			return s.invoice(ctx, tx, ev)
		default:
			return s.subscription(ctx, tx, ev)
		}
	})
	if err != nil {
		return err
	}
	if !claimed {
		s.log.Info("stripe event already handled", slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)))
	}
	return nil
}

// activeStatuses are the subscription statuses under which a tenant is served.
var activeStatuses = map[stripe.SubscriptionStatus]bool{
	stripe.SubscriptionStatusActive:   true,
	stripe.SubscriptionStatusTrialing: true,
}

// subscription records the subscription's status on every event, starts the tenant's closure
// when the subscription is deleted, and reactivates a closing tenant whose subscription became
// active. cancel_at_period_end on its own is only a schedule: the deletion event follows when the
// period ends.
func (s *stripeWebhook) subscription(ctx context.Context, tx stripeEventTx, ev stripe.Event) error {
	var sub stripe.Subscription
	if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil || sub.Customer == nil || sub.ID == "" || sub.Status == "" {
		return fail(http.StatusBadRequest, "subscription event without a subscription, customer or status")
	}
	change, err := tx.RecordSubscriptionStatus(ctx, store.SubscriptionEvent{
		CustomerID: sub.Customer.ID, SubscriptionID: sub.ID, Status: string(sub.Status), At: time.Unix(ev.Created, 0),
	})
	if errors.Is(err, store.ErrNotFound) {
		s.unknownCustomer(ev)
		return nil
	}
	if err != nil {
		return err
	}
	fields := []any{slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)), slog.String("tenant_id", change.TenantID),
		slog.String("status", string(sub.Status)), slog.Bool("cancel_at_period_end", sub.CancelAtPeriodEnd)}
	if !change.Applied {
		s.log.Info("stripe subscription event superseded", fields...)
		return nil
	}
	actor := stripeActorPrefix + ev.ID
	switch {
	case ev.Type == stripe.EventTypeCustomerSubscriptionDeleted:
		if change.TenantStatus == "" || change.TenantStatus == tenantStatusClosed {
			s.log.Info("stripe subscription deleted for a tenant already erased", fields...)
			return nil
		}
		if err := s.closures.StartClosure(ctx, change.TenantID, workflows.ClosureReasonSubscriptionDeleted, actor); err != nil {
			return fmt.Errorf("start closure: %w", err)
		}
		s.log.Info("stripe subscription deleted: closure started", fields...)
	case activeStatuses[sub.Status] && becameActive(change, sub.ID) && mayBeClosing(change):
		err := s.closures.Reactivate(ctx, change.TenantID, actor)
		if errors.Is(err, lifecycle.ErrNoClosure) {
			// Retrying cannot change this. A tenant still marked closing without a closure to
			// end needs an operator, hence the warning.
			level := slog.LevelInfo
			if change.TenantStatus == store.TenantStatusClosing {
				level = slog.LevelWarn
			}
			s.log.Log(ctx, level, "stripe subscription active: no closure to end", fields...)
			return nil
		}
		if err != nil {
			return fmt.Errorf("reactivate: %w", err)
		}
		s.log.Info("stripe subscription active: closing tenant reactivated", fields...)
	default:
		s.log.Info("stripe subscription status recorded", fields...)
	}
	return nil
}

// becameActive reports whether the event turned the tenant's subscription active: a new
// subscription, or the current one leaving a status that is not served. A routine update of an
// already active subscription (a renewal, a new card) does not undo a closure the tenant asked for.
func becameActive(c store.SubscriptionChange, subscriptionID string) bool {
	return c.PreviousSubscriptionID != subscriptionID || !activeStatuses[stripe.SubscriptionStatus(c.PreviousStatus)]
}

// mayBeClosing reports whether the tenant may have a closure to end: it is closing, or its last
// subscription was deleted, which started a closure that may not have marked the tenant closing
// yet when a new subscription follows within seconds.
func mayBeClosing(c store.SubscriptionChange) bool {
	return c.TenantStatus == store.TenantStatusClosing || c.PreviousStatus == string(stripe.SubscriptionStatusCanceled)
}

// invoice records a paid or failed invoice. Only ids, the amount, the currency and the dates are
// kept: Stripe's invoice also carries the customer's name, email, address and payment details,
// none of which is read.
func (s *stripeWebhook) invoice(ctx context.Context, tx stripeEventTx, ev stripe.Event) error {
	var inv stripe.Invoice
	if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil || inv.Customer == nil || inv.ID == "" || inv.Currency == "" {
		return fail(http.StatusBadRequest, "invoice event without an invoice, customer or currency")
	}
	acc, err := tx.BillingAccountByCustomer(ctx, inv.Customer.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.unknownCustomer(ev)
		return nil
	}
	if err != nil {
		return err
	}
	r := store.BillingRecord{
		InvoiceID: inv.ID, TenantID: acc.TenantID, CustomerID: acc.CustomerID,
		Currency: string(inv.Currency), OccurredAt: time.Unix(ev.Created, 0),
	}
	if ev.Type == stripe.EventTypeInvoicePaid {
		r.Status, r.AmountMinor = store.InvoicePaid, inv.AmountPaid
	} else {
		r.Status, r.AmountMinor = store.InvoicePaymentFailed, inv.AmountDue
	}
	if inv.PeriodStart > 0 {
		r.PeriodStart = time.Unix(inv.PeriodStart, 0)
	}
	if inv.PeriodEnd > 0 {
		r.PeriodEnd = time.Unix(inv.PeriodEnd, 0)
	}
	changed, err := tx.RecordInvoice(ctx, r)
	if err != nil {
		return err
	}
	s.log.Info("stripe invoice recorded", slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)),
		slog.String("tenant_id", acc.TenantID), slog.String("invoice_id", inv.ID), slog.Bool("changed", changed))
	return nil
}

// unknownCustomer acknowledges an event about a customer that pays for no tenant (another
// product on the same Stripe account, or a customer created by hand): Stripe must not retry it
// for days. The event id is enough to look it up in Stripe.
func (s *stripeWebhook) unknownCustomer(ev stripe.Event) {
	s.log.Warn("stripe event for a customer that pays for no tenant", slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)))
}

// writeError answers with a short plain-text reason; failures that are not the request's fault
// are logged and answered 503, so Stripe retries.
func (s *stripeWebhook) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		s.log.Error("stripe webhook failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		he = fail(http.StatusServiceUnavailable, "temporarily unable to handle the event")
	} else {
		s.log.Warn("stripe webhook refused", slog.String("path", r.URL.Path), slog.Int("status", he.status), slog.String("reason", he.reason))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(he.status)
	fmt.Fprintln(w, he.reason)
}
