-- API tokens. Only a hash of each token's secret is stored; the token itself is shown once, when
-- it is created. A tenant-admin token belongs to exactly one tenant and dies with it.
CREATE TABLE control.api_tokens (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{12}$'),
    role          text NOT NULL CHECK (role IN ('ops', 'compliance', 'tenant-admin')),
    tenant_id     text REFERENCES control.tenants (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CHECK ((role = 'tenant-admin') = (tenant_id IS NOT NULL))
);
CREATE INDEX api_tokens_tenant ON control.api_tokens (tenant_id);
