//! `/bureau/stats`: the county's statistics (统计监测) for a date range and optionally one
//! township (a GET form; this year by default), each table with its chart and its CSV
//! (`/bureau/stats/{table}.csv?from=&to=&township=`). The page and the CSV show the same cells,
//! made by one function per table, so what is downloaded is what was read.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::Lang;
use domain::bureau::stats::{self, Statistics, StatsQuery, Table};
use domain::csv_export::{Cell, CsvExport};
use serde::Deserialize;

use super::Desk;
use super::chart::{self, Series};
use crate::state::AppState;
use crate::web::ctx::{Path, Query, page};
use crate::web::view::{category_words, crop_words, licence_words};
use crate::web::{Ctx, WebError, WebResult};

#[derive(Deserialize, Default, Clone)]
pub struct StatsForm {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub township: String,
    #[serde(default)]
    pub county: String,
}

impl StatsForm {
    /// The form as the domain's query; a bad date or township is refused by name.
    fn query(&self) -> Result<StatsQuery, domain::Error> {
        let id = |field: &str, s: &str| -> Result<Option<i64>, domain::Error> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| {
                domain::Error::invalid(
                    field,
                    domain::Code::InvalidFormat,
                    "编号应为数字",
                    "an id is a number",
                )
            })
        };
        Ok(StatsQuery {
            county_id: id("county", &self.county)?,
            from: crate::web::open_data::date("from", &self.from)?,
            to: crate::web::open_data::date("to", &self.to)?,
            township_id: id("township", &self.township)?,
        })
    }

    /// The query string that names the same range and township.
    fn qs(&self, st: &Statistics) -> String {
        let mut q = format!("from={}&to={}", st.scope.from, st.scope.to);
        if let Some(t) = st.scope.township_id {
            q.push_str(&format!("&township={t}"));
        }
        if !self.county.trim().is_empty() {
            q.push_str(&format!("&county={}", st.scope.county.id));
        }
        q
    }
}

pub struct Opt {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub struct Head {
    pub text: String,
    pub num: bool,
}

/// A table's cells as the page and its CSV show them.
pub struct Grid {
    pub head: Vec<Head>,
    pub rows: Vec<Vec<String>>,
}

pub struct TableView {
    pub key: &'static str,
    /// Rows in the table (the page shows at most [`PAGE_ROWS`]; the CSV all).
    pub total: usize,
    pub title: String,
    pub note: String,
    pub csv: String,
    pub charts: Vec<String>,
    pub grid: Grid,
}

#[derive(askama::Template)]
#[template(path = "bureau/stats.html")]
struct StatsPage {
    c: crate::web::Chrome,
    from: String,
    to: String,
    county: String,
    admin: bool,
    townships: Vec<Opt>,
    tables: Vec<TableView>,
    errors: Vec<String>,
}

/// The most rows a table shows on the page; the CSV has every row.
pub const PAGE_ROWS: usize = 100;

const CATEGORIES: [domain::types::Category; 3] = [
    domain::types::Category::Fertiliser,
    domain::types::Category::Seed,
    domain::types::Category::Pesticide,
];

use crate::web::ctx::refused;

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

fn num(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_owned()
    } else {
        s
    }
}

fn opt(x: Option<f64>, places: usize) -> String {
    x.map(|x| num(x, places)).unwrap_or_else(|| "—".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn head(lang: Lang, cols: &[(&str, &str, bool)]) -> Vec<Head> {
    cols.iter()
        .map(|(zh, en, n)| Head {
            text: lang.pick(zh, en).to_owned(),
            num: *n,
        })
        .collect()
}

/// The cells of one table.
pub fn grid(st: &Statistics, t: Table, lang: Lang) -> Grid {
    let town = |id: Option<i64>| st.scope.township_name(id, lang);
    let name = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    match t {
        Table::Categories => Grid {
            head: head(
                lang,
                &[
                    ("乡镇", "Township", false),
                    ("月份", "Month", false),
                    ("类别", "Category", false),
                    ("销售行数", "Sale lines", true),
                    ("数量（件）", "Packs", true),
                    ("金额（元）", "Amount (yuan)", true),
                    ("化肥（千克）", "Fertiliser (kg)", true),
                ],
            ),
            rows: st
                .categories
                .iter()
                .map(|r| {
                    vec![
                        town(r.township_id),
                        r.month.clone(),
                        category_words(r.category, lang).to_owned(),
                        r.lines.to_string(),
                        r.quantity.to_string(),
                        yuan(r.amount_fen),
                        num(r.kg, 3),
                    ]
                })
                .collect(),
        },
        Table::Products => Grid {
            head: head(
                lang,
                &[
                    ("乡镇", "Township", false),
                    ("产品", "Product", false),
                    ("类别", "Category", false),
                    ("销售行数", "Sale lines", true),
                    ("数量（件）", "Packs", true),
                    ("金额（元）", "Amount (yuan)", true),
                    ("化肥（千克）", "Fertiliser (kg)", true),
                ],
            ),
            rows: st
                .products
                .iter()
                .map(|r| {
                    vec![
                        town(r.township_id),
                        name(&r.name_zh, &r.name_en),
                        category_words(r.category, lang).to_owned(),
                        r.lines.to_string(),
                        r.quantity.to_string(),
                        yuan(r.amount_fen),
                        num(r.kg, 3),
                    ]
                })
                .collect(),
        },
        Table::Restricted => Grid {
            head: head(
                lang,
                &[
                    ("乡镇", "Township", false),
                    ("月份", "Month", false),
                    ("作物", "Crop", false),
                    ("防治对象", "Target", false),
                    ("产品", "Product", false),
                    ("销售笔数", "Sales", true),
                    ("数量（件）", "Packs", true),
                    ("金额（元）", "Amount (yuan)", true),
                ],
            ),
            rows: st
                .restricted
                .iter()
                .map(|r| {
                    let none = || lang.pick("未登记", "not recorded").to_owned();
                    vec![
                        town(r.township_id),
                        r.month.clone(),
                        r.crop
                            .as_deref()
                            .map(|c| crop_words(c, lang))
                            .unwrap_or_else(none),
                        r.target.clone().unwrap_or_else(none),
                        name(&r.name_zh, &r.name_en),
                        r.sales.to_string(),
                        r.quantity.to_string(),
                        yuan(r.amount_fen),
                    ]
                })
                .collect(),
        },
        Table::Nutrients => Grid {
            head: head(
                lang,
                &[
                    ("乡镇", "Township", false),
                    ("耕地（亩）", "Fields (mu)", true),
                    ("有建议的耕地（亩）", "Advised fields (mu)", true),
                    ("N 售出（千克）", "N sold (kg)", true),
                    ("N 售出（千克/亩）", "N sold (kg/mu)", true),
                    ("N 建议（千克/亩）", "N advised (kg/mu)", true),
                    ("N 差（千克/亩）", "N gap (kg/mu)", true),
                    ("P₂O₅ 售出（千克）", "P₂O₅ sold (kg)", true),
                    ("P₂O₅ 售出（千克/亩）", "P₂O₅ sold (kg/mu)", true),
                    ("P₂O₅ 建议（千克/亩）", "P₂O₅ advised (kg/mu)", true),
                    ("P₂O₅ 差（千克/亩）", "P₂O₅ gap (kg/mu)", true),
                    ("K₂O 售出（千克）", "K₂O sold (kg)", true),
                    ("K₂O 售出（千克/亩）", "K₂O sold (kg/mu)", true),
                    ("K₂O 建议（千克/亩）", "K₂O advised (kg/mu)", true),
                    ("K₂O 差（千克/亩）", "K₂O gap (kg/mu)", true),
                ],
            ),
            rows: st
                .nutrients
                .iter()
                .map(|r| {
                    let (s, a, g) = (r.sold_per_mu(), r.advised_per_mu(), r.gap_per_mu());
                    let kg = [r.n_kg, r.p2o5_kg, r.k2o_kg];
                    let mut v = vec![
                        town(r.township_id),
                        num(r.area_mu, 1),
                        num(r.advised_area_mu, 1),
                    ];
                    for i in 0..3 {
                        v.extend([num(kg[i], 3), opt(s[i], 2), opt(a[i], 2), opt(g[i], 2)]);
                    }
                    v
                })
                .collect(),
        },
        Table::Coverage => Grid {
            head: head(
                lang,
                &[
                    ("乡镇", "Township", false),
                    ("地块", "Fields", true),
                    ("已测土", "Soil-tested", true),
                    ("测土覆盖率", "Coverage", true),
                    ("有效的施肥建议", "Recommendations in force", true),
                    ("已按建议下单", "Ordered", true),
                    ("采纳率", "Adoption", true),
                ],
            ),
            rows: st
                .coverage
                .iter()
                .map(|r| {
                    vec![
                        town(Some(r.township_id)),
                        r.fields.to_string(),
                        r.tested.to_string(),
                        pct(r.coverage()),
                        r.published.to_string(),
                        r.ordered.to_string(),
                        pct(r.adoption()),
                    ]
                })
                .collect(),
        },
        Table::Licences => Grid {
            head: head(
                lang,
                &[
                    ("经销商", "Dealer", false),
                    ("乡镇", "Township", false),
                    ("许可证", "Licence", false),
                    ("编号", "Number", false),
                    ("有效期至", "Valid to", false),
                    ("剩余天数", "Days left", true),
                ],
            ),
            rows: st
                .licences
                .iter()
                .map(|r| {
                    vec![
                        name(&r.dealer_zh, &r.dealer_en),
                        town(r.township_id),
                        licence_words(r.kind, lang).to_owned(),
                        r.number.clone(),
                        r.valid_to.to_string(),
                        r.days_left.to_string(),
                    ]
                })
                .collect(),
        },
    }
}

/// Every month from the range's first to its last, `YYYY-MM`.
fn months_of(st: &Statistics) -> Vec<String> {
    use chrono::Datelike;
    let (mut y, mut m) = (st.scope.from.year(), st.scope.from.month());
    let (ey, em) = (st.scope.to.year(), st.scope.to.month());
    let mut out = Vec::new();
    while (y, m) <= (ey, em) {
        out.push(format!("{y:04}-{m:02}"));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

/// The township labels of the bars: the scope's townships (or the one chosen), then the county
/// seat when it has figures.
fn town_labels(st: &Statistics, seat: bool, lang: Lang) -> (Vec<Option<i64>>, Vec<String>) {
    let mut ids: Vec<Option<i64>> = st
        .scope
        .townships
        .iter()
        .filter(|t| st.scope.township_id.is_none_or(|x| x == t.id))
        .map(|t| Some(t.id))
        .collect();
    if seat {
        ids.push(None);
    }
    let labels = ids
        .iter()
        .map(|t| st.scope.township_name(*t, lang))
        .collect();
    (ids, labels)
}

fn charts(st: &Statistics, t: Table, lang: Lang) -> Vec<String> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let key = t.key();
    let (title_zh, title_en) = t.title();
    let title = lang.pick(title_zh, title_en);
    let yuan_f = |v: f64| format!("¥{}", num(v, 0));
    match t {
        Table::Categories => {
            let seat = st.categories.iter().any(|r| r.township_id.is_none());
            let (ids, labels) = town_labels(st, seat, lang);
            let by_town = Series {
                name: l("金额（元）", "Amount (yuan)").into(),
                values: ids
                    .iter()
                    .map(|t| {
                        st.categories
                            .iter()
                            .filter(|r| r.township_id == *t)
                            .map(|r| r.amount_fen)
                            .sum::<i64>() as f64
                            / 100.0
                    })
                    .collect(),
            };
            let months = months_of(st);
            let series: Vec<Series> = CATEGORIES
                .iter()
                .map(|c| Series {
                    name: category_words(*c, lang).into(),
                    values: months
                        .iter()
                        .map(|m| {
                            st.categories
                                .iter()
                                .filter(|r| &r.month == m && r.category == *c)
                                .map(|r| r.amount_fen)
                                .sum::<i64>() as f64
                                / 100.0
                        })
                        .collect(),
                })
                .collect();
            vec![
                chart::bars(
                    &format!("{key}-town"),
                    &format!("{title} · {}", l("按乡镇", "by township")),
                    l(
                        "各乡镇的销售金额（元），数据见下表。",
                        "Sales amount (yuan) of each township; the table below has the figures.",
                    ),
                    &labels,
                    &[by_town],
                    yuan_f,
                ),
                chart::months(
                    &format!("{key}-month"),
                    &format!("{title} · {}", l("按月", "by month")),
                    l(
                        "每月各类别的销售金额（元），数据见下表。",
                        "Sales amount (yuan) of each category per month; the table below has the figures.",
                    ),
                    &months,
                    &series,
                    yuan_f,
                ),
            ]
        }
        Table::Products => {
            let mut by: Vec<(String, i64)> = Vec::new();
            for r in &st.products {
                let n = lang.pick(&r.name_zh, &r.name_en).to_owned();
                match by.iter_mut().find(|x| x.0 == n) {
                    Some(x) => x.1 += r.amount_fen,
                    None => by.push((n, r.amount_fen)),
                }
            }
            by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            by.truncate(10);
            vec![chart::bars(
                key,
                &format!("{title} · {}", l("金额前十", "top ten by amount")),
                l(
                    "销售金额最高的十个产品（元），数据见下表。",
                    "The ten products with the largest sales amount (yuan); the table below has the figures.",
                ),
                &by.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
                &[Series {
                    name: l("金额（元）", "Amount (yuan)").into(),
                    values: by.iter().map(|x| x.1 as f64 / 100.0).collect(),
                }],
                yuan_f,
            )]
        }
        Table::Restricted => {
            let seat = st.restricted.iter().any(|r| r.township_id.is_none());
            let (ids, labels) = town_labels(st, seat, lang);
            vec![chart::bars(
                key,
                &format!("{title} · {}", l("按乡镇", "by township")),
                l(
                    "各乡镇售出的限用农药件数，数据见下表。",
                    "Packs of restricted-use pesticide sold in each township; the table below has the figures.",
                ),
                &labels,
                &[Series {
                    name: l("数量（件）", "Packs").into(),
                    values: ids
                        .iter()
                        .map(|t| {
                            st.restricted
                                .iter()
                                .filter(|r| r.township_id == *t)
                                .map(|r| r.quantity)
                                .sum::<i64>() as f64
                        })
                        .collect(),
                }],
                |v| num(v, 0),
            )]
        }
        Table::Nutrients => {
            let rows: Vec<_> = st.nutrients.iter().collect();
            let labels: Vec<String> = rows
                .iter()
                .map(|r| st.scope.township_name(r.township_id, lang))
                .collect();
            let total = |x: [Option<f64>; 3]| x.iter().flatten().sum::<f64>();
            let months = months_of(st);
            let at = |m: &String| st.nutrient_months.iter().find(|x| &x.month == m);
            vec![
                chart::bars(
                    &format!("{key}-town"),
                    &format!(
                        "{title} · {}",
                        l("每亩养分（N+P₂O₅+K₂O）", "nutrients per mu (N+P₂O₅+K₂O)")
                    ),
                    l(
                        "各乡镇每亩售出的养分与施肥建议的养分（千克/亩），数据见下表。",
                        "Nutrients sold per mu and advised per mu in each township (kg/mu); the table below has the figures.",
                    ),
                    &labels,
                    &[
                        Series {
                            name: l("售出", "Sold").into(),
                            values: rows.iter().map(|r| total(r.sold_per_mu())).collect(),
                        },
                        Series {
                            name: l("建议", "Advised").into(),
                            values: rows.iter().map(|r| total(r.advised_per_mu())).collect(),
                        },
                    ],
                    |v| num(v, 1),
                ),
                chart::months(
                    &format!("{key}-month"),
                    &format!(
                        "{title} · {}",
                        l("每月售出养分（千克）", "nutrients sold per month (kg)")
                    ),
                    l(
                        "每月售出的 N、P₂O₅、K₂O（千克）。",
                        "N, P₂O₅ and K₂O sold per month (kg).",
                    ),
                    &months,
                    &[
                        Series {
                            name: "N".into(),
                            values: months
                                .iter()
                                .map(|m| at(m).map_or(0.0, |x| x.n_kg))
                                .collect(),
                        },
                        Series {
                            name: "P₂O₅".into(),
                            values: months
                                .iter()
                                .map(|m| at(m).map_or(0.0, |x| x.p2o5_kg))
                                .collect(),
                        },
                        Series {
                            name: "K₂O".into(),
                            values: months
                                .iter()
                                .map(|m| at(m).map_or(0.0, |x| x.k2o_kg))
                                .collect(),
                        },
                    ],
                    |v| num(v, 0),
                ),
            ]
        }
        Table::Coverage => {
            let labels: Vec<String> = st
                .coverage
                .iter()
                .map(|r| st.scope.township_name(Some(r.township_id), lang))
                .collect();
            vec![chart::bars(
                key,
                &format!("{title} · {}", l("按乡镇", "by township")),
                l(
                    "各乡镇的测土覆盖率与建议采纳率（%），数据见下表。",
                    "Soil-test coverage and advice adoption (%) of each township; the table below has the figures.",
                ),
                &labels,
                &[
                    Series {
                        name: l("测土覆盖率", "Coverage").into(),
                        values: st
                            .coverage
                            .iter()
                            .map(|r| r.coverage().unwrap_or(0.0) * 100.0)
                            .collect(),
                    },
                    Series {
                        name: l("采纳率", "Adoption").into(),
                        values: st
                            .coverage
                            .iter()
                            .map(|r| r.adoption().unwrap_or(0.0) * 100.0)
                            .collect(),
                    },
                ],
                |v| format!("{}%", num(v, 0)),
            )]
        }
        Table::Licences => vec![],
    }
}

fn note(t: Table, lang: Lang) -> String {
    let (zh, en) = match t {
        Table::Categories => (
            "销售计入买方所在村的乡镇；无村的柜台销售计入售出经销商所在乡镇。月份按北京时间。",
            "A sale counts in the township of the buyer's village; a counter sale with no village counts in the selling dealer's township. Months are China time.",
        ),
        Table::Products => ("整个日期范围内的合计。", "Totals over the whole range."),
        Table::Restricted => (
            "作物与防治对象为销售时登记的内容。",
            "Crop and target as recorded at the sale.",
        ),
        Table::Nutrients => (
            "售出养分 = 化肥养分含量 × 每件千克数 × 件数，按乡镇全部耕地面积折算每亩；建议 = 截至范围末仍有效的已发布施肥建议，按地块面积加权；差 = 售出 − 建议（正数表示多于建议）。",
            "Nutrients sold = the fertiliser's analysis x kg per pack x packs, per mu of all the township's fields; advised = the published recommendations in force at the end of the range, weighted by field area; gap = sold − advised (positive: more than advised).",
        ),
        Table::Coverage => (
            "测土：范围末之前采样的地块；采纳：农户从施肥建议页把配方加入购物车并下单（未取消、未过期）。",
            "Tested: fields with a sample taken by the end of the range; adopted: the farmer put the basket in the cart from the advice page and ordered it (not cancelled or expired).",
        ),
        Table::Licences => (
            "从今天起 90 天内到期，不受日期范围影响。",
            "Expiring within 90 days from today, whatever the range.",
        ),
    };
    lang.pick(zh, en).to_owned()
}

pub async fn page_get(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
    Query(form): Query<StatsForm>,
) -> WebResult {
    let lang = ctx.lang;
    let title = ctx.l("统计监测", "Statistics");
    let q = form.query();
    let county = q.as_ref().ok().and_then(|q| q.county_id);
    let desk = Desk::open_county(&state, &ctx, title, "stats", county).await?;
    let admin = desk.actor().is_admin();
    let found = match q {
        Ok(q) => stats::statistics(state.db(), desk.actor(), &q).await,
        Err(e) => Err(e),
    };
    let townships_of = |sel: Option<i64>, list: &[domain::entities::region::Model]| {
        let mut v = vec![Opt {
            id: String::new(),
            name: lang.pick("全部乡镇", "All townships").into(),
            selected: sel.is_none(),
        }];
        v.extend(list.iter().map(|t| Opt {
            id: t.id.to_string(),
            name: lang.pick(&t.name_zh, &t.name_en).into(),
            selected: sel == Some(t.id),
        }));
        v
    };
    match found {
        Ok(st) => {
            let qs = form.qs(&st);
            let tables = Table::ALL
                .into_iter()
                .map(|t| {
                    let mut grid = grid(&st, t, lang);
                    let total = grid.rows.len();
                    grid.rows.truncate(PAGE_ROWS);
                    TableView {
                        key: t.key(),
                        total,
                        title: lang.pick(t.title().0, t.title().1).into(),
                        note: note(t, lang),
                        csv: format!("/bureau/stats/{}.csv?{qs}", t.key()),
                        charts: charts(&st, t, lang),
                        grid,
                    }
                })
                .collect();
            page(&StatsPage {
                c: desk.c,
                from: st.scope.from.to_string(),
                to: st.scope.to.to_string(),
                county: if admin {
                    st.scope.county.id.to_string()
                } else {
                    String::new()
                },
                admin,
                townships: townships_of(st.scope.township_id, &st.scope.townships),
                tables,
                errors: vec![],
            })
        }
        Err(domain::Error::Invalid(errs)) => {
            let townships =
                stats::townships(state.db(), desk.actor(), Some(desk.county.id)).await?;
            refused(page(&StatsPage {
                c: desk.c,
                from: form.from.clone(),
                to: form.to.clone(),
                county: if admin {
                    desk.county.id.to_string()
                } else {
                    String::new()
                },
                admin,
                townships: townships_of(None, &townships),
                tables: vec![],
                errors: errs.iter().map(|e| e.message(lang).to_owned()).collect(),
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// One table as CSV: what it is (county, range, township, when it was made), an empty row, then
/// the same cells as the page.
pub async fn csv(
    axum::extract::State(state): axum::extract::State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
    Query(form): Query<StatsForm>,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let Some(t) = file.strip_suffix(".csv").and_then(Table::parse) else {
        return Err(WebError::NotFound);
    };
    let bad = |e: domain::Error| match e {
        domain::Error::Invalid(_) => WebError::BadRequest(e.message(lang)),
        e => e.into(),
    };
    let q = form.query().map_err(bad)?;
    let desk = Desk::open_county(
        &state,
        &ctx,
        ctx.l("统计监测", "Statistics"),
        "stats",
        q.county_id,
    )
    .await?;
    let st = stats::statistics_for(state.db(), desk.actor(), &q, Some(t))
        .await
        .map_err(bad)?;
    let g = grid(&st, t, lang);
    let county = lang
        .pick(&st.scope.county.name_zh, &st.scope.county.name_en)
        .to_owned();
    let range = format!("{} .. {}", st.scope.from, st.scope.to);
    let township = st
        .scope
        .township_id
        .map(|id| st.scope.township_name(Some(id), lang))
        .unwrap_or_else(|| lang.pick("全部乡镇", "All townships").to_owned());
    let generated = crate::web::view::china_time(domain::now());
    let title = lang.pick(t.title().0, t.title().1);
    let about: [(&str, &str); 5] = [
        (lang.pick("统计表", "Table"), title),
        (lang.pick("县", "County"), &county),
        (lang.pick("日期范围", "Range"), &range),
        (lang.pick("乡镇", "Township"), &township),
        (lang.pick("生成时间", "Generated"), &generated),
    ];
    let header: Vec<&str> = g.head.iter().map(|h| h.text.as_str()).collect();
    let mut w = CsvExport::titled(&about, &header);
    for r in &g.rows {
        w.row(r.iter().zip(&g.head).map(|(v, h)| {
            if h.num && v.parse::<f64>().is_ok() {
                Cell::number(v)
            } else {
                Cell::text(v.as_str())
            }
        }));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-{}-{}-{}.csv\"",
                    t.key(),
                    st.scope.county.id,
                    st.scope.from,
                    st.scope.to
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        w.finish(),
    )
        .into_response())
}
