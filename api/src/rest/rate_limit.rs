//! The per-IP limit on trace look-ups (the trace page in `web` asks it before answering).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use domain::Lang;

use super::text_error;
use crate::state::AppState;

pub async fn rate_limited(
    state: &AppState,
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
    lang: Lang,
) -> Option<Response> {
    let ip = crate::state::client_ip(state, headers, peer);
    let s = &state.services;
    match s
        .limiter
        .hit(
            &format!("trace:ip:{ip}"),
            s.config.trace_limit_per_minute,
            std::time::Duration::from_secs(60),
        )
        .await
    {
        Ok(()) => None,
        Err(r) => {
            let secs = r.0.as_secs().max(1);
            let mut resp = text_error(
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                &format!("查询过于频繁，请在 {secs} 秒后重试"),
                &format!("too many look-ups, retry in {secs} seconds"),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            Some(resp)
        }
    }
}
