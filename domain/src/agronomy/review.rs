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
    // The record of edits: who changed what, when, and what it was before (the earlier
    // computation's notes among it, so an edit never loses them).
    let mut edits: Vec<Value> = r.parameters["edits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut changed = Vec::new();
    if params.is_some() {
        changed.push("params");
    }
    if notes_zh.as_ref().is_some_and(|n| n.trim() != r.notes_zh) {
        changed.push("notesZh");
    }
    if notes_en.as_ref().is_some_and(|n| n.trim() != r.notes_en) {
        changed.push("notesEn");
    }
    let edit = json!({
        "at": crate::now().to_rfc3339(),
        "by": actor.user_id,
        "changed": changed,
        "before": {
            "method": r.method,
            "params": r.parameters["params"],
            "rates": [r.n_kg_per_mu, r.p2o5_kg_per_mu, r.k2o_kg_per_mu],
            "notes": r.parameters["notes"],
            "notesZh": r.notes_zh,
            "notesEn": r.notes_en,
        },
    });
    if !changed.is_empty() {
        edits.push(edit);
        // An approval was of the draft as it was.
        am.approved_by = Set(None);
        am.approved_at = Set(None);
    }
    if let Some(p) = params {
        let f = field_for(db, actor, r.field_id).await?;
        let (plan, test) = plan_and_test(db, &f, r.crop_plan_id, Some(r.soil_test_id)).await?;
        let c = compute(db, &f, &plan, &test, &p).await?;
        am.method = Set(p.method);
        am.parameters = Set(c.parameters(&p, &edits));
        am.basket =
            Set(serde_json::to_value(&c.basket).map_err(|e| Error::Internal(e.to_string()))?);
        am.result = Set(c.result);
        am.n_kg_per_mu = Set(c.rates[0]);
        am.p2o5_kg_per_mu = Set(c.rates[1]);
        am.k2o_kg_per_mu = Set(c.rates[2]);
    } else if !changed.is_empty() {
        let mut parameters = r.parameters.clone();
        parameters["edits"] = Value::Array(edits);
        am.parameters = Set(parameters);
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
    if current.updated_at != r.updated_at {
        return Err(Error::invalid(
            "id",
            Code::Stale,
            "草稿已被他人修改，请刷新后再改",
            "the draft changed meanwhile: reload it and edit again",
        ));
    }
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
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
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
        at.timestamp_micros(),
        r.approved_by.unwrap_or(0)
    );
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Whether a user wrote or edited the draft.
fn worked_on(r: &recommendation::Model, user_id: i64) -> bool {
    r.created_by == user_id
        || r.parameters["edits"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["by"].as_i64() == Some(user_id)))
}

/// A second agronomist's approval of a draft, where the county requires one before
/// publishing: anyone of the county's agronomists (or an admin) who neither drafted nor edited
/// it. An edit after the approval withdraws it.
pub async fn approve<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let r = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&r)?;
    if worked_on(&r, actor.user_id) {
        return Err(Error::invalid(
            "id",
            Code::SecondAgronomistRequired,
            "起草或修改过这份草稿的人不能审核它，请另一位农技人员审核",
            "whoever drafted or edited this draft cannot approve it: a second agronomist must",
        ));
    }
    let mut am: recommendation::ActiveModel = r.into();
    am.approved_by = Set(Some(actor.user_id));
    am.approved_at = Set(Some(crate::now()));
    let r = am.update(&txn).await?;
    txn.commit().await?;
    Ok(r)
}

/// Whether the county of a draft's field requires a second agronomist's approval.
pub async fn approval_required(
    db: &impl ConnectionTrait,
    r: &recommendation::Model,
) -> Result<bool> {
    let f = field::Entity::find_by_id(r.field_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("field", r.field_id))?;
    let county = crate::regions::county_of(db, f.village_id).await?;
    requires_second_approval(db, county).await
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
    if approval_required(&txn, &r).await? && r.approved_by.is_none() {
        return Err(Error::invalid(
            "id",
            Code::ApprovalRequired,
            "本县要求另一位农技人员审核后才能发布",
            "this county requires a second agronomist's approval before publishing",
        ));
    }
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
