//! The county's statistics (统计监测) for a date range, by township and month: sales by category
//! and by product, restricted-use pesticide sales by crop and target, the fertiliser-reduction
//! monitor (化肥减量增效: nutrients sold per mu against what the published recommendations call
//! for), soil-test coverage and recommendation adoption, and dealers' licences that expire soon.
//!
//! Every table is aggregated in the database (GROUP BY, one or a few statements per table, the
//! same SQL on SQLite and PostgreSQL): a county with a million sale lines is never read into
//! memory. Only the county's regulators and admins may read it ([`super::county_scope`]).
//!
//! **The township of a sale.** A sale counts in the township of the buyer's village
//! (`sale.buyer_village_id`, a village of the county). A counter sale with no village counts in
//! the township of the selling dealer (the dealer's village's township, or the dealer's
//! township); a dealer registered at the county itself gives such a sale no township (shown as
//! "county seat"). A sale whose buyer lives in another county counts in that county, not here.
//!
//! **Dates.** `from` and `to` are China dates, both included: a sale counts when its `sold_at`
//! falls from 00:00 China time on `from` to 24:00 on `to`; months are China-time months.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use crate::accounts::Actor;
use crate::entities::region;
use crate::error::{Code, Error, Result};
use crate::types::{Category, Level, LicenceKind};

/// The longest range a statistics page or open dataset covers (ten years), so one request
/// cannot ask the database for a century.
pub const MAX_RANGE_DAYS: i64 = 3660;

/// How far ahead the licence table looks.
pub const LICENCE_WINDOW_DAYS: i64 = 90;

/// What to count: the county (an admin names one; a regulator gets their own), the range and
/// optionally one township.
#[derive(Clone, Debug, Default)]
pub struct StatsQuery {
    pub county_id: Option<i64>,
    /// First China date, included; 1 January of this year when absent.
    pub from: Option<NaiveDate>,
    /// Last China date, included; today when absent.
    pub to: Option<NaiveDate>,
    pub township_id: Option<i64>,
}

/// A checked query: the county, its townships, the range.
#[derive(Clone, Debug)]
pub struct Scope {
    pub county: region::Model,
    /// The county's townships, by name.
    pub townships: Vec<region::Model>,
    pub township_id: Option<i64>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Scope {
    /// 00:00 China time of `from`, in UTC.
    pub fn start_utc(&self) -> DateTime<Utc> {
        china_midnight(self.from)
    }
    /// 00:00 China time of the day after `to`, in UTC (excluded).
    pub fn end_utc(&self) -> DateTime<Utc> {
        china_midnight(self.to + Duration::days(1))
    }
    /// The township's name, or the county seat's words for sales with none.
    pub fn township_name(&self, id: Option<i64>, lang: crate::Lang) -> String {
        match id.and_then(|id| self.townships.iter().find(|t| t.id == id)) {
            Some(t) => lang.pick(&t.name_zh, &t.name_en).to_owned(),
            None => lang
                .pick("县城（未分乡镇）", "County seat (no township)")
                .to_owned(),
        }
    }
}

fn china_midnight(d: NaiveDate) -> DateTime<Utc> {
    (d.and_time(NaiveTime::MIN) - Duration::hours(8)).and_utc()
}

/// Checks the range and the township, and scopes the query to one county the actor may read.
pub async fn scope(db: &impl ConnectionTrait, actor: &Actor, q: &StatsQuery) -> Result<Scope> {
    let county = super::county_scope(db, actor, q.county_id).await?;
    scope_of(db, county, q).await
}

/// [`scope`] for a county already chosen (the public open data, which has no actor).
pub(crate) async fn scope_of(
    db: &impl ConnectionTrait,
    county: region::Model,
    q: &StatsQuery,
) -> Result<Scope> {
    let today = crate::today();
    let from = q
        .from
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = q.to.unwrap_or(today);
    if to < from {
        return Err(Error::invalid(
            "to",
            Code::OutOfRange,
            "结束日期不能早于开始日期",
            "the end date cannot be before the start date",
        ));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(Error::invalid(
            "from",
            Code::OutOfRange,
            "日期范围最长十年",
            "the range can be at most ten years",
        ));
    }
    let townships = townships_of(db, county.id).await?;
    if let Some(t) = q.township_id
        && !townships.iter().any(|x| x.id == t)
    {
        return Err(Error::invalid(
            "township",
            Code::UnknownReference,
            "该乡镇不在本县",
            "no such township in this county",
        ));
    }
    Ok(Scope {
        county,
        townships,
        township_id: q.township_id,
        from,
        to,
    })
}

/// The townships of a county the actor may read (the filter's choices).
pub async fn townships(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: Option<i64>,
) -> Result<Vec<region::Model>> {
    let county = super::county_scope(db, actor, county_id).await?;
    townships_of(db, county.id).await
}

pub(crate) async fn townships_of(
    db: &impl ConnectionTrait,
    county_id: i64,
) -> Result<Vec<region::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(region::Entity::find()
        .filter(region::Column::Level.eq(Level::Township))
        .filter(region::Column::ParentId.eq(county_id))
        .order_by_asc(region::Column::NameZh)
        .order_by_asc(region::Column::Id)
        .all(db)
        .await?)
}

// ------------------------------------------------------------------ SQL shared by the tables

/// A statement written with `?` placeholders, numbered `$1..` for PostgreSQL, and `{real}`
/// standing for the backend's double type (so sums of `f64` decode the same on both).
pub(crate) fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = sql.replace(
        "{real}",
        if backend == DbBackend::Postgres {
            "DOUBLE PRECISION"
        } else {
            "REAL"
        },
    );
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The China-time month (`YYYY-MM`) of a UTC timestamp column.
pub(crate) fn month_of(db: &impl ConnectionTrait, col: &str) -> String {
    if db.get_database_backend() == DbBackend::Postgres {
        format!("to_char({col} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
    } else {
        format!("strftime('%Y-%m', {col}, '+8 hours')")
    }
}

/// The CTEs every sales table starts from: `place` (every village, township and the county
/// itself, with the township it belongs to) and `s` (the county's sales in the range with their
/// township, as the module doc defines it; filtered to one township when asked). Binds: county
/// x3, start, end, then the township when filtered.
pub(crate) fn sales_base(scope: &Scope) -> (String, Vec<Value>) {
    let township =
        "CASE WHEN sa.buyer_village_id IS NULL THEN dp.township_id ELSE bp.township_id END";
    let mut sql = format!(
        "WITH place AS (
            SELECT v.id AS id, v.parent_id AS township_id FROM region v
              JOIN region t ON t.id = v.parent_id
             WHERE v.level = 'VILLAGE' AND t.parent_id = ?
            UNION ALL
            SELECT t.id, t.id FROM region t WHERE t.level = 'TOWNSHIP' AND t.parent_id = ?
            UNION ALL
            SELECT c.id, NULL FROM region c WHERE c.id = ?
        ), s AS (
            SELECT sa.id, sa.dealer_id, sa.buyer_user_id, sa.buyer_phone, sa.crop, sa.target,
                   sa.sold_at, {township} AS township_id
              FROM sale sa
              JOIN dealer d ON d.id = sa.dealer_id
              LEFT JOIN place bp ON bp.id = sa.buyer_village_id
              LEFT JOIN place dp ON dp.id = d.region_id
             WHERE sa.sold_at >= ? AND sa.sold_at < ?
               AND (bp.id IS NOT NULL OR (sa.buyer_village_id IS NULL AND dp.id IS NOT NULL))"
    );
    let c = scope.county.id;
    let mut values: Vec<Value> = vec![
        c.into(),
        c.into(),
        c.into(),
        scope.start_utc().into(),
        scope.end_utc().into(),
    ];
    if let Some(t) = scope.township_id {
        sql.push_str(&format!(" AND {township} = ?"));
        values.push(t.into());
    }
    sql.push_str("\n        )\n");
    (sql, values)
}

/// Kilograms in one pack of a SKU (`k`): kg and g packs; litres and millilitres have no weight
/// without a density and count 0.
const PACK_KG: &str =
    "k.pack_size * (CASE k.pack_unit WHEN 'kg' THEN 1.0 WHEN 'g' THEN 0.001 ELSE 0.0 END)";

async fn rows<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>> {
    Ok(T::find_by_statement(stmt(db, sql, values)).all(db).await?)
}

fn category(s: &str) -> Result<Category> {
    Category::parse(s).ok_or_else(|| Error::Internal(format!("stored category {s}")))
}

// ------------------------------------------------------------------ the sales cube

/// The county's sale lines in the range summed by township, month and product (and, for a
/// restricted-use product, by the sale's crop and target): one GROUP BY over the sale lines that
/// every sales table is then folded from. A county of a million lines gives a few thousand of
/// these rows, so one scan of the lines serves the five sales tables.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct CubeRow {
    pub township_id: Option<i64>,
    pub month: String,
    pub product_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    pub restricted: bool,
    pub crop: Option<String>,
    pub target: Option<String>,
    pub lines: i64,
    /// Distinct sales.
    pub sales: i64,
    pub quantity: i64,
    pub amount_fen: i64,
    /// Kilograms in the packs sold (kg and g packs).
    pub kg: f64,
    /// The fertiliser's analysis (`fertiliser_spec`), none for other products.
    pub n_pct: Option<f64>,
    pub p2o5_pct: Option<f64>,
    pub k2o_pct: Option<f64>,
}

/// The sales cube (one statement).
pub async fn sales_cube(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<CubeRow>> {
    let (base, values) = sales_base(scope);
    let month = month_of(db, "s.sold_at");
    // The boolean column as the condition itself (SQLite stores 0/1, PostgreSQL a boolean), so
    // the select and the group by carry the very same expression.
    let crop = "CASE WHEN p.restricted_use THEN s.crop END";
    let target = "CASE WHEN p.restricted_use THEN s.target END";
    let sql = format!(
        "{base}
        SELECT s.township_id AS township_id, {month} AS month, p.id AS product_id,
               p.name_zh AS name_zh, p.name_en AS name_en, p.category AS category,
               p.restricted_use AS restricted, {crop} AS crop, {target} AS target,
               COUNT(*) AS lines, COUNT(DISTINCT s.id) AS sales,
               CAST(SUM(sl.quantity) AS BIGINT) AS quantity,
               CAST(SUM(sl.quantity * sl.unit_price_fen) AS BIGINT) AS amount_fen,
               CAST(SUM(sl.quantity * {PACK_KG}) AS {{real}}) AS kg,
               CAST(MAX(fs.n_pct) AS {{real}}) AS n_pct,
               CAST(MAX(fs.p2o5_pct) AS {{real}}) AS p2o5_pct,
               CAST(MAX(fs.k2o_pct) AS {{real}}) AS k2o_pct
          FROM s
          JOIN sale_line sl ON sl.sale_id = s.id
          JOIN sku k ON k.id = sl.sku_id
          JOIN product p ON p.id = k.product_id
          LEFT JOIN fertiliser_spec fs ON fs.product_id = p.id
         GROUP BY s.township_id, {month}, p.id, p.name_zh, p.name_en, p.category,
                  p.restricted_use, {crop}, {target}"
    );
    rows(db, &sql, values).await
}

// ------------------------------------------------------------------ sales by category, product

/// Sales of one category in one township and month.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryRow {
    pub township_id: Option<i64>,
    /// `YYYY-MM`, China time.
    pub month: String,
    pub category: Category,
    /// Sale lines counted.
    pub lines: i64,
    /// Packs sold.
    pub quantity: i64,
    pub amount_fen: i64,
    /// For fertiliser, the kilograms sold (kg and g packs); 0 for the other categories.
    pub kg: f64,
}

/// Sales by township, month and category, by month, then township (county seat first), then
/// category.
pub fn sales_by_category(cube: &[CubeRow]) -> Result<Vec<CategoryRow>> {
    let mut by: std::collections::BTreeMap<(String, Option<i64>, String), CategoryRow> =
        Default::default();
    for r in cube {
        let c = category(&r.category)?;
        let e = by
            .entry((r.month.clone(), r.township_id, r.category.clone()))
            .or_insert_with(|| CategoryRow {
                township_id: r.township_id,
                month: r.month.clone(),
                category: c,
                lines: 0,
                quantity: 0,
                amount_fen: 0,
                kg: 0.0,
            });
        e.lines += r.lines;
        e.quantity += r.quantity;
        e.amount_fen += r.amount_fen;
        if c == Category::Fertiliser {
            e.kg += r.kg;
        }
    }
    Ok(by.into_values().collect())
}

/// Sales of one product in one township over the whole range.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub township_id: Option<i64>,
    pub product_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub category: Category,
    pub lines: i64,
    pub quantity: i64,
    pub amount_fen: i64,
    /// Fertiliser kilograms (0 for seed and pesticide).
    pub kg: f64,
}

/// Sales by township and product over the range, the largest amounts first.
pub fn sales_by_product(cube: &[CubeRow]) -> Result<Vec<ProductRow>> {
    let mut by: std::collections::BTreeMap<(i64, Option<i64>), ProductRow> = Default::default();
    for r in cube {
        let c = category(&r.category)?;
        let e = by
            .entry((r.product_id, r.township_id))
            .or_insert_with(|| ProductRow {
                township_id: r.township_id,
                product_id: r.product_id,
                name_zh: r.name_zh.clone(),
                name_en: r.name_en.clone(),
                category: c,
                lines: 0,
                quantity: 0,
                amount_fen: 0,
                kg: 0.0,
            });
        e.lines += r.lines;
        e.quantity += r.quantity;
        e.amount_fen += r.amount_fen;
        if c == Category::Fertiliser {
            e.kg += r.kg;
        }
    }
    let mut out: Vec<ProductRow> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.amount_fen
            .cmp(&a.amount_fen)
            .then(a.product_id.cmp(&b.product_id))
            .then(a.township_id.cmp(&b.township_id))
    });
    Ok(out)
}

// ------------------------------------------------------------------ restricted-use pesticides

/// Restricted-use pesticide sales (`product.restricted_use`) of one product for one crop and
/// target, in one township and month. Crop and target are what the sale recorded (`sale.crop`,
/// `sale.target`); none when the sale did not say.
#[derive(Clone, Debug, PartialEq)]
pub struct RestrictedRow {
    pub township_id: Option<i64>,
    pub month: String,
    pub crop: Option<String>,
    pub target: Option<String>,
    pub product_id: i64,
    pub name_zh: String,
    pub name_en: String,
    /// Sales (receipts) counted.
    pub sales: i64,
    pub quantity: i64,
    pub amount_fen: i64,
}

/// Restricted-use pesticide sales by township, month, crop, target and product, by month,
/// township, crop, target and product.
pub fn restricted_sales(cube: &[CubeRow]) -> Vec<RestrictedRow> {
    let mut out: Vec<RestrictedRow> = cube
        .iter()
        .filter(|r| r.restricted)
        .map(|r| RestrictedRow {
            township_id: r.township_id,
            month: r.month.clone(),
            crop: r.crop.clone(),
            target: r.target.clone(),
            product_id: r.product_id,
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            sales: r.sales,
            quantity: r.quantity,
            amount_fen: r.amount_fen,
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.month, a.township_id, &a.crop, &a.target, a.product_id).cmp(&(
            &b.month,
            b.township_id,
            &b.crop,
            &b.target,
            b.product_id,
        ))
    });
    out
}

// ------------------------------------------------------------------ fertiliser-reduction monitor

/// One township's nutrients sold against what its published recommendations call for.
///
/// - Sold: N, P2O5 and K2O kilograms in the fertiliser sold to the township in the range
///   (`fertiliser_spec` percentages x pack kilograms x packs).
/// - Per mu: sold kilograms over the area of all the township's fields (`field.area_mu`), the
///   area the fertiliser was sold to.
/// - Recommended per mu: over the recommendations in force at the end of the range (status
///   PUBLISHED, signed before its end) of the township's fields, the sum of each one's
///   kg/mu x its field's area, over the area of the fields that have one. A field with two crops
///   a year has two recommendations, and its need is their sum.
/// - Gap: sold per mu minus recommended per mu (positive: more sold than advised).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NutrientRow {
    pub township_id: Option<i64>,
    pub n_kg: f64,
    pub p2o5_kg: f64,
    pub k2o_kg: f64,
    /// All the township's fields.
    pub area_mu: f64,
    /// The fields with a recommendation in force.
    pub advised_area_mu: f64,
    /// Sum of recommendation kg/mu x field area.
    pub advised_n_kg: f64,
    pub advised_p2o5_kg: f64,
    pub advised_k2o_kg: f64,
}

fn per(kg: f64, area: f64) -> Option<f64> {
    (area > 0.0).then(|| kg / area)
}

impl NutrientRow {
    /// Sold kg per mu of the township's fields (N, P2O5, K2O); none without fields.
    pub fn sold_per_mu(&self) -> [Option<f64>; 3] {
        [
            per(self.n_kg, self.area_mu),
            per(self.p2o5_kg, self.area_mu),
            per(self.k2o_kg, self.area_mu),
        ]
    }
    /// Recommended kg per mu (N, P2O5, K2O); none without a recommendation in force.
    pub fn advised_per_mu(&self) -> [Option<f64>; 3] {
        [
            per(self.advised_n_kg, self.advised_area_mu),
            per(self.advised_p2o5_kg, self.advised_area_mu),
            per(self.advised_k2o_kg, self.advised_area_mu),
        ]
    }
    /// Sold minus recommended, kg per mu.
    pub fn gap_per_mu(&self) -> [Option<f64>; 3] {
        let s = self.sold_per_mu();
        let a = self.advised_per_mu();
        [0, 1, 2].map(|i| Some(s[i]? - a[i]?))
    }
}

/// N, P2O5, K2O kilograms of a cube row (none when it is no fertiliser with an analysis).
fn nutrients_of(r: &CubeRow) -> Option<[f64; 3]> {
    Some([
        r.kg * r.n_pct? / 100.0,
        r.kg * r.p2o5_pct? / 100.0,
        r.kg * r.k2o_pct? / 100.0,
    ])
}

#[derive(FromQueryResult)]
struct FieldsRaw {
    township_id: i64,
    fields: i64,
    tested: i64,
    area_mu: f64,
    advised_area_mu: f64,
}

#[derive(FromQueryResult)]
struct AdviceRaw {
    township_id: i64,
    published: i64,
    ordered: i64,
    n_kg: f64,
    p2o5_kg: f64,
    k2o_kg: f64,
}

/// A recommendation in force at the end of the range (bound: end).
const IN_FORCE: &str = "r.status = 'PUBLISHED' AND r.signed_at < ?";

/// Fields per township: how many, how many with a soil test sampled by the end of the range,
/// their area, and the area of those with a recommendation in force (one statement).
async fn fields_by_township(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<FieldsRaw>> {
    let mut sql = format!(
        "SELECT v.parent_id AS township_id, COUNT(*) AS fields,
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM soil_test st
                                          WHERE st.field_id = f.id AND st.sampled_on <= ?)
                         THEN 1 ELSE 0 END) AS BIGINT) AS tested,
                CAST(SUM(f.area_mu) AS {{real}}) AS area_mu,
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM recommendation r
                                          WHERE r.field_id = f.id AND {IN_FORCE})
                         THEN f.area_mu ELSE 0.0 END) AS {{real}}) AS advised_area_mu
           FROM field f
           JOIN region v ON v.id = f.village_id
           JOIN region t ON t.id = v.parent_id
          WHERE t.parent_id = ?"
    );
    let mut values: Vec<Value> = vec![
        scope.to.into(),
        scope.end_utc().into(),
        scope.county.id.into(),
    ];
    if let Some(t) = scope.township_id {
        sql.push_str(" AND t.id = ?");
        values.push(t.into());
    }
    sql.push_str(" GROUP BY v.parent_id ORDER BY 1");
    rows(db, &sql, values).await
}

/// Recommendations in force per township: how many, how many were ordered (an order line
/// carries the recommendation, and the order was neither cancelled nor expired), and their
/// kg/mu x field area (one statement).
async fn advice_by_township(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<AdviceRaw>> {
    let mut sql = format!(
        "SELECT v.parent_id AS township_id, COUNT(*) AS published,
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM order_line ol
                                            JOIN customer_order o ON o.id = ol.order_id
                                           WHERE ol.recommendation_id = r.id
                                             AND o.status NOT IN ('CANCELLED', 'EXPIRED'))
                         THEN 1 ELSE 0 END) AS BIGINT) AS ordered,
                CAST(SUM(r.n_kg_per_mu * f.area_mu) AS {{real}}) AS n_kg,
                CAST(SUM(r.p2o5_kg_per_mu * f.area_mu) AS {{real}}) AS p2o5_kg,
                CAST(SUM(r.k2o_kg_per_mu * f.area_mu) AS {{real}}) AS k2o_kg
           FROM recommendation r
           JOIN field f ON f.id = r.field_id
           JOIN region v ON v.id = f.village_id
           JOIN region t ON t.id = v.parent_id
          WHERE {IN_FORCE} AND t.parent_id = ?"
    );
    let mut values: Vec<Value> = vec![scope.end_utc().into(), scope.county.id.into()];
    if let Some(t) = scope.township_id {
        sql.push_str(" AND t.id = ?");
        values.push(t.into());
    }
    sql.push_str(" GROUP BY v.parent_id ORDER BY 1");
    rows(db, &sql, values).await
}

/// The fertiliser-reduction monitor, one row per township with fields or fertiliser sales
/// (three statements: nutrients sold, fields, recommendations).
pub async fn nutrients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    cube: &[CubeRow],
) -> Result<Vec<NutrientRow>> {
    let fields = fields_by_township(db, scope).await?;
    let advice = advice_by_township(db, scope).await?;
    let mut out: Vec<NutrientRow> = Vec::new();
    fn row(out: &mut Vec<NutrientRow>, t: Option<i64>) -> &mut NutrientRow {
        match out.iter().position(|r| r.township_id == t) {
            Some(i) => &mut out[i],
            None => {
                out.push(NutrientRow {
                    township_id: t,
                    ..Default::default()
                });
                out.last_mut().expect("just pushed")
            }
        }
    }
    for f in &fields {
        let r = row(&mut out, Some(f.township_id));
        r.area_mu = f.area_mu;
        r.advised_area_mu = f.advised_area_mu;
    }
    for a in &advice {
        let r = row(&mut out, Some(a.township_id));
        r.advised_n_kg = a.n_kg;
        r.advised_p2o5_kg = a.p2o5_kg;
        r.advised_k2o_kg = a.k2o_kg;
    }
    for c in cube {
        if let Some([n, p, k]) = nutrients_of(c) {
            let r = row(&mut out, c.township_id);
            r.n_kg += n;
            r.p2o5_kg += p;
            r.k2o_kg += k;
        }
    }
    let order = |t: Option<i64>| {
        scope
            .townships
            .iter()
            .position(|x| Some(x.id) == t)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|r| order(r.township_id));
    Ok(out)
}

/// Nutrients sold in one month (the monitor's series).
#[derive(Clone, Debug, PartialEq)]
pub struct NutrientMonth {
    pub month: String,
    pub n_kg: f64,
    pub p2o5_kg: f64,
    pub k2o_kg: f64,
}

/// Nutrients sold per month over the range, by month.
pub fn nutrients_by_month(cube: &[CubeRow]) -> Vec<NutrientMonth> {
    let mut by: std::collections::BTreeMap<&str, [f64; 3]> = Default::default();
    for c in cube {
        if let Some(x) = nutrients_of(c) {
            let e = by.entry(&c.month).or_default();
            for i in 0..3 {
                e[i] += x[i];
            }
        }
    }
    by.into_iter()
        .map(|(m, x)| NutrientMonth {
            month: m.to_owned(),
            n_kg: x[0],
            p2o5_kg: x[1],
            k2o_kg: x[2],
        })
        .collect()
}

// ------------------------------------------------------------------ coverage and adoption

/// One township's soil-test coverage and recommendation adoption.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageRow {
    pub township_id: i64,
    pub fields: i64,
    /// Fields with a soil test sampled on or before the end of the range.
    pub tested: i64,
    /// Recommendations in force at the end of the range (see [`NutrientRow`]).
    pub published: i64,
    /// Of those, the ones whose basket was ordered: an order line carries the recommendation
    /// (the farmer put the basket in the cart from the advice page and checked out), and the
    /// order was neither cancelled nor expired.
    pub ordered: i64,
}

impl CoverageRow {
    /// Tested fields / fields.
    pub fn coverage(&self) -> Option<f64> {
        (self.fields > 0).then(|| self.tested as f64 / self.fields as f64)
    }
    /// Ordered / published.
    pub fn adoption(&self) -> Option<f64> {
        (self.published > 0).then(|| self.ordered as f64 / self.published as f64)
    }
}

/// Coverage and adoption, one row per township with fields (two statements).
pub async fn coverage(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<CoverageRow>> {
    let fields = fields_by_township(db, scope).await?;
    let advice = advice_by_township(db, scope).await?;
    let mut out: Vec<CoverageRow> = fields
        .iter()
        .map(|f| {
            let a = advice.iter().find(|a| a.township_id == f.township_id);
            CoverageRow {
                township_id: f.township_id,
                fields: f.fields,
                tested: f.tested,
                published: a.map_or(0, |a| a.published),
                ordered: a.map_or(0, |a| a.ordered),
            }
        })
        .collect();
    let order = |t: i64| {
        scope
            .townships
            .iter()
            .position(|x| x.id == t)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|r| order(r.township_id));
    Ok(out)
}

// ------------------------------------------------------------------ licences

/// A dealer's licence that expires within [`LICENCE_WINDOW_DAYS`] of today.
#[derive(Clone, Debug, PartialEq)]
pub struct LicenceRow {
    pub dealer_id: i64,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub township_id: Option<i64>,
    pub kind: LicenceKind,
    pub number: String,
    pub valid_to: NaiveDate,
    pub days_left: i64,
}

#[derive(FromQueryResult)]
struct LicenceRaw {
    dealer_id: i64,
    dealer_zh: String,
    dealer_en: String,
    township_id: Option<i64>,
    kind: String,
    number: String,
    valid_to: NaiveDate,
}

/// The county's dealers' licences expiring from today to 90 days ahead, soonest first (one
/// statement). Not bound to the range: it looks ahead from today. The township filter applies.
pub async fn licences_expiring(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<LicenceRow>> {
    let today = crate::today();
    let c = scope.county.id;
    let mut sql = String::from(
        "WITH place AS (
            SELECT v.id AS id, v.parent_id AS township_id FROM region v
              JOIN region t ON t.id = v.parent_id
             WHERE v.level = 'VILLAGE' AND t.parent_id = ?
            UNION ALL
            SELECT t.id, t.id FROM region t WHERE t.level = 'TOWNSHIP' AND t.parent_id = ?
            UNION ALL
            SELECT c.id, NULL FROM region c WHERE c.id = ?
        )
        SELECT d.id AS dealer_id, d.name_zh AS dealer_zh, d.name_en AS dealer_en,
               dp.township_id AS township_id, l.kind AS kind, l.number AS number,
               l.valid_to AS valid_to
          FROM licence l
          JOIN dealer d ON d.id = l.dealer_id
          JOIN place dp ON dp.id = d.region_id
         WHERE l.valid_to >= ? AND l.valid_to <= ?",
    );
    let mut values: Vec<Value> = vec![
        c.into(),
        c.into(),
        c.into(),
        today.into(),
        (today + Duration::days(LICENCE_WINDOW_DAYS)).into(),
    ];
    if let Some(t) = scope.township_id {
        sql.push_str(" AND dp.township_id = ?");
        values.push(t.into());
    }
    sql.push_str(" ORDER BY l.valid_to, d.id, l.id");
    rows::<LicenceRaw>(db, &sql, values)
        .await?
        .into_iter()
        .map(|r| {
            Ok(LicenceRow {
                kind: LicenceKind::parse(&r.kind)
                    .ok_or_else(|| Error::Internal(format!("stored licence kind {}", r.kind)))?,
                days_left: (r.valid_to - today).num_days(),
                dealer_id: r.dealer_id,
                dealer_zh: r.dealer_zh,
                dealer_en: r.dealer_en,
                township_id: r.township_id,
                number: r.number,
                valid_to: r.valid_to,
            })
        })
        .collect()
}

// ------------------------------------------------------------------ every table at once

/// The tables of the statistics page (and its CSV downloads), by their URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Categories,
    Products,
    Restricted,
    Nutrients,
    Coverage,
    Licences,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Categories,
        Table::Products,
        Table::Restricted,
        Table::Nutrients,
        Table::Coverage,
        Table::Licences,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Table::Categories => "categories",
            Table::Products => "products",
            Table::Restricted => "restricted",
            Table::Nutrients => "nutrients",
            Table::Coverage => "coverage",
            Table::Licences => "licences",
        }
    }
    pub fn parse(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.key() == s)
    }
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Table::Categories => ("按类别销售", "Sales by category"),
            Table::Products => ("按产品销售", "Sales by product"),
            Table::Restricted => ("限用农药销售", "Restricted-use pesticide sales"),
            Table::Nutrients => ("化肥减量增效监测", "Fertiliser-reduction monitor"),
            Table::Coverage => (
                "测土覆盖与建议采纳",
                "Soil-test coverage and advice adoption",
            ),
            Table::Licences => ("90 天内到期的许可证", "Licences expiring within 90 days"),
        }
    }
}

/// Every table of the statistics page.
#[derive(Clone, Debug)]
pub struct Statistics {
    pub scope: Scope,
    pub categories: Vec<CategoryRow>,
    pub products: Vec<ProductRow>,
    pub restricted: Vec<RestrictedRow>,
    pub nutrients: Vec<NutrientRow>,
    pub nutrient_months: Vec<NutrientMonth>,
    pub coverage: Vec<CoverageRow>,
    pub licences: Vec<LicenceRow>,
}

/// The whole statistics page for an actor of the bureau.
pub async fn statistics(
    db: &impl ConnectionTrait,
    actor: &Actor,
    q: &StatsQuery,
) -> Result<Statistics> {
    statistics_for(db, actor, q, None).await
}

/// The statistics with only what `only` needs computed (the others empty): a CSV download of
/// one table reads only its own statements.
pub async fn statistics_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    q: &StatsQuery,
    only: Option<Table>,
) -> Result<Statistics> {
    let scope = scope(db, actor, q).await?;
    let wants = |t: Table| only.is_none_or(|o| o == t);
    let cube = if [
        Table::Categories,
        Table::Products,
        Table::Restricted,
        Table::Nutrients,
    ]
    .into_iter()
    .any(wants)
    {
        sales_cube(db, &scope).await?
    } else {
        vec![]
    };
    Ok(Statistics {
        categories: if wants(Table::Categories) {
            sales_by_category(&cube)?
        } else {
            vec![]
        },
        products: if wants(Table::Products) {
            sales_by_product(&cube)?
        } else {
            vec![]
        },
        restricted: if wants(Table::Restricted) {
            restricted_sales(&cube)
        } else {
            vec![]
        },
        nutrients: if wants(Table::Nutrients) {
            nutrients(db, &scope, &cube).await?
        } else {
            vec![]
        },
        nutrient_months: if wants(Table::Nutrients) {
            nutrients_by_month(&cube)
        } else {
            vec![]
        },
        coverage: if wants(Table::Coverage) {
            coverage(db, &scope).await?
        } else {
            vec![]
        },
        licences: if wants(Table::Licences) {
            licences_expiring(db, &scope).await?
        } else {
            vec![]
        },
        scope,
    })
}
