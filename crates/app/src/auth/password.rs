//! Passwords: argon2id hashes (RustCrypto defaults: 19 MiB, 2 passes), checked off the async
//! threads, and a policy after NIST SP 800-63B / OWASP ASVS 2.1: long, no composition rules,
//! not the user's own name, not one of the most common choices.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::AppError;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// Passwords people choose most often (and their Swedish favourites); refused outright.
const COMMON: [&str; 16] = [
    "password1234",
    "123456789012",
    "qwertyuiopå",
    "qwerty123456",
    "lösenord1234",
    "losenord1234",
    "sommar2024!!",
    "sommar2025!!",
    "sommar2026!!",
    "vinter2026!!",
    "välkommen123",
    "valkommen123",
    "abcdefghijkl",
    "111111111111",
    "samverka1234",
    "iloveyou1234",
];

/// Hashes a password (argon2id with a random salt), on a blocking thread.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|_| internal())?
        .map_err(|_| internal())
}

/// Checks a password against a stored hash, on a blocking thread. With no hash (unknown
/// user) it checks against a dummy, so the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
    tokio::task::spawn_blocking(move || Argon2::default().verify_password(password.as_bytes(), stored.as_str()).is_ok())
        .await
        .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| Argon2::default().hash_password(b"no such user, same cost").expect("hash").to_string())
}

fn internal() -> AppError {
    AppError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Lösenordet kunde inte behandlas. Försök igen.",
        "The password could not be processed.",
    )
}

/// Refuses a new password that is too short, too long, the username, or very common.
pub fn check_policy(password: &str, username: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    let refuse = |code: &str, sv: String| {
        Err(AppError::invalid("new_password", code, sv, "The password does not meet the policy."))
    };
    if n < MIN_LENGTH {
        return refuse(
            "password_too_short",
            format!("Lösenordet måste vara minst {MIN_LENGTH} tecken. En mening av några ord är lätt att minnas."),
        );
    }
    if n > MAX_LENGTH {
        return refuse("password_too_long", format!("Lösenordet får vara högst {MAX_LENGTH} tecken."));
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return refuse("password_contains_username", "Lösenordet får inte innehålla ditt användarnamn.".into());
    }
    if COMMON.contains(&lower.as_str()) || password.chars().all(|c| password.starts_with(c)) {
        return refuse("password_too_common", "Lösenordet är för vanligt och lätt att gissa. Välj ett annat.".into());
    }
    Ok(())
}

/// A temporary password for an administrator to hand over: 20 characters from an alphabet
/// without look-alikes (no 0/O, 1/l/I), in groups of four.
pub fn temporary() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_common_and_own_name() {
        assert!(check_policy("kort", "anna").is_err());
        assert!(check_policy("Lösenord1234", "anna").is_err());
        assert!(check_policy("annas-hemliga-ord", "anna").is_err());
        assert!(check_policy("aaaaaaaaaaaaaaa", "bo").is_err());
        assert!(check_policy("korv med bröd på fredag", "anna").is_ok());
    }

    #[test]
    fn temporary_passwords_pass_the_policy_and_differ() {
        let a = temporary();
        assert_eq!(a.len(), 24);
        assert!(check_policy(&a, "anna").is_ok());
        assert_ne!(a, temporary());
    }

    #[tokio::test]
    async fn hashes_verify_and_are_salted() {
        let h1 = hash("korv med bröd på fredag".into()).await.unwrap();
        let h2 = hash("korv med bröd på fredag".into()).await.unwrap();
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2);
        assert!(verify("korv med bröd på fredag".into(), Some(h1.clone())).await);
        assert!(!verify("korv med bröd på lördag".into(), Some(h1)).await);
        assert!(!verify("vad som helst".into(), None).await);
    }
}
