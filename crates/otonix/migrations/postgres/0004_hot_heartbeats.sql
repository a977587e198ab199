-- Heartbeats rewrite an agent's row many times a second across a fleet. With no index on the
-- columns a heartbeat changes, and free space left in each page, PostgreSQL updates the row in
-- place (a HOT update) instead of adding an entry to every index of the table. No query looks
-- agents up by next_expected_at (health is computed when read), so its index only cost writes.
DROP INDEX agents_next_expected;
ALTER TABLE agents SET (fillfactor = 80);
