-- No query looks agents up by next_expected_at (health is computed when read); its index only
-- made every heartbeat fold rewrite an index entry. (PostgreSQL drops it in its 0004 too.)
DROP INDEX agents_next_expected;
