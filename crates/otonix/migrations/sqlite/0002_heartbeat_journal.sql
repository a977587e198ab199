-- SQLite only: heartbeats are made durable by appending here (a few pages per batch) and are
-- folded into `agents` in the background; see src/store/hot/overlay.rs. PostgreSQL updates the
-- agent rows directly and has no such table.
CREATE TABLE heartbeat_journal (
    seq       INTEGER PRIMARY KEY,
    agent_id  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    status    TEXT,
    metrics   TEXT
);
