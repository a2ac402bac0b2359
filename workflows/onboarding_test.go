package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities/billing"
)

var onboardingInput = OnboardingInput{TenantID: testTenant, Name: "Demo Plumbing", PriceID: "price_Monthly"}

// billingFake stands in for the billing activities and records what they were asked.
type billingFake struct {
	mu            sync.Mutex
	customers     []billing.CreateCustomerInput
	subscriptions []billing.CreateSubscriptionInput
	// customerErrs are returned by the first CreateCustomer attempts, in order; when they run out
	// the customer is created, unless customerErr is set, which is returned from then on.
	customerErrs []error
	customerErr  error
	// infos are the activity infos of successful attempts, in order.
	infos []activity.Info
}

func newOnboardingEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *billingFake) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(TenantOnboarding)
	env.RegisterActivity(billingActs)
	f := &billingFake{}
	env.OnActivity(billingActs.CreateCustomer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in billing.CreateCustomerInput) (string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.customers = append(f.customers, in)
			if len(f.customerErrs) > 0 {
				err := f.customerErrs[0]
				f.customerErrs = f.customerErrs[1:]
				return "", err
			}
			if f.customerErr != nil {
				return "", f.customerErr
			}
			f.infos = append(f.infos, activity.GetInfo(ctx))
			return "cus_Demo", nil
		})
	env.OnActivity(billingActs.CreateSubscription, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in billing.CreateSubscriptionInput) (billing.CreateSubscriptionResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.subscriptions = append(f.subscriptions, in)
			f.infos = append(f.infos, activity.GetInfo(ctx))
			return billing.CreateSubscriptionResult{SubscriptionID: "sub_Demo", Status: "active"}, nil
		})
	return env, f
}

func TestOnboardingCreatesCustomerThenSubscription(t *testing.T) {
	env, f := newOnboardingEnv(t)
	env.ExecuteWorkflow(TenantOnboarding, onboardingInput)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res OnboardingResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if want := (OnboardingResult{CustomerID: "cus_Demo", SubscriptionID: "sub_Demo", SubscriptionStatus: "active"}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if len(f.customers) != 1 || f.customers[0] != (billing.CreateCustomerInput{TenantID: testTenant, Name: "Demo Plumbing"}) {
		t.Errorf("CreateCustomer calls %+v", f.customers)
	}
	want := billing.CreateSubscriptionInput{TenantID: testTenant, CustomerID: "cus_Demo", PriceID: "price_Monthly"}
	if len(f.subscriptions) != 1 || f.subscriptions[0] != want {
		t.Errorf("CreateSubscription calls %+v, want one with %+v", f.subscriptions, want)
	}
}

func TestOnboardingRetriesTransientFailures(t *testing.T) {
	env, f := newOnboardingEnv(t)
	transient := errors.New("stripe answered http 503")
	f.customerErrs = []error{transient, transient, transient}
	env.ExecuteWorkflow(TenantOnboarding, onboardingInput)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if len(f.customers) != 4 || len(f.subscriptions) != 1 {
		t.Errorf("%d customer attempts and %d subscription calls, want 4 and 1", len(f.customers), len(f.subscriptions))
	}
	// Backoff of 1 s, 2 s and 4 s between the attempts, on the workflow's clock.
	if waited := env.Now().Sub(start); waited < 7*time.Second {
		t.Errorf("retries took %v of workflow time, want at least 7s of backoff", waited)
	}
}

// A refusal stops onboarding at once: one marked non-retryable by the activity, and one of a
// type the retry policy names.
func TestOnboardingStopsOnStripeRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"non-retryable error", temporal.NewNonRetryableApplicationError("stripe answered http 400", billing.ErrTypeStripeRejected, nil)},
		{"type named by the retry policy", temporal.NewApplicationError("stripe answered http 400", billing.ErrTypeStripeRejected)},
		{"invalid input", temporal.NewApplicationError("invalid tenant id", billing.ErrTypeInvalidInput)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, f := newOnboardingEnv(t)
			f.customerErr = tt.err
			env.ExecuteWorkflow(TenantOnboarding, onboardingInput)
			err := env.GetWorkflowError()
			var want *temporal.ApplicationError
			errors.As(tt.err, &want)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != want.Type() {
				t.Fatalf("workflow error %v, want %s", err, want.Type())
			}
			if len(f.customers) != 1 || len(f.subscriptions) != 0 {
				t.Errorf("%d customer attempts and %d subscription calls, want 1 and 0", len(f.customers), len(f.subscriptions))
			}
		})
	}
}

// Both steps retry for hours but stop inside the 24 hours Stripe keeps an idempotency key, so no
// retry can create a second customer or subscription; a refusal is never retried. (The test
// environment caps retries at ten attempts, so the options are checked as the activities see
// them rather than by failing for a day.)
func TestOnboardingRetriesInsideStripeIdempotencyWindow(t *testing.T) {
	env, f := newOnboardingEnv(t)
	env.ExecuteWorkflow(TenantOnboarding, onboardingInput)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if len(f.infos) != 2 {
		t.Fatalf("%d activity infos, want 2", len(f.infos))
	}
	for _, info := range f.infos {
		if info.ScheduleToCloseTimeout <= time.Hour || info.ScheduleToCloseTimeout >= 24*time.Hour {
			t.Errorf("%s: ScheduleToClose %v, want hours but under 24h", info.ActivityType.Name, info.ScheduleToCloseTimeout)
		}
		if info.StartToCloseTimeout <= billing.RequestTimeout {
			t.Errorf("%s: StartToClose %v, want more than one request's %v", info.ActivityType.Name, info.StartToCloseTimeout, billing.RequestTimeout)
		}
	}
}

func TestOnboardingRefusesIncompleteInput(t *testing.T) {
	for _, in := range []OnboardingInput{
		{TenantID: "", Name: "Demo Plumbing", PriceID: "price_Monthly"},
		{TenantID: "not a tenant", Name: "Demo Plumbing", PriceID: "price_Monthly"},
		{TenantID: testTenant, Name: "", PriceID: "price_Monthly"},
		{TenantID: testTenant, Name: "Demo Plumbing", PriceID: ""},
	} {
		env, f := newOnboardingEnv(t)
		env.ExecuteWorkflow(TenantOnboarding, in)
		var appErr *temporal.ApplicationError
		if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != billing.ErrTypeInvalidInput {
			t.Errorf("input %+v: error %v, want %s", in, err, billing.ErrTypeInvalidInput)
		}
		if len(f.customers) != 0 {
			t.Errorf("input %+v: CreateCustomer called", in)
		}
	}
}

func TestOnboardingWorkflowID(t *testing.T) {
	id := OnboardingWorkflowID(testTenant)
	if id != "onboard/"+testTenant {
		t.Errorf("OnboardingWorkflowID = %q", id)
	}
	// Onboarding is billing, which outlives the tenant: its history must stay readable after the
	// tenant's key is destroyed.
	if scope := KeyScope(id); scope != ControlKeyScope {
		t.Errorf("KeyScope(%q) = %q, want %q", id, scope, ControlKeyScope)
	}
}
