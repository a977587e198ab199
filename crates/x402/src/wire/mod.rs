//! x402 wire types (JSON, camelCase exactly as the x402 specs), versions 1 and 2.
//!
//! Every protocol value that is a string on the wire stays a `String` here, so what a client
//! sent is kept verbatim; the verifier parses it strictly (see [`crate::parse`]). Open-ended
//! objects (`extra`, `extensions`, `outputSchema`) are kept as [`serde_json::Value`] so they
//! round-trip unchanged.

mod exact_evm;
mod facilitator;
mod payload;
mod settlement;
mod v1;
mod v2;

pub use exact_evm::{Eip3009Authorization, ExactEvmPayload};
pub use facilitator::{
    FacilitatorRequest, SettleRequest, SupportedKind, SupportedResponse, VerifyRequest, VerifyResponse,
};
pub use payload::{PayloadError, PaymentPayload, PaymentRequirements};
pub use settlement::{SettleResponse, SettlementResponse};
pub use v1::{PaymentPayloadV1, PaymentRequiredV1, PaymentRequirementsV1};
pub use v2::{PaymentPayloadV2, PaymentRequiredV2, PaymentRequirementsV2, ResourceInfo};
