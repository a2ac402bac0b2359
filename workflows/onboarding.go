package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities/billing"
	"github.com/ringback/ringback/internal/tenantspec"
)

// OnboardingWorkflowID is the one ID a tenant's onboarding runs under, so a tenant created twice
// (a retried API call) is not billed twice.
func OnboardingWorkflowID(tenantID string) string { return "onboard/" + tenantID }

// OnboardingInput names the tenant to put on a Stripe subscription.
type OnboardingInput struct {
	TenantID string
	// Name is the business name, sent to Stripe as the customer's name.
	Name string
	// PriceID is the Stripe price the tenant subscribes to.
	PriceID string
}

// OnboardingResult is what onboarding created in Stripe.
type OnboardingResult struct {
	CustomerID         string
	SubscriptionID     string
	SubscriptionStatus string
}

// billingActs references the billing activities; it is never dereferenced.
var billingActs *billing.Billing

// TenantOnboarding creates the tenant's Stripe customer, then its subscription. Each step retries
// transient failures for up to billing.RetryWindow with the same idempotency key, and each stores
// what Stripe created before it completes, so the workflow can be run again for a tenant without
// billing it twice. What happens to the subscription afterwards arrives through Stripe's webhooks.
func TenantOnboarding(ctx workflow.Context, in OnboardingInput) (OnboardingResult, error) {
	if !tenantspec.ValidID(in.TenantID) || in.Name == "" || in.PriceID == "" {
		return OnboardingResult{}, temporal.NewNonRetryableApplicationError("onboarding: incomplete input", billing.ErrTypeInvalidInput, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, billing.ActivityOptions())

	var res OnboardingResult
	if err := workflow.ExecuteActivity(ctx, billingActs.CreateCustomer, billing.CreateCustomerInput{
		TenantID: in.TenantID, Name: in.Name,
	}).Get(ctx, &res.CustomerID); err != nil {
		return res, err
	}
	var sub billing.CreateSubscriptionResult
	if err := workflow.ExecuteActivity(ctx, billingActs.CreateSubscription, billing.CreateSubscriptionInput{
		TenantID: in.TenantID, CustomerID: res.CustomerID, PriceID: in.PriceID,
	}).Get(ctx, &sub); err != nil {
		return res, err
	}
	res.SubscriptionID, res.SubscriptionStatus = sub.SubscriptionID, sub.Status
	workflow.GetLogger(ctx).Info("tenant onboarded", "tenant_id", in.TenantID,
		"stripe_customer_id", res.CustomerID, "stripe_subscription_id", res.SubscriptionID, "status", res.SubscriptionStatus)
	return res, nil
}
