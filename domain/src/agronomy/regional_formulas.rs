//! Regional formulas for a county: the fields' nutrient ratios clustered into a few grades,
//! published, and turned into products a dealer can stock.

use super::*;

/// One field's need and the formula it falls under.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FormulaField {
    pub field_id: i64,
    pub rates_kg_per_mu: [f64; 3],
    /// Distance between the field's N:P2O5:K2O shares and the formula's, in percentage points.
    pub distance: f64,
    /// kg of formula product per mu sized to the first nutrient it would over-supply.
    pub formula_kg_per_mu: f64,
    /// What remains to top up with straights, kg nutrient per mu (N, P2O5, K2O).
    pub top_up_kg_per_mu: [f64; 3],
    /// The rates rest on default parameters the county has not set (before drafts recorded
    /// their provenance: the 0.5 placeholder correction coefficients), as a draft's note says.
    #[serde(default)]
    pub placeholder_correction: bool,
}

/// A field growing the crop that a regional formula computation left out, and why.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SkippedField {
    pub field_id: i64,
    /// NO_SOIL_TEST, NO_OLSEN_P, NO_TARGET_YIELD, ADVISOR_REFUSED or NO_NEED.
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl SkippedField {
    fn new(field_id: i64, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        SkippedField {
            field_id,
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Whether rates computed with no parameters rest on defaults the county has not set.
async fn soil_supply_assumed_for(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
) -> Result<bool> {
    Ok(resolve(db, f, plan, test, &Params::default())
        .await?
        .soil_supply_assumed)
}

/// Whether a draft stored before drafts recorded their provenance used the 0.5 placeholder
/// correction coefficients: nutrient balance with none given and no no-fertiliser yield.
pub fn uses_placeholder_correction(params: &Params, plan: &crop_plan::Model) -> bool {
    params.method == Method::NutrientBalance
        && params.correction_coefficients.is_none()
        && plan.no_fertiliser_yield_kg_per_mu.is_none()
}

fn shares(r: [f64; 3]) -> Option<[f64; 3]> {
    let t = r[0] + r[1] + r[2];
    (t > 0.0).then(|| [r[0] / t, r[1] / t, r[2] / t])
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// k-means on nutrient shares with farthest-point seeding (deterministic for the same input).
pub fn cluster(points: &[[f64; 3]], k: usize) -> (Vec<[f64; 3]>, Vec<usize>) {
    let k = k.min(points.len()).max(1);
    let mean = |idx: &[usize]| {
        let n = idx.len().max(1) as f64;
        let s = idx.iter().fold([0.0; 3], |a, i| {
            [
                a[0] + points[*i][0],
                a[1] + points[*i][1],
                a[2] + points[*i][2],
            ]
        });
        [s[0] / n, s[1] / n, s[2] / n]
    };
    let all: Vec<usize> = (0..points.len()).collect();
    let mut centres = vec![mean(&all)];
    while centres.len() < k {
        let far = (0..points.len())
            .max_by(|a, b| {
                let da = centres
                    .iter()
                    .map(|c| dist(points[*a], *c))
                    .fold(f64::MAX, f64::min);
                let db = centres
                    .iter()
                    .map(|c| dist(points[*b], *c))
                    .fold(f64::MAX, f64::min);
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        centres.push(points[far]);
    }
    let mut assign = vec![0; points.len()];
    for _ in 0..100 {
        let next: Vec<usize> = points
            .iter()
            .map(|p| {
                (0..centres.len())
                    .min_by(|a, b| dist(*p, centres[*a]).total_cmp(&dist(*p, centres[*b])))
                    .unwrap_or(0)
            })
            .collect();
        let changed = next != assign;
        assign = next;
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..points.len()).filter(|i| assign[*i] == c).collect();
            if !members.is_empty() {
                *centre = mean(&members);
            }
        }
        if !changed {
            break;
        }
    }
    (centres, assign)
}

/// A formula's grade from cluster shares: scaled to a high-concentration total (45 %, GB/T
/// 15063-2020: >= 40 % is high) and rounded to whole per cent; a declared nutrient is at least
/// 4 % (RULES.md), a share under 2 % is left out.
pub fn grade_from_shares(s: [f64; 3]) -> [f64; 3] {
    const TOTAL: f64 = 45.0;
    let mut g = s.map(|x| {
        if x * TOTAL < 2.0 {
            0.0
        } else {
            (x * TOTAL).round().max(4.0)
        }
    });
    // Keep the total at 45 by moving the rounding difference onto the largest nutrient.
    let diff = TOTAL - (g[0] + g[1] + g[2]);
    let largest = (0..3).max_by(|a, b| g[*a].total_cmp(&g[*b])).unwrap_or(0);
    g[largest] += diff;
    g
}

/// Clusters the county's fields growing `crop` into `k` formulas from their latest soil test
/// and crop plan (nutrient balance with the draft defaults), and stores them as DRAFT formulas.
pub async fn compute_regional_formulas<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    county_id: i64,
    crop: &str,
    k: usize,
) -> Result<Vec<regional_formula::Model>> {
    require_agronomist(actor)?;
    actor.require(actor.is_admin() || actor.county_ids.contains(&county_id))?;
    let crop_code = crate::catalog::crops::resolve(crop)
        .filter(|c| advisor_crop(c).is_some())
        .ok_or_else(|| Error::invalid("crop", Code::InvalidFormat, "未知作物", "unknown crop"))?;
    if !(1..=8).contains(&k) {
        return Err(Error::invalid(
            "formulas",
            Code::OutOfRange,
            "配方数量应为 1 到 8 个",
            "choose 1 to 8 formulas",
        ));
    }
    let villages: BTreeSet<i64> = regions::villages(db, Some(county_id))
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let fields = field::Entity::find()
        .filter(field::Column::VillageId.is_in(villages))
        .order_by_asc(field::Column::Id)
        .all(db)
        .await?;
    // (field, rates, placeholder correction used)
    let mut needs: Vec<(i64, [f64; 3], bool)> = Vec::new();
    let mut skipped: Vec<SkippedField> = Vec::new();
    for f in fields {
        let Some(plan) = crop_plans_of(db, f.id)
            .await?
            .into_iter()
            .find(|p| p.crop == crop_code)
        else {
            continue;
        };
        let Some(test) = soil_tests_of(db, f.id).await?.into_iter().next() else {
            skipped.push(SkippedField::new(
                f.id,
                "NO_SOIL_TEST",
                "该地块没有土壤检测结果",
                "the field has no soil test",
            ));
            continue;
        };
        // The latest non-rejected recommendation's rates when there is one; else compute.
        let latest = recommendation::Entity::find()
            .filter(recommendation::Column::FieldId.eq(f.id))
            .filter(recommendation::Column::CropPlanId.eq(plan.id))
            .filter(recommendation::Column::Status.ne(RecommendationStatus::Rejected))
            .order_by_desc(recommendation::Column::Version)
            .one(db)
            .await?;
        let (rates, placeholder) = match latest {
            Some(r) => {
                let params: Params =
                    serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
                let on_defaults = match r.parameters.get("provenance") {
                    Some(Value::Array(p)) => p.iter().any(|v| {
                        v["source"] == "DEFAULT"
                            && v["key"]
                                .as_str()
                                .is_some_and(|k| k.starts_with("correction."))
                    }),
                    _ => uses_placeholder_correction(&params, &plan),
                };
                (
                    [r.n_kg_per_mu, r.p2o5_kg_per_mu, r.k2o_kg_per_mu],
                    on_defaults,
                )
            }
            None => match rates_only(db, &f, &plan, &test).await {
                Ok(r) => (r, soil_supply_assumed_for(db, &f, &plan, &test).await?),
                Err(skip) => {
                    skipped.push(skip);
                    continue;
                }
            },
        };
        needs.push((f.id, rates, placeholder));
    }
    let mut points: Vec<(i64, [f64; 3], [f64; 3], bool)> = Vec::new();
    for (id, r, placeholder) in &needs {
        match shares(*r) {
            Some(s) => points.push((*id, *r, s, *placeholder)),
            None => skipped.push(SkippedField::new(
                *id,
                "NO_NEED",
                "土壤供应充足，该地块不需要施 N、P2O5、K2O",
                "the soil supplies enough: the field needs no N, P2O5 or K2O",
            )),
        }
    }
    skipped.sort_by_key(|s| s.field_id);
    if points.is_empty() {
        return Err(Error::invalid(
            "countyId",
            Code::Required,
            "该县没有种植该作物且有土壤检测的地块",
            "no field in this county has a soil test and a crop plan for this crop",
        ));
    }
    let (centres, assign) = cluster(&points.iter().map(|p| p.2).collect::<Vec<_>>(), k);
    let county = regions::region(db, county_id).await?;
    let crop_zh = crate::catalog::crops::find(crop_code)
        .map(|c| c.1)
        .unwrap_or(crop_code);
    let txn = crate::begin_write(db).await?;
    let mut out = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        let members: Vec<&(i64, [f64; 3], [f64; 3], bool)> = points
            .iter()
            .zip(&assign)
            .filter(|(_, a)| **a == c)
            .map(|(p, _)| p)
            .collect();
        if members.is_empty() {
            continue;
        }
        let g = grade_from_shares(*centre);
        let gs = shares(g).unwrap_or(*centre);
        let details: Vec<FormulaField> = members
            .iter()
            .map(|(id, r, s, placeholder)| {
                // Size the formula to the nutrient it would over-supply first, then top up.
                let kg = (0..3)
                    .filter(|i| g[*i] > 0.0)
                    .map(|i| r[i] / (g[i] / 100.0))
                    .fold(f64::MAX, f64::min);
                let kg = if kg.is_finite() { kg } else { 0.0 };
                FormulaField {
                    field_id: *id,
                    rates_kg_per_mu: *r,
                    distance: dist(*s, gs) * 100.0,
                    formula_kg_per_mu: kg,
                    top_up_kg_per_mu: [0, 1, 2].map(|i| (r[i] - kg * g[i] / 100.0).max(0.0)),
                    placeholder_correction: *placeholder,
                }
            })
            .collect();
        let mean_distance = details.iter().map(|d| d.distance).sum::<f64>() / details.len() as f64;
        let row = regional_formula::ActiveModel {
            county_id: Set(county_id),
            crop: Set(crop_code.into()),
            name: Set(format!(
                "{}{}配方肥 {}",
                county.name_zh,
                crop_zh,
                types::Analysis {
                    n: g[0],
                    p2o5: g[1],
                    k2o: g[2]
                }
            )),
            n_pct: Set(g[0]),
            p2o5_pct: Set(g[1]),
            k2o_pct: Set(g[2]),
            fields_covered: Set(details.len() as i32),
            mean_distance: Set(mean_distance),
            details: Set(
                serde_json::to_value(&details).map_err(|e| Error::Internal(e.to_string()))?
            ),
            skipped: Set(Some(
                serde_json::to_value(&skipped).map_err(|e| Error::Internal(e.to_string()))?,
            )),
            status: Set(FormulaStatus::Draft),
            created_by: Set(actor.user_id),
            published_by: Set(None),
            published_at: Set(None),
            product_id: Set(None),
            created_at: Set(crate::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        out.push(row);
    }
    txn.commit().await?;
    Ok(out)
}

/// Nutrient-balance rates with the draft defaults, without a basket (for clustering), or why
/// the field has none.
async fn rates_only(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
) -> std::result::Result<[f64; 3], SkippedField> {
    let skip = |code: &str, zh: String, en: String| SkippedField::new(f.id, code, zh, en);
    let crop = advisor_crop(&plan.crop).ok_or_else(|| {
        skip(
            "ADVISOR_REFUSED",
            "该作物暂无养分吸收数据".into(),
            "no uptake data for this crop".into(),
        )
    })?;
    let olsen = test.olsen_p_mg_kg.ok_or_else(|| {
        skip(
            "NO_OLSEN_P",
            "土壤检测没有 Olsen 法有效磷，养分平衡法无法计算".into(),
            "the soil test has no Olsen P, which the nutrient balance method needs".into(),
        )
    })?;
    let (target_yield_kg_per_mu, past_yields_kg_per_mu) =
        match (plan.target_yield_kg_per_mu, &plan.past_yields_kg_per_mu) {
            (Some(t), _) => (
                Some(KgPerMu::try_new(t).map_err(|e| e.at("target_yield_kg_per_mu"))),
                None,
            ),
            (None, Some(p)) => (None, Some(past_yields(p))),
            _ => {
                return Err(skip(
                    "NO_TARGET_YIELD",
                    "作物计划没有目标产量".into(),
                    "the crop plan has no target yield".into(),
                ));
            }
        };
    let resolved = resolve(db, f, plan, test, &Params::default())
        .await
        .map_err(|e| {
            skip(
                "ADVISOR_REFUSED",
                format!("读取本县参数失败：{e}"),
                format!("the county's parameters could not be read: {e}"),
            )
        })?;
    let request = (|| {
        let (correction_coefficients, no_fertiliser_yield_kg_per_mu) =
            match (resolved.correction, plan.no_fertiliser_yield_kg_per_mu) {
                (Some(c), _) => (npk(c, "correction_coefficients", Positive::try_new)?, None),
                (None, Some(y)) => (
                    advisor::api::Npk::default(),
                    Some(at(KgPerMu::try_new(y), "no_fertiliser_yield_kg_per_mu")?),
                ),
                (None, None) => (advisor::api::Npk::default(), None),
            };
        let recovery_rates = match resolved.recovery {
            Some(r) => npk(r, "recovery_rates", RecoveryRate::try_new)?,
            None => advisor::api::Npk::default(),
        };
        let target_yield_factor = match (&past_yields_kg_per_mu, resolved.target_yield_factor) {
            (Some(_), Some(t)) => Some(at(Positive::try_new(t), "target_yield_factor")?),
            _ => None,
        };
        Ok(advisor::api::RecommendRequest {
            crop: crop.to_owned(),
            area_mu: at(Positive::try_new(f.area_mu), "area_mu")?,
            target_yield_kg_per_mu: target_yield_kg_per_mu.transpose()?,
            past_yields_kg_per_mu: past_yields_kg_per_mu.transpose()?,
            target_yield_factor,
            soil: advisor_soil(test, olsen, false)?,
            correction_coefficients,
            no_fertiliser_yield_kg_per_mu,
            recovery_rates,
            uptake_kg_per_kg_yield: advisor::api::Npk::default(),
            legume_n_factor: None,
            target_ph: None,
            residual_lime_credit_t_per_acre: None,
            products: Vec::new(),
            basket: advisor::api::BasketSettings::default(),
        })
    })();
    let refused = |e: advisor::RequestError| {
        skip(
            "ADVISOR_REFUSED",
            format!("配方计算不接受该地块的数据：{e}"),
            format!("the advisor refused the field's data: {e}"),
        )
    };
    let answer = run_advisor(request.map_err(refused)?)
        .await
        .map_err(refused)?;
    Ok(answer.rates_kg_per_mu.values())
}

pub async fn regional_formulas(
    db: &impl ConnectionTrait,
    county_id: i64,
    crop: Option<&str>,
) -> Result<Vec<regional_formula::Model>> {
    let mut q = regional_formula::Entity::find()
        .filter(regional_formula::Column::CountyId.eq(county_id))
        .order_by_desc(regional_formula::Column::Id);
    if let Some(c) = crop.and_then(crate::catalog::crops::resolve) {
        q = q.filter(regional_formula::Column::Crop.eq(c));
    }
    Ok(q.all(db).await?)
}

/// Publishes a formula: dealers may then stock it as a product.
pub async fn publish_formula(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<regional_formula::Model> {
    require_agronomist(actor)?;
    let f = regional_formula::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("regional formula", id))?;
    actor.require(actor.is_admin() || actor.county_ids.contains(&f.county_id))?;
    if f.status != FormulaStatus::Draft {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已发布",
            "this formula is already published",
        ));
    }
    let mut am: regional_formula::ActiveModel = f.into();
    am.status = Set(FormulaStatus::Published);
    am.published_by = Set(Some(actor.user_id));
    am.published_at = Set(Some(crate::now()));
    Ok(am.update(db).await?)
}

/// A dealer (or admin) lists a published formula as a product of a producer: a compound
/// fertiliser with the formula's analysis (high concentration, so exempt from registration).
pub async fn formula_to_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    producer_id: i64,
) -> Result<product::Model> {
    actor.require(actor.is_admin() || actor.role == Role::Dealer)?;
    let txn = crate::begin_write(db).await?;
    let f = regional_formula::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("regional formula", id))?;
    if f.product_id.is_some() {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已作为产品上架，请直接为该产品添加规格和报价",
            "this formula is already listed as a product: add packs and offers to that product",
        ));
    }
    if f.status != FormulaStatus::Published {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "只有已发布的配方可以作为产品上架",
            "only a published formula can be stocked",
        ));
    }
    let county = region::Entity::find_by_id(f.county_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("region", f.county_id))?;
    let input = crate::catalog::ProductInput {
        category: "FERTILISER".into(),
        producer_id,
        name_zh: f.name.clone(),
        name_en: format!(
            "{} {} formula fertiliser {}",
            county.name_en,
            f.crop.to_lowercase(),
            types::Analysis {
                n: f.n_pct,
                p2o5: f.p2o5_pct,
                k2o: f.k2o_pct
            }
        ),
        description_zh: format!("区域配方（大配方、小调整），覆盖 {} 块地", f.fields_covered),
        description_en: format!("Regional formula covering {} fields", f.fields_covered),
        registration_no: None,
        registration_exempt: true,
        restricted_use: false,
        fertiliser: Some(crate::catalog::FertiliserInput {
            fertiliser_type: "COMPOUND".into(),
            n_pct: f.n_pct,
            p2o5_pct: f.p2o5_pct,
            k2o_pct: f.k2o_pct,
            secondary: BTreeMap::new(),
            organic_matter_pct: 0.0,
            form: "GRANULAR".into(),
            chloride: "NONE".into(),
        }),
        seed: None,
        pesticide: None,
    };
    // The product and the formula's link to it are one write: a formula is listed once.
    // A concurrent listing of the same formula finds the link already set and rolls back.
    let p = crate::catalog::create_product(&txn, actor, input).await?;
    let linked = regional_formula::Entity::update_many()
        .col_expr(
            regional_formula::Column::ProductId,
            sea_orm::sea_query::Expr::value(p.id),
        )
        .filter(regional_formula::Column::Id.eq(f.id))
        .filter(regional_formula::Column::ProductId.is_null())
        .exec(&txn)
        .await?;
    if linked.rows_affected != 1 {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已作为产品上架",
            "this formula is already listed as a product",
        ));
    }
    txn.commit().await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_separate_distinct_ratios() {
        let pts = [
            [0.6, 0.2, 0.2],
            [0.62, 0.18, 0.2],
            [0.3, 0.4, 0.3],
            [0.28, 0.42, 0.3],
        ];
        let (centres, assign) = cluster(&pts, 2);
        assert_eq!(centres.len(), 2);
        assert_eq!(assign[0], assign[1]);
        assert_eq!(assign[2], assign[3]);
        assert_ne!(assign[0], assign[2]);
    }

    #[test]
    fn grades_total_45_with_declared_nutrients_at_least_4() {
        let g = grade_from_shares([0.55, 0.2, 0.25]);
        assert_eq!(g[0] + g[1] + g[2], 45.0);
        assert!(g.iter().all(|x| *x == 0.0 || *x >= 4.0));
        assert_eq!(grade_from_shares([0.99, 0.01, 0.0])[1], 0.0);
    }
}
