-- Reading or erasing one caller (data-subject requests) goes through their contact and
-- conversations; without these, each of those lookups, and each foreign-key check of an erasure,
-- scans the whole table.
CREATE INDEX IF NOT EXISTS calls_contact ON {{.Schema}}.calls (contact_id);
CREATE INDEX IF NOT EXISTS calls_conversation ON {{.Schema}}.calls (conversation_id);
CREATE INDEX IF NOT EXISTS bookings_conversation ON {{.Schema}}.bookings (conversation_id);
