-- The control schema: everything that is not one tenant's customer data.

CREATE TABLE control.tenants (
    id                text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{16}$'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    timezone          text NOT NULL,
    owner_phone       text NOT NULL,
    greeting_text     text NOT NULL,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closing', 'closed')),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- The called (To) number is the only thing that selects a tenant, so one number belongs to
-- exactly one tenant.
CREATE TABLE control.tenant_phone_numbers (
    e164        text PRIMARY KEY CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    tenant_id   text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_phone_numbers_tenant ON control.tenant_phone_numbers (tenant_id);

-- Consent is recorded per (tenant, caller) with the event that caused it. The caller is an HMAC:
-- the ledger must outlive the erasure of the caller's data.
CREATE TABLE control.consent_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    phone_hash    text NOT NULL CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
    kind          text NOT NULL CHECK (kind IN ('implied_opt_in', 'opt_out', 'opt_in')),
    source        text NOT NULL CHECK (source IN ('missed_call', 'inbound_sms', 'keyword')),
    source_id     text NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, source_id, kind)
);
CREATE INDEX consent_events_subject ON control.consent_events (tenant_id, phone_hash, occurred_at);

-- Every outbound side effect claims a row keyed by workflow ID and step before it acts, so an
-- activity retried after a crash finds the earlier attempt instead of texting twice.
CREATE TABLE control.outbox (
    idempotency_key      text PRIMARY KEY,
    tenant_id            text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    channel              text NOT NULL CHECK (channel IN ('sms')),
    recipient_hash       text NOT NULL CHECK (recipient_hash ~ '^[0-9a-f]{64}$'),
    status               text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts             integer NOT NULL DEFAULT 0,
    provider_message_id  text,
    failure              text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending ON control.outbox (created_at) WHERE status = 'pending';

-- The sandbox SMS sender (RINGBACK_ENV=dev without Twilio credentials) delivers here instead of
-- to a phone.
CREATE TABLE control.sandbox_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    idempotency_key  text NOT NULL UNIQUE,
    from_number      text NOT NULL,
    to_number        text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
