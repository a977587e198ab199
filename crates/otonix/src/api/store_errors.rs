//! How database failures reach a client: the store knows nothing of HTTP and the error envelope
//! knows nothing of the store; this is where they meet.

use crate::error::ApiError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if matches!(error, StoreError::BalanceOutOfBounds) {
            return Self::field("amount", crate::domain::Usdc::BEYOND_BOUND);
        }
        if error.is_unavailable() {
            Self::Unavailable("the database is not available")
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::from(error).into()
    }
}
