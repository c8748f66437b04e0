//! The catalog: product search (a Relay connection), products with their category spec, pack
//! sizes, dealers' offers, producers; and the mutations that maintain them.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::catalog::{self, Category, ProductFilter, SortBy, crops};
use domain::entities::{
    fertiliser_spec, offer, pesticide_spec, pesticide_use, producer, product, seed_spec, sku,
};
use domain::types::{Analysis, CompoundGrade, Fen};
use domain::{Code, Error};

use super::errors::{CatalogError, split};
use super::loaders::{
    AreaOfDealer, DealerKey, FertiliserSpecKey, OffersOfSku, PesticideSpecKey, ProducerKey,
    ProductKey, SeedSpecKey, SkuKey, SkusOfProduct, UsesOfProduct, many, one, prefetch,
};
use super::region::Dealer;
use super::{ApiResult, actor, db, gid, lang, parse_gid, parse_gid_opt, pick, to_gql};

/// Largest page of `products`.
pub const MAX_PAGE: i32 = 100;
const DEFAULT_PAGE: i32 = 20;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Category")]
pub enum CategoryGql {
    /// 肥料
    Fertiliser,
    /// 种子
    Seed,
    /// 农药
    Pesticide,
}

impl From<CategoryGql> for Category {
    fn from(c: CategoryGql) -> Self {
        match c {
            CategoryGql::Fertiliser => Category::Fertiliser,
            CategoryGql::Seed => Category::Seed,
            CategoryGql::Pesticide => Category::Pesticide,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ProductSort {
    /// Newest listings first.
    #[default]
    Newest,
    /// By Chinese name (code-point order).
    NameZh,
    NameEn,
    /// Lowest active offer first (of the filtered dealer, if any); unoffered products last.
    PriceLow,
}

impl From<ProductSort> for SortBy {
    fn from(s: ProductSort) -> Self {
        match s {
            ProductSort::Newest => SortBy::Newest,
            ProductSort::NameZh => SortBy::NameZh,
            ProductSort::NameEn => SortBy::NameEn,
            ProductSort::PriceLow => SortBy::PriceLow,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    category: Option<CategoryGql>,
    /// Words in Chinese or English: names, registration number, variety, active ingredient,
    /// pest or disease.
    text: Option<String>,
    /// A crop code (`RICE`) or name (`水稻`, `rice`): seeds of it and pesticides registered on it.
    crop: Option<String>,
    /// A pest or disease among registered uses (`稻飞虱`, `planthopper`).
    target: Option<String>,
    #[graphql(name = "minNPct")]
    min_n_pct: Option<f64>,
    #[graphql(name = "minP2o5Pct")]
    min_p2o5_pct: Option<f64>,
    #[graphql(name = "minK2oPct")]
    min_k2o_pct: Option<f64>,
    /// Sold by a dealer that delivers to this village.
    village_id: Option<ID>,
    /// Sold by this dealer.
    dealer_id: Option<ID>,
    restricted_use: Option<bool>,
}

/// A producer (manufacturer) of inputs.
pub struct Producer(pub producer::Model);

#[Object]
impl Producer {
    async fn id(&self) -> ID {
        gid("Producer", self.0.id)
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn licence_no(&self) -> Option<&str> {
        self.0.licence_no.as_deref()
    }
}

/// A fertiliser, seed or pesticide as registered.
pub struct Product(pub product::Model);

#[Object]
impl Product {
    async fn id(&self) -> ID {
        gid("Product", self.0.id)
    }
    async fn category(&self) -> CategoryGql {
        match Category::parse(&self.0.category) {
            Some(Category::Seed) => CategoryGql::Seed,
            Some(Category::Pesticide) => CategoryGql::Pesticide,
            _ => CategoryGql::Fertiliser,
        }
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn description(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.description_zh, &self.0.description_en)
    }
    async fn description_zh(&self) -> &str {
        &self.0.description_zh
    }
    async fn description_en(&self) -> &str {
        &self.0.description_en
    }
    /// Registration (pesticide, fertiliser) or variety approval (seed) number.
    async fn registration_no(&self) -> Option<&str> {
        self.0.registration_no.as_deref()
    }
    /// A long-used fertiliser exempt from registration (urea, DAP, ...).
    async fn registration_exempt(&self) -> bool {
        self.0.registration_exempt
    }
    /// 限制使用农药: sold only to real-name buyers by licensed outlets.
    async fn restricted_use(&self) -> bool {
        self.0.restricted_use
    }
    /// ACTIVE or DELISTED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn producer(&self, ctx: &Context<'_>) -> ApiResult<Option<Producer>> {
        Ok(one(ctx, ProducerKey(self.0.producer_id))
            .await?
            .map(Producer))
    }
    /// Pack sizes, smallest first.
    async fn skus(&self, ctx: &Context<'_>) -> ApiResult<Vec<Sku>> {
        Ok(many(ctx, SkusOfProduct(self.0.id))
            .await?
            .into_iter()
            .map(Sku)
            .collect())
    }
    async fn fertiliser(&self, ctx: &Context<'_>) -> ApiResult<Option<FertiliserSpec>> {
        Ok(one(ctx, FertiliserSpecKey(self.0.id))
            .await?
            .map(FertiliserSpec))
    }
    async fn seed(&self, ctx: &Context<'_>) -> ApiResult<Option<SeedSpec>> {
        Ok(one(ctx, SeedSpecKey(self.0.id)).await?.map(SeedSpec))
    }
    async fn pesticide(&self, ctx: &Context<'_>) -> ApiResult<Option<PesticideSpec>> {
        Ok(one(ctx, PesticideSpecKey(self.0.id))
            .await?
            .map(|s| PesticideSpec(s, self.0.id)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
pub struct Element {
    /// Element symbol: Ca, Mg, S, Zn, B, ...
    element: String,
    pct: f64,
}

pub struct FertiliserSpec(pub fertiliser_spec::Model);

#[Object]
impl FertiliserSpec {
    /// STRAIGHT_N, STRAIGHT_P, STRAIGHT_K, COMPOUND, ORGANIC, MICROBIAL or WATER_SOLUBLE.
    async fn fertiliser_type(&self) -> &str {
        &self.0.fertiliser_type
    }
    /// `N-P2O5-K2O` in percent, e.g. `15-15-15`.
    async fn analysis(&self) -> String {
        Analysis {
            n: self.0.n_pct,
            p2o5: self.0.p2o5_pct,
            k2o: self.0.k2o_pct,
        }
        .to_string()
    }
    #[graphql(name = "nPct")]
    async fn n_pct(&self) -> f64 {
        self.0.n_pct
    }
    #[graphql(name = "p2o5Pct")]
    async fn p2o5_pct(&self) -> f64 {
        self.0.p2o5_pct
    }
    #[graphql(name = "k2oPct")]
    async fn k2o_pct(&self) -> f64 {
        self.0.k2o_pct
    }
    /// N + P2O5 + K2O (secondary and trace elements excluded).
    async fn total_pct(&self) -> f64 {
        self.0.n_pct + self.0.p2o5_pct + self.0.k2o_pct
    }
    /// Compound concentration grade (GB/T 15063-2020): HIGH, MEDIUM, LOW or BELOW_STANDARD;
    /// null for straights.
    async fn grade(&self) -> Option<&'static str> {
        Analysis {
            n: self.0.n_pct,
            p2o5: self.0.p2o5_pct,
            k2o: self.0.k2o_pct,
        }
        .compound_grade()
        .map(|g| match g {
            CompoundGrade::High => "HIGH",
            CompoundGrade::Medium => "MEDIUM",
            CompoundGrade::Low => "LOW",
            CompoundGrade::BelowStandard => "BELOW_STANDARD",
        })
    }
    async fn secondary(&self) -> Vec<Element> {
        self.0
            .secondary
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Element {
                        element: k.clone(),
                        pct: v.as_f64().unwrap_or(0.0),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    async fn organic_matter_pct(&self) -> f64 {
        self.0.organic_matter_pct
    }
    async fn form(&self) -> &str {
        &self.0.form
    }
    /// NONE, LOW, CHLORIDE (labelled 含氯, chloride > 3 %) or SULPHATE_BASED.
    async fn chloride(&self) -> &str {
        &self.0.chloride
    }
    /// The label text a bag must carry, if any.
    async fn chloride_label(&self, ctx: &Context<'_>) -> Option<String> {
        (self.0.chloride == "CHLORIDE").then(|| pick(ctx, "含氯", "contains chloride"))
    }
}

pub struct SeedSpec(pub seed_spec::Model);

#[Object]
impl SeedSpec {
    async fn crop(&self) -> &str {
        &self.0.crop
    }
    async fn crop_name(&self, ctx: &Context<'_>) -> String {
        crops::find(&self.0.crop)
            .map(|c| pick(ctx, c.1, c.2))
            .unwrap_or_else(|| self.0.crop.clone())
    }
    async fn variety(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.variety_zh, &self.0.variety_en)
    }
    async fn variety_zh(&self) -> &str {
        &self.0.variety_zh
    }
    async fn variety_en(&self) -> &str {
        &self.0.variety_en
    }
    /// Variety approval (审定) or registration (登记) number.
    async fn approval_no(&self) -> &str {
        &self.0.approval_no
    }
    async fn germination_pct(&self) -> f64 {
        self.0.germination_pct
    }
    async fn purity_pct(&self) -> f64 {
        self.0.purity_pct
    }
    async fn moisture_pct(&self) -> f64 {
        self.0.moisture_pct
    }
}

#[derive(SimpleObject)]
pub struct ActiveIngredient {
    name: String,
    name_zh: String,
    name_en: String,
    content: f64,
    /// `%` or `g/L`.
    content_unit: String,
}

pub struct PesticideSpec(pub pesticide_spec::Model, i64);

#[Object]
impl PesticideSpec {
    /// Formulation code (EC, WP, SC, WG, GR, ...).
    async fn formulation(&self) -> &str {
        &self.0.formulation
    }
    async fn formulation_zh(&self) -> &str {
        &self.0.formulation_zh
    }
    /// LOW, MODERATE, HIGH or SEVERE (低毒, 中等毒, 高毒, 剧毒).
    async fn toxicity(&self) -> &str {
        &self.0.toxicity
    }
    async fn actives(&self, ctx: &Context<'_>) -> Vec<ActiveIngredient> {
        serde_json::from_value::<Vec<catalog::Active>>(self.0.actives.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|a| ActiveIngredient {
                name: pick(ctx, &a.name_zh, &a.name_en),
                name_zh: a.name_zh,
                name_en: a.name_en,
                content: a.content,
                content_unit: a.content_unit,
            })
            .collect()
    }
    /// Registered uses: crop, target, dose per mu, pre-harvest interval, applications.
    async fn uses(&self, ctx: &Context<'_>) -> ApiResult<Vec<PesticideUse>> {
        Ok(many(ctx, UsesOfProduct(self.1))
            .await?
            .into_iter()
            .map(PesticideUse)
            .collect())
    }
}

pub struct PesticideUse(pub pesticide_use::Model);

#[Object]
impl PesticideUse {
    async fn crop(&self) -> &str {
        &self.0.crop
    }
    async fn crop_name(&self, ctx: &Context<'_>) -> String {
        crops::find(&self.0.crop)
            .map(|c| pick(ctx, c.1, c.2))
            .unwrap_or_else(|| self.0.crop.clone())
    }
    async fn target(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.target_zh, &self.0.target_en)
    }
    async fn target_zh(&self) -> &str {
        &self.0.target_zh
    }
    async fn target_en(&self) -> &str {
        &self.0.target_en
    }
    async fn dose_min(&self) -> f64 {
        self.0.dose_min
    }
    async fn dose_max(&self) -> f64 {
        self.0.dose_max
    }
    /// `g/mu` or `ml/mu` of product.
    async fn dose_unit(&self) -> &str {
        &self.0.dose_unit
    }
    /// Pre-harvest interval (安全间隔期), days.
    async fn phi_days(&self) -> i32 {
        self.0.phi_days
    }
    async fn max_applications(&self) -> i32 {
        self.0.max_applications
    }
}

/// A pack size of a product (e.g. a 40 kg bag).
pub struct Sku(pub sku::Model);

#[Object]
impl Sku {
    async fn id(&self) -> ID {
        gid("Sku", self.0.id)
    }
    async fn pack_size(&self) -> f64 {
        self.0.pack_size
    }
    /// kg, g, L or ml.
    async fn pack_unit(&self) -> &str {
        &self.0.pack_unit
    }
    /// `40 kg`, `500 ml`.
    async fn label(&self) -> String {
        let s = self.0.pack_size;
        if s.fract() == 0.0 {
            format!("{s:.0} {}", self.0.pack_unit)
        } else {
            format!("{s} {}", self.0.pack_unit)
        }
    }
    async fn gtin(&self) -> Option<&str> {
        self.0.gtin.as_deref()
    }
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        Ok(one(ctx, ProductKey(self.0.product_id)).await?.map(Product))
    }
    /// Active offers, cheapest first. With `villageId`, only the offers of dealers that serve
    /// that village (what its farmers can buy delivered to their station).
    async fn offers(&self, ctx: &Context<'_>, village_id: Option<ID>) -> ApiResult<Vec<Offer>> {
        let offers = many(ctx, OffersOfSku(self.0.id)).await?;
        let Some(v) = village_id else {
            return Ok(offers.into_iter().map(Offer).collect());
        };
        let v = parse_gid("villageId", "Region", &v).map_err(|e| to_gql(e, lang(ctx)))?;
        let mut out = Vec::new();
        for o in offers {
            let areas = many(ctx, AreaOfDealer(o.dealer_id)).await?;
            if areas.iter().any(|a| a.village_id == v) {
                out.push(Offer(o));
            }
        }
        Ok(out)
    }
}

/// A dealer's price for a pack size.
pub struct Offer(pub offer::Model);

#[Object]
impl Offer {
    async fn id(&self) -> ID {
        gid("Offer", self.0.id)
    }
    /// Price in fen (分), an integer.
    async fn price_fen(&self) -> i64 {
        self.0.price_fen
    }
    /// Price for display, e.g. `¥120.00`.
    async fn price(&self) -> String {
        Fen(self.0.price_fen).to_string()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.dealer_id)).await?.map(Dealer))
    }
    async fn sku(&self, ctx: &Context<'_>) -> ApiResult<Option<Sku>> {
        Ok(one(ctx, SkuKey(self.0.sku_id)).await?.map(Sku))
    }
}

#[derive(SimpleObject)]
pub struct Crop {
    code: String,
    name: String,
    name_zh: String,
    name_en: String,
}

#[derive(SimpleObject)]
pub struct ProductConnectionFields {
    /// Products matching the filter, across all pages.
    total_count: u64,
}

pub type ProductConnection = Connection<String, Product, ProductConnectionFields>;

fn cursor(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

/// Above any offset this server hands out (the catalogue is nowhere near a billion products); a
/// larger one is forged, and near `u64::MAX` the next offset (`+ 1`) would overflow.
const MAX_CURSOR_OFFSET: u64 = 1_000_000_000;

fn decode_cursor(c: &str) -> domain::Result<u64> {
    let bad = || {
        Error::invalid(
            "after",
            Code::InvalidFormat,
            "无效的分页游标",
            "not a valid cursor",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| bad())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .filter(|&n| n <= MAX_CURSOR_OFFSET)
        .ok_or_else(bad)
}

/// Loads every relation the query selects for the whole page, one statement per relation, so a
/// page of 100 costs what a page of 5 does.
async fn prefetch_page(ctx: &Context<'_>, items: &[product::Model]) -> ApiResult<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let ids: Vec<i64> = items.iter().map(|p| p.id).collect();
    if node.field("producer").exists() {
        prefetch(ctx, items.iter().map(|p| ProducerKey(p.producer_id))).await?;
    }
    if node.field("fertiliser").exists() {
        prefetch(ctx, ids.iter().map(|i| FertiliserSpecKey(*i))).await?;
    }
    if node.field("seed").exists() {
        prefetch(ctx, ids.iter().map(|i| SeedSpecKey(*i))).await?;
    }
    let pesticide = node.field("pesticide");
    if pesticide.exists() {
        prefetch(ctx, ids.iter().map(|i| PesticideSpecKey(*i))).await?;
        if pesticide.field("uses").exists() {
            prefetch(ctx, ids.iter().map(|i| UsesOfProduct(*i))).await?;
        }
    }
    let skus = node.field("skus");
    if skus.exists() {
        let by_product = prefetch(ctx, ids.iter().map(|i| SkusOfProduct(*i))).await?;
        let offers = skus.field("offers");
        if offers.exists() {
            let sku_ids: Vec<i64> = by_product.values().flatten().map(|s| s.id).collect();
            let by_sku = prefetch(ctx, sku_ids.iter().map(|i| OffersOfSku(*i))).await?;
            if offers.field("dealer").exists() {
                let dealers: std::collections::BTreeSet<i64> =
                    by_sku.values().flatten().map(|o| o.dealer_id).collect();
                prefetch(ctx, dealers.into_iter().map(DealerKey)).await?;
            }
        }
    }
    Ok(())
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Searches the catalog. At most 100 products a page.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize * child_complexity + 1"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProductFilterInput>,
        #[graphql(default)] sort_by: ProductSort,
    ) -> ApiResult<ProductConnection> {
        let l = lang(ctx);
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(to_gql(
                Error::invalid(
                    "first",
                    Code::OutOfRange,
                    "每页数量应在 1 到 100 之间",
                    "first must be between 1 and 100",
                ),
                l,
            ));
        }
        let offset = match after.as_deref() {
            Some(c) => decode_cursor(c).map_err(|e| to_gql(e, l))? + 1,
            None => 0,
        };
        let f = filter.unwrap_or_default();
        let admin = ctx
            .data_opt::<super::RequestCtx>()
            .and_then(|r| r.actor.as_ref())
            .is_some_and(|a| a.is_admin());
        let pf = (|| -> domain::Result<ProductFilter> {
            Ok(ProductFilter {
                category: f.category.map(Into::into),
                text: f.text,
                crop: f.crop,
                target: f.target,
                min_n_pct: f.min_n_pct,
                min_p2o5_pct: f.min_p2o5_pct,
                min_k2o_pct: f.min_k2o_pct,
                village_id: parse_gid_opt("filter.villageId", "Region", f.village_id.as_ref())?,
                dealer_id: parse_gid_opt("filter.dealerId", "Dealer", f.dealer_id.as_ref())?,
                restricted_use: f.restricted_use,
                include_delisted: admin,
            })
        })()
        .map_err(|e| to_gql(e, l))?;
        let page = catalog::search(db(ctx), &pf, sort_by.into(), offset, first as u64)
            .await
            .map_err(|e| to_gql(e, l))?;
        prefetch_page(ctx, &page.items).await?;
        let mut conn = Connection::with_additional_fields(
            offset > 0,
            page.has_next,
            ProductConnectionFields {
                total_count: page.total,
            },
        );
        conn.edges.extend(
            page.items
                .into_iter()
                .enumerate()
                .map(|(i, p)| Edge::new(cursor(offset + i as u64), Product(p))),
        );
        Ok(conn)
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Product> {
        let l = lang(ctx);
        let id = parse_gid("id", "Product", &id).map_err(|e| to_gql(e, l))?;
        catalog::product(db(ctx), id)
            .await
            .map(Product)
            .map_err(|e| to_gql(e, l))
    }

    async fn producers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Producer>> {
        Ok(catalog::producers(db(ctx))
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(Producer)
            .collect())
    }

    /// Crop codes used by seeds, pesticide uses and the advisor.
    async fn crops(&self, ctx: &Context<'_>) -> Vec<Crop> {
        crops::CROPS
            .iter()
            .map(|c| Crop {
                code: c.0.into(),
                name: pick(ctx, c.1, c.2),
                name_zh: c.1.into(),
                name_en: c.2.into(),
            })
            .collect()
    }
}

#[derive(InputObject)]
pub struct ElementInput {
    element: String,
    pct: f64,
}

#[derive(InputObject)]
pub struct FertiliserSpecInput {
    /// STRAIGHT_N, STRAIGHT_P, STRAIGHT_K, COMPOUND, ORGANIC, MICROBIAL or WATER_SOLUBLE.
    fertiliser_type: String,
    #[graphql(name = "nPct")]
    n_pct: f64,
    #[graphql(name = "p2o5Pct")]
    p2o5_pct: f64,
    #[graphql(name = "k2oPct")]
    k2o_pct: f64,
    #[graphql(default)]
    secondary: Vec<ElementInput>,
    #[graphql(default)]
    organic_matter_pct: f64,
    /// GRANULAR, POWDER, LIQUID, CRYSTAL or PRILLED.
    form: String,
    /// NONE, LOW, CHLORIDE or SULPHATE_BASED.
    chloride: String,
}

#[derive(InputObject)]
pub struct SeedSpecInput {
    crop: String,
    variety_zh: String,
    variety_en: String,
    approval_no: String,
    germination_pct: f64,
    purity_pct: f64,
    moisture_pct: f64,
}

#[derive(InputObject)]
pub struct ActiveInput {
    name_zh: String,
    name_en: String,
    content: f64,
    /// `%` or `g/L`.
    content_unit: String,
}

#[derive(InputObject)]
pub struct PesticideUseInput {
    crop: String,
    target_zh: String,
    target_en: String,
    dose_min: f64,
    dose_max: f64,
    /// `g/mu` or `ml/mu`.
    dose_unit: String,
    phi_days: i32,
    max_applications: i32,
}

#[derive(InputObject)]
pub struct PesticideSpecInput {
    formulation: String,
    formulation_zh: String,
    /// LOW, MODERATE, HIGH or SEVERE.
    toxicity: String,
    actives: Vec<ActiveInput>,
    uses: Vec<PesticideUseInput>,
}

#[derive(InputObject)]
pub struct ProductInput {
    category: CategoryGql,
    producer_id: ID,
    name_zh: String,
    name_en: String,
    #[graphql(default)]
    description_zh: String,
    #[graphql(default)]
    description_en: String,
    registration_no: Option<String>,
    #[graphql(default)]
    registration_exempt: bool,
    #[graphql(default)]
    restricted_use: bool,
    fertiliser: Option<FertiliserSpecInput>,
    seed: Option<SeedSpecInput>,
    pesticide: Option<PesticideSpecInput>,
}

impl ProductInput {
    fn into_domain(self) -> domain::Result<catalog::ProductInput> {
        let producer_id = parse_gid("producerId", "Producer", &self.producer_id)?;
        Ok(catalog::ProductInput {
            category: Category::from(self.category).as_str().into(),
            producer_id,
            name_zh: self.name_zh,
            name_en: self.name_en,
            description_zh: self.description_zh,
            description_en: self.description_en,
            registration_no: self.registration_no,
            registration_exempt: self.registration_exempt,
            restricted_use: self.restricted_use,
            fertiliser: self.fertiliser.map(|f| catalog::FertiliserInput {
                fertiliser_type: f.fertiliser_type,
                n_pct: f.n_pct,
                p2o5_pct: f.p2o5_pct,
                k2o_pct: f.k2o_pct,
                secondary: f
                    .secondary
                    .into_iter()
                    .map(|e| (e.element, e.pct))
                    .collect(),
                organic_matter_pct: f.organic_matter_pct,
                form: f.form,
                chloride: f.chloride,
            }),
            seed: self.seed.map(|s| catalog::SeedInput {
                crop: s.crop,
                variety_zh: s.variety_zh,
                variety_en: s.variety_en,
                approval_no: s.approval_no,
                germination_pct: s.germination_pct,
                purity_pct: s.purity_pct,
                moisture_pct: s.moisture_pct,
            }),
            pesticide: self.pesticide.map(|p| catalog::PesticideInput {
                formulation: p.formulation,
                formulation_zh: p.formulation_zh,
                toxicity: p.toxicity,
                actives: p
                    .actives
                    .into_iter()
                    .map(|a| catalog::Active {
                        name_zh: a.name_zh,
                        name_en: a.name_en,
                        content: a.content,
                        content_unit: a.content_unit,
                    })
                    .collect(),
                uses: p
                    .uses
                    .into_iter()
                    .map(|u| catalog::UseInput {
                        crop: u.crop,
                        target_zh: u.target_zh,
                        target_en: u.target_en,
                        dose_min: u.dose_min,
                        dose_max: u.dose_max,
                        dose_unit: u.dose_unit,
                        phi_days: u.phi_days,
                        max_applications: u.max_applications,
                    })
                    .collect(),
            }),
        })
    }
}

#[derive(InputObject)]
pub struct ProducerInput {
    name_zh: String,
    name_en: String,
    address: String,
    licence_no: Option<String>,
}

#[derive(InputObject)]
pub struct SkuInput {
    pack_size: f64,
    /// kg, g, L or ml.
    pack_unit: String,
    gtin: Option<String>,
}

#[derive(SimpleObject)]
pub struct ProductPayload {
    product: Option<Product>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct ProducerPayload {
    producer: Option<Producer>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct SkuPayload {
    sku: Option<Sku>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct OfferPayload {
    offer: Option<Offer>,
    errors: Vec<CatalogError>,
}

macro_rules! payload {
    ($ty:ident, $field:ident, $wrap:expr, $r:expr, $l:expr) => {
        Ok(match split($r, $l)? {
            Ok(v) => $ty {
                $field: Some($wrap(v)),
                errors: vec![],
            },
            Err(e) => $ty {
                $field: None,
                errors: CatalogError::list(e, $l),
            },
        })
    };
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Adds a producer (admins and dealers).
    async fn producer_create(
        &self,
        ctx: &Context<'_>,
        input: ProducerInput,
    ) -> ApiResult<ProducerPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let new = catalog::NewProducer {
            name_zh: input.name_zh,
            name_en: input.name_en,
            address: input.address,
            licence_no: input.licence_no,
        };
        payload!(
            ProducerPayload,
            producer,
            Producer,
            catalog::create_producer(db(ctx), a, new).await,
            l
        )
    }

    /// Lists a product with its category spec (admins and dealers). Registration numbers,
    /// analyses and registered uses are checked against the rules for its category.
    async fn product_create(
        &self,
        ctx: &Context<'_>,
        input: ProductInput,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async { catalog::create_product(db(ctx), a, input.into_domain()?).await }.await;
        payload!(ProductPayload, product, Product, r, l)
    }

    /// Replaces a product's data and spec (admins; dealers for products they listed).
    async fn product_update(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductInput,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Product", &id)?;
            catalog::update_product(db(ctx), a, id, input.into_domain()?).await
        }
        .await;
        payload!(ProductPayload, product, Product, r, l)
    }

    /// Lists (`active: true`) or delists a product (admins).
    async fn product_set_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Product", &id)?;
            catalog::set_product_status(db(ctx), a, id, active).await
        }
        .await;
        payload!(ProductPayload, product, Product, r, l)
    }

    /// Adds a pack size to a product (admins and dealers).
    async fn sku_create(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        input: SkuInput,
    ) -> ApiResult<SkuPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let pid = parse_gid("productId", "Product", &product_id)?;
            catalog::create_sku(
                db(ctx),
                a,
                pid,
                catalog::SkuInput {
                    pack_size: input.pack_size,
                    pack_unit: input.pack_unit,
                    gtin: input.gtin,
                },
            )
            .await
        }
        .await;
        payload!(SkuPayload, sku, Sku, r, l)
    }

    /// Sets a dealer's price (integer fen) for a pack size, or withdraws it (`active: false`).
    /// Dealers price only for their own store, and only what their licences allow.
    async fn offer_set(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        sku_id: ID,
        price_fen: i64,
        #[graphql(default = true)] active: bool,
    ) -> ApiResult<OfferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let d = parse_gid("dealerId", "Dealer", &dealer_id)?;
            let s = parse_gid("skuId", "Sku", &sku_id)?;
            catalog::set_offer(db(ctx), a, d, s, price_fen, active).await
        }
        .await;
        payload!(OfferPayload, offer, Offer, r, l)
    }
}
