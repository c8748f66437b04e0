//! `openData(county, dataset, from, to)`: a county's published open datasets for anyone, the
//! same rows as `/open-data/{county}/{dataset}.json` (docs/open-data.md). No login; rate limited
//! per client address like `trace`. A dataset the county has not published is `null`.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::NaiveDate;
use domain::Error;
use domain::bureau::open_data;

use super::{ApiResult, db, lang, parse_gid, req, services, to_gql};

#[derive(Default)]
pub struct OpenDataQuery;

/// A column of an open dataset.
#[derive(SimpleObject)]
pub struct OpenDataColumn {
    /// The key in the JSON rows and the CSV header (`township_zh`, `median_unit_price_fen`...).
    key: String,
    /// `string`, `integer` or `number`.
    kind: String,
    zh: String,
    en: String,
    /// A figure (withheld when its row is suppressed), not a key.
    measure: bool,
}

/// A row: its values in column order as text (`null` where withheld or absent).
#[derive(SimpleObject)]
pub struct OpenDataRow {
    values: Vec<Option<String>>,
    /// Why the row's figures are withheld: `FEWER_THAN_5_HOUSEHOLDS`, `FEWER_THAN_3_DEALERS`.
    suppressed: Option<String>,
}

/// A county's published open dataset for a range.
#[derive(SimpleObject)]
pub struct OpenDataset {
    dataset: String,
    title: String,
    county_name: String,
    from: NaiveDate,
    to: NaiveDate,
    generated_at: chrono::DateTime<chrono::Utc>,
    /// The suppression rule, in the caller's language.
    suppression_rule: String,
    min_households: i32,
    /// None for the soil grades (no dealer in them).
    min_dealers: Option<i32>,
    columns: Vec<OpenDataColumn>,
    rows: Vec<OpenDataRow>,
}

#[Object]
impl OpenDataQuery {
    /// A county's published open dataset (`prices`, `sales-volumes`, `soil-grades`) for a range
    /// of China dates (this year by default). No login needed; null when the county has not
    /// published it. Rate limited per client address.
    async fn open_data(
        &self,
        ctx: &Context<'_>,
        county: ID,
        dataset: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> ApiResult<Option<OpenDataset>> {
        let l = lang(ctx);
        let s = services(ctx);
        s.limiter
            .hit(
                &format!("trace:ip:{}", req(ctx).client_ip),
                s.config.trace_limit_per_minute,
                std::time::Duration::from_secs(60),
            )
            .await
            .map_err(|r| {
                to_gql(
                    Error::RateLimited {
                        retry_after_secs: r.0.as_secs().max(1),
                    },
                    l,
                )
            })?;
        let id = parse_gid("county", "Region", &county).map_err(|e| to_gql(e, l))?;
        let d = match open_data::public(db(ctx), &id.to_string(), &dataset, from, to).await {
            Ok(d) => d,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(to_gql(e, l)),
        };
        let (rule_zh, rule_en) = open_data::rule_words();
        let (title_zh, title_en) = d.dataset.title();
        Ok(Some(OpenDataset {
            dataset: d.dataset.key().to_owned(),
            title: l.pick(title_zh, title_en).to_owned(),
            county_name: l.pick(&d.county.name_zh, &d.county.name_en).to_owned(),
            from: d.from,
            to: d.to,
            generated_at: d.generated_at,
            suppression_rule: l.pick(&rule_zh, &rule_en).to_owned(),
            min_households: open_data::MIN_HOUSEHOLDS as i32,
            min_dealers: d
                .dataset
                .counts_dealers()
                .then_some(open_data::MIN_DEALERS as i32),
            columns: d
                .columns
                .iter()
                .map(|c| OpenDataColumn {
                    key: c.key.to_owned(),
                    kind: c.kind.to_owned(),
                    zh: c.zh.to_owned(),
                    en: c.en.to_owned(),
                    measure: c.measure,
                })
                .collect(),
            rows: d
                .rows
                .iter()
                .map(|r| OpenDataRow {
                    values: r
                        .values
                        .iter()
                        .map(|v| match v {
                            None | Some(serde_json::Value::Null) => None,
                            Some(serde_json::Value::String(s)) => Some(s.clone()),
                            Some(x) => Some(x.to_string()),
                        })
                        .collect(),
                    suppressed: r.suppressed.map(|s| s.code().to_owned()),
                })
                .collect(),
        }))
    }
}
