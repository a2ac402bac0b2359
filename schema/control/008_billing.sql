-- Billing: which Stripe customer and subscription pay for each tenant, the invoices Stripe reported,
-- and the webhook events already handled. Stripe holds every payment credential; these tables hold
-- only Stripe's ids, amounts and dates (P20). No identifier column accepts spaces, dashes or a run
-- of 13 digits, and amounts are bounded below 13 digits, so no column can hold a card number.
--
-- tenant_id is deliberately not a foreign key: billing records must outlive the tenant's erasure
-- and are kept for seven years (P14), swept by occurred_at.

CREATE TABLE control.billing_accounts (
    -- Tenant ids are base-32 ([a-z2-7]); 4242424242424242 has that shape, so digit runs are refused
    -- here too.
    tenant_id               text PRIMARY KEY CHECK (tenant_id ~ '^[a-z2-7]{16}$' AND tenant_id !~ '[0-9]{13}'),
    stripe_customer_id      text NOT NULL UNIQUE
                            CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9]{1,250}$' AND stripe_customer_id !~ '[0-9]{13}'),
    stripe_subscription_id  text
                            CHECK (stripe_subscription_id ~ '^sub_[A-Za-z0-9]{1,250}$' AND stripe_subscription_id !~ '[0-9]{13}'),
    -- Stripe's subscription status as reported; a format check rather than a list, so a status
    -- Stripe adds later is recorded instead of failing every webhook that carries it.
    subscription_status     text CHECK (subscription_status ~ '^[a-z_]{1,40}$'),
    -- The creation time of the Stripe event that set subscription_status; NULL when the status
    -- came from the API response at creation. Stripe does not deliver events in order, so an
    -- older event never overwrites a newer one.
    status_at               timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (subscription_status IS NULL OR stripe_subscription_id IS NOT NULL)
);

CREATE TABLE control.billing_records (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stripe_invoice_id   text NOT NULL UNIQUE
                        CHECK (stripe_invoice_id ~ '^in_[A-Za-z0-9]{1,250}$' AND stripe_invoice_id !~ '[0-9]{13}'),
    tenant_id           text NOT NULL CHECK (tenant_id ~ '^[a-z2-7]{16}$' AND tenant_id !~ '[0-9]{13}'),
    stripe_customer_id  text NOT NULL
                        CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9]{1,250}$' AND stripe_customer_id !~ '[0-9]{13}'),
    -- One row per invoice with its outcome so far: a later payment turns payment_failed into paid,
    -- never the other way round.
    status              text NOT NULL CHECK (status IN ('paid', 'payment_failed')),
    -- Minor units of currency (cents). The bound is far above any invoice Stripe accepts.
    amount_minor        bigint NOT NULL CHECK (amount_minor BETWEEN 0 AND 99999999999),
    currency            text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    period_start        timestamptz,
    period_end          timestamptz,
    -- When Stripe reported the outcome; the seven-year retention runs from here.
    occurred_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end >= period_start)
);
CREATE INDEX billing_records_occurred_at ON control.billing_records (occurred_at);
CREATE INDEX billing_records_tenant ON control.billing_records (tenant_id, occurred_at);

-- Stripe delivers an event at least once and retries for days. A row here means the event's
-- effects are committed: it is claimed in the same transaction that applies them.
CREATE TABLE control.stripe_events (
    id            text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9]{1,250}$' AND id !~ '[0-9]{13}'),
    type          text NOT NULL CHECK (type ~ '^[a-z_.]{1,100}$'),
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);
CREATE INDEX stripe_events_received_at ON control.stripe_events (received_at);
