//! Integration tests of the HTTP API against the real server on 127.0.0.1:0. The same suite runs
//! on SQLite (default) and on PostgreSQL (`OTONIX_TEST_DATABASE_URL`).

mod helpers;

mod actions;
mod agents;
mod auth;
mod cherry;
mod cli;
mod conventions;
mod crash;
mod credits;
mod events;
mod events_order;

mod heartbeats;
mod keys;
mod leases;
mod market;
mod official_client;
mod pagination;
mod pay;
mod pay_cli;
mod payments_attacks;
mod payments_authorizations;
mod payments_chain;
mod payments_crash;
mod payments_dev;
mod payments_facilitator;
mod payments_integrity;
mod payments_refunds;
mod payments_watch;
mod permissions;
mod process;
mod readme;
mod records;
mod replicas;
mod request_tracing;
mod rpc_proxy;
mod validation;
mod vercel;
mod vercel_chain;
mod vercel_dns;
mod vercel_live;
mod vercel_register;
mod wallets;
