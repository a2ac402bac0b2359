-- Data keys for payload encryption, one series of versions per scope (a tenant id, or 'control').
-- Each key is stored only wrapped (AES-256-GCM) under the master key, which never touches the
-- database. Destroying a scope's keys erases the wrapped bytes and keeps a tombstone, so a
-- shredded tenant can never silently get a fresh key that would make new data readable again.
CREATE TABLE control.data_keys (
    scope          text NOT NULL CHECK (scope = 'control' OR scope ~ '^[a-z2-7]{16}$'),
    version        integer NOT NULL CHECK (version > 0),
    wrapped        bytea,
    master_key_id  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    destroyed_at   timestamptz,
    PRIMARY KEY (scope, version),
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
