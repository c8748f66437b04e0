//! The agronomist's review of a draft: edit, publish signed, reject, revise, and the queue of
//! drafts of their counties.

use super::*;

/// A recommendation the actor may see: farmers only published versions of their own fields;
/// agronomists those of their counties; admins all.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<recommendation::Model> {
    let r = recommendation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    field_for(db, actor, r.field_id)
        .await
        .map_err(|_| Error::not_found("recommendation", id))?;
    if actor.role == Role::Farmer
        && !matches!(
            r.status,
            RecommendationStatus::Published | RecommendationStatus::Superseded
        )
    {
        return Err(Error::not_found("recommendation", id));
    }
    Ok(r)
}

fn must_be_draft(r: &recommendation::Model) -> Result<()> {
    if r.status != RecommendationStatus::Draft {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            format!(
                "只能修改草稿（当前状态 {}）；已发布的版本不可更改，请创建新版本",
                r.status
            ),
            format!(
                "only a draft can change (this one is {}); a published version is immutable: revise it instead",
                r.status
            ),
        ));
    }
    Ok(())
}

/// Changes a draft's method, parameters or rates (re-running the advisor), and/or its notes.
pub async fn edit_draft<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    params: Option<Params>,
    notes_zh: Option<String>,
    notes_en: Option<String>,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    must_be_draft(&r)?;
    let mut am: recommendation::ActiveModel = r.clone().into();
    if let Some(p) = params {
        let f = field_for(db, actor, r.field_id).await?;
        let (plan, test) = plan_and_test(db, &f, r.crop_plan_id, Some(r.soil_test_id)).await?;
        let (result, basket, rates, notes) = compute(db, &f, &plan, &test, &p).await?;
        am.method = Set(p.method);
        am.parameters = Set(json!({ "params": p, "notes": notes }));
        am.result = Set(result);
        am.basket = Set(serde_json::to_value(&basket).map_err(|e| Error::Internal(e.to_string()))?);
        am.n_kg_per_mu = Set(rates[0]);
        am.p2o5_kg_per_mu = Set(rates[1]);
        am.k2o_kg_per_mu = Set(rates[2]);
    }
    for (field, v) in [("notesZh", &notes_zh), ("notesEn", &notes_en)] {
        if v.as_ref().is_some_and(|n| n.chars().count() > 4000) {
            return Err(Error::invalid(
                field,
                Code::TooLong,
                "备注不能超过 4000 个字符",
                "notes must be at most 4000 characters",
            ));
        }
    }
    if let Some(n) = notes_zh {
        am.notes_zh = Set(n.trim().into());
    }
    if let Some(n) = notes_en {
        am.notes_en = Set(n.trim().into());
    }
    am.updated_at = Set(crate::now());
    // Only while still a draft (a concurrent publish wins).
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let current = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&current)?;
    let r = am.update(&txn).await?;
    txn.commit().await?;
    Ok(r)
}

/// The content a signature covers.
fn signature_of(
    r: &recommendation::Model,
    agronomist_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    let content = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        r.id,
        r.field_id,
        r.crop_plan_id,
        r.soil_test_id,
        r.version,
        r.parameters,
        r.result,
        r.basket,
        r.notes_zh,
        r.notes_en,
        agronomist_id,
        at.timestamp_micros()
    );
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Publishes a draft, signed by the agronomist with the time. The field's previous published
/// version for the same crop plan becomes SUPERSEDED (both are kept). The farmer is notified.
pub async fn publish<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<(recommendation::Model, Vec<DomainEvent>)> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    let f = field_for(db, actor, r.field_id).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let r = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&r)?;
    let now = crate::lots::trace::micros(crate::now());
    let previous = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(r.field_id))
        .filter(recommendation::Column::CropPlanId.eq(r.crop_plan_id))
        .filter(recommendation::Column::Status.eq(RecommendationStatus::Published))
        .all(&txn)
        .await?;
    let mut supersedes = None;
    for p in previous {
        supersedes = Some(p.id);
        let mut am: recommendation::ActiveModel = p.into();
        am.status = Set(RecommendationStatus::Superseded);
        am.updated_at = Set(now);
        am.update(&txn).await?;
    }
    let signature = signature_of(&r, actor.user_id, now);
    let mut am: recommendation::ActiveModel = r.into();
    am.status = Set(RecommendationStatus::Published);
    am.agronomist_id = Set(Some(actor.user_id));
    am.signed_at = Set(Some(now));
    am.signature = Set(Some(signature));
    am.supersedes_id = Set(supersedes);
    am.updated_at = Set(now);
    let r = am.update(&txn).await?;
    let msg = crate::notify::Message {
        kind: crate::types::NotificationKind::RecommendationPublished,
        title_zh: format!("{} 的施肥建议已发布", f.name),
        title_en: format!("Fertiliser recommendation for {} published", f.name),
        body_zh: format!(
            "农技人员已为地块“{}”发布测土配方施肥建议（第 {} 版），可一键加入购物车。",
            f.name, r.version
        ),
        body_en: format!(
            "An agronomist published a soil-test recommendation (version {}) for field \"{}\"; its basket can go into your cart in one step.",
            r.version, f.name
        ),
        payload: json!({ "recommendationId": r.id, "fieldId": f.id }),
    };
    let events = crate::notify::notify_all(&txn, &[f.farmer_id], &msg).await?;
    txn.commit().await?;
    Ok((r, events))
}

/// Rejects a draft with a reason.
pub async fn reject<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let reason = types::name("reason", reason, 1000).map_err(|e| Error::Invalid(vec![e]))?;
    let r = get(db, actor, id).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let r = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&r)?;
    let mut am: recommendation::ActiveModel = r.into();
    am.status = Set(RecommendationStatus::Rejected);
    am.reject_reason = Set(Some(reason));
    am.agronomist_id = Set(Some(actor.user_id));
    am.updated_at = Set(crate::now());
    let r = am.update(&txn).await?;
    txn.commit().await?;
    Ok(r)
}

/// A new draft from a published (or rejected) version, with its parameters, for revision.
pub async fn revise<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    let params: Params = serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
    let draft = create_draft(
        db,
        actor,
        r.field_id,
        r.crop_plan_id,
        Some(r.soil_test_id),
        params,
    )
    .await?;
    if !r.notes_zh.is_empty() || !r.notes_en.is_empty() {
        return edit_draft(
            db,
            actor,
            draft.id,
            None,
            Some(r.notes_zh),
            Some(r.notes_en),
        )
        .await;
    }
    Ok(draft)
}

/// The review queue: drafts of fields in the agronomist's counties, oldest first.
pub async fn queue(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<recommendation::Model>> {
    require_agronomist(actor)?;
    let drafts = recommendation::Entity::find()
        .filter(recommendation::Column::Status.eq(RecommendationStatus::Draft))
        .order_by_asc(recommendation::Column::Id)
        .all(db)
        .await?;
    if actor.is_admin() {
        return Ok(drafts);
    }
    // The agronomist's counties, decided for the whole queue in a few statements (the fields,
    // then one per level from village up to county), not per draft.
    let fields = crate::rows_by_id!(db, field, drafts.iter().map(|d| d.field_id));
    let counties = crate::regions::counties_of(db, fields.values().map(|f| f.village_id)).await?;
    Ok(drafts
        .into_iter()
        .filter(|d| {
            fields
                .get(&d.field_id)
                .and_then(|f| counties.get(&f.village_id).copied().flatten())
                .is_some_and(|c| actor.county_ids.contains(&c))
        })
        .collect())
}
