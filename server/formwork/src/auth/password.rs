//! Password hashing (argon2id, the `argon2` crate's defaults: 19 MiB, 2 passes) and the
//! random secrets behind sessions and API tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

pub fn check_strength(password: &str, pointer: &str) -> DomainResult<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(DomainError::invalid_one(
            pointer,
            "min_length",
            format!("a password has at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// An argon2id PHC string. Runs on a blocking thread: hashing takes tens of milliseconds.
pub async fn hash(password: String) -> DomainResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))
    })
    .await
    .map_err(|e| DomainError::Internal(e.into()))?
    .map_err(DomainError::Internal)
}

/// True when `password` matches the stored PHC string. With no stored hash (unknown user,
/// no password set) a dummy hash is still computed so timing does not tell users apart.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xb+2yH1pqkjsYCGQ4yxUlEhUcr4L6jJmXb3yy9Y7k2c";
        let (text, real) = match &stored {
            Some(s) => (s.as_str(), true),
            None => (DUMMY, false),
        };
        let Ok(parsed) = PasswordHash::new(text) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// 32 random bytes, URL-safe base64 without padding.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A short random identifier (for token ids).
pub fn random_id() -> String {
    let mut b = [0u8; 9];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 of a high-entropy secret, hex. Session and token secrets are stored only so.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of a session: derived from the session secret, so it needs no storage
/// and cannot be computed by a page that cannot read the HttpOnly cookie.
pub fn csrf_for(session_secret: &str) -> String {
    digest(&format!("formwork-csrf\u{0}{session_secret}"))
}

/// Compare two strings in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
