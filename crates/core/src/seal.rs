//! Secrets Drifta must give back, not just check: a mailbox's IMAP password is sent to the
//! mail server at every poll, so it cannot be hashed like a login password. It is sealed
//! with an AEAD under a key the operator keeps outside the database (`secret_key`), so a
//! copied database or backup alone does not reveal it.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// The version tag in front of every sealed value, so a later scheme can be told apart.
const TAG: &str = "v1:";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "the secret key must be 64 hexadecimal characters (32 bytes); make one with `openssl rand -hex 32`"
    )]
    BadKey,
    #[error("the sealed value is damaged or was sealed with another secret key")]
    Unreadable,
}

/// A 32-byte key, from its hex form in the configuration.
#[derive(Clone)]
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key, even in a debug log.
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_hex(text: &str) -> Result<Self, SealError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SealError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(SecretKey(Key::from(bytes)))
    }

    /// A fresh random key in hex, for a new installation's key file.
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// Seals `plain`; each call uses a fresh random nonce, so equal secrets look different.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.0);
        // Encryption with a valid key and a nonce of the right length cannot fail.
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        format!("{TAG}{}{}", hex::encode(nonce), hex::encode(sealed))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(TAG).ok_or(SealError::Unreadable)?;
        let bytes = hex::decode(body).map_err(|_| SealError::Unreadable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unreadable);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(XNonce::from_slice(nonce), data)
            .map_err(|_| SealError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SealError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_hex(&SecretKey::generate_hex()).unwrap()
    }

    #[test]
    fn sealed_secrets_open_with_their_key_only() {
        let k = key();
        let sealed = k.seal("hemmelig æøå");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hemmelig"));
        assert_eq!(k.open(&sealed).unwrap(), "hemmelig æøå");
        assert_ne!(k.seal("hemmelig æøå"), sealed, "a fresh nonce each time");
        assert_eq!(key().open(&sealed), Err(SealError::Unreadable));
    }

    #[test]
    fn damaged_values_and_bad_keys_are_refused() {
        let k = key();
        let mut sealed = k.seal("x");
        // Change the last hex digit to another one (the one popped, not its neighbour,
        // decides which: comparing the neighbour left it unchanged one time in sixteen).
        let last = sealed.pop();
        sealed.push(if last == Some('0') { '1' } else { '0' });
        assert_eq!(k.open(&sealed), Err(SealError::Unreadable));
        assert_eq!(k.open("plain"), Err(SealError::Unreadable));
        assert_eq!(k.open("v1:zz"), Err(SealError::Unreadable));
        assert_eq!(k.open("v1:00"), Err(SealError::Unreadable));
        assert_eq!(SecretKey::from_hex("abc").err(), Some(SealError::BadKey));
        assert_eq!(
            SecretKey::from_hex(&"0".repeat(62)).err(),
            Some(SealError::BadKey)
        );
        assert!(SecretKey::from_hex(&format!(" {} ", "a".repeat(64))).is_ok());
        assert!(!format!("{k:?}").contains('a'));
    }
}
