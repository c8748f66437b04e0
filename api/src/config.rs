//! Typed configuration, loaded once in `main` from defaults, then environment variables, then
//! command-line flags, and passed down. Secrets never reach the logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use domain::orders::payments::ProviderKind;

#[derive(Clone)]
pub struct Config {
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Redis for rate limits and pub/sub across nodes; `None` runs them in-process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so several deployments (or tests) share a server.
    pub redis_prefix: String,
    pub bind: SocketAddr,
    /// HS256 signing key for access tokens.
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl: Duration,
    /// Login attempts allowed per phone, and per client address, in `login_window`.
    pub login_limit_per_phone: u32,
    pub login_limit_per_ip: u32,
    pub login_window: Duration,
    /// Public trace look-ups allowed per client address per minute.
    pub trace_limit_per_minute: u32,
    /// How long a PLACED order waits for the dealer before it expires.
    pub order_confirm_within: Duration,
    /// How often the background task looks for expired orders.
    pub sweep_interval: Duration,
    /// Below this many sellable units a dealer gets a LOW_STOCK alert.
    pub low_stock_threshold: i64,
    /// HMAC key the payment provider signs its callbacks with.
    pub payment_secret: Vec<u8>,
    /// The payment provider (`NONGZI_PAYMENT_PROVIDER`); `None` refuses ONLINE payment.
    pub payment_provider: Option<ProviderKind>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    pub max_connections: u32,
    /// Mark the web pages' cookies `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("bind", &self.bind)
            .field("jwt_secret", &"<redacted>")
            .field(
                "payment_provider",
                &self.payment_provider.map(|k| k.as_str()),
            )
            .finish_non_exhaustive()
    }
}

/// Hides a password in a connection URL before it is logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_SQLITE: &str = "sqlite://nongzi.db?mode=rwc";
const KEY_FILE: &str = "nongzi.jwt.key";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match env(name) {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v} is not valid")),
        None => Ok(default),
    }
}

impl Config {
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Reads the environment: `DATABASE_URL`, `REDIS_URL`, `NONGZI_BIND`, `NONGZI_JWT_SECRET`
    /// (or `NONGZI_JWT_KEY_FILE`), `NONGZI_ACCESS_TTL_SECS`, `NONGZI_LOGIN_LIMIT_PHONE`,
    /// `NONGZI_LOGIN_LIMIT_IP`, `NONGZI_LOGIN_WINDOW_SECS`, `NONGZI_TRUST_FORWARDED_FOR`,
    /// `NONGZI_REDIS_PREFIX`, `NONGZI_DB_MAX_CONNECTIONS`, `NONGZI_TRACE_LIMIT_PER_MINUTE`,
    /// `NONGZI_ORDER_CONFIRM_MINUTES`, `NONGZI_SWEEP_SECS`, `NONGZI_LOW_STOCK_THRESHOLD`,
    /// `NONGZI_PAYMENT_SECRET`, `NONGZI_PAYMENT_PROVIDER`.
    /// `bind` overrides `NONGZI_BIND` (the `--bind` flag).
    pub fn from_env(bind: Option<SocketAddr>) -> anyhow::Result<Config> {
        let database_url = env("DATABASE_URL").unwrap_or_else(|| DEFAULT_SQLITE.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite:, postgres:// or postgresql://");
        }
        let bind = match bind {
            Some(b) => b,
            None => env("NONGZI_BIND")
                .unwrap_or_else(|| DEFAULT_BIND.into())
                .parse()
                .context("NONGZI_BIND is not an address like 127.0.0.1:8080")?,
        };
        let is_sqlite = database_url.starts_with("sqlite:");
        let jwt_secret = match env("NONGZI_JWT_SECRET") {
            Some(s) if s.len() >= 32 => s.into_bytes(),
            Some(_) => bail!("NONGZI_JWT_SECRET must be at least 32 characters"),
            None if is_sqlite => {
                let path = env("NONGZI_JWT_KEY_FILE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(KEY_FILE));
                load_or_create_key(&path)?
            }
            None => bail!(
                "NONGZI_JWT_SECRET is required when DATABASE_URL is PostgreSQL (at least 32 random characters)"
            ),
        };
        let payment_secret = env("NONGZI_PAYMENT_SECRET")
            .map(String::into_bytes)
            .unwrap_or_else(|| derived_secret(&jwt_secret, "payment-callback"));
        let payment_provider = payment_provider(env("NONGZI_PAYMENT_PROVIDER").as_deref())?;
        Ok(Config {
            database_url,
            redis_url: env("REDIS_URL"),
            redis_prefix: env("NONGZI_REDIS_PREFIX").unwrap_or_else(|| "nongzi:".into()),
            bind,
            jwt_secret,
            access_token_ttl: Duration::from_secs(env_parse("NONGZI_ACCESS_TTL_SECS", 900)?),
            login_limit_per_phone: env_parse("NONGZI_LOGIN_LIMIT_PHONE", 5)?,
            login_limit_per_ip: env_parse("NONGZI_LOGIN_LIMIT_IP", 30)?,
            login_window: Duration::from_secs(env_parse("NONGZI_LOGIN_WINDOW_SECS", 300)?),
            trace_limit_per_minute: env_parse("NONGZI_TRACE_LIMIT_PER_MINUTE", 60)?,
            order_confirm_within: Duration::from_secs(
                60 * env_parse("NONGZI_ORDER_CONFIRM_MINUTES", 48 * 60)?,
            ),
            sweep_interval: Duration::from_secs(env_parse("NONGZI_SWEEP_SECS", 30)?),
            low_stock_threshold: env_parse("NONGZI_LOW_STOCK_THRESHOLD", 5)?,
            payment_secret,
            payment_provider,
            trust_forwarded_for: env_parse("NONGZI_TRUST_FORWARDED_FOR", false)?,
            secure_cookies: env_parse("NONGZI_SECURE_COOKIES", false)?,
            max_connections: env_parse(
                "NONGZI_DB_MAX_CONNECTIONS",
                if is_sqlite { 4 } else { 16 },
            )?,
        })
    }

    /// A configuration for tests and tools: the given database, everything else at defaults.
    pub fn for_database(database_url: &str, redis_url: Option<&str>, jwt_secret: &[u8]) -> Config {
        Config {
            database_url: database_url.to_owned(),
            redis_url: redis_url.map(str::to_owned),
            redis_prefix: "nongzi:".into(),
            bind: "127.0.0.1:0".parse().expect("literal address"),
            jwt_secret: jwt_secret.to_vec(),
            access_token_ttl: Duration::from_secs(900),
            login_limit_per_phone: 5,
            login_limit_per_ip: 30,
            login_window: Duration::from_secs(300),
            trace_limit_per_minute: 60,
            order_confirm_within: Duration::from_secs(48 * 3600),
            sweep_interval: Duration::from_secs(30),
            low_stock_threshold: 5,
            payment_secret: derived_secret(jwt_secret, "payment-callback"),
            // The tests pay online, as a demo does.
            payment_provider: Some(ProviderKind::Sandbox),
            trust_forwarded_for: false,
            secure_cookies: false,
            max_connections: if database_url.starts_with("sqlite:") {
                4
            } else {
                8
            },
        }
    }
}

/// The value of `NONGZI_PAYMENT_PROVIDER`: unset or `none` for no provider (ONLINE payment is
/// refused), or a known provider's name. Anything else stops the server at start.
pub fn payment_provider(value: Option<&str>) -> anyhow::Result<Option<ProviderKind>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match ProviderKind::parse(v) {
        Some(k) => Ok(Some(k)),
        None => {
            let known = ProviderKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            bail!(
                "NONGZI_PAYMENT_PROVIDER={v} 不是已知的支付服务（可选：{known}；不设置或设为 none 则不开通在线支付） / \
                 NONGZI_PAYMENT_PROVIDER={v} is not a known payment provider (known: {known}; unset it or set none to refuse online payment)"
            )
        }
    }
}

/// A key derived from the JWT key for another purpose, so one secret configures both.
impl Config {
    pub fn web_secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The key of the web pages' anonymous CSRF tokens, derived from the signing key.
    pub fn web_key(&self) -> Vec<u8> {
        derived_secret(&self.jwt_secret, "web-csrf")
    }
}

fn derived_secret(base: &[u8], purpose: &str) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(purpose.as_bytes());
    h.update(base);
    hex::encode(h.finalize()).into_bytes()
}

/// The embedded default keeps its signing key in a file only the owner can read, created on
/// first start.
fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        let key =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let key = key.trim().to_owned();
        if key.len() < 32 {
            bail!("{} holds a key shorter than 32 characters", path.display());
        }
        return Ok(key.into_bytes());
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    write_private(path, &key)?;
    tracing::warn!(path = %path.display(), "generated a new JWT signing key (kept readable only by its owner); set NONGZI_JWT_SECRET to choose your own");
    Ok(key.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_provider_setting() {
        assert_eq!(payment_provider(None).unwrap(), None);
        assert_eq!(payment_provider(Some(" ")).unwrap(), None);
        assert_eq!(payment_provider(Some("none")).unwrap(), None);
        assert_eq!(
            payment_provider(Some("sandbox")).unwrap(),
            Some(ProviderKind::Sandbox)
        );
        let e = payment_provider(Some("paypal")).unwrap_err().to_string();
        assert!(e.contains("NONGZI_PAYMENT_PROVIDER=paypal"), "{e}");
        assert!(
            e.contains("不是已知的支付服务") && e.contains("not a known payment provider"),
            "{e}"
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://nongzi.db"), "sqlite://nongzi.db");
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("nongzi-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k");
        let a = load_or_create_key(&p).unwrap();
        let b = load_or_create_key(&p).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
