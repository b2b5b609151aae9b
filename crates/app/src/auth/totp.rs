//! The second factor: TOTP (RFC 6238; SHA-1, 6 digits, 30-second steps, one step of skew),
//! as authenticator apps implement it. Each time step is accepted once per user.

use jiff::Timestamp;
use totp_rs::{Builder, Secret, Totp};

/// A new random secret (160 bits), base32 as apps expect it.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new().with_secret(secret).with_account_name(account).with_issuer(Some("Samverka")).build().ok()
}

/// The `otpauth://` address an authenticator app reads (as a QR code or typed in).
pub fn setup_url(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account).and_then(|t| t.to_url().ok())
}

/// The time step a code is valid for, if it is valid at `now` (one step either side).
pub fn matching_step(secret_base32: &str, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_base32, "check")?;
    t.check(&code, now.as_second().max(0) as u64).map(|step| step as i64)
}

/// The code of the current step (used by the demo's login help and by tests).
pub fn current_code(secret_base32: &str, now: Timestamp) -> Option<String> {
    totp(secret_base32, "code").map(|t| t.generate(now.as_second().max(0) as u64).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_the_neighbours() {
        let secret = new_secret();
        let now = Timestamp::from_second(1_800_000_015).unwrap();
        let code = current_code(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now), Some(1_800_000_015 / 30));
        let later = Timestamp::from_second(1_800_000_045).unwrap();
        assert_eq!(matching_step(&secret, &code, later), Some(1_800_000_015 / 30), "one step of skew");
        let much_later = Timestamp::from_second(1_800_000_200).unwrap();
        assert_eq!(matching_step(&secret, &code, much_later), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert!(setup_url(&secret, "anna").unwrap().starts_with("otpauth://totp/Samverka:anna?"));
    }
}
