//! Counterfeit and misuse signals for one county (打击假冒伪劣), each with its evidence in words
//! and the lot and sale it is about, so an inspector can act:
//!
//! - **resold code**: a unit code already sold turns up again at a dealer (a second sale or
//!   hand-over scanned it; the sale was refused and the code flagged);
//! - **far scan**: a sold unit code scanned outside the selling dealer's county, or more than
//!   [`FAR_SCAN_KM`] from the dealer when both ends have coordinates;
//! - **above label dose**: a restricted-use pesticide sold to a buyer whose fields cannot use
//!   that much (quantity x pack content above `dose_max` x area x `max_applications`);
//! - **outside licence**: a pesticide sold without a valid PESTICIDE_BUSINESS licence on the
//!   sale date, a restricted-use one without RESTRICTED_PESTICIDE, a seed without SEED_BUSINESS.
//!
//! Each kind is one SQL statement over the county's dealers and the date range: a county's
//! million sale lines stay in the database; only the signals come back. The scan-driven kinds
//! start from `code_scan` and the flagged codes (`CROSS JOIN` keeps that order on SQLite, whose
//! planner would otherwise walk every sale looking for its codes: `unit_code.sale_id` has no
//! index); the dose kind starts from the restricted-use products; the licence kind reads only
//! the sales inside a dealer's licence gaps.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value,
};

use super::{county_dealer_ids, county_scope};
use crate::accounts::Actor;
use crate::entities::{code_scan, dealer, lot, product, region, sku, unit_code};
use crate::error::Result;

/// A scan this far (great-circle km) from the selling dealer is a signal even inside the county.
/// A county in the plains is some 40-60 km across; 50 km keeps a farmer carrying a bag home to
/// a neighbouring township quiet and a bag sold in one county and turning up two counties away
/// loud.
pub const FAR_SCAN_KM: f64 = 50.0;

/// The most signals of one kind a list returns (newest first).
pub const MAX_PER_KIND: u64 = 500;

/// Mean Earth radius (IUGG), km, for the haversine distance.
const EARTH_RADIUS_KM: f64 = 6371.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalKind {
    ResoldCode,
    FarScan,
    AboveLabelDose,
    OutsideLicence,
}

impl SignalKind {
    pub const ALL: &'static [SignalKind] = &[
        SignalKind::ResoldCode,
        SignalKind::FarScan,
        SignalKind::AboveLabelDose,
        SignalKind::OutsideLicence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::ResoldCode => "RESOLD_CODE",
            SignalKind::FarScan => "FAR_SCAN",
            SignalKind::AboveLabelDose => "ABOVE_LABEL_DOSE",
            SignalKind::OutsideLicence => "OUTSIDE_LICENCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Its name, (zh, en).
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            SignalKind::ResoldCode => ("追溯码重复销售", "Unit code sold twice"),
            SignalKind::FarScan => ("异地扫码", "Scanned far from the seller"),
            SignalKind::AboveLabelDose => (
                "限用农药超标签用量",
                "Restricted pesticide above label dose",
            ),
            SignalKind::OutsideLicence => ("超许可范围经营", "Sold outside the licence"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SignalFilter {
    pub kind: Option<SignalKind>,
    /// China dates, both ends included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only this dealer's (the dealer's record).
    pub dealer_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Signal {
    pub kind: SignalKind,
    /// When it showed: the second appearance, the scan, the sale.
    pub at: DateTime<Utc>,
    pub dealer_id: i64,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub lot_id: i64,
    pub lot_no: String,
    pub product_zh: String,
    pub product_en: String,
    pub sale_id: Option<i64>,
    pub unit_code: Option<String>,
    pub evidence_zh: String,
    pub evidence_en: String,
}

/// The county's signals (newest first), for its regulators and admins.
pub async fn signals(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county: Option<i64>,
    filter: &SignalFilter,
) -> Result<(region::Model, Vec<Signal>)> {
    let c = county_scope(db, actor, county).await?;
    let mut dealers = county_dealer_ids(db, c.id).await?;
    if let Some(d) = filter.dealer_id {
        dealers.retain(|x| *x == d);
    }
    let found = county_signals(db, &c, &dealers, filter).await?;
    Ok((c, found))
}

/// Counts per dealer and kind (the dealers' list), in the same terms as [`signals`].
pub(crate) async fn county_signals(
    db: &impl ConnectionTrait,
    county: &region::Model,
    dealers: &[i64],
    filter: &SignalFilter,
) -> Result<Vec<Signal>> {
    if dealers.is_empty() {
        return Ok(vec![]);
    }
    let want = |k: SignalKind| filter.kind.is_none_or(|f| f == k);
    let mut raw = vec![];
    if want(SignalKind::ResoldCode) {
        raw.extend(resold(db, dealers, filter).await?);
    }
    if want(SignalKind::FarScan) {
        raw.extend(far_scans(db, county.id, dealers, filter).await?);
    }
    if want(SignalKind::AboveLabelDose) {
        raw.extend(above_dose(db, dealers, filter).await?);
    }
    if want(SignalKind::OutsideLicence) {
        raw.extend(outside_licence(db, dealers, filter).await?);
    }
    named(db, raw).await
}

/// Where a scan came from, for [`record_scan`].
#[derive(Clone, Copy, Debug)]
pub enum Scanner<'a> {
    /// The public trace page: whoever is signed in, if anyone.
    TracePage(Option<&'a Actor>),
    /// A dealer scanning at a sale or a hand-over.
    DealerSale(i64),
}

/// Records a scan of a unit code: when, who (only if signed in), the scanner's region (a
/// farmer's village, a dealer's region) and county, and the browser's coordinates if it gave
/// them, rounded to 0.01 degree (about 1 km). Nothing else about the reader is kept (no address,
/// no device). Lot trace codes are not recorded: they name a lot, not one bag.
pub async fn record_scan(
    db: &impl ConnectionTrait,
    unit: &unit_code::Model,
    scanner: Scanner<'_>,
    coords: Option<(f64, f64)>,
) -> Result<()> {
    use sea_orm::{ActiveModelTrait, Set};
    let (source, user_id, dealer_id, region_id) = match scanner {
        Scanner::TracePage(actor) => {
            let user = match actor {
                Some(a) => {
                    crate::entities::app_user::Entity::find_by_id(a.user_id)
                        .one(db)
                        .await?
                }
                None => None,
            };
            let dealer = match user.as_ref().and_then(|u| u.dealer_id) {
                Some(d) => dealer::Entity::find_by_id(d).one(db).await?,
                None => None,
            };
            let region = user
                .as_ref()
                .and_then(|u| u.village_id)
                .or(dealer.as_ref().map(|d| d.region_id));
            (
                crate::types::ScanSource::TracePage,
                user.map(|u| u.id),
                dealer.map(|d| d.id),
                region,
            )
        }
        Scanner::DealerSale(d) => {
            let d = crate::regions::dealer(db, d).await?;
            (
                crate::types::ScanSource::DealerSale,
                None,
                Some(d.id),
                Some(d.region_id),
            )
        }
    };
    let county_id = match region_id {
        Some(r) => crate::regions::county_of(db, r).await?,
        None => None,
    };
    let coords = coords
        .filter(|(lat, lon)| (-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon))
        .map(|(lat, lon)| ((lat * 100.0).round() / 100.0, (lon * 100.0).round() / 100.0));
    code_scan::ActiveModel {
        unit_code_id: Set(unit.id),
        lot_id: Set(unit.lot_id),
        code: Set(unit.code.clone()),
        source: Set(source),
        scanned_at: Set(crate::now()),
        user_id: Set(user_id),
        dealer_id: Set(dealer_id),
        region_id: Set(region_id),
        county_id: Set(county_id),
        lat: Set(coords.map(|c| c.0)),
        lon: Set(coords.map(|c| c.1)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Records a trace-page look-up of `code` if it is a unit code (see [`record_scan`]).
pub async fn record_code_scan(
    db: &impl ConnectionTrait,
    code: &str,
    reader: Option<&Actor>,
    coords: Option<(f64, f64)>,
) -> Result<()> {
    if let Some(u) = unit_code::Entity::find()
        .filter(unit_code::Column::Code.eq(code.trim()))
        .one(db)
        .await?
    {
        record_scan(db, &u, Scanner::TracePage(reader), coords).await?;
    }
    Ok(())
}

/// A statement with its values, written with the backend's placeholders.
struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    fn new(db: &impl ConnectionTrait) -> Self {
        Sql {
            backend: db.get_database_backend(),
            values: vec![],
        }
    }
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".into(),
        }
    }
    /// `col >= from AND col < to + 1 day`, China dates as UTC instants.
    fn range(&mut self, col: &str, f: &SignalFilter) -> String {
        let mut s = String::new();
        if let Some(from) = f.from {
            s += &format!(" AND {col} >= {}", self.bind(china_midnight(from)));
        }
        if let Some(to) = f.to.and_then(|t| t.succ_opt()) {
            s += &format!(" AND {col} < {}", self.bind(china_midnight(to)));
        }
        s
    }
    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

fn china_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::Duration::hours(8)
}

fn china_time(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Writes a signal's evidence (zh, en) once names are known.
type Evidence = Box<dyn Fn(&Names) -> (String, String) + Send>;

/// A signal before names are attached.
struct Raw {
    kind: SignalKind,
    at: DateTime<Utc>,
    dealer_id: i64,
    lot_id: i64,
    sale_id: Option<i64>,
    unit_code: Option<String>,
    /// Filled once names are known: (zh, en).
    evidence: Evidence,
}

struct Names {
    dealers: BTreeMap<i64, dealer::Model>,
    regions: BTreeMap<i64, region::Model>,
    products: BTreeMap<i64, product::Model>,
}

impl Names {
    fn dealer(&self, id: i64) -> (String, String) {
        self.dealers
            .get(&id)
            .map(|d| (d.name_zh.clone(), d.name_en.clone()))
            .unwrap_or_else(|| (format!("经销商 {id}"), format!("dealer {id}")))
    }
    fn region(&self, id: Option<i64>) -> (String, String) {
        id.and_then(|id| self.regions.get(&id))
            .map(|r| (r.name_zh.clone(), r.name_en.clone()))
            .unwrap_or_else(|| ("未知地区".into(), "an unknown place".into()))
    }
}

/// Codes sold and then scanned again at a dealer (or flagged so before scans were recorded).
async fn resold(db: &impl ConnectionTrait, dealers: &[i64], f: &SignalFilter) -> Result<Vec<Raw>> {
    let mut q = Sql::new(db);
    let range = q.range("c.scanned_at", f);
    let sql = format!(
        "SELECT c.id AS scan_id, u.id AS unit_id \
         FROM code_scan c CROSS JOIN unit_code u CROSS JOIN sale s \
         WHERE u.id = c.unit_code_id AND s.id = u.sale_id AND c.source = 'DEALER_SALE' AND u.status = 'SOLD' AND c.scanned_at > s.sold_at \
         AND s.dealer_id IN ({}){range} ORDER BY c.scanned_at DESC LIMIT {MAX_PER_KIND}",
        id_list(dealers)
    );
    let rows = db.query_all_raw(q.statement(sql)).await?;
    let mut scans_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in &rows {
        scans_of
            .entry(r.try_get::<i64>("", "unit_id")?)
            .or_default()
            .push(r.try_get::<i64>("", "scan_id")?);
    }
    // Flagged codes with no recorded scan (flagged before scans were kept).
    let mut q = Sql::new(db);
    let range = q.range("u.flagged_at", f);
    let sql = format!(
        "SELECT u.id AS unit_id FROM unit_code u CROSS JOIN sale s \
         WHERE s.id = u.sale_id AND u.flagged_at IS NOT NULL AND u.status = 'SOLD' AND s.dealer_id IN ({}){range} \
         AND NOT EXISTS (SELECT 1 FROM code_scan c WHERE c.unit_code_id = u.id \
         AND c.source = 'DEALER_SALE') LIMIT {MAX_PER_KIND}",
        id_list(dealers)
    );
    let flagged_only: Vec<i64> = db
        .query_all_raw(q.statement(sql))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "unit_id"))
        .collect::<std::result::Result<_, _>>()?;
    let unit_ids: Vec<i64> = scans_of.keys().copied().chain(flagged_only).collect();
    let units = unit_code::Entity::find()
        .filter(unit_code::Column::Id.is_in(unit_ids))
        .all(db)
        .await?;
    let scan_ids: Vec<i64> = scans_of.values().flatten().copied().collect();
    let scans: BTreeMap<i64, code_scan::Model> = code_scan::Entity::find()
        .filter(code_scan::Column::Id.is_in(scan_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let sales = sales_by_ids(db, units.iter().filter_map(|u| u.sale_id)).await?;
    let mut out = vec![];
    for u in units {
        let Some(sale) = u.sale_id.and_then(|s| sales.get(&s)).cloned() else {
            continue;
        };
        let mut again: Vec<code_scan::Model> = scans_of
            .get(&u.id)
            .into_iter()
            .flatten()
            .filter_map(|id| scans.get(id).cloned())
            .collect();
        again.sort_by_key(|s| s.scanned_at);
        let at = again
            .last()
            .map(|s| s.scanned_at)
            .or(u.flagged_at)
            .unwrap_or(sale.sold_at);
        let code = u.code.clone();
        let reason = u.flag_reason.clone().unwrap_or_default();
        out.push(Raw {
            kind: SignalKind::ResoldCode,
            at,
            dealer_id: sale.dealer_id,
            lot_id: u.lot_id,
            sale_id: Some(sale.id),
            unit_code: Some(u.code),
            evidence: Box::new(move |n: &Names| {
                let (sz, se) = n.dealer(sale.dealer_id);
                if again.is_empty() {
                    return (
                        format!(
                            "追溯码 {code} 已于 {} 由{sz}售出（销售单 {}），之后再次出现：{reason}",
                            china_time(sale.sold_at),
                            sale.id
                        ),
                        format!(
                            "unit code {code} was sold by {se} on {} (sale {}) and turned up again: {reason}",
                            china_time(sale.sold_at),
                            sale.id
                        ),
                    );
                }
                let zh: Vec<String> = again
                    .iter()
                    .map(|s| {
                        let d = s.dealer_id.map(|d| n.dealer(d).0).unwrap_or_default();
                        format!("{} 在{d}", china_time(s.scanned_at))
                    })
                    .collect();
                let en: Vec<String> = again
                    .iter()
                    .map(|s| {
                        let d = s.dealer_id.map(|d| n.dealer(d).1).unwrap_or_default();
                        format!("{} at {d}", china_time(s.scanned_at))
                    })
                    .collect();
                (
                    format!(
                        "追溯码 {code} 已于 {} 由{sz}售出（销售单 {}），之后又在销售时被扫到 {} 次：{}",
                        china_time(sale.sold_at),
                        sale.id,
                        again.len(),
                        zh.join("；")
                    ),
                    format!(
                        "unit code {code} was sold by {se} on {} (sale {}), then scanned at a sale again {} time(s): {}",
                        china_time(sale.sold_at),
                        sale.id,
                        again.len(),
                        en.join("; ")
                    ),
                )
            }),
        });
    }
    Ok(out)
}

/// Great-circle distance in km (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

/// Scans of sold codes outside the seller's county, or far from the seller.
async fn far_scans(
    db: &impl ConnectionTrait,
    county_id: i64,
    dealers: &[i64],
    f: &SignalFilter,
) -> Result<Vec<Raw>> {
    let mut q = Sql::new(db);
    let county = q.bind(county_id);
    // A prefilter the database can apply: the distance is at most 111.2 km per degree times
    // |dlat| + |dlon| (1 degree of latitude is 111.2 km, of longitude at most that), so a pair
    // under this sum is never far; the exact distance is computed below.
    let degrees = q.bind(FAR_SCAN_KM / 111.2);
    let range = q.range("c.scanned_at", f);
    let sql = format!(
        "SELECT c.id AS scan_id FROM code_scan c CROSS JOIN unit_code u CROSS JOIN sale s \
         CROSS JOIN dealer d \
         WHERE u.id = c.unit_code_id AND s.id = u.sale_id AND d.id = s.dealer_id AND u.status = 'SOLD' AND c.scanned_at >= s.sold_at AND s.dealer_id IN ({}){range} \
         AND ((c.county_id IS NOT NULL AND c.county_id <> {county}) \
           OR (c.lat IS NOT NULL AND c.lon IS NOT NULL AND d.lat IS NOT NULL AND d.lon IS NOT NULL \
               AND ABS(c.lat - d.lat) + ABS(c.lon - d.lon) > {degrees})) \
         ORDER BY c.scanned_at DESC LIMIT {MAX_PER_KIND}",
        id_list(dealers)
    );
    let ids: Vec<i64> = db
        .query_all_raw(q.statement(sql))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "scan_id"))
        .collect::<std::result::Result<_, _>>()?;
    let scans = code_scan::Entity::find()
        .filter(code_scan::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let units: BTreeMap<i64, unit_code::Model> = unit_code::Entity::find()
        .filter(unit_code::Column::Id.is_in(scans.iter().map(|s| s.unit_code_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let sales = sales_by_ids(db, units.values().filter_map(|u| u.sale_id)).await?;
    let sellers: BTreeMap<i64, dealer::Model> = dealer::Entity::find()
        .filter(dealer::Column::Id.is_in(sales.values().map(|s| s.dealer_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let mut out = vec![];
    for s in scans {
        let Some(u) = units.get(&s.unit_code_id) else {
            continue;
        };
        let Some(sale) = u.sale_id.and_then(|i| sales.get(&i)).cloned() else {
            continue;
        };
        let Some(d) = sellers.get(&sale.dealer_id) else {
            continue;
        };
        let km = match (s.lat, s.lon, d.lat, d.lon) {
            (Some(a), Some(b), Some(c), Some(e)) => Some(distance_km(a, b, c, e)),
            _ => None,
        };
        let other_county = s.county_id.is_some_and(|c| c != county_id);
        let far = km.is_some_and(|k| k > FAR_SCAN_KM);
        if !other_county && !far {
            continue;
        }
        let code = u.code.clone();
        let scan = s.clone();
        out.push(Raw {
            kind: SignalKind::FarScan,
            at: s.scanned_at,
            dealer_id: sale.dealer_id,
            lot_id: u.lot_id,
            sale_id: Some(sale.id),
            unit_code: Some(u.code.clone()),
            evidence: Box::new(move |n: &Names| {
                let (sz, se) = n.dealer(sale.dealer_id);
                let (wz, we) = match (scan.region_id.or(scan.county_id), scan.lat, scan.lon) {
                    (None, Some(lat), Some(lon)) => (
                        format!("北纬 {lat:.2}° 东经 {lon:.2}° 附近"),
                        format!("the area of {lat:.2}° N {lon:.2}° E"),
                    ),
                    (r, _, _) => n.region(r),
                };
                let (kz, ke) = match km {
                    Some(k) => (
                        format!("，距售出经销商约 {k:.0} 公里"),
                        format!(", about {k:.0} km from the seller"),
                    ),
                    None => (String::new(), String::new()),
                };
                let (cz, ce) = if other_county {
                    ("（不在售出经销商所在县）", " (outside the seller's county)")
                } else {
                    ("", "")
                };
                (
                    format!(
                        "追溯码 {code} 于 {} 由{sz}售出（销售单 {}），{} 在{wz}{cz}被扫码{kz}",
                        china_time(sale.sold_at),
                        sale.id,
                        china_time(scan.scanned_at)
                    ),
                    format!(
                        "unit code {code} was sold by {se} on {} (sale {}) and scanned on {} in {we}{ce}{ke}",
                        china_time(sale.sold_at),
                        sale.id,
                        china_time(scan.scanned_at)
                    ),
                )
            }),
        });
    }
    Ok(out)
}

/// Restricted-use pesticide sales above what the buyer's fields may take in a season: per
/// sale and product, quantity x pack content (g or ml; kg and L are x 1000) against the largest
/// `dose_max` x `max_applications` (g/mu or ml/mu, per season) of the product's uses on the
/// sale's crop x the buyer's area for that crop (the fields with a crop plan for it, else all
/// the buyer's fields). Whole packs round up and no further, as at checkout: a sale is above the
/// label when it would still cover the allowed amount without one of its smallest packs. A
/// buyer with no account or no fields cannot be measured and raises nothing. The statement
/// starts from the restricted-use products and reaches their sales through their lots (SQLite
/// keeps the order `CROSS JOIN` gives; PostgreSQL plans it as the inner join it is), so only
/// those few products' sale lines are read.
async fn above_dose(
    db: &impl ConnectionTrait,
    dealers: &[i64],
    f: &SignalFilter,
) -> Result<Vec<Raw>> {
    let mut q = Sql::new(db);
    let yes = q.bind(true);
    let range = q.range("s.sold_at", f);
    let content =
        "CASE WHEN k.pack_unit IN ('kg', 'L') THEN k.pack_size * 1000.0 ELSE k.pack_size END";
    let sql = format!(
        "SELECT * FROM ( \
           SELECT g.*, \
             (SELECT MAX(pu.dose_max * pu.max_applications) FROM pesticide_use pu \
               WHERE pu.product_id = g.product_id AND pu.crop = g.crop) AS per_mu, \
             (SELECT MAX(pu.max_applications) FROM pesticide_use pu \
               WHERE pu.product_id = g.product_id AND pu.crop = g.crop) AS applications, \
             (SELECT MIN(pu.dose_unit) FROM pesticide_use pu \
               WHERE pu.product_id = g.product_id AND pu.crop = g.crop) AS dose_unit, \
             (SELECT COALESCE(SUM(fl.area_mu), 0.0) FROM field fl WHERE fl.farmer_id = g.buyer_id \
               AND EXISTS (SELECT 1 FROM crop_plan cp WHERE cp.field_id = fl.id AND cp.crop = g.crop)) \
               AS plan_area, \
             (SELECT COALESCE(SUM(fl.area_mu), 0.0) FROM field fl WHERE fl.farmer_id = g.buyer_id) \
               AS all_area \
           FROM ( \
             SELECT s.id AS sale_id, s.dealer_id, s.buyer_user_id AS buyer_id, s.crop, \
               k.product_id, MIN(sl.lot_id) AS lot_id, CAST(SUM(sl.quantity) AS BIGINT) AS packs, \
               SUM(sl.quantity * {content}) AS amount, MIN({content}) AS smallest \
             FROM product p CROSS JOIN sku k CROSS JOIN lot lo CROSS JOIN sale_line sl \
             CROSS JOIN sale s \
             WHERE k.product_id = p.id AND lo.sku_id = k.id AND sl.lot_id = lo.id \
               AND sl.sku_id = k.id AND s.id = sl.sale_id \
               AND p.restricted_use = {yes} AND s.buyer_user_id IS NOT NULL AND s.crop IS NOT NULL \
               AND s.dealer_id IN ({}){range} \
             GROUP BY s.id, s.dealer_id, s.buyer_user_id, s.crop, k.product_id \
           ) g \
         ) x \
         WHERE x.per_mu IS NOT NULL \
           AND (CASE WHEN x.plan_area > 0 THEN x.plan_area ELSE x.all_area END) > 0 \
           AND x.amount - x.smallest >= x.per_mu * \
               (CASE WHEN x.plan_area > 0 THEN x.plan_area ELSE x.all_area END) - 0.000001 \
           AND x.amount > x.per_mu * (CASE WHEN x.plan_area > 0 THEN x.plan_area ELSE x.all_area END) \
         ORDER BY x.sale_id DESC LIMIT {MAX_PER_KIND}",
        id_list(dealers)
    );
    let rows = db.query_all_raw(q.statement(sql)).await?;
    let mut found = vec![];
    for r in rows {
        found.push((
            r.try_get::<i64>("", "sale_id")?,
            r.try_get::<i64>("", "dealer_id")?,
            r.try_get::<i64>("", "product_id")?,
            r.try_get::<i64>("", "lot_id")?,
            r.try_get::<String>("", "crop")?,
            r.try_get::<i64>("", "packs")?,
            r.try_get::<f64>("", "amount")?,
            r.try_get::<f64>("", "per_mu")?,
            i64::from(r.try_get::<i32>("", "applications").or_else(|_| {
                r.try_get::<i64>("", "applications")
                    .map(|a| i32::try_from(a).unwrap_or(i32::MAX))
            })?),
            r.try_get::<String>("", "dose_unit")?,
            r.try_get::<f64>("", "plan_area")?,
            r.try_get::<f64>("", "all_area")?,
        ));
    }
    let sales = sales_by_ids(db, found.iter().map(|f| f.0)).await?;
    let mut out = vec![];
    for (
        sale_id,
        dealer_id,
        product_id,
        lot_id,
        crop,
        packs,
        amount,
        per_mu,
        apps,
        unit,
        plan,
        all,
    ) in found
    {
        let Some(sale) = sales.get(&sale_id).cloned() else {
            continue;
        };
        let area = if plan > 0.0 { plan } else { all };
        let allowed = per_mu * area;
        let u = if unit.starts_with('g') { "g" } else { "ml" };
        let crop_zh = crate::catalog::crops::find(&crop)
            .map(|c| c.1.to_string())
            .unwrap_or_else(|| crop.clone());
        let crop_en = crate::catalog::crops::find(&crop)
            .map(|c| c.2.to_string())
            .unwrap_or_else(|| crop.clone());
        let (az, ae) = if plan > 0.0 {
            ("种植该作物的地块", "the buyer's fields planned for it")
        } else {
            ("购买人全部地块", "all the buyer's fields")
        };
        let dose = per_mu / apps.max(1) as f64;
        out.push(Raw {
            kind: SignalKind::AboveLabelDose,
            at: sale.sold_at,
            dealer_id,
            lot_id,
            sale_id: Some(sale_id),
            unit_code: None,
            evidence: Box::new(move |n: &Names| {
                let (pz, pe) = n
                    .products
                    .get(&product_id)
                    .map(|p| (p.name_zh.clone(), p.name_en.clone()))
                    .unwrap_or_default();
                (
                    format!(
                        "{} 售出限制使用农药{pz} {packs} 件，共 {amount}{u}；{crop_zh}标签最高 {dose}{unit} × {apps} 次 × {az} {area} 亩 = {allowed}{u}",
                        china_time(sale.sold_at)
                    ),
                    format!(
                        "on {} sold {packs} pack(s) of the restricted-use {pe}, {amount} {u} in all; the label for {crop_en} allows at most {dose} {unit} x {apps} applications x {area} mu ({ae}) = {allowed} {u}",
                        china_time(sale.sold_at)
                    ),
                )
            }),
        });
    }
    Ok(out)
}

/// The China dates a dealer held no valid licence of a kind, clipped to the filter: the
/// complement of its licences' validity, as `[from, to]` pairs (`None`: open-ended).
fn licence_gaps(
    licences: &[crate::entities::licence::Model],
    kind: crate::types::LicenceKind,
    f: &SignalFilter,
) -> Vec<(Option<NaiveDate>, Option<NaiveDate>)> {
    let mut spans: Vec<(NaiveDate, NaiveDate)> = licences
        .iter()
        .filter(|l| l.kind == kind && l.valid_from <= l.valid_to)
        .map(|l| (l.valid_from, l.valid_to))
        .collect();
    spans.sort();
    let mut gaps = vec![];
    let mut start: Option<NaiveDate> = None; // the first uncovered day (None: the beginning)
    let mut open = true;
    for (from, to) in spans {
        if open && start.is_none_or(|s| s < from) {
            gaps.push((start, from.pred_opt()));
        }
        let next = to.succ_opt();
        if start.is_none_or(|s| next.is_some_and(|n| n > s)) || !open {
            start = next;
        }
        open = next.is_some();
    }
    if open {
        gaps.push((start, None));
    }
    // Clip to the filter's range.
    gaps.into_iter()
        .filter_map(|(a, b)| {
            let a = match (a, f.from) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            let b = match (b, f.to) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            match (a, b) {
                (Some(x), Some(y)) if x > y => None,
                _ => Some((a, b)),
            }
        })
        .collect()
}

/// Sale lines of products the dealer held no valid licence for on the sale's China date. The
/// gaps in each dealer's licences are worked out from its few licence rows first; only sales
/// inside a gap are read, so a county of licensed dealers costs next to nothing.
async fn outside_licence(
    db: &impl ConnectionTrait,
    dealers: &[i64],
    f: &SignalFilter,
) -> Result<Vec<Raw>> {
    use crate::types::LicenceKind;
    let licences = crate::entities::licence::Entity::find()
        .filter(crate::entities::licence::Column::DealerId.is_in(dealers.iter().copied()))
        .all(db)
        .await?;
    let mut q = Sql::new(db);
    let yes = q.bind(true);
    let mut clauses = vec![];
    for d in dealers {
        let mine: Vec<_> = licences
            .iter()
            .filter(|l| l.dealer_id == *d)
            .cloned()
            .collect();
        for (kind, cond) in [
            (
                LicenceKind::PesticideBusiness,
                "p.category = 'PESTICIDE'".to_string(),
            ),
            (
                LicenceKind::RestrictedPesticide,
                format!("p.restricted_use = {yes}"),
            ),
            (LicenceKind::SeedBusiness, "p.category = 'SEED'".to_string()),
        ] {
            for (a, b) in licence_gaps(&mine, kind, f) {
                let mut c = format!("(s.dealer_id = {d} AND {cond}");
                if let Some(a) = a {
                    c += &format!(" AND s.sold_at >= {}", q.bind(china_midnight(a)));
                }
                if let Some(b) = b.and_then(|b| b.succ_opt()) {
                    c += &format!(" AND s.sold_at < {}", q.bind(china_midnight(b)));
                }
                c += ")";
                clauses.push(c);
            }
        }
    }
    if clauses.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT s.id AS sale_id, s.dealer_id, k.product_id, MIN(sl.lot_id) AS lot_id, \
           CAST(SUM(sl.quantity) AS BIGINT) AS packs \
         FROM sale s JOIN sale_line sl ON sl.sale_id = s.id JOIN sku k ON k.id = sl.sku_id \
         JOIN product p ON p.id = k.product_id \
         WHERE {} \
         GROUP BY s.id, s.dealer_id, k.product_id ORDER BY s.id DESC LIMIT {MAX_PER_KIND}",
        clauses.join(" OR ")
    );
    let rows = db.query_all_raw(q.statement(sql)).await?;
    let mut found = vec![];
    for r in rows {
        found.push((
            r.try_get::<i64>("", "sale_id")?,
            r.try_get::<i64>("", "dealer_id")?,
            r.try_get::<i64>("", "product_id")?,
            r.try_get::<i64>("", "lot_id")?,
            r.try_get::<i64>("", "packs")?,
        ));
    }
    let sales = sales_by_ids(db, found.iter().map(|f| f.0)).await?;
    let products = crate::rows_by_id!(db, product, found.iter().map(|f| f.2));
    let mut out = vec![];
    for (sale_id, dealer_id, product_id, lot_id, packs) in found {
        let (Some(sale), Some(p)) = (sales.get(&sale_id).cloned(), products.get(&product_id))
        else {
            continue;
        };
        // Which licences it lacked that day, from the same rows the gaps came from.
        let day = crate::local_date(sale.sold_at);
        let lacks = |kind: LicenceKind| {
            !licences.iter().any(|l| {
                l.dealer_id == dealer_id
                    && l.kind == kind
                    && l.valid_from <= day
                    && day <= l.valid_to
            })
        };
        let mut missing: Vec<(&str, &str)> = vec![];
        if p.category == crate::types::Category::Pesticide && lacks(LicenceKind::PesticideBusiness)
        {
            missing.push(("农药经营许可证", "pesticide business licence"));
        }
        if p.restricted_use && lacks(LicenceKind::RestrictedPesticide) {
            missing.push(("限制使用农药经营许可", "restricted-use pesticide licence"));
        }
        if p.category == crate::types::Category::Seed && lacks(LicenceKind::SeedBusiness) {
            missing.push(("种子生产经营许可证", "seed business licence"));
        }
        if missing.is_empty() {
            continue;
        }
        let mz = missing.iter().map(|m| m.0).collect::<Vec<_>>().join("、");
        let me = missing.iter().map(|m| m.1).collect::<Vec<_>>().join(", ");
        out.push(Raw {
            kind: SignalKind::OutsideLicence,
            at: sale.sold_at,
            dealer_id,
            lot_id,
            sale_id: Some(sale_id),
            unit_code: None,
            evidence: Box::new(move |n: &Names| {
                let (pz, pe) = n
                    .products
                    .get(&product_id)
                    .map(|p| (p.name_zh.clone(), p.name_en.clone()))
                    .unwrap_or_default();
                (
                    format!(
                        "{} 售出{pz} {packs} 件（销售单 {sale_id}），当日（{day}）没有有效的{mz}（过期视同没有）",
                        china_time(sale.sold_at)
                    ),
                    format!(
                        "on {} sold {packs} pack(s) of {pe} (sale {sale_id}) holding no valid {me} that day ({day}; an expired licence counts as none)",
                        china_time(sale.sold_at)
                    ),
                )
            }),
        });
    }
    Ok(out)
}

async fn sales_by_ids(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, crate::entities::sale::Model>> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    let mut out = BTreeMap::new();
    let ids: Vec<i64> = ids.into_iter().collect();
    for chunk in ids.chunks(crate::IN_CHUNK) {
        for s in crate::entities::sale::Entity::find()
            .filter(crate::entities::sale::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(s.id, s);
        }
    }
    Ok(out)
}

/// Attaches dealer, lot and product names and the evidence; newest first.
async fn named(db: &impl ConnectionTrait, raw: Vec<Raw>) -> Result<Vec<Signal>> {
    let lots: BTreeMap<i64, lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(raw.iter().map(|r| r.lot_id).collect::<BTreeSet<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let skus: BTreeMap<i64, sku::Model> = sku::Entity::find()
        .filter(sku::Column::Id.is_in(lots.values().map(|l| l.sku_id).collect::<BTreeSet<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let products: BTreeMap<i64, product::Model> = product::Entity::find()
        .filter(
            product::Column::Id.is_in(skus.values().map(|s| s.product_id).collect::<BTreeSet<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let dealers: BTreeMap<i64, dealer::Model> = dealer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let regions: BTreeMap<i64, region::Model> = region::Entity::find()
        .filter(region::Column::Level.ne(crate::types::Level::Province.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let names = Names {
        dealers,
        regions,
        products,
    };
    let mut out: Vec<Signal> = raw
        .into_iter()
        .map(|r| {
            let (ez, ee) = (r.evidence)(&names);
            let l = lots.get(&r.lot_id);
            let p = l
                .and_then(|l| skus.get(&l.sku_id))
                .and_then(|s| names.products.get(&s.product_id));
            let (dz, de) = names.dealer(r.dealer_id);
            Signal {
                kind: r.kind,
                at: r.at,
                dealer_id: r.dealer_id,
                dealer_zh: dz,
                dealer_en: de,
                lot_id: r.lot_id,
                lot_no: l.map(|l| l.lot_no.clone()).unwrap_or_default(),
                product_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
                product_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
                sale_id: r.sale_id,
                unit_code: r.unit_code,
                evidence_zh: ez,
                evidence_en: ee,
            }
        })
        .collect();
    out.sort_by(|a, b| b.at.cmp(&a.at).then(a.kind.cmp(&b.kind)));
    Ok(out)
}

/// The signals as CSV (UTF-8 with BOM, for spreadsheets), in the reader's language.
pub fn signals_csv(rows: &[Signal], lang: crate::Lang) -> String {
    use crate::csv_export::{Cell, CsvExport};
    let head: &[&str] = match lang {
        crate::Lang::Zh => &[
            "类型",
            "时间",
            "经销商",
            "产品",
            "批号",
            "批次ID",
            "销售单",
            "追溯码",
            "证据",
        ],
        crate::Lang::En => &[
            "kind",
            "when",
            "dealer",
            "product",
            "lot number",
            "lot id",
            "sale",
            "unit code",
            "evidence",
        ],
    };
    let mut out = CsvExport::new(head);
    for s in rows {
        let (kz, ke) = s.kind.words();
        out.row([
            Cell::text(lang.pick(kz, ke)),
            Cell::text(china_time(s.at)),
            Cell::text(lang.pick(&s.dealer_zh, &s.dealer_en)),
            Cell::text(lang.pick(&s.product_zh, &s.product_en)),
            Cell::text(s.lot_no.as_str()),
            Cell::number(s.lot_id),
            Cell::text(s.sale_id.map(|i| i.to_string()).unwrap_or_default()),
            Cell::text(s.unit_code.clone().unwrap_or_default()),
            Cell::text(lang.pick(&s.evidence_zh, &s.evidence_en)),
        ]);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_two_points() {
        // Beijing (39.9042, 116.4074) to Tianjin (39.3434, 117.3616), checked against the
        // equirectangular approximation (fine at this range): about 103 km.
        let (a, b, c, d) = (39.9042_f64, 116.4074_f64, 39.3434_f64, 117.3616_f64);
        let x = (d - b).to_radians() * ((a + c) / 2.0).to_radians().cos();
        let y = (c - a).to_radians();
        let flat = EARTH_RADIUS_KM * (x * x + y * y).sqrt();
        let km = distance_km(a, b, c, d);
        assert!((km - flat).abs() / flat < 0.002, "{km} vs {flat}");
        assert!((km - 102.8).abs() < 0.5, "{km}");
        assert!(distance_km(30.0, 114.0, 30.0, 114.0) < 1e-9);
    }

    #[test]
    fn licence_gaps_are_the_days_no_licence_covers() {
        use crate::types::LicenceKind;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let l = |from: &str, to: &str| crate::entities::licence::Model {
            id: 0,
            dealer_id: 1,
            kind: LicenceKind::PesticideBusiness,
            number: String::new(),
            issuer: String::new(),
            valid_from: d(from),
            valid_to: d(to),
        };
        let all = SignalFilter::default();
        let k = LicenceKind::PesticideBusiness;
        assert_eq!(licence_gaps(&[], k, &all), vec![(None, None)]);
        assert_eq!(
            licence_gaps(
                &[l("2024-01-01", "2024-12-31"), l("2025-02-01", "2026-01-31")],
                k,
                &all
            ),
            vec![
                (None, Some(d("2023-12-31"))),
                (Some(d("2025-01-01")), Some(d("2025-01-31"))),
                (Some(d("2026-02-01")), None)
            ]
        );
        // Overlapping and back-to-back licences leave no gap between them.
        assert_eq!(
            licence_gaps(
                &[
                    l("2024-01-01", "2024-12-31"),
                    l("2024-06-01", "2025-03-31"),
                    l("2025-04-01", "2025-12-31")
                ],
                k,
                &all
            ),
            vec![(None, Some(d("2023-12-31"))), (Some(d("2026-01-01")), None)]
        );
        let in_2024 = SignalFilter {
            from: Some(d("2024-03-01")),
            to: Some(d("2024-10-01")),
            ..Default::default()
        };
        assert!(licence_gaps(&[l("2024-01-01", "2024-12-31")], k, &in_2024).is_empty());
        assert!(
            licence_gaps(
                &[l("2024-01-01", "2024-12-31")],
                LicenceKind::SeedBusiness,
                &in_2024
            ) == vec![(Some(d("2024-03-01")), Some(d("2024-10-01")))]
        );
    }

    #[test]
    fn prefilter_never_drops_a_far_pair() {
        // |dlat| + |dlon| below the threshold means closer than FAR_SCAN_KM.
        let t = FAR_SCAN_KM / 111.2;
        for (dlat, dlon) in [(t, 0.0), (0.0, t), (t / 2.0, t / 2.0), (t * 0.7, t * 0.3)] {
            assert!(
                distance_km(30.0, 114.0, 30.0 + dlat * 0.999, 114.0 + dlon * 0.999) <= FAR_SCAN_KM
            );
        }
    }
}
