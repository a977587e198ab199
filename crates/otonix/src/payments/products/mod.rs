//! What payments buy. A [`Product`] prices a request and checks it can be bought, delivers a
//! paid order and undoes what a refunded one left behind; the engine owns everything else
//! (orders, claims, settlement, receipts, the books, refunds). Products are the API's (a paid
//! endpoint's module implements its product, `api::products` lists them) and are handed to the
//! engine when it is built, so the engine depends on none of them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Payments;
use crate::domain::Usdc;
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;
use crate::store::orders::Order;

/// What a request costs.
#[derive(Debug, Clone)]
pub struct Quote {
    /// Price in micro-USDC.
    pub amount: Usdc,
    /// What is bought, for the challenge and the receipt (`Credits: 25 USDC for agent a`).
    pub description: String,
}

/// A thing sold through the payment engine.
pub trait Product: Send + Sync + 'static {
    /// The name stored with its orders.
    const NAME: &'static str;
    /// The route it is bought at, for receipts (`POST /api/agents/:id/credits`).
    const RESOURCE: &'static str;
    /// What a request buys, parsed and normalized by its handler, stored with the order so that
    /// delivery never reads the request again.
    type Params: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Whether a transfer proof a little short of the price (within `payments.amountTolerance`)
    /// buys it. False for what is bought upstream at its full price: a shortfall would be the
    /// server's loss, and a refund would give back more than was paid.
    const TOLERANT: bool = true;

    /// Prices a request and checks that it can be bought now: a refusal comes before any order
    /// exists, so nobody is asked to pay for a request that would fail.
    fn quote(&self, engine: &Payments, params: &Self::Params) -> impl Future<Output = ApiResult<Quote>> + Send;

    /// What delivery must do outside the database first (an upstream purchase, idempotent per
    /// order id); its result is handed to [`Product::record`]. Nothing by default.
    fn fulfil(
        &self,
        _engine: &Payments,
        _order: &Order,
        _params: &Self::Params,
    ) -> impl Future<Output = ApiResult<Value>> + Send {
        async { Ok(Value::Null) }
    }

    /// Writes the purchase (and books it, see [`Payments::book`]) in `tx`, the database
    /// transaction that marks the order delivered, and returns the 201 body; the engine adds the
    /// receipt. A 4xx error is final (the order is refunded at once); others are retried.
    fn record(
        &self,
        engine: &Payments,
        tx: &mut Tx,
        order: &Order,
        params: &Self::Params,
        fulfilled: Value,
    ) -> impl Future<Output = ApiResult<Value>> + Send;

    /// Undoes what a refunded order left behind, in the refund's database transaction. Nothing
    /// by default.
    fn refund(
        &self,
        _engine: &Payments,
        _tx: &mut Tx,
        _order: &Order,
        _params: &Self::Params,
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async { Ok(()) }
    }
}

/// A boxed future (for products looked up by name).
type Boxed<'a, T> = Pin<Box<dyn Future<Output = ApiResult<T>> + Send + 'a>>;

/// A product behind its name: what the engine needs to deliver or refund any stored order.
trait Stored: Send + Sync {
    fn fulfil<'a>(&'a self, engine: &'a Payments, order: &'a Order) -> Boxed<'a, Value>;
    fn record<'a>(
        &'a self,
        engine: &'a Payments,
        tx: &'a mut Tx,
        order: &'a Order,
        fulfilled: Value,
    ) -> Boxed<'a, Value>;
    fn refund<'a>(&'a self, engine: &'a Payments, tx: &'a mut Tx, order: &'a Order) -> Boxed<'a, ()>;
}

fn params_of<P: Product>(order: &Order) -> ApiResult<P::Params> {
    serde_json::from_str(&order.params).map_err(|e| {
        ApiError::internal(anyhow::anyhow!("order {} has unreadable {} parameters: {e}", order.id, P::NAME))
    })
}

impl<P: Product> Stored for P {
    fn fulfil<'a>(&'a self, engine: &'a Payments, order: &'a Order) -> Boxed<'a, Value> {
        Box::pin(async move { Product::fulfil(self, engine, order, &params_of::<P>(order)?).await })
    }

    fn record<'a>(
        &'a self,
        engine: &'a Payments,
        tx: &'a mut Tx,
        order: &'a Order,
        fulfilled: Value,
    ) -> Boxed<'a, Value> {
        Box::pin(async move { Product::record(self, engine, tx, order, &params_of::<P>(order)?, fulfilled).await })
    }

    fn refund<'a>(&'a self, engine: &'a Payments, tx: &'a mut Tx, order: &'a Order) -> Boxed<'a, ()> {
        Box::pin(async move { Product::refund(self, engine, tx, order, &params_of::<P>(order)?).await })
    }
}

/// The products of this server, by name.
#[derive(Clone, Default)]
pub struct Products(HashMap<&'static str, Arc<dyn Stored>>);

impl Products {
    /// Adds a product.
    pub fn with<P: Product>(mut self, product: P) -> Self {
        self.0.insert(P::NAME, Arc::new(product));
        self
    }

    fn get(&self, order: &Order) -> ApiResult<&dyn Stored> {
        self.0.get(order.product.as_str()).map(|p| p.as_ref()).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("order {} is for an unknown product {}", order.id, order.product))
        })
    }

    /// Runs the product's work outside the database for a paid order.
    pub(super) async fn fulfil(&self, engine: &Payments, order: &Order) -> ApiResult<Value> {
        self.get(order)?.fulfil(engine, order).await
    }

    /// Writes a paid order's purchase in `tx`; returns the 201 body.
    pub(super) async fn record(
        &self,
        engine: &Payments,
        tx: &mut Tx,
        order: &Order,
        fulfilled: Value,
    ) -> ApiResult<Value> {
        self.get(order)?.record(engine, tx, order, fulfilled).await
    }

    /// Undoes a refunded order's traces in `tx`.
    pub(super) async fn refund(&self, engine: &Payments, tx: &mut Tx, order: &Order) -> ApiResult<()> {
        self.get(order)?.refund(engine, tx, order).await
    }
}
