//! Agronomy output objects: crop plans, soil tests, recommendations (rates, explanation, basket) and regional formulas.

use super::*;

pub struct CropPlan(pub crop_plan::Model);

#[Object]
impl CropPlan {
    async fn id(&self) -> ID {
        gid("CropPlan", self.0.id)
    }
    async fn field_id(&self) -> ID {
        gid("Field", self.0.field_id)
    }
    async fn crop(&self) -> &str {
        &self.0.crop
    }
    async fn crop_name(&self, ctx: &Context<'_>) -> String {
        domain::catalog::crops::find(&self.0.crop)
            .map(|c| pick(ctx, c.1, c.2))
            .unwrap_or_else(|| self.0.crop.clone())
    }
    async fn season(&self) -> &str {
        &self.0.season
    }
    async fn target_yield_kg_per_mu(&self) -> Option<f64> {
        self.0.target_yield_kg_per_mu
    }
    async fn past_yields_kg_per_mu(&self) -> Option<Vec<f64>> {
        self.0
            .past_yields_kg_per_mu
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
    async fn no_fertiliser_yield_kg_per_mu(&self) -> Option<f64> {
        self.0.no_fertiliser_yield_kg_per_mu
    }
    async fn previous_crop(&self) -> &str {
        &self.0.previous_crop
    }
    async fn straw_returned(&self) -> bool {
        self.0.straw_returned
    }
}

pub struct SoilTest(pub soil_test::Model);

#[Object]
impl SoilTest {
    async fn id(&self) -> ID {
        gid("SoilTest", self.0.id)
    }
    async fn field_id(&self) -> ID {
        gid("Field", self.0.field_id)
    }
    async fn sampled_on(&self) -> NaiveDate {
        self.0.sampled_on
    }
    /// `0-20`.
    async fn depth_cm(&self) -> String {
        format!("{}-{}", self.0.depth_from_cm, self.0.depth_to_cm)
    }
    async fn lab(&self) -> &str {
        &self.0.lab
    }
    async fn lab_sample_id(&self) -> &str {
        &self.0.lab_sample_id
    }
    async fn ph(&self) -> f64 {
        self.0.ph
    }
    async fn buffer_ph(&self) -> Option<f64> {
        self.0.buffer_ph
    }
    async fn organic_matter_g_kg(&self) -> f64 {
        self.0.organic_matter_g_kg
    }
    async fn alkali_n_mg_kg(&self) -> f64 {
        self.0.alkali_n_mg_kg
    }
    async fn olsen_p_mg_kg(&self) -> Option<f64> {
        self.0.olsen_p_mg_kg
    }
    #[graphql(name = "mehlich3PMgKg")]
    async fn mehlich3_p_mg_kg(&self) -> Option<f64> {
        self.0.mehlich3_p_mg_kg
    }
    async fn available_k_mg_kg(&self) -> f64 {
        self.0.available_k_mg_kg
    }
    async fn cec_cmol_kg(&self) -> Option<f64> {
        self.0.cec_cmol_kg
    }
    async fn ca_mg_kg(&self) -> Option<f64> {
        self.0.ca_mg_kg
    }
    async fn mg_mg_kg(&self) -> Option<f64> {
        self.0.mg_mg_kg
    }
    async fn s_mg_kg(&self) -> Option<f64> {
        self.0.s_mg_kg
    }
    async fn zn_mg_kg(&self) -> Option<f64> {
        self.0.zn_mg_kg
    }
    async fn b_mg_kg(&self) -> Option<f64> {
        self.0.b_mg_kg
    }
}

#[derive(SimpleObject)]
pub struct Rates {
    #[graphql(name = "nKgPerMu")]
    n_kg_per_mu: f64,
    #[graphql(name = "p2o5KgPerMu")]
    p2o5_kg_per_mu: f64,
    #[graphql(name = "k2oKgPerMu")]
    k2o_kg_per_mu: f64,
}

/// One step of the explanation: the formula, with the numbers put in, and the result.
#[derive(SimpleObject)]
pub struct ExplanationStep {
    /// N, P2O5, K2O, lime or basket.
    topic: String,
    formula: String,
    substituted: String,
    result: String,
    /// In the caller's language.
    text: String,
}

#[derive(SimpleObject)]
pub struct RecommendationBasketLine {
    offer_id: ID,
    dealer_id: ID,
    sku_id: ID,
    product_name: String,
    analysis: String,
    bag_kg: f64,
    bags: i64,
    price_fen_per_bag: i64,
    subtotal_fen: i64,
}

#[derive(SimpleObject)]
pub struct RecommendationBasket {
    feasible: bool,
    lines: Vec<RecommendationBasketLine>,
    cost_fen: i64,
    /// Nutrients the stock at hand cannot supply.
    shortfalls: Vec<String>,
    /// False when the whole-bag search hit its time limit: the basket is the cheapest found in
    /// time, not proven the cheapest (a computation note says so too).
    proven_optimal: bool,
}

pub struct Recommendation(pub recommendation::Model);

/// Lime for an acid soil, kg per mu.
#[derive(SimpleObject)]
pub struct LimeAdvice {
    /// Ground limestone (石灰石粉, CaCO3) in all.
    limestone_kg_per_mu: f64,
    /// Quicklime (生石灰, CaO) doing the same.
    quicklime_kg_per_mu: f64,
    /// Slaked lime (熟石灰, Ca(OH)2) doing the same.
    slaked_lime_kg_per_mu: f64,
    /// Limestone to apply this year (at most 200 kg/mu a year).
    this_year_kg_per_mu: f64,
    /// Years to spread it over.
    years: i32,
    /// PH_TEXTURE or NCDA_BUFFER.
    method: String,
    source: String,
    notes: Vec<String>,
}

/// One application of fertiliser: the basal dressing or a top-dressing at a crop stage.
#[derive(SimpleObject)]
pub struct FertiliserApplication {
    /// basal, tillering, panicle, jointing, ...
    stage: String,
    /// In the caller's language.
    stage_name: String,
    timing: String,
    n_kg_per_mu: f64,
    #[graphql(name = "p2o5KgPerMu")]
    p2o5_kg_per_mu: f64,
    #[graphql(name = "k2oKgPerMu")]
    k2o_kg_per_mu: f64,
    /// N, P2O5, K2O for the whole field, kg.
    field_kg: Vec<f64>,
}

pub fn applications_of(r: &recommendation::Model, l: Lang) -> Vec<FertiliserApplication> {
    agronomy::applications(r)
        .into_iter()
        .map(|a| FertiliserApplication {
            stage_name: l.pick(&a.stage_zh, &a.stage_en).to_owned(),
            timing: l.pick(&a.timing_zh, &a.timing_en).to_owned(),
            stage: a.stage,
            n_kg_per_mu: a.kg_per_mu[0],
            p2o5_kg_per_mu: a.kg_per_mu[1],
            k2o_kg_per_mu: a.kg_per_mu[2],
            field_kg: a.field_kg.to_vec(),
        })
        .collect()
}

fn collect_steps(result: &Value, l: Lang) -> Vec<ExplanationStep> {
    let mut out = Vec::new();
    let mut push = |topic: &str, steps: &Value| {
        for s in steps.as_array().into_iter().flatten() {
            out.push(ExplanationStep {
                topic: topic.to_owned(),
                formula: s["formula"].as_str().unwrap_or_default().to_owned(),
                substituted: s["substituted"].as_str().unwrap_or_default().to_owned(),
                result: s["result"].as_str().unwrap_or_default().to_owned(),
                text: l
                    .pick(
                        s["zh"].as_str().unwrap_or_default(),
                        s["en"].as_str().unwrap_or_default(),
                    )
                    .to_owned(),
            });
        }
    };
    if let Some(ty) = result.get("target_yield") {
        push("target_yield", &ty["steps"]);
    }
    for r in result["rates"].as_array().into_iter().flatten() {
        push(r["nutrient"].as_str().unwrap_or("nutrient"), &r["steps"]);
    }
    if let Some(lime) = result.get("lime").filter(|v| !v.is_null()) {
        push("lime", &lime["steps"]);
    }
    push("field", &result["steps"]);
    push("basket", &result.get("basket").unwrap_or(result)["steps"]);
    out
}

#[Object]
impl Recommendation {
    async fn id(&self) -> ID {
        gid("Recommendation", self.0.id)
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn status(&self) -> RecommendationStatusGql {
        self.0.status.into()
    }
    async fn method(&self) -> MethodGql {
        self.0.method.into()
    }
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<Field>> {
        Ok(one(ctx, FieldKey(self.0.field_id)).await?.map(Field))
    }
    async fn crop_plan(&self, ctx: &Context<'_>) -> ApiResult<Option<CropPlan>> {
        Ok(one(ctx, CropPlanKey(self.0.crop_plan_id))
            .await?
            .map(CropPlan))
    }
    /// The soil test it came from (lab, date, field).
    async fn soil_test(&self, ctx: &Context<'_>) -> ApiResult<Option<SoilTest>> {
        Ok(one(ctx, SoilTestKey(self.0.soil_test_id))
            .await?
            .map(SoilTest))
    }
    async fn rates(&self) -> Rates {
        Rates {
            n_kg_per_mu: self.0.n_kg_per_mu,
            p2o5_kg_per_mu: self.0.p2o5_kg_per_mu,
            k2o_kg_per_mu: self.0.k2o_kg_per_mu,
        }
    }
    /// Lime to apply this year, kg of ground limestone (CaCO3) per mu, when the soil is acid
    /// (from pH and texture, or the buffer pH where the lab measured one).
    async fn lime_kg_per_mu(&self) -> Option<f64> {
        match self.0.parameters.get("lime").filter(|l| !l.is_null()) {
            Some(l) => l["this_year_limestone_kg_per_mu"].as_f64(),
            None => self
                .0
                .result
                .get("lime")
                .and_then(|l| l["kg_per_mu"].as_f64()),
        }
    }
    /// The lime in full: limestone, or the same neutralising power as quicklime or slaked
    /// lime, kg per mu; over how many years; how it was worked out.
    async fn lime(&self, ctx: &Context<'_>) -> Option<LimeAdvice> {
        let l = self.0.parameters.get("lime").filter(|l| !l.is_null())?;
        Some(LimeAdvice {
            limestone_kg_per_mu: l["limestone_kg_per_mu"].as_f64()?,
            quicklime_kg_per_mu: l["quicklime_kg_per_mu"].as_f64()?,
            slaked_lime_kg_per_mu: l["slaked_lime_kg_per_mu"].as_f64()?,
            this_year_kg_per_mu: l["this_year_limestone_kg_per_mu"].as_f64()?,
            years: l["years"].as_u64().unwrap_or(0) as i32,
            method: l["method"].as_str().unwrap_or_default().to_uppercase(),
            source: l["source"].as_str().unwrap_or_default().to_owned(),
            notes: l["notes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    lang(ctx)
                        .pick(
                            n["zh"].as_str().unwrap_or_default(),
                            n["en"].as_str().unwrap_or_default(),
                        )
                        .to_owned()
                })
                .collect(),
        })
    }
    /// When to apply what: the basal dressing and the top-dressings by crop stage, kg per mu
    /// in half kilograms (they add up to the rates) and for the field.
    async fn applications(&self, ctx: &Context<'_>) -> Vec<FertiliserApplication> {
        applications_of(&self.0, lang(ctx))
    }
    /// Where the split into basal and top-dressings comes from.
    async fn split_source(&self) -> Option<String> {
        self.0.parameters["split"]["source"]
            .as_str()
            .map(str::to_owned)
    }
    /// China soil grades (2nd National Soil Survey) of the soil test.
    async fn soil_classes(&self) -> Json<Value> {
        Json(self.0.result.get("classes").cloned().unwrap_or(Value::Null))
    }
    /// Every step, with the numbers, so an agronomist can check it with a pencil.
    async fn explanation(&self, ctx: &Context<'_>) -> Vec<ExplanationStep> {
        collect_steps(&self.0.result, lang(ctx))
    }
    /// Notes from the computation (defaults used, lime, soil supplies enough ...).
    async fn computation_notes(&self, ctx: &Context<'_>) -> Vec<String> {
        let l = lang(ctx);
        let mut out: Vec<String> = self.0.parameters["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect();
        for r in self.0.result["rates"].as_array().into_iter().flatten() {
            for n in r["notes"].as_array().into_iter().flatten() {
                out.push(
                    l.pick(
                        n["zh"].as_str().unwrap_or_default(),
                        n["en"].as_str().unwrap_or_default(),
                    )
                    .to_owned(),
                );
            }
        }
        out
    }
    async fn basket(&self, ctx: &Context<'_>) -> RecommendationBasket {
        let b: Option<agronomy::Basket> = serde_json::from_value(self.0.basket.clone()).ok();
        let b = b.unwrap_or(agronomy::Basket {
            feasible: false,
            lines: vec![],
            cost_fen: 0,
            shortfalls: vec![],
            proven_optimal: true,
        });
        RecommendationBasket {
            proven_optimal: b.proven_optimal,
            feasible: b.feasible,
            cost_fen: b.cost_fen,
            shortfalls: b.shortfalls,
            lines: b
                .lines
                .into_iter()
                .map(|l| RecommendationBasketLine {
                    offer_id: gid("Offer", l.offer_id),
                    dealer_id: gid("Dealer", l.dealer_id),
                    sku_id: gid("Sku", l.sku_id),
                    product_name: pick(ctx, &l.product_zh, &l.product_en),
                    analysis: l.analysis,
                    bag_kg: l.bag_kg,
                    bags: l.bags,
                    price_fen_per_bag: l.price_fen_per_bag,
                    subtotal_fen: l.bags * l.price_fen_per_bag,
                })
                .collect(),
        }
    }
    /// The parameters used (method, correction coefficients, recovery rates, ...).
    async fn parameters(&self) -> Json<Value> {
        Json(self.0.parameters["params"].clone())
    }
    /// The advisor's whole answer.
    async fn result(&self) -> Json<Value> {
        Json(self.0.result.clone())
    }
    async fn notes(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.notes_zh, &self.0.notes_en)
    }
    async fn notes_zh(&self) -> &str {
        &self.0.notes_zh
    }
    async fn notes_en(&self) -> &str {
        &self.0.notes_en
    }
    async fn reject_reason(&self) -> Option<&str> {
        self.0.reject_reason.as_deref()
    }
    /// The agronomist who signed (published) or rejected it.
    async fn agronomist_id(&self) -> Option<ID> {
        self.0.agronomist_id.map(|a| gid("User", a))
    }
    async fn agronomist_name(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        match self.0.agronomist_id {
            Some(a) => Ok(one(ctx, UserKey(a)).await?.map(|u| u.display_name)),
            None => Ok(None),
        }
    }
    async fn signed_at(&self) -> Option<DateTime<Utc>> {
        self.0.signed_at
    }
    /// Where each value the computation used came from: the draft, the crop plan, the
    /// county's parameters, or a sourced default.
    async fn provenance(&self, ctx: &Context<'_>) -> Vec<ValueProvenance> {
        provenance_of(&self.0.parameters, lang(ctx))
    }
    /// The record of edits, oldest first.
    async fn edits(&self) -> Vec<RecommendationEdit> {
        edits_of(&self.0.parameters)
    }
    /// The second agronomist who approved the draft, where the county requires one.
    async fn approved_by_id(&self) -> Option<ID> {
        self.0.approved_by.map(|a| gid("User", a))
    }
    async fn approved_by_name(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        match self.0.approved_by {
            Some(a) => Ok(one(ctx, UserKey(a)).await?.map(|u| u.display_name)),
            None => Ok(None),
        }
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.approved_at
    }
    /// Whether the county requires a second agronomist's approval before this is published.
    async fn approval_required(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        agronomy::approval_required(db(ctx), &self.0)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))
    }
    /// SHA-256 over the content, the agronomist and the time.
    async fn signature(&self) -> Option<&str> {
        self.0.signature.as_deref()
    }
    async fn supersedes_id(&self) -> Option<ID> {
        self.0.supersedes_id.map(|s| gid("Recommendation", s))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct RegionalFormula(pub regional_formula::Model);

#[derive(SimpleObject)]
pub struct FormulaFieldFit {
    field_id: ID,
    rates: Rates,
    /// Distance between the field's N:P2O5:K2O shares and the formula's, percentage points.
    distance: f64,
    /// kg of formula fertiliser per mu, sized to the first nutrient it would over-supply.
    formula_kg_per_mu: f64,
    /// What to top up with straights, kg nutrient per mu.
    top_up: Rates,
    /// The field's rates rest on the 0.5 placeholder correction coefficients, not on the
    /// county's omission plots (as a draft's note says).
    placeholder_correction: bool,
}

/// A field growing the crop that the computation left out.
#[derive(SimpleObject)]
pub struct FormulaSkippedField {
    field_id: ID,
    /// NO_SOIL_TEST, NO_OLSEN_P, NO_TARGET_YIELD, ADVISOR_REFUSED or NO_NEED.
    code: String,
    /// Why, in the caller's language.
    reason: String,
    reason_zh: String,
    reason_en: String,
}

/// The county's agronomists and admins see a formula's fields (farmers' fields and soil tests).
fn may_see_fields(ctx: &Context<'_>, county: i64) -> bool {
    ctx.data_opt::<crate::graphql::RequestCtx>()
        .and_then(|r| r.actor.as_ref())
        .is_some_and(|a| {
            a.is_admin()
                || (a.role == domain::accounts::Role::Agronomist && a.county_ids.contains(&county))
        })
}

impl RegionalFormula {
    fn details(&self) -> Vec<agronomy::FormulaField> {
        serde_json::from_value(self.0.details.clone()).unwrap_or_default()
    }
    fn skipped(&self) -> Vec<agronomy::SkippedField> {
        self.0
            .skipped
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

#[Object]
impl RegionalFormula {
    async fn id(&self) -> ID {
        gid("RegionalFormula", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn crop(&self) -> &str {
        &self.0.crop
    }
    /// `N-P2O5-K2O`.
    async fn analysis(&self) -> String {
        domain::types::Analysis {
            n: self.0.n_pct,
            p2o5: self.0.p2o5_pct,
            k2o: self.0.k2o_pct,
        }
        .to_string()
    }
    async fn fields_covered(&self) -> i32 {
        self.0.fields_covered
    }
    async fn mean_distance(&self) -> f64 {
        self.0.mean_distance
    }
    /// Each field's need and fit: for the county's agronomists and admins only (they are
    /// farmers' fields and soil-test results); everyone else gets an empty list and the totals.
    async fn fields(&self, ctx: &Context<'_>) -> Vec<FormulaFieldFit> {
        if !may_see_fields(ctx, self.0.county_id) {
            return vec![];
        }
        self.details()
            .into_iter()
            .map(|f| FormulaFieldFit {
                field_id: gid("Field", f.field_id),
                rates: Rates {
                    n_kg_per_mu: f.rates_kg_per_mu[0],
                    p2o5_kg_per_mu: f.rates_kg_per_mu[1],
                    k2o_kg_per_mu: f.rates_kg_per_mu[2],
                },
                distance: f.distance,
                formula_kg_per_mu: f.formula_kg_per_mu,
                top_up: Rates {
                    n_kg_per_mu: f.top_up_kg_per_mu[0],
                    p2o5_kg_per_mu: f.top_up_kg_per_mu[1],
                    k2o_kg_per_mu: f.top_up_kg_per_mu[2],
                },
                placeholder_correction: f.placeholder_correction,
            })
            .collect()
    }
    /// The county's fields growing the crop that this computation left out, and why: the
    /// formula does not speak for them. Same visibility as `fields`.
    async fn skipped_fields(&self, ctx: &Context<'_>) -> Vec<FormulaSkippedField> {
        if !may_see_fields(ctx, self.0.county_id) {
            return vec![];
        }
        self.skipped()
            .into_iter()
            .map(|s| FormulaSkippedField {
                field_id: gid("Field", s.field_id),
                code: s.code,
                reason: pick(ctx, &s.zh, &s.en),
                reason_zh: s.zh,
                reason_en: s.en,
            })
            .collect()
    }
    /// What the computation assumed or left out, in the caller's language: how many fields'
    /// rates rest on default parameters the county has not set, and how many fields were left
    /// out.
    async fn computation_notes(&self, ctx: &Context<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let details = self.details();
        let placeholder = details.iter().filter(|f| f.placeholder_correction).count();
        if placeholder > 0 {
            out.push(pick(
                ctx,
                &format!(
                    "{} 个地块中有 {placeholder} 个的用量使用了本县尚未核定的默认参数，请农技人员按本县试验设定",
                    details.len()
                ),
                &format!(
                    "{placeholder} of {} fields' rates rest on default parameters the county has not set: set them from the county's trials",
                    details.len()
                ),
            ));
        }
        let skipped = self.skipped().len();
        if skipped > 0 {
            out.push(pick(
                ctx,
                &format!("有 {skipped} 个种植该作物的地块未纳入计算（原因见 skippedFields）"),
                &format!(
                    "fields growing this crop left out of the computation: {skipped} (why: skippedFields)"
                ),
            ));
        }
        out
    }
    async fn status(&self) -> FormulaStatusGql {
        self.0.status.into()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// The product dealers stock it as, once listed.
    async fn product_id(&self) -> Option<ID> {
        self.0.product_id.map(|p| gid("Product", p))
    }
}
