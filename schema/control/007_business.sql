-- What each business configures for its conversations: services, opening hours, closures, tone,
-- escalation and follow-up timing, as the normalized tenantspec.Profile JSON. It holds no caller
-- data. A tenant without a row uses tenantspec.DefaultProfile. revision counts saves, so that each
-- save has its own audit entry.
CREATE TABLE control.tenant_profiles (
    tenant_id   text PRIMARY KEY REFERENCES control.tenants (id) ON DELETE CASCADE,
    profile     jsonb NOT NULL CHECK (jsonb_typeof(profile) = 'object'),
    revision    integer NOT NULL DEFAULT 1 CHECK (revision > 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where a tenant receives signed outbound webhooks (booking created, conversation escalated).
-- The Standard Webhooks "whsec_..." signing secret is never stored in plain text: it is sealed
-- (AES-256-GCM) under the tenant's current data key, whose ID is kept beside it, so destroying the
-- tenant's keys shreds it along with everything else.
CREATE TABLE control.tenant_webhooks (
    tenant_id      text PRIMARY KEY REFERENCES control.tenants (id) ON DELETE CASCADE,
    url            text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    secret_sealed  bytea NOT NULL,
    secret_key_id  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
