-- A suppression keeps naming the consent event that caused it, but the database no longer checks
-- the link. PostgreSQL checks a foreign key once per deleted row, and erasing a tenant deletes its
-- whole consent ledger: on a tenant of a million messages (600,000 consent events) those checks
-- were 2.4 s of the 3.4 s the erasure took. Nothing can leave the link dangling that the check
-- would have caught: the event and its suppression are written in one transaction
-- (store.RecordConsent), a data-subject erasure keeps the event behind an opt-out on purpose, and
-- the tenant purge removes both together.
ALTER TABLE control.suppressions DROP CONSTRAINT suppressions_source_event_id_fkey;
