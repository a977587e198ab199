//! Follows the registrar's orders of pending domains (SPEC §6.1): a completed order makes the
//! domain `active` with the registrar's dates; a failed one makes it `failed` and refunds its
//! payment, once, in the same database transaction. What is pending is in the database, so a
//! restart picks up where it was; with several replicas the `pending` guard lets one win.

use std::time::Duration;

use crate::domain::DomainName;
use crate::error::ApiResult;
use crate::providers::vercel::OrderState;
use crate::state::AppState;
use crate::store::registrations;

/// How often pending domains are looked at.
pub const POLL: Duration = Duration::from_secs(1);

/// Pending domains looked at per round.
const BATCH: i64 = 100;

/// Runs [`follow_once`] every [`POLL`] until the task is dropped.
pub async fn follow_registrations(state: AppState) {
    loop {
        tokio::time::sleep(POLL).await;
        if let Err(error) = follow_once(&state).await {
            tracing::warn!(%error, "following registrar orders failed; trying again");
        }
    }
}

/// Looks once at every pending domain's registrar order; returns how many domains ended.
pub async fn follow_once(state: &AppState) -> ApiResult<usize> {
    let Some(registrar) = state.providers.vercel.clone() else { return Ok(0) };
    let pending = registrations::pending(&mut *state.store.read().await?, BATCH).await?;
    let mut ended = 0;
    for registration in pending {
        let order = match registrar.order(&registration.registrar_order_id).await {
            Ok(order) => order,
            Err(error) => {
                tracing::warn!(%error, order = %registration.registrar_order_id, "a registrar order cannot be read");
                continue;
            }
        };
        let now = state.now();
        let domain_id = &registration.domain.id;
        match order.state {
            OrderState::Purchasing => {}
            OrderState::Completed => {
                let Some(name) = DomainName::parse(&registration.domain.name) else { continue };
                let sold = match registrar.registered(&name).await {
                    Ok(sold) => sold,
                    Err(error) => {
                        tracing::warn!(%error, domain = %name, "a registered domain cannot be read");
                        continue;
                    }
                };
                let mut tx = state.store.begin().await?;
                let done =
                    registrations::complete(&mut tx, domain_id, sold.bought_at.unwrap_or(now), sold.expires_at, now);
                ended += usize::from(done.await?.is_some());
                tx.commit().await?;
            }
            OrderState::Failed => {
                let why =
                    format!("the registrar's order failed ({})", order.error.as_deref().unwrap_or("no reason given"));
                let mut tx = state.store.begin().await?;
                if registrations::fail(&mut tx, domain_id, "failed", now).await?.is_some() {
                    state.payments.refund_delivered(&mut tx, &registration.payment_order_id, &why).await?;
                    ended += 1;
                }
                tx.commit().await?;
            }
        }
    }
    Ok(ended)
}
