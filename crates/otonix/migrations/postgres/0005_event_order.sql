-- Readers follow the event log in commit order. An identity id is assigned when a row is
-- inserted, not when its transaction commits, so concurrent transactions can commit ids out of
-- order, and a reader that remembers "the last id I saw" would pass over an id that commits a
-- moment later. Each event therefore records the id of the transaction that wrote it (`tx`,
-- 64-bit, never wraps), and `settled_events` shows only the events of transactions older than
-- every transaction still running: that set only ever grows at its end, in (tx, id) order.
-- Events written before this migration keep tx 0 and come first, in id order.
ALTER TABLE events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_order ON events (tx, id);
CREATE VIEW settled_events AS
    SELECT * FROM events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
