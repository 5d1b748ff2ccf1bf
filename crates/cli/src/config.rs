//! Configuration: a TOML file, then DRIFTA_* environment variables on top, then flags.
//! A bad value stops start-up with one line naming the key and what is allowed.

use drifta_web::{CookieSecurity, WebConfig};
use jiff::SignedDuration;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_FILE: &str = "drifta.toml";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://drifta.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("configuration file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("configuration key `{key}` (from {origin}): {problem}")]
    Invalid {
        key: &'static str,
        origin: String,
        problem: String,
    },
}

/// What the file may hold. Unknown keys are errors: a typo must not silently fall back
/// to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    secure_cookies: Option<String>,
    trust_proxy: Option<bool>,
    session_idle_minutes: Option<i64>,
    max_connections: Option<i64>,
    log: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    sms_gateway_url: Option<String>,
    sms_gateway_token: Option<String>,
    secret_key: Option<String>,
    mail_ca_file: Option<String>,
}

/// Where alerts (and, later, all outgoing mail) leave the building.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// `smtp://…` or `smtps://…` in lettre's URL form, and the sender address.
    pub smtp: Option<(String, String)>,
    /// The SMS gateway URL and its bearer token.
    pub sms: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// True when nobody chose a database, so `demo` may use its own file.
    pub database_url_is_default: bool,
    pub listen: SocketAddr,
    pub max_connections: u32,
    pub log: tracing::Level,
    pub web: WebConfig,
    pub outgoing: Outgoing,
    /// Seals mailbox passwords in the database (64 hex characters). Without it, an SQLite
    /// installation keeps a generated key beside its database file.
    pub secret_key: Option<drifta_core::seal::SecretKey>,
    /// Extra CA certificates (PEM) trusted for IMAP, for mail servers with an internal CA.
    pub mail_ca_file: Option<String>,
    /// Where the file came from, for `check-config`.
    pub file: Option<PathBuf>,
}

/// A raw value and where it came from, for error messages.
struct Setting {
    value: String,
    source: String,
}

fn pick(
    key: &'static str,
    env_name: &str,
    file_value: Option<String>,
    file: &Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Setting> {
    if let Some(v) = env(env_name) {
        return Some(Setting {
            value: v,
            source: format!("environment variable {env_name}"),
        });
    }
    file_value.map(|v| Setting {
        value: v,
        source: file.as_ref().map_or_else(
            || "file".to_string(),
            |p| format!("{} key {key}", p.display()),
        ),
    })
}

fn invalid(key: &'static str, s: &Setting, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        origin: s.source.clone(),
        problem: problem.into(),
    }
}

impl Config {
    /// Loads from `explicit` (which must exist) or `drifta.toml` in the working directory
    /// (if present), then the environment as read by `env`.
    pub fn load(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.exists().then_some(default)
            }
        };
        let file: FileConfig = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.display().to_string(),
                    reason: e.to_string().replace('\n', " ").trim().to_string(),
                })?
            }
            None => FileConfig::default(),
        };

        let mut config = Config {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            database_url_is_default: true,
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            max_connections: 8,
            log: tracing::Level::INFO,
            web: WebConfig::default(),
            outgoing: Outgoing::default(),
            secret_key: None,
            mail_ca_file: None,
            file: path.clone(),
        };

        if let Some(s) = pick(
            "database_url",
            "DRIFTA_DATABASE_URL",
            file.database_url,
            &path,
            env,
        ) {
            let ok = s.value.starts_with("sqlite:")
                || s.value.starts_with("postgres://")
                || s.value.starts_with("postgresql://");
            if !ok {
                return Err(invalid(
                    "database_url",
                    &s,
                    "must start with sqlite:// (e.g. sqlite://drifta.db) or postgres:// (e.g. postgres://drifta@localhost/drifta)",
                ));
            }
            config.database_url = s.value;
            config.database_url_is_default = false;
        }
        if let Some(s) = pick("listen", "DRIFTA_LISTEN", file.listen, &path, env) {
            config.listen = s.value.parse().map_err(|_| {
                invalid(
                    "listen",
                    &s,
                    format!(
                        "'{}' is not an address and port such as 127.0.0.1:8080 or [::]:8080",
                        s.value
                    ),
                )
            })?;
        }
        if let Some(s) = pick(
            "secure_cookies",
            "DRIFTA_SECURE_COOKIES",
            file.secure_cookies,
            &path,
            env,
        ) {
            config.web.cookie_security = match s.value.as_str() {
                "auto" => CookieSecurity::Auto,
                "always" => CookieSecurity::Always,
                "never" => CookieSecurity::Never,
                other => {
                    return Err(invalid(
                        "secure_cookies",
                        &s,
                        format!("'{other}' is not one of auto, always, never"),
                    ));
                }
            };
        }
        if let Some(s) = pick(
            "trust_proxy",
            "DRIFTA_TRUST_PROXY",
            file.trust_proxy.map(|b| b.to_string()),
            &path,
            env,
        ) {
            config.web.trust_proxy = match s.value.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(invalid(
                        "trust_proxy",
                        &s,
                        format!("'{other}' is not true or false"),
                    ));
                }
            };
        }
        if let Some(s) = pick(
            "session_idle_minutes",
            "DRIFTA_SESSION_IDLE_MINUTES",
            file.session_idle_minutes.map(|n| n.to_string()),
            &path,
            env,
        ) {
            let minutes: i64 = s
                .value
                .parse()
                .ok()
                .filter(|m| (5..=7 * 24 * 60).contains(m))
                .ok_or_else(|| {
                    invalid(
                        "session_idle_minutes",
                        &s,
                        format!(
                            "'{}' is not a whole number of minutes from 5 to 10080 (one week)",
                            s.value
                        ),
                    )
                })?;
            config.web.session_idle = SignedDuration::from_mins(minutes);
        }
        if let Some(s) = pick(
            "max_connections",
            "DRIFTA_MAX_CONNECTIONS",
            file.max_connections.map(|n| n.to_string()),
            &path,
            env,
        ) {
            config.max_connections = s
                .value
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "max_connections",
                        &s,
                        format!("'{}' is not a whole number from 1 to 1000", s.value),
                    )
                })?;
        }
        if let Some(s) = pick("log", "DRIFTA_LOG", file.log, &path, env) {
            config.log = s.value.parse().map_err(|_| {
                invalid(
                    "log",
                    &s,
                    format!(
                        "'{}' is not one of error, warn, info, debug, trace",
                        s.value
                    ),
                )
            })?;
        }
        let smtp_url = pick("smtp_url", "DRIFTA_SMTP_URL", file.smtp_url, &path, env);
        let mail_from = pick("mail_from", "DRIFTA_MAIL_FROM", file.mail_from, &path, env);
        match (smtp_url, mail_from) {
            (Some(url), Some(from)) => {
                if !(url.value.starts_with("smtp://") || url.value.starts_with("smtps://")) {
                    return Err(invalid(
                        "smtp_url",
                        &url,
                        "must start with smtp:// (e.g. smtp://mail.example.no:587?tls=required) or smtps:// (e.g. smtps://user:password@mail.example.no:465)",
                    ));
                }
                if drifta_core::validate::email(
                    from.value
                        .rsplit_once('<')
                        .map_or(from.value.as_str(), |(_, a)| a.trim_end_matches('>')),
                )
                .is_err()
                {
                    return Err(invalid(
                        "mail_from",
                        &from,
                        format!(
                            "'{}' is not an address such as drift@provider.no or \"Drifta <drift@provider.no>\"",
                            from.value
                        ),
                    ));
                }
                config.outgoing.smtp = Some((url.value, from.value));
            }
            (Some(url), None) => {
                return Err(invalid(
                    "smtp_url",
                    &url,
                    "is set but mail_from is not: set mail_from to the sender address, e.g. drift@provider.no",
                ));
            }
            (None, Some(from)) => {
                return Err(invalid(
                    "mail_from",
                    &from,
                    "is set but smtp_url is not: set smtp_url to the mail server",
                ));
            }
            (None, None) => {}
        }
        if let Some(s) = pick(
            "sms_gateway_url",
            "DRIFTA_SMS_GATEWAY_URL",
            file.sms_gateway_url,
            &path,
            env,
        ) {
            if drifta_core::alert::webhook_url(&s.value).is_err() {
                return Err(invalid(
                    "sms_gateway_url",
                    &s,
                    "must be an http:// or https:// address, with {to} and {message} where the gateway wants them (or none for a JSON POST)",
                ));
            }
            let token = pick(
                "sms_gateway_token",
                "DRIFTA_SMS_GATEWAY_TOKEN",
                file.sms_gateway_token,
                &path,
                env,
            )
            .map(|t| t.value);
            config.outgoing.sms = Some((s.value, token));
        }
        if let Some(s) = pick(
            "secret_key",
            "DRIFTA_SECRET_KEY",
            file.secret_key,
            &path,
            env,
        ) {
            config.secret_key = Some(
                drifta_core::seal::SecretKey::from_hex(&s.value)
                    .map_err(|e| invalid("secret_key", &s, e.to_string()))?,
            );
        }
        if let Some(s) = pick(
            "mail_ca_file",
            "DRIFTA_MAIL_CA_FILE",
            file.mail_ca_file,
            &path,
            env,
        ) {
            if !Path::new(&s.value).is_file() {
                return Err(invalid(
                    "mail_ca_file",
                    &s,
                    format!("'{}' is not a readable file", s.value),
                ));
            }
            config.mail_ca_file = Some(s.value);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drifta.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults_without_file_or_environment() {
        let c = Config::load(None, &env_of(&[])).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert!(c.database_url_is_default);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    }

    #[test]
    fn environment_overrides_file() {
        let (_d, path) = write("listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n");
        let c = Config::load(Some(&path), &env_of(&[("DRIFTA_LISTEN", "0.0.0.0:9100")])).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9100");
        assert_eq!(c.log, tracing::Level::DEBUG);
    }

    #[test]
    fn bad_values_name_the_key_and_the_allowed_values() {
        let err = Config::load(None, &env_of(&[("DRIFTA_LISTEN", "localhost")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`listen`")
                && err.contains("DRIFTA_LISTEN")
                && err.contains("127.0.0.1:8080"),
            "{err}"
        );

        let err = Config::load(None, &env_of(&[("DRIFTA_SECURE_COOKIES", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("auto, always, never"), "{err}");

        let err = Config::load(None, &env_of(&[("DRIFTA_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`database_url`") && err.contains("sqlite://"),
            "{err}"
        );

        let err = Config::load(None, &env_of(&[("DRIFTA_SESSION_IDLE_MINUTES", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("session_idle_minutes"), "{err}");
    }

    #[test]
    fn secret_key_and_mail_ca_file() {
        let key = "ab".repeat(32);
        let c = Config::load(None, &env_of(&[("DRIFTA_SECRET_KEY", key.as_str())])).unwrap();
        let sealed = c.secret_key.as_ref().unwrap().seal("pw");
        let again = drifta_core::seal::SecretKey::from_hex(&key).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "pw");
        let err = Config::load(None, &env_of(&[("DRIFTA_SECRET_KEY", "short")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("secret_key") && err.contains("openssl rand -hex 32"),
            "{err}"
        );
        let err = Config::load(
            None,
            &env_of(&[("DRIFTA_MAIL_CA_FILE", "/nonexistent/ca.pem")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mail_ca_file") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn outgoing_mail_and_sms() {
        let (_d, path) = write(
            "smtp_url = \"smtp://mail.example.no:587?tls=required\"\nmail_from = \"Drifta <drift@example.no>\"\nsms_gateway_url = \"https://sms.example/send?to={to}&text={message}\"\n",
        );
        let c = Config::load(
            Some(&path),
            &env_of(&[("DRIFTA_SMS_GATEWAY_TOKEN", "s3cret")]),
        )
        .unwrap();
        assert_eq!(
            c.outgoing.smtp,
            Some((
                "smtp://mail.example.no:587?tls=required".into(),
                "Drifta <drift@example.no>".into()
            ))
        );
        assert_eq!(
            c.outgoing.sms,
            Some((
                "https://sms.example/send?to={to}&text={message}".into(),
                Some("s3cret".into())
            ))
        );
        for (pairs, expected) in [
            (vec![("DRIFTA_SMTP_URL", "smtp://x")], "mail_from is not"),
            (vec![("DRIFTA_MAIL_FROM", "a@b.no")], "smtp_url is not"),
            (
                vec![
                    ("DRIFTA_SMTP_URL", "mail.example.no"),
                    ("DRIFTA_MAIL_FROM", "a@b.no"),
                ],
                "must start with smtp://",
            ),
            (
                vec![
                    ("DRIFTA_SMTP_URL", "smtp://x"),
                    ("DRIFTA_MAIL_FROM", "drift"),
                ],
                "is not an address",
            ),
            (
                vec![("DRIFTA_SMS_GATEWAY_URL", "sms.example")],
                "`sms_gateway_url`",
            ),
        ] {
            let err = Config::load(None, &env_of(&pairs)).unwrap_err().to_string();
            assert!(err.contains(expected), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn malformed_or_unknown_keys_in_the_file_are_errors() {
        let (_d, path) = write("listn = \"x\"\n");
        let err = Config::load(Some(&path), &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listn"), "{err}");
        assert!(!err.contains('\n'));

        let (_d, path) = write("trust_proxy = \"sometimes\"\n");
        let err = Config::load(Some(&path), &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("trust_proxy"), "{err}");

        let (_d, path) = write("this is not toml");
        assert!(matches!(
            Config::load(Some(&path), &env_of(&[])),
            Err(ConfigError::Parse { .. })
        ));

        let missing = PathBuf::from("/nonexistent/drifta.toml");
        assert!(matches!(
            Config::load(Some(&missing), &env_of(&[])),
            Err(ConfigError::Read { .. })
        ));
    }
}
