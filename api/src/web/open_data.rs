//! `GET /open-data/{county}/{dataset}.json|.csv?from=&to=`: a county's published open datasets
//! for anyone, no sign-in (docs/open-data.md describes them). The county is named by its id or
//! its code; a dataset the county has not published is 404. Rate limited like the public trace
//! page (per client address).

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::bureau::open_data;
use serde::Deserialize;

use super::Ctx;
use crate::rest::RestError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Range {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A `YYYY-MM-DD` date or none when empty; a bad one is refused by name.
pub fn date(field: &str, s: &str) -> Result<Option<NaiveDate>, domain::Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        domain::Error::invalid(
            field,
            domain::Code::InvalidFormat,
            "日期格式应为 YYYY-MM-DD",
            "a date is written YYYY-MM-DD",
        )
    })
}

pub async fn dataset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((county, file)): Path<(String, String)>,
    Query(range): Query<Range>,
) -> Response {
    let lang = ctx.lang;
    if let Err(e) = crate::rest::rate_limited(&state, &headers, peer, lang).await {
        return e.into_response();
    }
    let (name, csv) = match file.rsplit_once('.') {
        Some((n, "json")) => (n, false),
        Some((n, "csv")) => (n, true),
        _ => {
            return RestError::not_found(lang, "没有这个数据集", "no such dataset").into_response();
        }
    };
    let found = async {
        let from = date("from", &range.from)?;
        let to = date("to", &range.to)?;
        open_data::public(state.db(), &county, name, from, to).await
    }
    .await;
    match found {
        Ok(d) if csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{}-{}-{}.csv\"",
                        d.dataset.key(),
                        d.county.id,
                        d.from,
                        d.to
                    ),
                ),
                (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
            ],
            d.to_csv(),
        )
            .into_response(),
        Ok(d) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            axum::Json(d.to_json()),
        )
            .into_response(),
        Err(domain::Error::NotFound { .. }) => RestError::not_found(
            lang,
            "该县没有发布这个数据集",
            "the county has not published this dataset",
        )
        .into_response(),
        Err(e) => RestError::from_domain(e, lang).into_response(),
    }
}
