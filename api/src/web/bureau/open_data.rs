//! `/bureau/open-data`: the county's open datasets with their public URLs, whether each is
//! published, a preview of this year's rows (suppressed cells as the public sees them), and the
//! publish / withdraw button. Publishing is idempotent (a form sent twice leaves it published).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::bureau::open_data::{self, Dataset};
use serde::Deserialize;

use super::Desk;
use crate::state::AppState;
use crate::web::ctx::{Query, page};
use crate::web::{Ctx, WebError, WebResult};

/// Rows shown in each preview.
const PREVIEW_ROWS: usize = 8;

pub struct DatasetView {
    pub key: &'static str,
    pub title: String,
    pub published: bool,
    pub json: String,
    pub csv: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub total: usize,
    pub suppressed: usize,
}

#[derive(askama::Template)]
#[template(path = "bureau/open_data.html")]
struct OpenDataPage {
    c: crate::web::Chrome,
    county: String,
    admin: bool,
    rule: String,
    datasets: Vec<DatasetView>,
    done: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    county: String,
    #[serde(default)]
    done: String,
}

pub async fn page_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let lang = ctx.lang;
    let county = q.county.trim().parse::<i64>().ok();
    let desk =
        Desk::open_county(&state, &ctx, ctx.l("开放数据", "Open data"), "open", county).await?;
    let db = state.db();
    let (c, statuses) = open_data::statuses(db, desk.actor(), Some(desk.county.id)).await?;
    let mut datasets = Vec::new();
    for (d, published) in statuses {
        let data = open_data::preview(db, desk.actor(), Some(c.id), d, None, None).await?;
        let shown: Vec<usize> = data
            .columns
            .iter()
            .enumerate()
            .filter(|(_, col)| {
                let other = lang.pick("_en", "_zh");
                !col.key.ends_with(other) && col.key != "township_code"
            })
            .map(|(i, _)| i)
            .collect();
        let head = shown
            .iter()
            .map(|i| {
                lang.pick(data.columns[*i].zh, data.columns[*i].en)
                    .to_owned()
            })
            .chain([lang.pick("说明", "Note").to_owned()])
            .collect();
        let rows = data
            .rows
            .iter()
            .take(PREVIEW_ROWS)
            .map(|r| {
                shown
                    .iter()
                    .map(|i| match &r.values[*i] {
                        None => "—".to_owned(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                    })
                    .chain([r
                        .suppressed
                        .map(|s| lang.pick(s.words().0, s.words().1).to_owned())
                        .unwrap_or_default()])
                    .collect()
            })
            .collect();
        let (zh, en) = d.title();
        datasets.push(DatasetView {
            key: d.key(),
            title: lang.pick(zh, en).to_owned(),
            published,
            json: format!("/open-data/{}/{}.json", c.id, d.key()),
            csv: format!("/open-data/{}/{}.csv", c.id, d.key()),
            head,
            total: data.rows.len(),
            suppressed: data.rows.iter().filter(|r| r.suppressed.is_some()).count(),
            rows,
        });
    }
    let (rule_zh, rule_en) = open_data::rule_words();
    let done = match q.done.as_str() {
        "published" => ctx.l("已发布。", "Published."),
        "withdrawn" => ctx.l("已停止发布。", "Withdrawn."),
        _ => "",
    };
    page(&OpenDataPage {
        admin: desk.actor().is_admin(),
        county: c.id.to_string(),
        c: desk.c,
        rule: lang.pick(&rule_zh, &rule_en).to_owned(),
        datasets,
        done: done.to_owned(),
    })
}

#[derive(Deserialize)]
pub struct PublishForm {
    csrf: String,
    dataset: String,
    /// `1` to publish, `0` to withdraw.
    publish: String,
    #[serde(default)]
    county: String,
}

/// `POST /bureau/open-data/publish`: publishes or withdraws one dataset of the county.
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PublishForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let county = form.county.trim().parse::<i64>().ok();
    let desk = Desk::open_county(&state, &ctx, "", "open", county).await?;
    let d = Dataset::parse(&form.dataset).ok_or(WebError::NotFound)?;
    let on = form.publish == "1";
    open_data::set_published(state.db(), desk.actor(), Some(desk.county.id), d, on).await?;
    let mut url = format!(
        "/bureau/open-data?done={}",
        if on { "published" } else { "withdrawn" }
    );
    if desk.actor().is_admin() {
        url.push_str(&format!("&county={}", desk.county.id));
    }
    Ok(Redirect::to(&format!("{url}#{}", d.key())).into_response())
}
