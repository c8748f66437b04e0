//! Products with their category spec, pack sizes (SKUs), dealers' offers and producers.

use super::*;

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
        self.0.category.into()
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
    async fn status(&self) -> ProductStatusGql {
        self.0.status.into()
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
    /// STRAIGHT_N, STRAIGHT_P, STRAIGHT_K, COMPOUND, ORGANIC, MICROBIAL, WATER_SOLUBLE or LIME (a liming
    /// soil conditioner, its calcium in `secondary.Ca`).
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
