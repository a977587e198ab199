//! Property tests: the header codec and the strict amount parser never panic, round-trip what
//! they should, and reject what they should.

use proptest::prelude::*;
use serde_json::Value;
use x402::parse::{MAX_AMOUNT_DIGITS, parse_amount};
use x402::usdc_units::{format_usdc, format_usdc_signed, parse_usdc, parse_usdc_signed};
use x402::wire::SettlementResponse;
use x402::{U256, decode_header, decode_payment_header, encode_header};

fn settlement() -> impl Strategy<Value = SettlementResponse> {
    (any::<bool>(), ".*", ".*", proptest::option::of(".*"), proptest::option::of(".*")).prop_map(
        |(success, transaction, network, payer, error_reason)| SettlementResponse {
            success,
            transaction,
            network,
            payer,
            error_reason,
        },
    )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".*".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(".*", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn header_round_trips_settlements(response in settlement()) {
        let decoded: SettlementResponse = decode_header(&encode_header(&response)).unwrap();
        prop_assert_eq!(decoded, response);
    }

    #[test]
    fn header_round_trips_json(value in json_value()) {
        let encoded = encode_header(&value);
        if encoded.len() <= x402::header::MAX_HEADER_LEN {
            prop_assert_eq!(decode_header::<Value>(&encoded).unwrap(), value);
        }
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_strings(text in ".*") {
        let _ = decode_header::<Value>(&text);
        let _ = decode_payment_header(&text);
    }

    #[test]
    fn decoders_never_panic_on_base64_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let _ = decode_header::<Value>(&text);
        let _ = decode_payment_header(&text);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_json(value in json_value()) {
        let _ = decode_payment_header(&encode_header(&value));
    }

    #[test]
    fn any_u128_round_trips_through_its_decimal_string(n in any::<u128>()) {
        prop_assert_eq!(parse_amount(&n.to_string()), Ok(U256::from(n)));
    }

    #[test]
    fn any_u256_round_trips(limbs in any::<[u64; 4]>()) {
        let n = U256::from_limbs(limbs);
        prop_assert_eq!(parse_amount(&n.to_string()), Ok(n));
    }

    #[test]
    fn strings_with_a_non_digit_are_rejected(
        prefix in "[0-9]{0,10}",
        bad in "[^0-9]",
        suffix in "[0-9]{0,10}",
    ) {
        prop_assert!(parse_amount(&[prefix, bad, suffix].concat()).is_err());
    }

    #[test]
    fn signs_and_spaces_are_rejected(n in any::<u64>(), sign in prop_oneof![Just("+"), Just("-"), Just(" "), Just("\t")]) {
        let signed = [sign, &n.to_string()].concat();
        let trailing = [&n.to_string(), sign].concat();
        prop_assert!(parse_amount(&signed).is_err());
        prop_assert!(parse_amount(&trailing).is_err());
    }

    #[test]
    fn more_than_78_digits_are_rejected(digits in "[0-9]{79,120}") {
        prop_assert!(digits.len() > MAX_AMOUNT_DIGITS);
        prop_assert!(parse_amount(&digits).is_err());
    }

    #[test]
    fn amount_parser_never_panics(text in ".*") {
        if let Ok(n) = parse_amount(&text) {
            prop_assert!(text.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(U256::from_str_radix(&text, 10).unwrap(), n);
        }
    }

    #[test]
    fn usdc_micro_units_round_trip(micro in any::<u64>(), signed in any::<i64>()) {
        prop_assert_eq!(parse_usdc(&format_usdc(micro)), Ok(micro));
        if signed != i64::MIN {
            prop_assert_eq!(parse_usdc_signed(&format_usdc_signed(signed)), Ok(signed));
        }
    }

    #[test]
    fn usdc_parser_never_panics(text in ".*") {
        let _ = parse_usdc(&text);
        let _ = parse_usdc_signed(&text);
    }
}
