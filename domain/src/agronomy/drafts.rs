//! Computing a draft: the offers a field can buy (as the advisor takes them), the advisor's
//! rates and least-cost basket, and the new draft stored under its locked crop plan.

use super::*;
use crate::types::{Category, ProductStatus};

/// The request a draft sends to the advisor: the nutrient balance with a basket, or a basket for
/// rates the agronomist set.
enum AdvisorRequest {
    Recommend(Box<advisor::api::RecommendRequest>),
    /// With the agronomist's rates, kg/mu of N, P2O5, K2O.
    Basket(advisor::api::LeastCostBasketRequest, [f64; 3]),
}

/// An offer the advisor may put in a basket.
struct Candidate {
    offer: offer::Model,
    sku: sku::Model,
    product: product::Model,
    spec: fertiliser_spec::Model,
}

/// The fertiliser offers a field can buy: active offers of dealers serving its village, of
/// listed fertilisers sold by the kg (with N, P2O5 or K2O, or lime), with sellable stock now.
async fn candidate_offers(
    db: &impl ConnectionTrait,
    village_id: i64,
) -> Result<Vec<(Candidate, i64)>> {
    let dealers: Vec<i64> = dealer_service_area::Entity::find()
        .filter(dealer_service_area::Column::VillageId.eq(village_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.dealer_id)
        .collect();
    let offers = offer::Entity::find()
        .filter(offer::Column::DealerId.is_in(dealers))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for o in offers {
        let Some(s) = sku::Entity::find_by_id(o.sku_id).one(db).await? else {
            continue;
        };
        if s.pack_unit != "kg" {
            continue;
        }
        let Some(p) = product::Entity::find_by_id(s.product_id).one(db).await? else {
            continue;
        };
        if p.category != Category::Fertiliser || p.status != ProductStatus::Active {
            continue;
        }
        let Some(f) = fertiliser_spec::Entity::find_by_id(p.id).one(db).await? else {
            continue;
        };
        if f.n_pct + f.p2o5_pct + f.k2o_pct <= 0.0 && lime_ca_pct(&f).is_none() {
            continue;
        }
        let available = orders::available_of(db, o.dealer_id, s.id).await?;
        if available > 0 {
            out.push((
                Candidate {
                    offer: o,
                    sku: s,
                    product: p,
                    spec: f,
                },
                available,
            ));
        }
    }
    Ok(out)
}

fn analysis_text(f: &fertiliser_spec::Model) -> String {
    types::Analysis {
        n: f.n_pct,
        p2o5: f.p2o5_pct,
        k2o: f.k2o_pct,
    }
    .to_string()
}

/// A computed draft: the advisor's answer, the priced basket, the rates (kg/mu of N, P2O5,
/// K2O), the computation's notes and where each value it used came from.
pub struct Computed {
    pub result: Value,
    pub basket: Basket,
    pub rates: [f64; 3],
    pub notes: Vec<String>,
    pub provenance: Vec<Provenance>,
    /// The split into basal and top-dressings (advisor `SplitPlan`), when the crop has one.
    pub split: Option<Value>,
    /// The lime (advisor `LimeAdvice`, kg/mu), where the soil is acid.
    pub lime: Option<Value>,
}

impl Computed {
    /// The draft's stored `parameters`: what the agronomist set, the notes, the provenance and
    /// the record of edits so far.
    pub(crate) fn parameters(&self, params: &Params, edits: &[Value]) -> Value {
        json!({
            "params": params,
            "notes": self.notes,
            "provenance": self.provenance,
            "split": self.split,
            "lime": self.lime,
            "edits": edits,
        })
    }
}

/// Runs the advisor for a field, crop plan and soil test with the given parameters.
pub async fn compute(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
    params: &Params,
) -> Result<Computed> {
    validate_params(params)?;
    let mut provenance = Vec::new();
    let crop = advisor_crop(&plan.crop).ok_or_else(|| {
        Error::invalid(
            "cropPlanId",
            Code::InvalidFormat,
            "该作物不能做配方",
            "this crop cannot be planned",
        )
    })?;
    let (candidates, limes): (Vec<_>, Vec<_>) = candidate_offers(db, f.village_id)
        .await?
        .into_iter()
        .partition(|(c, _)| lime_ca_pct(&c.spec).is_none());
    let mut notes = Vec::new();
    let basket_settings = advisor::api::BasketSettings {
        mode: advisor::basket::Mode::AtLeast,
        whole_bags: true,
        max_oversupply_pct: params.max_oversupply_pct,
        exact_tolerance_kg: None,
        time_limit_ms: params.basket_time_limit_ms,
    };
    let area_mu = at(Positive::try_new(f.area_mu), "area_mu").map_err(advisor_error)?;
    let request = match params.method {
        Method::NutrientBalance => {
            let olsen = test.olsen_p_mg_kg.ok_or_else(|| {
                Error::invalid(
                    "soilTestId",
                    Code::Required,
                    "养分平衡法需要 Olsen 法有效磷",
                    "the nutrient balance method needs Olsen P",
                )
            })?;
            let (target_yield_kg_per_mu, past_yields_kg_per_mu) = match (
                params
                    .target_yield_kg_per_mu
                    .or(plan.target_yield_kg_per_mu),
                &plan.past_yields_kg_per_mu,
            ) {
                (Some(t), _) => (
                    Some(at(KgPerMu::try_new(t), "target_yield_kg_per_mu").map_err(advisor_error)?),
                    None,
                ),
                (None, Some(p)) => (None, Some(past_yields(p).map_err(advisor_error)?)),
                (None, None) => {
                    return Err(Error::invalid(
                        "cropPlanId",
                        Code::Required,
                        "作物计划没有目标产量",
                        "the crop plan has no target yield",
                    ));
                }
            };
            let coefficient = |c: [f64; 3]| {
                npk(c, "correction_coefficients", Positive::try_new).map_err(advisor_error)
            };
            let resolved = resolve(db, f, plan, test, params).await?;
            if resolved.soil_supply_assumed {
                notes.push("本县尚未设定校正系数，土壤供肥量按缺素区相对产量默认值估算（见参数来源），请按本县空白区试验核定 / the county has no correction coefficients yet: the soil supply is estimated from default omission-plot relative yields (see where each value came from); set them from the county's omission plots".to_owned());
            }
            let (correction_coefficients, no_fertiliser_yield_kg_per_mu) =
                match (resolved.correction, plan.no_fertiliser_yield_kg_per_mu) {
                    (Some(c), _) => (coefficient(c)?, None),
                    (None, Some(y)) => (
                        advisor::api::Npk::default(),
                        Some(
                            at(KgPerMu::try_new(y), "no_fertiliser_yield_kg_per_mu")
                                .map_err(advisor_error)?,
                        ),
                    ),
                    (None, None) => (advisor::api::Npk::default(), None),
                };
            let recovery_rates = match resolved.recovery {
                Some(rr) => {
                    npk(rr, "recovery_rates", RecoveryRate::try_new).map_err(advisor_error)?
                }
                None => advisor::api::Npk::default(),
            };
            let target_yield_factor = match (&past_yields_kg_per_mu, resolved.target_yield_factor) {
                (Some(_), Some(t)) => {
                    Some(at(Positive::try_new(t), "target_yield_factor").map_err(advisor_error)?)
                }
                _ => None,
            };
            provenance = resolved.provenance;
            AdvisorRequest::Recommend(Box::new(advisor::api::RecommendRequest {
                crop: crop.to_owned(),
                area_mu,
                target_yield_kg_per_mu,
                past_yields_kg_per_mu,
                target_yield_factor,
                soil: advisor_soil(test, olsen, true).map_err(advisor_error)?,
                correction_coefficients,
                no_fertiliser_yield_kg_per_mu,
                recovery_rates,
                uptake_kg_per_kg_yield: advisor::api::Npk::default(),
                legume_n_factor: None,
                // Lime is worked out below in kg/mu (for soils with or without a buffer pH),
                // not by the advisor's NCDA&CS step in US t/acre.
                target_ph: None,
                residual_lime_credit_t_per_acre: None,
                products: Vec::new(),
                basket: basket_settings,
            }))
        }
        Method::ManualRates => {
            let rates = params.rates_kg_per_mu.ok_or_else(|| {
                Error::invalid(
                    "params.ratesKgPerMu",
                    Code::Required,
                    "手动用量需要填写 N、P2O5、K2O 每亩用量",
                    "manual rates need N, P2O5 and K2O per mu",
                )
            })?;
            if !rates
                .iter()
                .all(|r| r.is_finite() && (0.0..=200.0).contains(r))
            {
                return Err(Error::invalid(
                    "params.ratesKgPerMu",
                    Code::OutOfRange,
                    "每亩养分用量应在 0 到 200 公斤之间",
                    "rates must be 0 to 200 kg per mu",
                ));
            }
            for (i, nutrient) in ["n", "p2o5", "k2o"].iter().enumerate() {
                provenance.push(Provenance {
                    key: format!("rates.{nutrient}"),
                    value: rates[i],
                    source: ValueSource::Draft,
                    cite_zh: "农技人员手动填写的每亩用量".into(),
                    cite_en: "rate per mu set by the agronomist".into(),
                });
            }
            fn kg<Q>(per_mu: f64, area_mu: f64, field: &str) -> Result<Kg<Q>> {
                at(Kg::try_new(per_mu * area_mu), field).map_err(advisor_error)
            }
            AdvisorRequest::Basket(
                advisor::api::LeastCostBasketRequest {
                    targets_kg: advisor::targets::MassTargets {
                        n: kg(rates[0], f.area_mu, "targets_kg.n")?,
                        p2o5: kg(rates[1], f.area_mu, "targets_kg.p2o5")?,
                        k2o: kg(rates[2], f.area_mu, "targets_kg.k2o")?,
                    },
                    products: Vec::new(),
                    mode: basket_settings.mode,
                    whole_bags: basket_settings.whole_bags,
                    max_oversupply_pct: basket_settings.max_oversupply_pct,
                    exact_tolerance_kg: None,
                    time_limit_ms: basket_settings.time_limit_ms,
                },
                rates,
            )
        }
    };
    if candidates.is_empty() {
        return Err(Error::invalid(
            "fieldId",
            Code::InsufficientStock,
            "服务该村的经销商目前没有可售的肥料",
            "the dealers serving this village have no fertiliser in stock",
        ));
    }
    // The field's targets, kg of N, P2O5, K2O, to drop offers the basket can never need.
    let targets_kg = match &request {
        AdvisorRequest::Basket(r, _) => r.targets_kg.values(),
        AdvisorRequest::Recommend(r) => {
            let mut probe = (**r).clone();
            probe.basket = advisor::api::BasketSettings::default();
            run_advisor(probe)
                .await
                .map_err(advisor_error)?
                .rates_kg_per_mu
                .values()
                .map(|r| r * f.area_mu)
        }
    };
    let keep = needed_offers(&candidates, targets_kg);
    let products = keep
        .iter()
        .enumerate()
        .map(|(j, i)| {
            let (c, available) = &candidates[*i];
            advisor_offer(c, *available, &format!("products[{j}]"))
        })
        .collect::<advisor::Result<Vec<_>>>()
        .map_err(advisor_error)?;
    let (result, outcome, rates) = match request {
        AdvisorRequest::Recommend(mut r) => {
            r.products = products;
            let answer = run_advisor(*r).await.map_err(advisor_error)?;
            let outcome = answer.basket.clone();
            let rates = answer.rates_kg_per_mu.values();
            (
                advisor::Response::Recommend(Box::new(answer)),
                outcome,
                rates,
            )
        }
        AdvisorRequest::Basket(mut r, rates) => {
            r.products = products;
            let answer = run_advisor(r).await.map_err(advisor_error)?;
            let outcome = answer.clone();
            (
                advisor::Response::LeastCostBasket(Box::new(answer)),
                outcome,
                rates,
            )
        }
    };
    let result = serde_json::to_value(&result).map_err(|e| Error::Internal(e.to_string()))?;
    let by_name: BTreeMap<String, &Candidate> =
        candidates.iter().map(|(c, _)| (offer_name(c), c)).collect();
    let mut lines = Vec::new();
    for l in &outcome.lines {
        let c = by_name.get(&l.product).ok_or_else(|| {
            Error::Internal(format!(
                "the advisor's basket names no offer: {}",
                l.product
            ))
        })?;
        let bags = match l.bags {
            advisor::basket::Bags::Whole(n) => i64::from(n),
            advisor::basket::Bags::Fractional(x) => {
                return Err(Error::Internal(format!(
                    "the advisor gave {x} bags of a whole-bag basket"
                )));
            }
        };
        lines.push(BasketLine {
            offer_id: c.offer.id,
            dealer_id: c.offer.dealer_id,
            sku_id: c.sku.id,
            product_id: c.product.id,
            product_zh: c.product.name_zh.clone(),
            product_en: c.product.name_en.clone(),
            analysis: analysis_text(&c.spec),
            bag_kg: c.sku.pack_size,
            bags,
            price_fen_per_bag: c.offer.price_fen,
        });
    }
    // Lime where the soil is acid: the agronomist's target pH, else 6.0 below pH 5.5.
    let lime_target = params.target_ph.or_else(|| (test.ph < 5.5).then_some(6.0));
    let mut lime = None;
    if let Some(target) = lime_target.filter(|t| test.ph < *t) {
        let texture = advisor::advice::Texture::from_soil_text(&f.soil_type);
        let advice = advisor::advice::lime_kg_per_mu(test.ph, test.buffer_ph, target, texture)
            .map_err(|e| advisor_error(advisor::RequestError::from(e.at("target_ph"))))?;
        if advice.this_year_limestone_kg_per_mu > 0.0 {
            notes.push(format!("土壤 pH {}，按目标 pH {} 计算石灰用量：今年每亩 {} 公斤石灰石粉（或等量生石灰 {} 公斤、熟石灰 {} 公斤） / soil pH {}: lime for a target pH of {}: {} kg/mu of ground limestone this year (or {} kg quicklime, {} kg slaked lime)",
                test.ph, target, advice.this_year_limestone_kg_per_mu, advice.quicklime_kg_per_mu, advice.slaked_lime_kg_per_mu,
                test.ph, target, advice.this_year_limestone_kg_per_mu, advice.quicklime_kg_per_mu, advice.slaked_lime_kg_per_mu));
            let (lime_lines, note) =
                lime_basket(&limes, advice.this_year_limestone_kg_per_mu * f.area_mu);
            lines.extend(lime_lines);
            notes.extend(note);
        }
        for n in &advice.notes {
            notes.push(format!("{} / {}", n.zh, n.en));
        }
        lime = Some(serde_json::to_value(&advice).map_err(|e| Error::Internal(e.to_string()))?);
    }
    // Rates a farmer can weigh out: half kilograms per mu, split into basal and top-dressings
    // by crop stage (advisor/data/splits.toml), the field's totals with them.
    let (rates, split) = match advisor::advice::split_plan(crop, rates, f.area_mu) {
        Ok(plan) => {
            for n in &plan.notes {
                notes.push(format!("{} / {}", n.zh, n.en));
            }
            (
                plan.rate_kg_per_mu,
                Some(serde_json::to_value(&plan).map_err(|e| Error::Internal(e.to_string()))?),
            )
        }
        Err(_) => {
            notes.push("该作物暂无有出处的基肥/追肥分配比例，请农技人员在备注中说明施肥时期 / no sourced basal/top-dressing split for this crop yet: say when to apply in the notes".to_owned());
            (rates.map(advisor::advice::round_half_kg), None)
        }
    };
    if !outcome.proven_optimal {
        let ms = params
            .basket_time_limit_ms
            .unwrap_or(advisor::basket::DEFAULT_TIME_LIMIT.as_millis() as u64);
        notes.push(format!("整袋组合搜索在 {ms} 毫秒内未完成，这是已找到的最便宜组合，未证明最优 / the whole-bag search did not finish within {ms} ms: this is the cheapest basket found, not proven optimal"));
    }
    let basket = Basket {
        proven_optimal: outcome.proven_optimal,
        feasible: outcome.feasible,
        cost_fen: lines.iter().map(|l| l.bags * l.price_fen_per_bag).sum(),
        shortfalls: outcome
            .shortfalls
            .iter()
            .map(|s| {
                format!(
                    "{} {:.1}/{:.1} kg",
                    s.nutrient.label(),
                    s.max_available_kg,
                    s.target_kg
                )
            })
            .collect(),
        lines,
    };
    Ok(Computed {
        result,
        basket,
        rates,
        notes,
        provenance,
        split,
        lime,
    })
}

/// Calcium in a lime product, per cent (`secondary.Ca` of a LIME fertiliser).
fn lime_ca_pct(spec: &fertiliser_spec::Model) -> Option<f64> {
    (spec.fertiliser_type == "LIME")
        .then(|| spec.secondary["Ca"].as_f64())
        .flatten()
        .filter(|ca| *ca > 0.0)
}

/// Calcium in agricultural limestone (CaCO3: 40.08 / 100.09 = 40.04 %), the form the lime
/// requirement is given in (NCDA&CS: US t/acre of limestone; METHODS.md §6).
const CA_IN_LIMESTONE: f64 = 0.4004;

/// Whole bags of the offered lime products that bring the field the calcium of `limestone_kg`
/// of limestone, cheapest calcium first; with a note when stock falls short or none is offered.
fn lime_basket(limes: &[(Candidate, i64)], limestone_kg: f64) -> (Vec<BasketLine>, Option<String>) {
    let ca_needed = limestone_kg * CA_IN_LIMESTONE;
    let mut by_cost: Vec<(&Candidate, i64, f64)> = limes
        .iter()
        .filter_map(|(c, avail)| {
            let ca = lime_ca_pct(&c.spec)? / 100.0 * c.sku.pack_size;
            (ca > 0.0).then_some((c, *avail, ca))
        })
        .collect();
    by_cost.sort_by(|a, b| {
        (a.0.offer.price_fen as f64 / a.2)
            .total_cmp(&(b.0.offer.price_fen as f64 / b.2))
            .then(a.0.offer.id.cmp(&b.0.offer.id))
    });
    if by_cost.is_empty() {
        return (
            vec![],
            Some(format!(
                "服务该村的经销商没有石灰类产品，需另购约 {limestone_kg:.0} 公斤石灰石粉（或等钙量的石灰） / no dealer serving the village offers lime: buy about {limestone_kg:.0} kg of ground limestone (or lime with the same calcium) elsewhere"
            )),
        );
    }
    let mut left = ca_needed;
    let mut lines = Vec::new();
    for (c, avail, ca_per_bag) in by_cost {
        if left <= 1e-9 {
            break;
        }
        let bags = ((left / ca_per_bag - 1e-9).ceil() as i64).min(avail);
        if bags <= 0 {
            continue;
        }
        left -= bags as f64 * ca_per_bag;
        lines.push(BasketLine {
            offer_id: c.offer.id,
            dealer_id: c.offer.dealer_id,
            sku_id: c.sku.id,
            product_id: c.product.id,
            product_zh: c.product.name_zh.clone(),
            product_en: c.product.name_en.clone(),
            analysis: format!("Ca {}%", lime_ca_pct(&c.spec).unwrap_or_default()),
            bag_kg: c.sku.pack_size,
            bags,
            price_fen_per_bag: c.offer.price_fen,
        });
    }
    let note = (left > 1e-9).then(|| {
        format!("石灰库存不足：还差约 {:.0} 公斤钙（约 {:.0} 公斤石灰石粉） / not enough lime in stock: about {:.0} kg of calcium short (about {:.0} kg of ground limestone)", left, left / CA_IN_LIMESTONE, left, left / CA_IN_LIMESTONE)
    });
    (lines, note)
}

/// The name an offer goes by in the advisor's request and basket.
fn offer_name(c: &Candidate) -> String {
    format!("offer:{}", c.offer.id)
}

/// A candidate offer as the advisor takes it: analysis, bag, price and the bags in stock.
fn advisor_offer(
    c: &Candidate,
    available: i64,
    field: &str,
) -> advisor::Result<advisor::products::Offer> {
    Ok(advisor::products::Offer {
        name: offer_name(c),
        analysis: at(
            advisor::products::Analysis::parse(&analysis_text(&c.spec)),
            &format!("{field}.analysis"),
        )?,
        bag_kg: at(Kg::try_new(c.sku.pack_size), &format!("{field}.bag_kg"))?,
        price_fen_per_bag: c.offer.price_fen,
        // More bags than a u32 holds is more than any basket needs.
        stock_bags: Some(u32::try_from(available).unwrap_or(u32::MAX)),
    })
}

/// The candidate offers a least-cost basket may need, by index. Offers of the same analysis
/// and bag size (the same pack at several dealers, say) are perfect substitutes: a cheapest
/// basket buys the cheaper of them first, and never more than max_i ceil(T_i / kg of nutrient i
/// per bag) bags of them together (beyond that they alone meet every target they touch, so one
/// bag fewer still does, for less). Keeping in each such group only the cheapest offers whose
/// stock reaches that count keeps every cheapest basket, and spares the whole-bag solver a
/// search over interchangeable variables: two dealers with the same 20 packs made one draft
/// take over a minute, and under 20 ms without the duplicates.
fn needed_offers(candidates: &[(Candidate, i64)], targets_kg: [f64; 3]) -> Vec<usize> {
    let mut groups: BTreeMap<(String, i64), Vec<usize>> = BTreeMap::new();
    for (i, (c, _)) in candidates.iter().enumerate() {
        let key = (
            analysis_text(&c.spec),
            (c.sku.pack_size * 1000.0).round() as i64,
        );
        groups.entry(key).or_default().push(i);
    }
    let mut keep = Vec::new();
    for members in groups.into_values() {
        let (c0, _) = &candidates[members[0]];
        let pct = [c0.spec.n_pct, c0.spec.p2o5_pct, c0.spec.k2o_pct];
        let mut bound: i64 = 1;
        for k in 0..3 {
            let per_bag = c0.sku.pack_size * pct[k] / 100.0;
            if per_bag > 0.0 && targets_kg[k] > 0.0 {
                bound = bound.max((targets_kg[k] / per_bag - 1e-9).ceil() as i64);
            }
        }
        let mut by_price = members;
        by_price.sort_by_key(|i| (candidates[*i].0.offer.price_fen, candidates[*i].0.offer.id));
        let mut stock = 0;
        for i in by_price {
            if stock >= bound {
                break;
            }
            stock += candidates[i].1;
            keep.push(i);
        }
    }
    keep.sort_unstable();
    keep
}

pub(crate) async fn plan_and_test(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan_id: i64,
    test_id: Option<i64>,
) -> Result<(crop_plan::Model, soil_test::Model)> {
    let plan = crop_plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .filter(|p| p.field_id == f.id)
        .ok_or_else(|| {
            Error::invalid(
                "cropPlanId",
                Code::UnknownReference,
                "该地块没有这个作物计划",
                "no such crop plan on this field",
            )
        })?;
    let test = match test_id {
        Some(t) => soil_test::Entity::find_by_id(t)
            .one(db)
            .await?
            .filter(|t| t.field_id == f.id),
        None => soil_tests_of(db, f.id).await?.into_iter().next(),
    }
    .ok_or_else(|| {
        Error::invalid(
            "soilTestId",
            Code::UnknownReference,
            "该地块没有土壤检测结果",
            "no soil test for this field",
        )
    })?;
    Ok((plan, test))
}

/// Locks a crop plan's row for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite's
/// immediate transaction already holds the write lock). Every change to the recommendations of
/// a plan takes it first, so two drafts never get the same version, and two publishes of the
/// plan's drafts (or two of one draft) run one after the other: one current version, one
/// signature and one notice per publish.
pub(crate) async fn lock_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<()> {
    let mut q = crop_plan::Entity::find_by_id(plan_id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db)
        .await?
        .ok_or_else(|| Error::not_found("crop plan", plan_id))?;
    Ok(())
}

/// A new draft for a field and crop plan (agronomists of the county, admins).
pub async fn create_draft<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    field_id: i64,
    crop_plan_id: i64,
    soil_test_id: Option<i64>,
    params: Params,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let f = field_for(db, actor, field_id).await?;
    let (plan, test) = plan_and_test(db, &f, crop_plan_id, soil_test_id).await?;
    let computed = compute(db, &f, &plan, &test, &params).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, plan.id).await?;
    let version = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(f.id))
        .filter(recommendation::Column::CropPlanId.eq(plan.id))
        .order_by_desc(recommendation::Column::Version)
        .one(&txn)
        .await?
        .map(|r| r.version + 1)
        .unwrap_or(1);
    let now = crate::now();
    let rec = recommendation::ActiveModel {
        field_id: Set(f.id),
        crop_plan_id: Set(plan.id),
        soil_test_id: Set(test.id),
        version: Set(version),
        status: Set(RecommendationStatus::Draft),
        method: Set(params.method),
        parameters: Set(computed.parameters(&params, &[])),
        basket: Set(
            serde_json::to_value(&computed.basket).map_err(|e| Error::Internal(e.to_string()))?
        ),
        result: Set(computed.result),
        n_kg_per_mu: Set(computed.rates[0]),
        p2o5_kg_per_mu: Set(computed.rates[1]),
        k2o_kg_per_mu: Set(computed.rates[2]),
        notes_zh: Set(String::new()),
        notes_en: Set(String::new()),
        reject_reason: Set(None),
        agronomist_id: Set(None),
        signed_at: Set(None),
        signature: Set(None),
        supersedes_id: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(rec)
}
