//! Open data (开放数据): public, aggregated, anonymous datasets of a county, at stable URLs, that
//! the county's bureau publishes or withholds one by one. Three datasets:
//!
//! - `prices`: unit prices by product pack, township and month (median, min, max in fen, over
//!   the sale lines);
//! - `sales-volumes`: sales by category, township and month (packs, fen, fertiliser kg);
//! - `soil-grades`: soil-test grade distributions by township (China grades 1-6 of alkali N,
//!   Olsen P and available K, of each field's latest test sampled in the range).
//!
//! A sale's township is the one [`super::stats`] defines. Aggregated in the database like the
//! statistics.
//!
//! **Suppression.** No cell describes fewer than [`MIN_HOUSEHOLDS`] households or (for the
//! sales datasets) fewer than [`MIN_DEALERS`] dealers: such a row keeps its keys (township,
//! month, product or grade) and loses its figures, with the reason. Households are counted as
//! distinct buyers: a registered farmer is one household; a counter sale without an account
//! counts by the phone it recorded, and a counter sale with neither is one household on its own
//! (it names nobody). For soil grades, households are the distinct farmers owning the fields.
//! No totals are published, so a suppressed cell cannot be recovered by subtraction. Nothing
//! that names a person is ever selected: no name, phone, user id or dealer.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set,
    Value,
};
use serde_json::json;

use super::stats::{self, Scope, StatsQuery, month_of, sales_base, stmt};
use crate::accounts::Actor;
use crate::entities::{open_dataset, region};
use crate::error::{Error, Result};
use crate::types::Level;

/// The fewest households a published cell may describe.
pub const MIN_HOUSEHOLDS: i64 = 5;
/// The fewest dealers a published sales cell may describe.
pub const MIN_DEALERS: i64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    Prices,
    SalesVolumes,
    SoilGrades,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Prices, Dataset::SalesVolumes, Dataset::SoilGrades];

    /// The dataset's name in its URL and in `open_dataset.dataset`.
    pub fn key(self) -> &'static str {
        match self {
            Dataset::Prices => "prices",
            Dataset::SalesVolumes => "sales-volumes",
            Dataset::SoilGrades => "soil-grades",
        }
    }

    pub fn parse(s: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.key() == s)
    }

    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Dataset::Prices => (
                "农资价格（按产品、乡镇、月份）",
                "Prices by product, township and month",
            ),
            Dataset::SalesVolumes => (
                "农资销量（按类别、乡镇、月份）",
                "Sales volumes by category, township and month",
            ),
            Dataset::SoilGrades => (
                "土壤养分分级分布（按乡镇）",
                "Soil-test grade distributions by township",
            ),
        }
    }

    /// Whether the dealers' rule applies (the sales datasets).
    pub fn counts_dealers(self) -> bool {
        self != Dataset::SoilGrades
    }
}

/// Why a row's figures are withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suppression {
    FewHouseholds,
    FewDealers,
}

impl Suppression {
    pub fn code(self) -> &'static str {
        match self {
            Suppression::FewHouseholds => "FEWER_THAN_5_HOUSEHOLDS",
            Suppression::FewDealers => "FEWER_THAN_3_DEALERS",
        }
    }
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Suppression::FewHouseholds => {
                ("少于 5 户，不公开", "fewer than 5 households, withheld")
            }
            Suppression::FewDealers => {
                ("少于 3 家经销商，不公开", "fewer than 3 dealers, withheld")
            }
        }
    }
}

/// The suppression of a cell of `households` households and `dealers` dealers (none for the
/// soil grades).
pub fn suppression(households: i64, dealers: Option<i64>) -> Option<Suppression> {
    if households < MIN_HOUSEHOLDS {
        Some(Suppression::FewHouseholds)
    } else if dealers.is_some_and(|d| d < MIN_DEALERS) {
        Some(Suppression::FewDealers)
    } else {
        None
    }
}

/// The rule as the dataset states it.
pub fn rule_words() -> (String, String) {
    (
        format!(
            "少于 {MIN_HOUSEHOLDS} 户（不同购买人；无账户的柜台销售按登记的电话计，既无账户也无电话的每笔计一户）或少于 {MIN_DEALERS} 家经销商的单元格不公开，只注明原因；不发布合计。"
        ),
        format!(
            "No cell describing fewer than {MIN_HOUSEHOLDS} households (distinct buyers; a counter sale without an account counts by its recorded phone, one with neither counts as a household of its own) or fewer than {MIN_DEALERS} dealers is published: its figures are withheld and the reason given. No totals are published."
        ),
    )
}

/// A column of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// `string`, `integer` or `number`.
    pub kind: &'static str,
    /// A figure (withheld when the row is suppressed), not a key.
    pub measure: bool,
}

const fn col(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: &'static str,
    measure: bool,
) -> Column {
    Column {
        key,
        zh,
        en,
        kind,
        measure,
    }
}

const KEYS: [Column; 4] = [
    col(
        "township_code",
        "乡镇代码",
        "Township code",
        "string",
        false,
    ),
    col("township_zh", "乡镇", "Township (zh)", "string", false),
    col(
        "township_en",
        "乡镇（英文）",
        "Township (en)",
        "string",
        false,
    ),
    col("month", "月份", "Month", "string", false),
];

/// A dataset's columns, in order.
pub fn columns(d: Dataset) -> Vec<Column> {
    let mut c: Vec<Column> = match d {
        Dataset::SoilGrades => KEYS[..3].to_vec(),
        _ => KEYS.to_vec(),
    };
    match d {
        Dataset::Prices => c.extend([
            col("product_id", "产品编号", "Product id", "integer", false),
            col("product_zh", "产品", "Product (zh)", "string", false),
            col(
                "product_en",
                "产品（英文）",
                "Product (en)",
                "string",
                false,
            ),
            col("category", "类别", "Category", "string", false),
            col("pack", "包装", "Pack", "string", false),
            col(
                "median_unit_price_fen",
                "单价中位数（分）",
                "Median unit price (fen)",
                "integer",
                true,
            ),
            col(
                "min_unit_price_fen",
                "最低单价（分）",
                "Minimum unit price (fen)",
                "integer",
                true,
            ),
            col(
                "max_unit_price_fen",
                "最高单价（分）",
                "Maximum unit price (fen)",
                "integer",
                true,
            ),
        ]),
        Dataset::SalesVolumes => c.extend([
            col("category", "类别", "Category", "string", false),
            col("quantity", "销量（件）", "Packs sold", "integer", true),
            col("amount_fen", "金额（分）", "Amount (fen)", "integer", true),
            col(
                "fertiliser_kg",
                "化肥（千克）",
                "Fertiliser (kg)",
                "number",
                true,
            ),
        ]),
        Dataset::SoilGrades => c.extend([
            col("nutrient", "养分", "Nutrient", "string", false),
            col(
                "grade",
                "分级（1 最丰富至 6 最缺乏）",
                "Grade (1 richest to 6 poorest)",
                "integer",
                false,
            ),
            col("fields", "地块数", "Fields", "integer", true),
        ]),
    }
    c
}

/// One row: its values in [`columns`] order (measures none when suppressed).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub values: Vec<Option<serde_json::Value>>,
    pub suppressed: Option<Suppression>,
}

/// A dataset of a county for a range.
#[derive(Clone, Debug)]
pub struct OpenData {
    pub dataset: Dataset,
    pub county: region::Model,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl OpenData {
    /// The dataset as JSON: what it is, the rule, the schema and the rows.
    pub fn to_json(&self) -> serde_json::Value {
        let (rule_zh, rule_en) = rule_words();
        let (title_zh, title_en) = self.dataset.title();
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                for (c, v) in self.columns.iter().zip(&r.values) {
                    o.insert(c.key.into(), v.clone().unwrap_or(serde_json::Value::Null));
                }
                o.insert(
                    "suppressed".into(),
                    r.suppressed
                        .map_or(serde_json::Value::Null, |s| json!(s.code())),
                );
                serde_json::Value::Object(o)
            })
            .collect();
        json!({
            "dataset": self.dataset.key(),
            "title_zh": title_zh,
            "title_en": title_en,
            "county": {
                "code": self.county.code,
                "name_zh": self.county.name_zh,
                "name_en": self.county.name_en,
            },
            "from": self.from.to_string(),
            "to": self.to.to_string(),
            "generated_at": self.generated_at.to_rfc3339(),
            "suppression": {
                "min_households": MIN_HOUSEHOLDS,
                "min_dealers": if self.dataset.counts_dealers() { json!(MIN_DEALERS) } else { serde_json::Value::Null },
                "rule_zh": rule_zh,
                "rule_en": rule_en,
            },
            "columns": self.columns.iter().map(|c| json!({
                "key": c.key, "type": c.kind, "zh": c.zh, "en": c.en, "measure": c.measure,
            })).collect::<Vec<_>>(),
            "rows": rows,
        })
    }

    /// The dataset as CSV (UTF-8 with BOM, for Excel): first what it is (dataset, county,
    /// range, generation time, the suppression rule), an empty row, then the column keys and
    /// the rows; a suppressed row's figures are empty and its `suppressed` column gives the
    /// reason.
    pub fn to_csv(&self) -> String {
        use crate::csv_export::{Cell, CsvExport};
        let (rule_zh, rule_en) = rule_words();
        let (title_zh, title_en) = self.dataset.title();
        let title = format!("{title_zh} / {title_en}");
        let county = format!("{} / {}", self.county.name_zh, self.county.name_en);
        let range = format!("{} .. {}", self.from, self.to);
        let generated = self.generated_at.to_rfc3339();
        let about: [(&str, &str); 7] = [
            ("dataset", self.dataset.key()),
            ("title", &title),
            ("county", &county),
            ("range", &range),
            ("generated_at", &generated),
            ("suppression_zh", &rule_zh),
            ("suppression_en", &rule_en),
        ];
        let mut header: Vec<&str> = self.columns.iter().map(|c| c.key).collect();
        header.push("suppressed");
        let mut w = CsvExport::titled(&about, &header);
        for r in &self.rows {
            let mut cells: Vec<Cell> = self
                .columns
                .iter()
                .zip(&r.values)
                .map(|(c, v)| match v {
                    None | Some(serde_json::Value::Null) => Cell::text(""),
                    Some(serde_json::Value::String(s)) => Cell::text(s.clone()),
                    Some(x) if c.kind != "string" => Cell::number(x),
                    Some(x) => Cell::text(x.to_string()),
                })
                .collect();
            cells.push(Cell::text(
                r.suppressed.map(|s| s.code()).unwrap_or_default(),
            ));
            w.row(cells);
        }
        w.finish()
    }
}

// ------------------------------------------------------------------ publishing

/// Whether each dataset of the county is published.
pub async fn statuses(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: Option<i64>,
) -> Result<(region::Model, Vec<(Dataset, bool)>)> {
    let county = super::county_scope(db, actor, county_id).await?;
    let rows = open_dataset::Entity::find()
        .filter(open_dataset::Column::CountyId.eq(county.id))
        .all(db)
        .await?;
    let out = Dataset::ALL
        .into_iter()
        .map(|d| (d, rows.iter().any(|r| r.dataset == d.key() && r.published)))
        .collect();
    Ok((county, out))
}

/// Publishes or withdraws one dataset of the county (the county's regulators and admins).
pub async fn set_published(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: Option<i64>,
    dataset: Dataset,
    published: bool,
) -> Result<()> {
    let county = super::county_scope(db, actor, county_id).await?;
    let now = crate::now();
    match open_dataset::Entity::find()
        .filter(open_dataset::Column::CountyId.eq(county.id))
        .filter(open_dataset::Column::Dataset.eq(dataset.key()))
        .one(db)
        .await?
    {
        Some(row) => {
            let mut am: open_dataset::ActiveModel = row.into();
            am.published = Set(published);
            am.updated_by = Set(actor.user_id);
            am.updated_at = Set(now);
            am.update(db).await?;
        }
        None => {
            open_dataset::ActiveModel {
                county_id: Set(county.id),
                dataset: Set(dataset.key().to_owned()),
                published: Set(published),
                updated_by: Set(actor.user_id),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// A published dataset, for anyone: the county by its id or its code; not found when the
/// county does not exist or has not published the dataset.
pub async fn public(
    db: &impl ConnectionTrait,
    county: &str,
    dataset: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<OpenData> {
    let not_found = || Error::not_found("dataset", format!("{county}/{dataset}"));
    let d = Dataset::parse(dataset).ok_or_else(not_found)?;
    let q = region::Entity::find().filter(region::Column::Level.eq(Level::County));
    let c = match county.parse::<i64>() {
        Ok(id) => q.filter(region::Column::Id.eq(id)).one(db).await?,
        Err(_) => q.filter(region::Column::Code.eq(county)).one(db).await?,
    }
    .ok_or_else(not_found)?;
    let published = open_dataset::Entity::find()
        .filter(open_dataset::Column::CountyId.eq(c.id))
        .filter(open_dataset::Column::Dataset.eq(d.key()))
        .filter(open_dataset::Column::Published.eq(true))
        .one(db)
        .await?
        .is_some();
    if !published {
        return Err(not_found());
    }
    build(db, c, d, from, to).await
}

/// A dataset of the actor's county whether published or not (the bureau's preview).
pub async fn preview(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: Option<i64>,
    d: Dataset,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<OpenData> {
    let c = super::county_scope(db, actor, county_id).await?;
    build(db, c, d, from, to).await
}

async fn build(
    db: &impl ConnectionTrait,
    county: region::Model,
    d: Dataset,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<OpenData> {
    let scope = stats::scope_of(
        db,
        county,
        &StatsQuery {
            county_id: None,
            from,
            to,
            township_id: None,
        },
    )
    .await?;
    let rows = match d {
        Dataset::Prices => prices(db, &scope).await?,
        Dataset::SalesVolumes => volumes(db, &scope).await?,
        Dataset::SoilGrades => soil_grades(db, &scope).await?,
    };
    Ok(OpenData {
        dataset: d,
        from: scope.from,
        to: scope.to,
        county: scope.county,
        generated_at: crate::now(),
        columns: columns(d),
        rows,
    })
}

// ------------------------------------------------------------------ the datasets

/// A household: the buyer's account, else the phone the counter sale recorded, else the sale.
const HOUSEHOLD: &str = "COALESCE('u' || CAST(s.buyer_user_id AS TEXT), 'p' || s.buyer_phone, 's' || CAST(s.id AS TEXT))";

fn township_keys(scope: &Scope, id: Option<i64>) -> Vec<Option<serde_json::Value>> {
    let t = id.and_then(|id| scope.townships.iter().find(|t| t.id == id));
    vec![
        Some(
            t.and_then(|t| t.code.clone())
                .map_or(serde_json::Value::Null, |c| json!(c)),
        ),
        Some(json!(scope.township_name(id, crate::Lang::Zh))),
        Some(json!(scope.township_name(id, crate::Lang::En))),
    ]
}

fn pack(size: f64, unit: &str) -> String {
    if size.fract() == 0.0 {
        format!("{size:.0} {unit}")
    } else {
        format!("{size} {unit}")
    }
}

#[derive(FromQueryResult)]
struct PriceRaw {
    township_id: Option<i64>,
    month: String,
    product_id: i64,
    name_zh: String,
    name_en: String,
    category: String,
    pack_size: f64,
    pack_unit: String,
    min_fen: i64,
    max_fen: i64,
    mid_sum: i64,
    mid_n: i64,
    households: i64,
    dealers: i64,
}

/// Unit prices by township, month and product pack: the median of the sale lines' unit prices
/// (the middle one, or the two middle ones' mean rounded half up to the fen), min and max (one
/// statement, window functions).
async fn prices(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Row>> {
    let (base, values) = sales_base(scope);
    let month = month_of(db, "s.sold_at");
    let sql = format!(
        "{base}, l AS (
            SELECT s.township_id AS township_id, {month} AS month, sl.sku_id AS sku_id,
                   sl.unit_price_fen AS price, s.dealer_id AS dealer_id, {HOUSEHOLD} AS household,
                   ROW_NUMBER() OVER (PARTITION BY s.township_id, {month}, sl.sku_id
                                      ORDER BY sl.unit_price_fen) AS rn,
                   COUNT(*) OVER (PARTITION BY s.township_id, {month}, sl.sku_id) AS cnt
              FROM s JOIN sale_line sl ON sl.sale_id = s.id
        )
        SELECT l.township_id AS township_id, l.month AS month, p.id AS product_id,
               p.name_zh AS name_zh, p.name_en AS name_en, p.category AS category,
               k.pack_size AS pack_size, k.pack_unit AS pack_unit,
               MIN(l.price) AS min_fen, MAX(l.price) AS max_fen,
               CAST(SUM(CASE WHEN l.rn IN ((l.cnt + 1) / 2, (l.cnt + 2) / 2) THEN l.price ELSE 0 END) AS BIGINT) AS mid_sum,
               CAST(SUM(CASE WHEN l.rn IN ((l.cnt + 1) / 2, (l.cnt + 2) / 2) THEN 1 ELSE 0 END) AS BIGINT) AS mid_n,
               COUNT(DISTINCT l.household) AS households, COUNT(DISTINCT l.dealer_id) AS dealers
          FROM l
          JOIN sku k ON k.id = l.sku_id
          JOIN product p ON p.id = k.product_id
         GROUP BY l.township_id, l.month, p.id, p.name_zh, p.name_en, p.category, k.id,
                  k.pack_size, k.pack_unit
         ORDER BY 2, 1, 3, 7"
    );
    let raw = PriceRaw::find_by_statement(stmt(db, &sql, values))
        .all(db)
        .await?;
    Ok(raw
        .into_iter()
        .map(|r| {
            let sup = suppression(r.households, Some(r.dealers));
            let shown = |v: serde_json::Value| if sup.is_some() { None } else { Some(v) };
            let median = (2 * r.mid_sum + r.mid_n) / (2 * r.mid_n.max(1));
            let mut values = township_keys(scope, r.township_id);
            values.extend([
                Some(json!(r.month)),
                Some(json!(r.product_id)),
                Some(json!(r.name_zh)),
                Some(json!(r.name_en)),
                Some(json!(r.category)),
                Some(json!(pack(r.pack_size, &r.pack_unit))),
                shown(json!(median)),
                shown(json!(r.min_fen)),
                shown(json!(r.max_fen)),
            ]);
            Row {
                values,
                suppressed: sup,
            }
        })
        .collect())
}

#[derive(FromQueryResult)]
struct VolumeRaw {
    township_id: Option<i64>,
    month: String,
    category: String,
    quantity: i64,
    amount_fen: i64,
    kg: f64,
    households: i64,
    dealers: i64,
}

/// Sales by township, month and category (one statement).
async fn volumes(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Row>> {
    let (base, values) = sales_base(scope);
    let month = month_of(db, "s.sold_at");
    let sql = format!(
        "{base}
        SELECT s.township_id AS township_id, {month} AS month, p.category AS category,
               CAST(SUM(sl.quantity) AS BIGINT) AS quantity,
               CAST(SUM(sl.quantity * sl.unit_price_fen) AS BIGINT) AS amount_fen,
               CAST(SUM(CASE WHEN p.category = 'FERTILISER'
                             THEN sl.quantity * k.pack_size * (CASE k.pack_unit WHEN 'kg' THEN 1.0 WHEN 'g' THEN 0.001 ELSE 0.0 END)
                             ELSE 0.0 END) AS {{real}}) AS kg,
               COUNT(DISTINCT {HOUSEHOLD}) AS households, COUNT(DISTINCT s.dealer_id) AS dealers
          FROM s
          JOIN sale_line sl ON sl.sale_id = s.id
          JOIN sku k ON k.id = sl.sku_id
          JOIN product p ON p.id = k.product_id
         GROUP BY s.township_id, {month}, p.category
         ORDER BY 2, 1, 3"
    );
    let raw = VolumeRaw::find_by_statement(stmt(db, &sql, values))
        .all(db)
        .await?;
    Ok(raw
        .into_iter()
        .map(|r| {
            let sup = suppression(r.households, Some(r.dealers));
            let shown = |v: serde_json::Value| if sup.is_some() { None } else { Some(v) };
            let mut values = township_keys(scope, r.township_id);
            values.extend([
                Some(json!(r.month)),
                Some(json!(r.category)),
                shown(json!(r.quantity)),
                shown(json!(r.amount_fen)),
                shown(json!((r.kg * 1000.0).round() / 1000.0)),
            ]);
            Row {
                values,
                suppressed: sup,
            }
        })
        .collect())
}

#[derive(FromQueryResult)]
struct GradeRaw {
    township_id: i64,
    nutrient: String,
    grade: i64,
    fields: i64,
    households: i64,
}

/// `CASE` giving the China grade (1..6) of a column from the advisor's edges (a value strictly
/// above a grade's lower edge is in that grade; at or below the last edge, grade 6; the 2nd
/// National Soil Survey grades, advisor/data/china_grades.toml).
fn grade_case(col: &str, edges: &[f64]) -> String {
    let mut s = String::from("CAST(CASE");
    for (i, e) in edges.iter().enumerate() {
        s.push_str(&format!(" WHEN {col} > {e:?} THEN {}", i + 1));
    }
    s.push_str(&format!(" ELSE {} END AS BIGINT)", edges.len() + 1));
    s
}

/// Fields per township, nutrient and China grade, from each field's latest test sampled in the
/// range (the most recently entered one); households are the fields' distinct farmers (one
/// statement).
async fn soil_grades(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Row>> {
    let china = &advisor::data::tables().china;
    let sql = format!(
        "WITH lt AS (
            SELECT st.field_id AS field_id, st.alkali_n_mg_kg AS n, st.olsen_p_mg_kg AS p,
                   st.available_k_mg_kg AS k
              FROM soil_test st
             WHERE st.sampled_on >= ? AND st.sampled_on <= ?
               AND st.id = (SELECT MAX(s2.id) FROM soil_test s2
                             WHERE s2.field_id = st.field_id
                               AND s2.sampled_on >= ? AND s2.sampled_on <= ?)
        ), lf AS (
            SELECT v.parent_id AS township_id, f.farmer_id AS farmer_id, lt.n AS n, lt.p AS p,
                   lt.k AS k
              FROM lt
              JOIN field f ON f.id = lt.field_id
              JOIN region v ON v.id = f.village_id
              JOIN region t ON t.id = v.parent_id
             WHERE t.parent_id = ?
        ), g AS (
            SELECT township_id, farmer_id, 'alkali_n' AS nutrient, {} AS grade FROM lf WHERE n IS NOT NULL
            UNION ALL
            SELECT township_id, farmer_id, 'olsen_p', {} FROM lf WHERE p IS NOT NULL
            UNION ALL
            SELECT township_id, farmer_id, 'available_k', {} FROM lf WHERE k IS NOT NULL
        )
        SELECT township_id, nutrient, grade, COUNT(*) AS fields,
               COUNT(DISTINCT farmer_id) AS households
          FROM g
         GROUP BY township_id, nutrient, grade
         ORDER BY 1, 2, 3",
        grade_case("n", &china.alkali_n.lower_bounds),
        grade_case("p", &china.olsen_p.lower_bounds),
        grade_case("k", &china.available_k.lower_bounds),
    );
    let values: Vec<Value> = vec![
        scope.from.into(),
        scope.to.into(),
        scope.from.into(),
        scope.to.into(),
        scope.county.id.into(),
    ];
    let mut raw = GradeRaw::find_by_statement(stmt(db, &sql, values))
        .all(db)
        .await?;
    let order = |t: i64| {
        scope
            .townships
            .iter()
            .position(|x| x.id == t)
            .unwrap_or(usize::MAX)
    };
    raw.sort_by_key(|r| (order(r.township_id), r.nutrient.clone(), r.grade));
    Ok(raw
        .into_iter()
        .map(|r| {
            let sup = suppression(r.households, None);
            let mut values = township_keys(scope, Some(r.township_id));
            values.extend([
                Some(json!(r.nutrient)),
                Some(json!(r.grade)),
                if sup.is_some() {
                    None
                } else {
                    Some(json!(r.fields))
                },
            ]);
            Row {
                values,
                suppressed: sup,
            }
        })
        .collect())
}
