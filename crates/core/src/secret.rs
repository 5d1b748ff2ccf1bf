//! Random secrets (session cookies, CSRF tokens, API tokens) and how they are stored.
//!
//! Only a SHA-256 digest of a bearer secret reaches the database: a stolen backup
//! holds nothing that can sign in. A fast hash is right here, unlike for passwords,
//! because the secrets are 256 random bits and cannot be guessed.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes, hex-encoded, behind a readable prefix that says what the secret is
/// (so a token pasted into a chat is recognisable and can be revoked).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_unique_and_long() {
        let a = generate("drf_");
        let b = generate("drf_");
        assert!(a.starts_with("drf_"));
        assert_eq!(a.len(), 4 + 64);
        assert_ne!(a, b);
    }

    #[test]
    fn digest_is_stable_and_not_the_secret() {
        let s = generate("x");
        assert_eq!(digest(&s), digest(&s));
        assert_ne!(digest(&s), s);
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn equal_compares_whole_strings() {
        assert!(equal("abc", "abc"));
        assert!(!equal("abc", "abd"));
        assert!(!equal("abc", "abcd"));
    }
}
