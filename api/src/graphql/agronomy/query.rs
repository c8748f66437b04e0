//! The agronomy queries: crop plans, soil tests, the recommendation queue, the farmer's recommendations, formulas.

use super::*;

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
    /// A county's agronomy parameters by crop and soil type (its agronomists and regulators,
    /// admins).
    async fn county_parameters(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
    ) -> ApiResult<Vec<CountyParameter>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("countyId", "Region", &county_id).map_err(|e| to_gql(e, l))?;
        Ok(agronomy::county_params(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(CountyParameter)
            .collect())
    }

    /// A county's agronomy settings.
    async fn county_settings(&self, ctx: &Context<'_>, county_id: ID) -> ApiResult<CountySettings> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("countyId", "Region", &county_id).map_err(|e| to_gql(e, l))?;
        agronomy::county_settings(db(ctx), a, id)
            .await
            .map(Into::into)
            .map_err(|e| to_gql(e, l))
    }

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
            .data_opt::<crate::graphql::RequestCtx>()
            .and_then(|r| r.actor.as_ref())
            .is_some_and(|a| {
                a.is_admin()
                    || (a.role == domain::accounts::Role::Agronomist && a.county_ids.contains(&id))
            });
        Ok(agronomy::regional_formulas(db(ctx), id, crop.as_deref())
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .filter(|f| sees_drafts || f.status == domain::types::FormulaStatus::Published)
            .map(RegionalFormula)
            .collect())
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
