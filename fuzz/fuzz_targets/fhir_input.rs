//! What another system can send the FHIR API besides a token: search query strings and the
//! bodies of Subscription, Communication and Consent. Nothing may panic; every refusal must carry a reason in Swedish.

#![no_main]

use libfuzzer_sys::fuzz_target;
use samverka_fhir::writes::{read_communication_request, read_consent_request};
use samverka_fhir::{Params, patient_param, read_subscription_request};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Params::parse_query(text, &["identifier", "patient", "subject", "status", "owner"]) {
        Ok(p) => {
            if let Err(e) = p.updated_filter() {
                assert!(!e.sv.is_empty());
            }
            if let Err(e) = patient_param(&p) {
                assert!(!e.sv.is_empty());
            }
        }
        Err(e) => assert!(!e.sv.is_empty()),
    }
    let unit = uuid::Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
    if let Err(e) = read_subscription_request(text, unit) {
        assert!(!e.sv.is_empty());
    }
    if let Err(e) = read_communication_request(text) {
        assert!(!e.sv.is_empty());
    }
    if let Err(e) = read_consent_request(text) {
        assert!(!e.sv.is_empty());
    }
});
