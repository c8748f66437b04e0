//! 测土配方施肥 in the API: crop plans, soil tests (and lab CSV import), recommendation drafts,
//! the agronomist's review queue, publishing, the farmer's view, basket-to-cart, and regional
//! formulas.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::agronomy::{self, Method, Params};
use domain::entities::{crop_plan, recommendation, regional_formula, soil_test};
use domain::{Error, FieldError, Lang};
use serde_json::Value;

use super::errors::{ApiResult, split, to_gql};
use super::loaders::{CropPlanKey, FieldKey, SoilTestKey, UserKey, one, prefetch};
use super::orders::Field;
use super::stock::{CsvErrorPolicy, CsvRowError, csv_policy, publish};
use super::{actor, db, gid, lang, parse_gid, parse_gid_opt, pick};

fn errs(e: Vec<FieldError>, l: Lang) -> Vec<AgronomyError> {
    e.into_iter()
        .map(|e| AgronomyError {
            message: e.message(l).to_owned(),
            field: e.field,
            code: e.code.as_str().to_owned(),
        })
        .collect()
}

/// A rejected input: the field, a code (REQUIRED, OUT_OF_RANGE, INVALID_FORMAT, DUPLICATE,
/// UNKNOWN_REFERENCE, INVALID_TRANSITION, INSUFFICIENT_STOCK, ...) and a message.
#[derive(SimpleObject, Clone)]
pub struct AgronomyError {
    field: String,
    code: String,
    message: String,
}

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
    /// DRAFT, PUBLISHED, REJECTED or SUPERSEDED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// NUTRIENT_BALANCE or MANUAL_RATES.
    async fn method(&self) -> &str {
        &self.0.method
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
    /// Lime, kg per mu, when the soil is acid and a buffer pH was measured.
    async fn lime_kg_per_mu(&self) -> Option<f64> {
        self.0
            .result
            .get("lime")
            .and_then(|l| l["kg_per_mu"].as_f64())
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
    ctx.data_opt::<super::RequestCtx>()
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
    /// rates rest on the 0.5 placeholder correction coefficients, and how many fields were
    /// left out.
    async fn computation_notes(&self, ctx: &Context<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let details = self.details();
        let placeholder = details.iter().filter(|f| f.placeholder_correction).count();
        if placeholder > 0 {
            out.push(pick(
                ctx,
                &format!(
                    "{} 个地块中有 {placeholder} 个的用量使用了默认校正系数 0.5，请农技人员按本县空白区试验核定",
                    details.len()
                ),
                &format!(
                    "{placeholder} of {} fields' rates use the 0.5 placeholder correction coefficients: set them from the county's omission plots",
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
    /// DRAFT or PUBLISHED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// The product dealers stock it as, once listed.
    async fn product_id(&self) -> Option<ID> {
        self.0.product_id.map(|p| gid("Product", p))
    }
}

#[derive(Default)]
pub struct AgronomyQuery;

#[Object]
impl AgronomyQuery {
    /// A field (its farmer, the county's agronomists, admins).
    async fn field(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Field> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Field", &id).map_err(|e| to_gql(e, l))?;
        agronomy::field_for(db(ctx), a, id)
            .await
            .map(Field)
            .map_err(|e| to_gql(e, l))
    }

    async fn crop_plans(&self, ctx: &Context<'_>, field_id: ID) -> ApiResult<Vec<CropPlan>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("fieldId", "Field", &field_id).map_err(|e| to_gql(e, l))?;
        agronomy::field_for(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?;
        Ok(agronomy::crop_plans_of(db(ctx), id)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(CropPlan)
            .collect())
    }

    async fn soil_tests(&self, ctx: &Context<'_>, field_id: ID) -> ApiResult<Vec<SoilTest>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("fieldId", "Field", &field_id).map_err(|e| to_gql(e, l))?;
        agronomy::field_for(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?;
        Ok(agronomy::soil_tests_of(db(ctx), id)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(SoilTest)
            .collect())
    }

    /// Drafts waiting for review in the agronomist's counties, oldest first.
    async fn recommendation_queue(&self, ctx: &Context<'_>) -> ApiResult<Vec<Recommendation>> {
        let a = actor(ctx)?;
        let rows = agronomy::queue(db(ctx), a)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        prefetch_recommendations(ctx, &rows).await?;
        Ok(rows.into_iter().map(Recommendation).collect())
    }

    async fn recommendation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Recommendation> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Recommendation", &id).map_err(|e| to_gql(e, l))?;
        agronomy::get(db(ctx), a, id)
            .await
            .map(Recommendation)
            .map_err(|e| to_gql(e, l))
    }

    /// The farmer's published recommendations.
    async fn my_recommendations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Recommendation>> {
        let a = actor(ctx)?;
        Ok(agronomy::for_farmer(db(ctx), a)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(Recommendation)
            .collect())
    }

    /// Every version for a field the caller may see (farmers: published ones only).
    async fn field_recommendations(
        &self,
        ctx: &Context<'_>,
        field_id: ID,
    ) -> ApiResult<Vec<Recommendation>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("fieldId", "Field", &field_id).map_err(|e| to_gql(e, l))?;
        Ok(agronomy::of_field(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Recommendation)
            .collect())
    }

    /// A county's regional formulas (published ones for everyone; drafts for its agronomists).
    async fn regional_formulas(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        crop: Option<String>,
    ) -> ApiResult<Vec<RegionalFormula>> {
        let l = lang(ctx);
        let id = parse_gid("countyId", "Region", &county_id).map_err(|e| to_gql(e, l))?;
        let sees_drafts = ctx
            .data_opt::<super::RequestCtx>()
            .and_then(|r| r.actor.as_ref())
            .is_some_and(|a| {
                a.is_admin()
                    || (a.role == domain::accounts::Role::Agronomist && a.county_ids.contains(&id))
            });
        Ok(agronomy::regional_formulas(db(ctx), id, crop.as_deref())
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .filter(|f| sees_drafts || f.status == "PUBLISHED")
            .map(RegionalFormula)
            .collect())
    }
}

#[derive(InputObject)]
pub struct CropPlanInput {
    field_id: ID,
    /// Crop code or name (`RICE`, `水稻`).
    crop: String,
    /// e.g. `2027 中稻`.
    season: String,
    target_yield_kg_per_mu: Option<f64>,
    /// The last three years' yields, oldest first (the target is their mean x 1.10).
    past_yields_kg_per_mu: Option<Vec<f64>>,
    /// Yield of an unfertilised plot, to calibrate the soil supply.
    no_fertiliser_yield_kg_per_mu: Option<f64>,
    #[graphql(default)]
    previous_crop: String,
    #[graphql(default)]
    straw_returned: bool,
}

#[derive(InputObject)]
pub struct SoilTestInput {
    field_id: ID,
    sampled_on: NaiveDate,
    #[graphql(default = 0)]
    depth_from_cm: i32,
    #[graphql(default = 20)]
    depth_to_cm: i32,
    lab: String,
    lab_sample_id: String,
    ph: f64,
    buffer_ph: Option<f64>,
    organic_matter_g_kg: f64,
    alkali_n_mg_kg: f64,
    olsen_p_mg_kg: Option<f64>,
    #[graphql(name = "mehlich3PMgKg")]
    mehlich3_p_mg_kg: Option<f64>,
    available_k_mg_kg: f64,
    cec_cmol_kg: Option<f64>,
    ca_mg_kg: Option<f64>,
    mg_mg_kg: Option<f64>,
    s_mg_kg: Option<f64>,
    zn_mg_kg: Option<f64>,
    b_mg_kg: Option<f64>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "RecommendationMethod")]
pub enum MethodGql {
    NutrientBalance,
    ManualRates,
}

#[derive(InputObject, Default)]
pub struct RecommendationParamsInput {
    method: Option<MethodGql>,
    /// N, P2O5, K2O.
    correction_coefficients: Option<Vec<f64>>,
    recovery_rates: Option<Vec<f64>>,
    target_yield_kg_per_mu: Option<f64>,
    target_ph: Option<f64>,
    /// For MANUAL_RATES: kg N, P2O5, K2O per mu.
    rates_kg_per_mu: Option<Vec<f64>>,
    max_oversupply_pct: Option<f64>,
    /// How long the whole-bag search may run, ms (0 to 60000; default 2000). When it runs out
    /// the basket is the cheapest found in time, with `provenOptimal: false`.
    basket_time_limit_ms: Option<i32>,
}

fn triple(field: &str, v: Option<Vec<f64>>) -> domain::Result<Option<[f64; 3]>> {
    match v {
        None => Ok(None),
        Some(v) => <[f64; 3]>::try_from(v.as_slice()).map(Some).map_err(|_| {
            Error::invalid(
                field,
                domain::Code::InvalidFormat,
                "应为 3 个数（N、P2O5、K2O）",
                "must be 3 numbers (N, P2O5, K2O)",
            )
        }),
    }
}

impl RecommendationParamsInput {
    fn into_domain(self) -> domain::Result<Params> {
        Ok(Params {
            method: match self.method {
                Some(MethodGql::ManualRates) => Method::ManualRates,
                _ => Method::NutrientBalance,
            },
            correction_coefficients: triple(
                "params.correctionCoefficients",
                self.correction_coefficients,
            )?,
            recovery_rates: triple("params.recoveryRates", self.recovery_rates)?,
            target_yield_kg_per_mu: self.target_yield_kg_per_mu,
            target_ph: self.target_ph,
            rates_kg_per_mu: triple("params.ratesKgPerMu", self.rates_kg_per_mu)?,
            max_oversupply_pct: self.max_oversupply_pct,
            basket_time_limit_ms: self
                .basket_time_limit_ms
                .map(|ms| {
                    u64::try_from(ms).map_err(|_| {
                        Error::invalid(
                            "params.basketTimeLimitMs",
                            domain::Code::OutOfRange,
                            "整袋组合搜索的时间限制应在 0 到 60000 毫秒之间",
                            "the basket search time limit must be 0 to 60,000 ms",
                        )
                    })
                })
                .transpose()?,
        })
    }
}

#[derive(SimpleObject)]
pub struct CropPlanPayload {
    crop_plan: Option<CropPlan>,
    errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct SoilTestPayload {
    soil_test: Option<SoilTest>,
    errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct SoilCsvPayload {
    committed: bool,
    imported: Vec<SoilTest>,
    row_errors: Vec<CsvRowError>,
}

#[derive(SimpleObject)]
pub struct RecommendationPayload {
    recommendation: Option<Recommendation>,
    errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct BasketToCartPayload {
    ok: bool,
    /// What moved since the recommendation (prices, stock, withdrawn offers).
    warnings: Vec<String>,
    errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct FormulasPayload {
    formulas: Vec<RegionalFormula>,
    errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct FormulaPayload {
    formula: Option<RegionalFormula>,
    product_id: Option<ID>,
    errors: Vec<AgronomyError>,
}

fn rec_payload(
    r: domain::Result<recommendation::Model>,
    l: Lang,
) -> ApiResult<RecommendationPayload> {
    Ok(match split(r, l)? {
        Ok(r) => RecommendationPayload {
            recommendation: Some(Recommendation(r)),
            errors: vec![],
        },
        Err(e) => RecommendationPayload {
            recommendation: None,
            errors: errs(e, l),
        },
    })
}

#[derive(Default)]
pub struct AgronomyMutation;

#[Object]
impl AgronomyMutation {
    /// A crop plan for a field (its farmer or the county's agronomists).
    async fn crop_plan_create(
        &self,
        ctx: &Context<'_>,
        input: CropPlanInput,
    ) -> ApiResult<CropPlanPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let i = agronomy::CropPlanInput {
                field_id: parse_gid("fieldId", "Field", &input.field_id)?,
                crop: input.crop,
                season: input.season,
                target_yield_kg_per_mu: input.target_yield_kg_per_mu,
                past_yields_kg_per_mu: input.past_yields_kg_per_mu,
                no_fertiliser_yield_kg_per_mu: input.no_fertiliser_yield_kg_per_mu,
                previous_crop: input.previous_crop,
                straw_returned: input.straw_returned,
            };
            agronomy::create_crop_plan(db(ctx), a, i).await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(p) => CropPlanPayload {
                crop_plan: Some(CropPlan(p)),
                errors: vec![],
            },
            Err(e) => CropPlanPayload {
                crop_plan: None,
                errors: errs(e, l),
            },
        })
    }

    /// An agronomist enters a soil test.
    async fn soil_test_create(
        &self,
        ctx: &Context<'_>,
        input: SoilTestInput,
    ) -> ApiResult<SoilTestPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let i = agronomy::SoilTestInput {
                field_id: parse_gid("fieldId", "Field", &input.field_id)?,
                sampled_on: input.sampled_on,
                depth_from_cm: input.depth_from_cm,
                depth_to_cm: input.depth_to_cm,
                lab: input.lab,
                lab_sample_id: input.lab_sample_id,
                ph: input.ph,
                buffer_ph: input.buffer_ph,
                organic_matter_g_kg: input.organic_matter_g_kg,
                alkali_n_mg_kg: input.alkali_n_mg_kg,
                olsen_p_mg_kg: input.olsen_p_mg_kg,
                mehlich3_p_mg_kg: input.mehlich3_p_mg_kg,
                available_k_mg_kg: input.available_k_mg_kg,
                cec_cmol_kg: input.cec_cmol_kg,
                ca_mg_kg: input.ca_mg_kg,
                mg_mg_kg: input.mg_mg_kg,
                s_mg_kg: input.s_mg_kg,
                zn_mg_kg: input.zn_mg_kg,
                b_mg_kg: input.b_mg_kg,
            };
            agronomy::create_soil_test(db(ctx), a, i).await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(t) => SoilTestPayload {
                soil_test: Some(SoilTest(t)),
                errors: vec![],
            },
            Err(e) => SoilTestPayload {
                soil_test: None,
                errors: errs(e, l),
            },
        })
    }

    /// Imports a lab's CSV (one row per sample). Columns: field_id, or farmer_phone +
    /// field_name; sampled_on, depth_cm (`0-20`), lab, lab_sample_id, ph, organic_matter_g_kg,
    /// alkali_n_mg_kg, olsen_p_mg_kg (or mehlich3_p_mg_kg), available_k_mg_kg; optional
    /// buffer_ph, cec_cmol_kg, ca_mg_kg, mg_mg_kg, s_mg_kg, zn_mg_kg, b_mg_kg.
    async fn soil_test_import_csv(
        &self,
        ctx: &Context<'_>,
        csv: String,
        policy: CsvErrorPolicy,
    ) -> ApiResult<SoilCsvPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let o = agronomy::import_soil_csv(db(ctx), a, &csv, csv_policy(policy))
            .await
            .map_err(|e| to_gql(e, l))?;
        let rows = super::stock::csv_payload(
            domain::stock::CsvOutcome {
                received: vec![],
                lots_created: 0,
                errors: o.errors,
                committed: o.committed,
                ..Default::default()
            },
            l,
        );
        Ok(SoilCsvPayload {
            committed: o.committed,
            imported: o.imported.into_iter().map(SoilTest).collect(),
            row_errors: rows.row_errors,
        })
    }

    /// Runs the advisor for a field and crop plan (the latest soil test unless one is named)
    /// and stores a draft for review, with a least-cost basket of in-stock offers from the
    /// dealers serving the field's village.
    async fn recommendation_draft(
        &self,
        ctx: &Context<'_>,
        field_id: ID,
        crop_plan_id: ID,
        soil_test_id: Option<ID>,
        params: Option<RecommendationParamsInput>,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let f = parse_gid("fieldId", "Field", &field_id)?;
            let p = parse_gid("cropPlanId", "CropPlan", &crop_plan_id)?;
            let t = parse_gid_opt("soilTestId", "SoilTest", soil_test_id.as_ref())?;
            agronomy::create_draft(
                db(ctx),
                a,
                f,
                p,
                t,
                params.unwrap_or_default().into_domain()?,
            )
            .await
        }
        .await;
        rec_payload(r, l)
    }

    /// Changes a draft's method, parameters or rates (recomputed) and notes.
    async fn recommendation_edit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        params: Option<RecommendationParamsInput>,
        notes_zh: Option<String>,
        notes_en: Option<String>,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Recommendation", &id)?;
            let p = params
                .map(RecommendationParamsInput::into_domain)
                .transpose()?;
            agronomy::edit_draft(db(ctx), a, id, p, notes_zh, notes_en).await
        }
        .await;
        rec_payload(r, l)
    }

    /// Publishes a draft, signed with the agronomist and the time; the farmer is notified.
    async fn recommendation_publish(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r =
            async { agronomy::publish(db(ctx), a, parse_gid("id", "Recommendation", &id)?).await }
                .await;
        let r = match r {
            Ok((rec, events)) => {
                publish(ctx, events).await;
                Ok(rec)
            }
            Err(e) => Err(e),
        };
        rec_payload(r, l)
    }

    async fn recommendation_reject(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::reject(db(ctx), a, parse_gid("id", "Recommendation", &id)?, &reason).await
        }
        .await;
        rec_payload(r, l)
    }

    /// A new draft from an earlier version, to revise a published recommendation.
    async fn recommendation_revise(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r =
            async { agronomy::revise(db(ctx), a, parse_gid("id", "Recommendation", &id)?).await }
                .await;
        rec_payload(r, l)
    }

    /// Puts a published recommendation's basket into the farmer's cart, re-priced.
    async fn recommendation_to_cart(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<BasketToCartPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::basket_to_cart(db(ctx), a, parse_gid("id", "Recommendation", &id)?).await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(w) => BasketToCartPayload {
                ok: true,
                warnings: w
                    .into_iter()
                    .map(|w| l.pick(&w.zh, &w.en).to_owned())
                    .collect(),
                errors: vec![],
            },
            Err(e) => BasketToCartPayload {
                ok: false,
                warnings: vec![],
                errors: errs(e, l),
            },
        })
    }

    /// Clusters a county's fields growing a crop into `formulas` N-P2O5-K2O formulas (drafts).
    async fn regional_formulas_compute(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        crop: String,
        formulas: i32,
    ) -> ApiResult<FormulasPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::compute_regional_formulas(
                db(ctx),
                a,
                parse_gid("countyId", "Region", &county_id)?,
                &crop,
                formulas.max(0) as usize,
            )
            .await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(f) => FormulasPayload {
                formulas: f.into_iter().map(RegionalFormula).collect(),
                errors: vec![],
            },
            Err(e) => FormulasPayload {
                formulas: vec![],
                errors: errs(e, l),
            },
        })
    }

    async fn regional_formula_publish(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<FormulaPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::publish_formula(db(ctx), a, parse_gid("id", "RegionalFormula", &id)?).await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(f) => FormulaPayload {
                formula: Some(RegionalFormula(f)),
                product_id: None,
                errors: vec![],
            },
            Err(e) => FormulaPayload {
                formula: None,
                product_id: None,
                errors: errs(e, l),
            },
        })
    }

    /// Lists a published formula as a product a dealer can stock (then add SKUs and offers).
    async fn regional_formula_to_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        producer_id: ID,
    ) -> ApiResult<FormulaPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::formula_to_product(
                db(ctx),
                a,
                parse_gid("id", "RegionalFormula", &id)?,
                parse_gid("producerId", "Producer", &producer_id)?,
            )
            .await
        }
        .await;
        Ok(match split(r, l)? {
            Ok(p) => FormulaPayload {
                formula: None,
                product_id: Some(gid("Product", p.id)),
                errors: vec![],
            },
            Err(e) => FormulaPayload {
                formula: None,
                product_id: None,
                errors: errs(e, l),
            },
        })
    }
}

/// Loads every relation the query selects for a whole list of recommendations, one statement
/// per relation, so the queue costs the same SQL however long it is.
async fn prefetch_recommendations(
    ctx: &Context<'_>,
    rows: &[recommendation::Model],
) -> ApiResult<()> {
    let node = ctx.look_ahead();
    if node.field("field").exists() {
        prefetch(ctx, rows.iter().map(|r| FieldKey(r.field_id))).await?;
    }
    if node.field("cropPlan").exists() {
        prefetch(ctx, rows.iter().map(|r| CropPlanKey(r.crop_plan_id))).await?;
    }
    if node.field("soilTest").exists() {
        prefetch(ctx, rows.iter().map(|r| SoilTestKey(r.soil_test_id))).await?;
    }
    if node.field("agronomistName").exists() {
        prefetch(
            ctx,
            rows.iter().filter_map(|r| r.agronomist_id).map(UserKey),
        )
        .await?;
    }
    Ok(())
}
