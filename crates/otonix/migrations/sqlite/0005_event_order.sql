-- Readers follow the event log in commit order, as (tx, id) (see the PostgreSQL migration).
-- SQLite runs one write transaction at a time, so ids already follow commits: tx is always 0
-- and every committed event is settled.
ALTER TABLE events ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_order ON events (tx, id);
CREATE VIEW settled_events AS SELECT * FROM events;
