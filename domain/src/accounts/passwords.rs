//! Password hashing (argon2id) and checking, at most one per core at a time, with a short queue
//! and a fast refusal past it.

use super::*;

/// Password hashing (argon2id takes 19 MiB and tens of milliseconds of one core) runs at most
/// once per core at a time. A request waits for its turn up to [`HASH_QUEUE_WAIT`]; past that it
/// is refused as RATE_LIMITED with a retry time, so a burst of sign-ups or logins costs a queue
/// and a fast refusal, never memory that grows with the burst.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

const HASH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = tokio::time::timeout(HASH_QUEUE_WAIT, HASHING.acquire())
        .await
        .map_err(|_| Error::RateLimited {
            retry_after_secs: 2,
        })?
        .map_err(|e| Error::Internal(format!("hashing queue: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(e.to_string()))
}

pub(crate) async fn hash_password(p: Password) -> Result<String> {
    hashing(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| Error::Internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(p.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await?
}

pub(crate) async fn verify_password(password: String, hash: String) -> Result<bool> {
    hashing(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of a password nobody has, verified when the phone is unknown so that a login for an
/// unknown phone costs as much as one for a known phone (no user enumeration by timing).
pub(crate) fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::encode_b64(b"nongzi-dummy-salt").expect("static salt");
        Argon2::default()
            .hash_password(b"not-a-password", &salt)
            .expect("argon2 with defaults")
            .to_string()
    })
    .clone()
}

#[cfg(test)]
mod hashing_tests {
    use super::*;

    #[tokio::test]
    async fn hashing_past_the_queue_is_refused_quickly_and_comes_back() {
        // Every core busy hashing: the next hash waits its turn, then is refused as
        // RATE_LIMITED instead of running alongside (memory would grow with the burst).
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        let busy = HASHING.acquire_many(n).await.unwrap();
        let started = std::time::Instant::now();
        let p = Password::parse("password", "a-long-password").unwrap();
        let r = hash_password(p).await;
        assert!(
            matches!(
                r,
                Err(Error::RateLimited {
                    retry_after_secs: 2
                })
            ),
            "{r:?}"
        );
        assert!(started.elapsed() >= HASH_QUEUE_WAIT);
        drop(busy);
        let p = Password::parse("password", "a-long-password").unwrap();
        let h = hash_password(p).await.unwrap();
        assert!(verify_password("a-long-password".into(), h).await.unwrap());
    }
}
