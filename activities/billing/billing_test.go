package billing

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
)

const businessName = "Demo Plumbing"

// stripeMockURL is the stripe-mock that scripts/test.sh starts. Without it the test fails rather
// than skips: billing would otherwise go untested without anyone noticing.
func stripeMockURL(t *testing.T) string {
	t.Helper()
	testenv.RequireIntegration(t)
	u := os.Getenv("RINGBACK_TEST_STRIPE_URL")
	if u == "" {
		t.Fatal("RINGBACK_TEST_STRIPE_URL is unset: these tests call stripe-mock. Run them through `make test`, " +
			"or `eval \"$(scripts/test.sh --print-env)\"` first, which installs and starts stripe-mock")
	}
	return u
}

// stripeRequest is what the recording transport saw of one call.
type stripeRequest struct {
	Method, Path   string
	IdempotencyKey string
	Form           url.Values
}

// recorder is an http.RoundTripper that notes each request before passing it on.
type recorder struct {
	mu       sync.Mutex
	requests []stripeRequest
	next     http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		form, _ = url.ParseQuery(string(body))
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	r.mu.Lock()
	r.requests = append(r.requests, stripeRequest{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key"), Form: form})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) seen() []stripeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// flakyAccounts fails the next failWrites writes, as a database that is briefly down would.
type flakyAccounts struct {
	*store.Store
	mu         sync.Mutex
	failWrites int
}

func (f *flakyAccounts) UpsertBillingAccount(ctx context.Context, a store.BillingAccount) error {
	f.mu.Lock()
	fail := f.failWrites > 0
	if fail {
		f.failWrites--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("database unavailable")
	}
	return f.Store.UpsertBillingAccount(ctx, a)
}

type fixture struct {
	billing  *Billing
	db       *store.Store
	accounts *flakyAccounts
	stripe   *recorder
	tenantID string
}

func newFixture(t *testing.T, secretKey string) *fixture {
	t.Helper()
	apiURL := stripeMockURL(t)
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(context.Background(), tenantspec.Spec{
		Name: businessName, Numbers: []string{"+15005550006"}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: http.DefaultTransport}
	api, err := NewClient(ClientOptions{SecretKey: secretKey, APIURL: apiURL, HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	accounts := &flakyAccounts{Store: db}
	return &fixture{billing: &Billing{Stripe: api, Accounts: accounts}, db: db, accounts: accounts, stripe: rec, tenantID: tenant.ID}
}

func formKeys(f url.Values) []string {
	var keys []string
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestCreateCustomerAndSubscription(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "sk_test_123")

	customerID, err := f.billing.CreateCustomer(ctx, CreateCustomerInput{TenantID: f.tenantID, Name: " " + businessName + " "})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(customerID, "cus_") {
		t.Fatalf("customer id %q", customerID)
	}
	sub, err := f.billing.CreateSubscription(ctx, CreateSubscriptionInput{TenantID: f.tenantID, CustomerID: customerID, PriceID: "price_Monthly"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sub.SubscriptionID, "sub_") || sub.Status == "" {
		t.Fatalf("subscription %+v", sub)
	}

	acc, err := f.db.BillingAccount(ctx, f.tenantID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.BillingAccount{TenantID: f.tenantID, CustomerID: customerID, SubscriptionID: sub.SubscriptionID, SubscriptionStatus: sub.Status}
	if acc.TenantID != want.TenantID || acc.CustomerID != want.CustomerID || acc.SubscriptionID != want.SubscriptionID || acc.SubscriptionStatus != want.SubscriptionStatus {
		t.Errorf("stored %+v, want %+v", acc, want)
	}
	if byCustomer, err := f.db.BillingAccountByCustomer(ctx, customerID); err != nil || byCustomer.TenantID != f.tenantID {
		t.Errorf("tenant by customer = %+v, %v", byCustomer, err)
	}

	// Stripe saw the business name and the tenant id, nothing else about the tenant, and each
	// call carried its step's key.
	reqs := f.stripe.seen()
	if len(reqs) != 2 {
		t.Fatalf("%d Stripe requests, want 2: %+v", len(reqs), reqs)
	}
	tests := []struct {
		req      stripeRequest
		path     string
		key      string
		keys     []string
		expected map[string]string
	}{
		{reqs[0], "/v1/customers", idempotencyKey(f.tenantID, stepCreateCustomer),
			[]string{"metadata[tenant_id]", "name"},
			map[string]string{"name": businessName, "metadata[tenant_id]": f.tenantID}},
		{reqs[1], "/v1/subscriptions", idempotencyKey(f.tenantID, stepCreateSubscription),
			[]string{"customer", "items[0][price]", "metadata[tenant_id]"},
			map[string]string{"customer": customerID, "items[0][price]": "price_Monthly", "metadata[tenant_id]": f.tenantID}},
	}
	for _, tt := range tests {
		if tt.req.Method != http.MethodPost || tt.req.Path != tt.path {
			t.Errorf("request %s %s, want POST %s", tt.req.Method, tt.req.Path, tt.path)
		}
		if tt.req.IdempotencyKey != tt.key {
			t.Errorf("%s: Idempotency-Key %q, want %q", tt.path, tt.req.IdempotencyKey, tt.key)
		}
		if got := formKeys(tt.req.Form); !slices.Equal(got, tt.keys) {
			t.Errorf("%s: sent fields %v, want exactly %v", tt.path, got, tt.keys)
		}
		for k, v := range tt.expected {
			if got := tt.req.Form.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.path, k, got, v)
			}
		}
	}

	// Onboarding run again (a new workflow run, days later) finds both stored and calls nobody.
	again, err := f.billing.CreateCustomer(ctx, CreateCustomerInput{TenantID: f.tenantID, Name: businessName})
	if err != nil || again != customerID {
		t.Errorf("second CreateCustomer = %q, %v; want %q", again, err, customerID)
	}
	subAgain, err := f.billing.CreateSubscription(ctx, CreateSubscriptionInput{TenantID: f.tenantID, CustomerID: customerID, PriceID: "price_Monthly"})
	if err != nil || subAgain != sub {
		t.Errorf("second CreateSubscription = %+v, %v; want %+v", subAgain, err, sub)
	}
	if n := len(f.stripe.seen()); n != 2 {
		t.Errorf("%d Stripe requests after the repeat, want still 2", n)
	}
}

// A retry after the store failed sends the same idempotency key, so Stripe returns the customer
// the first attempt created instead of making a second one.
func TestRetryAfterStoreFailureReusesIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "sk_test_123")
	f.accounts.failWrites = 1

	_, err := f.billing.CreateCustomer(ctx, CreateCustomerInput{TenantID: f.tenantID, Name: businessName})
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	if _, err := f.db.BillingAccount(ctx, f.tenantID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("account after the failed write: %v, want none", err)
	}
	customerID, err := f.billing.CreateCustomer(ctx, CreateCustomerInput{TenantID: f.tenantID, Name: businessName})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := f.db.BillingAccount(ctx, f.tenantID); err != nil || acc.CustomerID != customerID {
		t.Errorf("stored %+v, %v; want customer %s", acc, err, customerID)
	}
	reqs := f.stripe.seen()
	if len(reqs) != 2 || reqs[0].IdempotencyKey == "" || reqs[0].IdempotencyKey != reqs[1].IdempotencyKey {
		t.Errorf("requests %+v, want two with one idempotency key", reqs)
	}

	f.accounts.failWrites = 1
	if _, err := f.billing.CreateSubscription(ctx, CreateSubscriptionInput{TenantID: f.tenantID, CustomerID: customerID, PriceID: "price_Monthly"}); err == nil {
		t.Fatal("subscription with the store down succeeded")
	}
	if _, err := f.billing.CreateSubscription(ctx, CreateSubscriptionInput{TenantID: f.tenantID, CustomerID: customerID, PriceID: "price_Monthly"}); err != nil {
		t.Fatal(err)
	}
	reqs = f.stripe.seen()
	if len(reqs) != 4 || reqs[2].IdempotencyKey != reqs[3].IdempotencyKey || reqs[2].IdempotencyKey == reqs[0].IdempotencyKey {
		t.Errorf("requests %+v, want the two subscription attempts to share a key of their own", reqs)
	}
}

// stripe-mock refuses a live-mode key with 401: a refusal retrying cannot fix.
func TestStripeRefusalIsFinalAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "sk_live_123")

	_, err := f.billing.CreateCustomer(ctx, CreateCustomerInput{TenantID: f.tenantID, Name: businessName})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeStripeRejected {
		t.Fatalf("error %v, want a non-retryable %s", err, ErrTypeStripeRejected)
	}
	if !strings.Contains(err.Error(), "http 401") || strings.Contains(err.Error(), businessName) {
		t.Errorf("error %q should name the status and not the business", err)
	}
	if _, err := f.db.BillingAccount(ctx, f.tenantID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("account after a refusal: %v, want none", err)
	}
}

func TestInvalidInputIsFinalAndCallsNobody(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "sk_test_123")
	customers := []CreateCustomerInput{
		{TenantID: "not-a-tenant", Name: businessName},
		{TenantID: f.tenantID, Name: "   "},
		{TenantID: f.tenantID, Name: strings.Repeat("x", maxNameLen+1)},
	}
	for _, in := range customers {
		_, err := f.billing.CreateCustomer(ctx, in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeInvalidInput {
			t.Errorf("CreateCustomer(%.40q): %v, want non-retryable %s", in.Name, err, ErrTypeInvalidInput)
		}
	}
	subscriptions := []CreateSubscriptionInput{
		{TenantID: "", CustomerID: "cus_A1", PriceID: "price_1"},
		{TenantID: f.tenantID, CustomerID: "cus 1", PriceID: "price_1"},
		{TenantID: f.tenantID, CustomerID: "cus_A1", PriceID: ""},
		{TenantID: f.tenantID, CustomerID: "cus_A1", PriceID: "price 1"},
	}
	for _, in := range subscriptions {
		_, err := f.billing.CreateSubscription(ctx, in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeInvalidInput {
			t.Errorf("CreateSubscription(%+v): %v, want non-retryable %s", in, err, ErrTypeInvalidInput)
		}
	}
	// A subscription for a customer that is not the tenant's.
	if err := f.db.UpsertBillingAccount(ctx, store.BillingAccount{TenantID: f.tenantID, CustomerID: "cus_Mine"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.billing.CreateSubscription(ctx, CreateSubscriptionInput{TenantID: f.tenantID, CustomerID: "cus_Other", PriceID: "price_1"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeInvalidInput {
		t.Errorf("someone else's customer: %v, want %s", err, ErrTypeInvalidInput)
	}
	if n := len(f.stripe.seen()); n != 0 {
		t.Errorf("%d Stripe requests for invalid input, want 0", n)
	}
}

func TestUnreachableStripeIsRetried(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	api, err := NewClient(ClientOptions{SecretKey: "sk_test_123", APIURL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	b := &Billing{Stripe: api, Accounts: noAccounts{}}
	_, err = b.CreateCustomer(context.Background(), CreateCustomerInput{TenantID: "abcdefghijklmnop", Name: businessName})
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("error %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), "transport") {
		t.Errorf("error %q, want it to say the transport failed", err)
	}
}

// noAccounts is a store with no billing accounts that accepts every write.
type noAccounts struct{}

func (noAccounts) BillingAccount(context.Context, string) (store.BillingAccount, error) {
	return store.BillingAccount{}, store.ErrNotFound
}
func (noAccounts) UpsertBillingAccount(context.Context, store.BillingAccount) error { return nil }

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		retryable bool
	}{
		{"bad request", &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Param: "items", Msg: "No such price: " + businessName}, false},
		{"refused key", &stripe.Error{HTTPStatusCode: 401, Type: stripe.ErrorTypeInvalidRequest}, false},
		{"payment required", &stripe.Error{HTTPStatusCode: 402, Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined}, false},
		{"not found", &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest}, false},
		{"idempotency key in use", &stripe.Error{HTTPStatusCode: 409, Type: stripe.ErrorTypeIdempotency}, true},
		{"rate limited", &stripe.Error{HTTPStatusCode: 429, Type: stripe.ErrorTypeAPI, Code: stripe.ErrorCodeRateLimit}, true},
		{"server error", &stripe.Error{HTTPStatusCode: 500, Type: stripe.ErrorTypeAPI}, true},
		{"unavailable", &stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI}, true},
		{"transport", &url.Error{Op: "Post", URL: "https://api.stripe.com/v1/customers", Err: errors.New("connection reset")}, true},
		{"deadline", context.DeadlineExceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("create stripe customer", tt.err)
			var appErr *temporal.ApplicationError
			final := errors.As(err, &appErr) && appErr.NonRetryable()
			if final == tt.retryable {
				t.Errorf("classify(%v) = %v, retryable %v, want %v", tt.err, err, !final, tt.retryable)
			}
			if final && appErr.Type() != ErrTypeStripeRejected {
				t.Errorf("type %q, want %q", appErr.Type(), ErrTypeStripeRejected)
			}
			if strings.Contains(err.Error(), businessName) {
				t.Errorf("error %q quotes Stripe's message", err)
			}
		})
	}
}

func TestNewClientRefusesMissingKeyAndBadURL(t *testing.T) {
	for _, o := range []ClientOptions{
		{SecretKey: ""},
		{SecretKey: "sk_test_123", APIURL: "ftp://127.0.0.1"},
		{SecretKey: "sk_test_123", APIURL: "127.0.0.1:12111"},
	} {
		if _, err := NewClient(o); err == nil {
			t.Errorf("NewClient(%+v) accepted", o)
		}
	}
	var api *client.API
	api, err := NewClient(ClientOptions{SecretKey: "sk_test_123"})
	if err != nil || api.Customers == nil || api.Subscriptions == nil {
		t.Errorf("NewClient with a key = %v, %v", api, err)
	}
}
