//! Password hashing with argon2id and the password policy.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LENGTH} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_LENGTH} characters long")]
    TooLong,
    #[error("the password must not be the same as the user name")]
    SameAsUsername,
    #[error("the stored password hash is damaged; set a new password with `drifta user passwd`")]
    BadStoredHash,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl PasswordError {
    /// The translation key for showing this error to a person.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "password-too-short",
            PasswordError::TooLong => "password-too-long",
            PasswordError::SameAsUsername => "password-same-as-username",
            PasswordError::BadStoredHash | PasswordError::Hashing(_) => "password-internal",
        }
    }
}

/// Length rules only: long passphrases beat composition rules (NIST SP 800-63B).
pub fn check_policy(password: &str, username: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if len > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(PasswordError::SameAsUsername);
    }
    Ok(())
}

/// Argon2id with fixed parameters; verification reads the parameters from the stored hash,
/// so raising them later keeps old hashes valid.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane).
    pub fn production() -> Self {
        Self::with_params(Params::DEFAULT)
    }

    /// Minimal cost, for test suites that create many users. Never used by the binary.
    pub fn fast_insecure_for_tests() -> Self {
        Self::with_params(Params::new(256, 1, 1, None).unwrap_or(Params::DEFAULT))
    }

    fn with_params(params: Params) -> Self {
        PasswordHasher {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        }
    }

    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    pub fn verify(&self, password: &str, stored: &str) -> Result<bool, PasswordError> {
        let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::BadStoredHash)?;
        Ok(self
            .argon
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    }

    /// A hash to verify against when the user does not exist, so a failed sign-in takes
    /// as long for an unknown name as for a wrong password.
    pub fn dummy_hash(&self) -> String {
        self.hash("timing-equaliser-not-a-password")
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = PasswordHasher::fast_insecure_for_tests();
        let stored = h.hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery", &stored).unwrap());
        assert!(!h.verify("correct horse batterY", &stored).unwrap());
    }

    #[test]
    fn production_verifier_accepts_cheaper_hashes() {
        let stored = PasswordHasher::fast_insecure_for_tests()
            .hash("a long passphrase")
            .unwrap();
        assert!(
            PasswordHasher::production()
                .verify("a long passphrase", &stored)
                .unwrap()
        );
    }

    #[test]
    fn damaged_hash_is_an_error_not_a_panic() {
        let h = PasswordHasher::fast_insecure_for_tests();
        assert_eq!(
            h.verify("x", "not-a-hash"),
            Err(PasswordError::BadStoredHash)
        );
    }

    #[test]
    fn policy() {
        assert_eq!(check_policy("short", "kari"), Err(PasswordError::TooShort));
        assert_eq!(
            check_policy(&"x".repeat(257), "kari"),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_policy("kari.nordmann", "Kari.Nordmann"),
            Err(PasswordError::SameAsUsername)
        );
        assert_eq!(check_policy("fjord and mountain", "kari"), Ok(()));
        // Characters, not bytes: ten Norwegian letters are enough.
        assert_eq!(check_policy("ææææøøøøåå", "kari"), Ok(()));
    }
}
