//! The per-IP limit on trace look-ups (the trace page in `web` asks it before answering).

use axum::http::HeaderMap;
use domain::Lang;

use super::RestError;
use crate::state::AppState;

/// Counts a trace look-up from the caller's IP: a 429 with `Retry-After` past the limit.
pub async fn rate_limited(
    state: &AppState,
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
    lang: Lang,
) -> Result<(), RestError> {
    let ip = crate::state::client_ip(state, headers, peer);
    let s = &state.services;
    s.limiter
        .hit(
            &format!("trace:ip:{ip}"),
            s.config.trace_limit_per_minute,
            std::time::Duration::from_secs(60),
        )
        .await
        .map_err(|r| {
            let secs = r.0.as_secs().max(1);
            RestError::rate_limited(
                secs,
                lang,
                &format!("查询过于频繁，请在 {secs} 秒后重试"),
                &format!("too many look-ups, retry in {secs} seconds"),
            )
        })
}
