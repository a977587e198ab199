//! Integration tests of the HTTP API against the real server on 127.0.0.1:0. The same suite runs
//! on SQLite (default) and on PostgreSQL (`OTONIX_TEST_DATABASE_URL`).

mod helpers;

mod actions;
mod agents;
mod auth;
mod cli;
mod conventions;
mod crash;
mod credits;
mod heartbeats;
mod keys;
mod pagination;
mod process;
mod records;
mod validation;
