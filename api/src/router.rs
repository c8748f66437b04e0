//! The routes: GraphQL (queries over HTTP, subscriptions over WebSocket, the console at
//! `GET /graphql`), the payment callback, health checks, the REST endpoints (`rest`) and the
//! pages (`web`); panics answered as 500s; request ids and compression.

use std::any::Any;
use std::net::SocketAddr;
use std::time::Duration;

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::Lang;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::graphql::{self, RequestCtx};
use crate::rest::RestError;

use crate::state::{AppState, bearer, client_ip, lang_of, publish_events};

/// The largest GraphQL request body: the biggest query the pages send is a few KB, and variables
/// carry no files (CSV goes to its own endpoints).
pub const MAX_GRAPHQL_BODY: usize = 256 * 1024;
/// The largest CSV upload (about 100 000 receipt rows).
pub const MAX_CSV_BODY: usize = 16 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let router = Router::new()
        .route(
            "/graphql",
            get(graphiql)
                .post(graphql_handler)
                .layer(RequestBodyLimitLayer::new(MAX_GRAPHQL_BODY)),
        )
        .route("/graphql/ws", get(graphql_ws))
        .route(
            "/payments/sandbox/callback",
            axum::routing::post(payment_callback),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/t/{code}", get(crate::web::trace::page))
        .route("/t/{code}/{file}", get(crate::rest::trace_qr))
        .route("/dealers/{dealer}/ledger.csv", get(crate::rest::ledger_csv))
        .route(
            "/dealers/{dealer}/receipts.csv",
            axum::routing::post(crate::rest::receipts_csv)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_CSV_BODY)),
        )
        .route(
            "/lots/{lot}/recall-report.csv",
            get(crate::rest::recall_csv),
        )
        .merge(crate::web::routes(state.clone()))
        .with_state(state);
    catch_panics(router)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Set on the answer to a request whose handler panicked.
#[derive(Clone, Copy)]
struct Panicked;

/// A panic in a handler is a bug. It is logged (inside the request's span, so with its request
/// id) and answered as a 500 INTERNAL error in GraphQL's shape, in the caller's language, instead
/// of a dropped connection.
fn catch_panics(router: Router) -> Router {
    router
        .layer(CatchPanicLayer::custom(
            |err: Box<dyn Any + Send + 'static>| {
                let detail = err
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| err.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_owned());
                tracing::error!(panic = %detail, "request handler panicked");
                let mut resp = internal_error(Lang::Zh);
                resp.extensions_mut().insert(Panicked);
                resp
            },
        ))
        // The panic handler cannot see the request; this layer can, and picks the language.
        .layer(axum::middleware::from_fn(
            |req: Request<axum::body::Body>, next: axum::middleware::Next| async move {
                let lang = lang_of(req.headers());
                let resp = next.run(req).await;
                if resp.extensions().get::<Panicked>().is_some() && lang != Lang::Zh {
                    internal_error(lang)
                } else {
                    resp
                }
            },
        ))
}

/// A 500 in GraphQL's response shape; the details are only in the server log.
fn internal_error(lang: Lang) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{
            "message": lang.pick("服务器内部错误", "internal error"),
            "extensions": { "code": "INTERNAL" }
        }]
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// `GET /graphql`: a small query console served from the binary (no CDN, works offline).
async fn graphiql() -> Response {
    crate::web::console::page()
}

/// A 401 in GraphQL's response shape, so clients handle it like any other error.
fn unauthenticated(lang: Lang) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{
            "message": lang.pick("登录凭证无效或已过期，请重新登录", "the access token is invalid or expired; please log in again"),
            "extensions": { "code": "UNAUTHENTICATED" }
        }]
    });
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(body),
    )
        .into_response()
}

async fn graphql_handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    req: Result<GraphQLRequest, async_graphql_axum::rejection::GraphQLRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let req = match req {
        Ok(r) => r,
        Err(rejection) => return unreadable_request(rejection, lang),
    };
    let actor = match bearer(&headers) {
        None => None,
        Some(token) => match state.services.keys.verify(token) {
            Some(a) => Some(a),
            None => return unauthenticated(lang),
        },
    };
    let ctx = RequestCtx {
        actor,
        lang,
        client_ip: client_ip(&state, &headers, peer),
    };
    let request = req
        .into_inner()
        .data(ctx)
        .data(graphql::loaders::new(state.services.db.clone()));
    let mut response = state.schema.execute(request).await;
    // What the library raised outside parsing and validation (an operation name, a value that
    // does not coerce) gets a code and the reader's language like everything else.
    response.errors = response
        .errors
        .into_iter()
        .map(|e| graphql::messages::speak_other(e, lang))
        .collect();
    GraphQLResponse::from(response).into_response()
}

/// A body that is not a GraphQL request (not JSON, no `query`, a broken multipart form): a 400
/// in GraphQL's response shape, in the reader's language.
fn unreadable_request(
    rejection: async_graphql_axum::rejection::GraphQLRejection,
    lang: Lang,
) -> Response {
    let detail = rejection.0.to_string();
    tracing::debug!(%detail, "unreadable GraphQL request");
    let (status, code, message) = match rejection.0 {
        async_graphql::ParseRequestError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            lang.pick("请求过大", "the request is too large"),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            lang.pick(
                "请求无法读取：应为 JSON 格式的 GraphQL 请求，包含 query 字段",
                "the request cannot be read: send a GraphQL request as JSON with a `query` field",
            ),
        ),
    };
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code, "detail": detail } }]
    });
    (status, Json(body)).into_response()
}

/// GraphQL subscriptions over WebSocket (graphql-transport-ws, or the older graphql-ws). The
/// access token goes in the `connection_init` payload: `{"Authorization": "Bearer <jwt>"}`
/// (or `{"token": "<jwt>"}`). A bad token refuses the connection.
async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Response {
    let lang = lang_of(&headers);
    let ip = client_ip(&state, &headers, peer);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let keys = state.services.keys.clone();
            let db = state.services.db.clone();
            async_graphql_axum::GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                        .map(|v| {
                            v.trim_start_matches("Bearer ")
                                .trim_start_matches("bearer ")
                                .to_owned()
                        })
                        .or_else(|| {
                            payload
                                .get("token")
                                .and_then(|v| v.as_str())
                                .map(str::to_owned)
                        });
                    let actor = match token {
                        Some(t) => Some(keys.verify(&t).ok_or_else(|| {
                            async_graphql::Error::new("UNAUTHENTICATED: invalid or expired token")
                        })?),
                        None => None,
                    };
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestCtx {
                        actor,
                        lang,
                        client_ip: ip,
                    });
                    data.insert(graphql::loaders::new(db));
                    Ok(data)
                })
                .serve()
        })
}

/// The payment provider's signed notice (`X-Nongzi-Signature: <hex HMAC-SHA256 of the body>`),
/// with a JSON body `{"providerRef": "...", "status": "CAPTURED" | "REFUNDED" | "FAILED" | ...}`.
async fn payment_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, RestError> {
    let sig = headers
        .get("x-nongzi-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !domain::orders::payments::verify(&state.services.config.payment_secret, &body, sig) {
        return Err(RestError::new("UNAUTHENTICATED", "bad signature"));
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Err(RestError::new("BAD_USER_INPUT", "body must be JSON"));
    };
    let (Some(reference), Some(status)) = (v["providerRef"].as_str(), v["status"].as_str()) else {
        return Err(RestError::new(
            "BAD_USER_INPUT",
            "providerRef and status are required",
        ));
    };
    // The provider reads English only, and any other refusal is ours, not the notice's.
    match domain::orders::payment_callback(state.db(), reference, status).await {
        Ok((_, events)) => {
            publish_events(&state, events).await;
            Ok((StatusCode::OK, Json(serde_json::json!({ "ok": true }))).into_response())
        }
        Err(domain::Error::NotFound { .. }) => Err(RestError::new("NOT_FOUND", "unknown payment")),
        Err(domain::Error::Invalid(_)) => Err(RestError::new("BAD_USER_INPUT", "unknown status")),
        Err(e) => {
            tracing::error!(error = %e.with_causes(), "payment callback");
            Err(RestError::internal(Lang::En))
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database and (if configured) Redis answer.
async fn readyz(State(state): State<AppState>) -> Response {
    let db_ok = state.services.db.ping().await.is_ok();
    let redis_ok = match &state.redis {
        Some(conn) => {
            let mut c = conn.clone();
            matches!(
                tokio::time::timeout(
                    Duration::from_secs(2),
                    redis::cmd("PING").query_async::<String>(&mut c)
                )
                .await,
                Ok(Ok(_))
            ) && state.services.bus.subscribed()
        }
        None => true,
    };
    let body = serde_json::json!({
        "database": if db_ok { "ok" } else { "unreachable" },
        "redis": match (&state.redis, redis_ok) { (None, _) => "not configured", (Some(_), true) => "ok", (Some(_), false) => "unreachable" },
    });
    let status = if db_ok && redis_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("a bug")
    }

    async fn answer(lang: &str) -> (u16, Value) {
        let app = super::catch_panics(axum::Router::new().route("/boom", get(boom)));
        let resp = app
            .oneshot(
                Request::get("/boom")
                    .header("accept-language", lang)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_in_graphql_shape() {
        let (status, body) = answer("en").await;
        assert_eq!(status, 500);
        assert_eq!(
            body,
            json!({"data": null, "errors": [{"message": "internal error", "extensions": {"code": "INTERNAL"}}]})
        );
        let (status, body) = answer("zh-CN").await;
        assert_eq!(status, 500);
        assert_eq!(body["errors"][0]["message"], "服务器内部错误");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    }
}
