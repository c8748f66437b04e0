//! The agronomy mutations and their payloads: plans, soil tests (and lab CSV import), drafts, review, publishing, basket-to-cart, formulas.

use super::*;

/// A rejected input: the field, a code (REQUIRED, OUT_OF_RANGE, INVALID_FORMAT, DUPLICATE,
/// UNKNOWN_REFERENCE, INVALID_TRANSITION, INSUFFICIENT_STOCK, ...) and a message.
#[derive(SimpleObject, Clone)]
pub struct AgronomyError {
    field: String,
    code: String,
    message: String,
}

impl PayloadError for AgronomyError {
    fn from_field(e: FieldError, l: Lang) -> Self {
        AgronomyError {
            message: e.message(l).to_owned(),
            field: e.field,
            code: e.code.as_str().to_owned(),
        }
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
    payload!(
        RecommendationPayload,
        recommendation,
        AgronomyError,
        r,
        l,
        |r| Recommendation(r)
    )
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
        payload!(CropPlanPayload, crop_plan, AgronomyError, r, l, |p| {
            CropPlan(p)
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
        payload!(SoilTestPayload, soil_test, AgronomyError, r, l, |t| {
            SoilTest(t)
        })
    }

    /// Imports a lab's CSV (one row per sample). Columns: field_id, or farmer_phone +
    /// field_name; sampled_on, depth_cm (`0-20`), lab, lab_sample_id, ph, organic_matter_g_kg,
    /// alkali_n_mg_kg, olsen_p_mg_kg (or mehlich3_p_mg_kg), available_k_mg_kg; optional
    /// buffer_ph, cec_cmol_kg, ca_mg_kg, mg_mg_kg, s_mg_kg, zn_mg_kg, b_mg_kg. A lab's own
    /// headers are read too (检测机构, 样品编号, 有机质(g/kg), 碱解氮(mg/kg), `Organic matter (%)`
    /// ...): case, spaces and full-/half-width brackets aside; a unit in the header is converted
    /// where there is one right conversion (organic matter % x 10 = g/kg, ppm = mg/kg) and
    /// refused at line 1 with its column otherwise. PREVIEW checks everything and writes nothing.
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
        let rows = crate::graphql::stock::csv_payload(
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

    /// A second agronomist's approval, where the county requires one before publishing (not
    /// whoever drafted or edited it). An edit afterwards withdraws it.
    async fn recommendation_approve(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<RecommendationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r =
            async { agronomy::approve(db(ctx), a, parse_gid("id", "Recommendation", &id)?).await }
                .await;
        rec_payload(r, l)
    }

    /// Sets a county's parameters for a crop (and soil type), with their source and date.
    async fn county_parameter_set(
        &self,
        ctx: &Context<'_>,
        input: CountyParameterInput,
    ) -> ApiResult<CountyParameterPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async { agronomy::set_county_param(db(ctx), a, input.into_domain()?).await }.await;
        payload!(
            CountyParameterPayload,
            parameter,
            AgronomyError,
            r,
            l,
            |p| CountyParameter(p)
        )
    }

    /// Removes a county's parameter row (drafts fall back to the sourced defaults).
    async fn county_parameter_delete(&self, ctx: &Context<'_>, id: ID) -> ApiResult<DeletePayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            agronomy::delete_county_param(db(ctx), a, parse_gid("id", "CountyParameter", &id)?)
                .await
        }
        .await;
        payload!(DeletePayload, AgronomyError, r, l, |_| { ok: true } else { ok: false })
    }

    /// Whether the county's drafts need a second agronomist's approval before publishing.
    async fn county_settings_set(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        require_second_approval: bool,
    ) -> ApiResult<CountySettingsPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("countyId", "Region", &county_id)?;
            agronomy::set_require_second_approval(db(ctx), a, id, require_second_approval).await
        }
        .await;
        payload!(CountySettingsPayload, settings, AgronomyError, r, l, |s| {
            CountySettings::from(s)
        })
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
        rec_payload(publish_ok(ctx, r).await, l)
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
        payload!(BasketToCartPayload, AgronomyError, r, l, |w| {
            ok: true,
            warnings: w
                .into_iter()
                .map(|w| l.pick(&w.zh, &w.en).to_owned())
                .collect(),
        } else {
            ok: false,
            warnings: vec![],
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
        payload!(FormulasPayload, AgronomyError, r, l, |f| {
            formulas: f.into_iter().map(RegionalFormula).collect(),
        } else {
            formulas: vec![],
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
        payload!(FormulaPayload, formula, AgronomyError, r, l, |f| RegionalFormula(f), product_id: None)
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
        payload!(FormulaPayload, product_id, AgronomyError, r, l, |p| gid("Product", p.id), formula: None)
    }
}
