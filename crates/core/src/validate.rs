//! Checks on what people type, each failing with the field and a translation key.

/// One field that failed, with a machine code that the web shell turns into a
/// sentence in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    /// English text for logs and the command line.
    pub message: &'static str,
}

impl FieldError {
    pub const fn new(field: &'static str, code: &'static str, message: &'static str) -> Self {
        FieldError {
            field,
            code,
            message,
        }
    }
}

/// Lower-case letters, digits, dot, dash and underscore; 2–64 characters. Returned normalised.
pub fn username(input: &str) -> Result<String, FieldError> {
    let name = input.trim().to_lowercase();
    let len = name.chars().count();
    if !(2..=64).contains(&len) {
        return Err(FieldError::new(
            "username",
            "username-length",
            "must be 2 to 64 characters",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
    {
        return Err(FieldError::new(
            "username",
            "username-chars",
            "may contain only a-z, 0-9, dot, dash and underscore",
        ));
    }
    Ok(name)
}

/// A deliberately loose shape check (one @, something on each side, a dot in the domain):
/// the only real test of an address is a mail that arrives. Returned lower-cased.
pub fn email(input: &str) -> Result<String, FieldError> {
    let email = input.trim().to_lowercase();
    let bad = || FieldError::new("email", "email-invalid", "is not an e-mail address");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || domain.contains('@') || !domain.contains('.') {
        return Err(bad());
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(email)
}

/// A name shown to people: 1–120 characters, no control characters. Returned trimmed.
pub fn display_name(field: &'static str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "required", "is required"));
    }
    if name.chars().count() > 120 {
        return Err(FieldError::new(
            field,
            "too-long",
            "must be at most 120 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "control-chars",
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username("  Kari.Nordmann ").unwrap(), "kari.nordmann");
        assert_eq!(username("a").unwrap_err().code, "username-length");
        assert_eq!(username("kåre").unwrap_err().code, "username-chars");
        assert_eq!(username("bob smith").unwrap_err().code, "username-chars");
        assert_eq!(username(&"a".repeat(65)).unwrap_err().field, "username");
    }

    #[test]
    fn emails() {
        assert_eq!(email(" Kari@Example.NO ").unwrap(), "kari@example.no");
        for bad in [
            "", "kari", "@x.no", "kari@", "kari@no", "a@b@c.no", "a b@c.no", "a@.no", "a@x.",
        ] {
            assert_eq!(email(bad).unwrap_err().code, "email-invalid", "{bad:?}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("name", "  Ås skole ").unwrap(), "Ås skole");
        assert_eq!(display_name("name", "   ").unwrap_err().code, "required");
        assert_eq!(
            display_name("name", "a\u{7}b").unwrap_err().code,
            "control-chars"
        );
        assert_eq!(
            display_name("name", &"x".repeat(121)).unwrap_err().code,
            "too-long"
        );
    }
}
