//! Static files compiled into the binary: the stylesheet (inlined into every page, so the first
//! view needs one round trip), the script, the service worker, the manifest and the icon.
//! Scripts are served under a content-hashed URL with a year-long cache and an ETag; the
//! service worker keeps a fixed URL (its scope is the whole site) and is revalidated.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub const CSS: &str = include_str!("../../assets/app.css");
/// The consoles' layout and print styles, inlined after `CSS` on console pages only (the farmer
/// pages' budget does not carry them).
pub const CONSOLE_CSS: &str = include_str!("../../assets/console.css");
const CONSOLE_JS: &str = include_str!("../../assets/console.js");
const APP_JS: &str = include_str!("../../assets/app.js");
const SW_JS: &str = include_str!("../../assets/sw.js");
const ICON_SVG: &str = include_str!("../../assets/icon.svg");
const MANIFEST: &str = include_str!("../../assets/manifest.webmanifest");

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..6])
}

struct Hashed {
    app_js: String,
    app_js_url: String,
    console_js: String,
    console_js_url: String,
    sw_js: String,
    icon: String,
}

static HASHES: LazyLock<Hashed> = LazyLock::new(|| {
    let app_js = short_hash(APP_JS);
    let console_js = short_hash(CONSOLE_JS);
    Hashed {
        console_js_url: format!("/assets/console.{console_js}.js"),
        console_js,
        app_js_url: format!("/assets/app.{app_js}.js"),
        // The worker's own text names the script it precaches, so a new script is a new worker.
        sw_js: short_hash(&format!("{SW_JS}{app_js}")),
        app_js,
        icon: short_hash(ICON_SVG),
    }
});

/// The URL of the page script (changes with its content).
pub fn app_js_url() -> &'static str {
    &HASHES.app_js_url
}

fn serve(
    headers: &HeaderMap,
    body: String,
    mime: &'static str,
    etag: &str,
    immutable: bool,
) -> Response {
    let etag = format!("\"{etag}\"");
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache.into())],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache.into()),
        ],
        body,
    )
        .into_response()
}

/// The URL of the consoles' script (changes with its content).
pub fn console_js_url() -> &'static str {
    &HASHES.console_js_url
}

/// `GET /assets/{file}`: the hashed script and the icon.
pub async fn file(headers: HeaderMap, Path(file): Path<String>) -> Response {
    let h = &*HASHES;
    if file == format!("app.{}.js", h.app_js) {
        serve(
            &headers,
            APP_JS.into(),
            "text/javascript; charset=utf-8",
            &h.app_js,
            true,
        )
    } else if file == format!("console.{}.js", h.console_js) {
        serve(
            &headers,
            CONSOLE_JS.into(),
            "text/javascript; charset=utf-8",
            &h.console_js,
            true,
        )
    } else if file == "icon.svg" {
        serve(&headers, ICON_SVG.into(), "image/svg+xml", &h.icon, false)
    } else {
        crate::rest::RestError::new("NOT_FOUND", "not found").into_response()
    }
}

/// `GET /sw.js`: the service worker, told which script URL to precache.
pub async fn service_worker(headers: HeaderMap) -> Response {
    let h = &*HASHES;
    let body = format!(
        "const APP_JS = {:?};\nconst VERSION = {:?};\n{SW_JS}",
        h.app_js_url, h.sw_js
    );
    let mut r = serve(
        &headers,
        body,
        "text/javascript; charset=utf-8",
        &h.sw_js,
        false,
    );
    r.headers_mut().insert(
        "service-worker-allowed",
        "/".parse().expect("static header"),
    );
    r
}

pub async fn manifest(headers: HeaderMap) -> Response {
    serve(
        &headers,
        MANIFEST.into(),
        "application/manifest+json",
        &short_hash(MANIFEST),
        false,
    )
}
