//! A field's crop plans: creating one, listing them, loading them by id.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct CropPlanInput {
    pub field_id: i64,
    pub crop: String,
    pub season: String,
    pub target_yield_kg_per_mu: Option<f64>,
    pub past_yields_kg_per_mu: Option<Vec<f64>>,
    pub no_fertiliser_yield_kg_per_mu: Option<f64>,
    pub previous_crop: String,
    pub straw_returned: bool,
}

pub async fn create_crop_plan(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: CropPlanInput,
) -> Result<crop_plan::Model> {
    actor.require(matches!(
        actor.role,
        Role::Farmer | Role::Agronomist | Role::Admin
    ))?;
    field_for(db, actor, input.field_id).await?;
    let mut errs = Errors::new();
    let crop = crate::catalog::crops::resolve(&input.crop);
    if crop.and_then(advisor_crop).is_none() {
        errs.push(FieldError::new(
            "crop",
            Code::InvalidFormat,
            "该作物暂无养分吸收数据，不能做配方",
            "no uptake data for this crop: it cannot be planned",
        ));
    }
    errs.take(types::name("season", &input.season, 40));
    let yield_ok = |v: f64| v.is_finite() && v > 0.0 && v <= 20_000.0;
    match (&input.target_yield_kg_per_mu, &input.past_yields_kg_per_mu) {
        (None, None) => errs.push(FieldError::new(
            "targetYieldKgPerMu",
            Code::Required,
            "请填写目标产量，或近三年产量",
            "give the target yield or the last three years' yields",
        )),
        (Some(t), _) if !yield_ok(*t) => errs.push(FieldError::new(
            "targetYieldKgPerMu",
            Code::OutOfRange,
            "目标产量应在 0 到 20000 公斤/亩之间",
            "target yield must be 0 to 20,000 kg/mu",
        )),
        (_, Some(p)) if p.is_empty() || p.len() > 5 || !p.iter().all(|v| yield_ok(*v)) => errs
            .push(FieldError::new(
                "pastYieldsKgPerMu",
                Code::OutOfRange,
                "近年产量应为 1 到 5 个正数（公斤/亩）",
                "past yields must be 1 to 5 positive numbers (kg/mu)",
            )),
        _ => {}
    }
    if let Some(v) = input.no_fertiliser_yield_kg_per_mu
        && !yield_ok(v)
    {
        errs.push(FieldError::new(
            "noFertiliserYieldKgPerMu",
            Code::OutOfRange,
            "空白区产量应为正数",
            "the no-fertiliser yield must be positive",
        ));
    }
    if input.previous_crop.chars().count() > 40 {
        errs.push(FieldError::new(
            "previousCrop",
            Code::TooLong,
            "不能超过 40 个字符",
            "must be at most 40 characters",
        ));
    }
    errs.finish()?;
    Ok(crop_plan::ActiveModel {
        field_id: Set(input.field_id),
        crop: Set(crop.unwrap_or_default().into()),
        season: Set(input.season.trim().into()),
        target_yield_kg_per_mu: Set(input.target_yield_kg_per_mu),
        past_yields_kg_per_mu: Set(input.past_yields_kg_per_mu.map(|p| json!(p))),
        no_fertiliser_yield_kg_per_mu: Set(input.no_fertiliser_yield_kg_per_mu),
        previous_crop: Set(input.previous_crop.trim().into()),
        straw_returned: Set(input.straw_returned),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn crop_plans_of(
    db: &impl ConnectionTrait,
    field_id: i64,
) -> Result<Vec<crop_plan::Model>> {
    Ok(crop_plan::Entity::find()
        .filter(crop_plan::Column::FieldId.eq(field_id))
        .order_by_desc(crop_plan::Column::Id)
        .all(db)
        .await?)
}

/// Crop plans by id, for loaders of lists that name one (recommendations).
pub async fn crop_plans_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<crop_plan::Model>> {
    Ok(crop_plan::Entity::find()
        .filter(crop_plan::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
