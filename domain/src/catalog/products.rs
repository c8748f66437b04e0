//! Products: creating one with its category's spec, updating it, listing or delisting it,
//! reading one.

use super::*;

/// Creates a product with its category spec (admins and dealers).
pub async fn create_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: ProductInput,
) -> Result<product::Model> {
    actor.require(may_edit_catalog(actor))?;
    let txn = crate::begin_write(db).await?;
    let p = insert_product(
        &txn,
        input,
        if actor.role == Role::Dealer {
            actor.dealer_id
        } else {
            None
        },
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// Inserts a product and its spec rows. Call inside a transaction.
pub async fn insert_product(
    db: &impl ConnectionTrait,
    input: ProductInput,
    created_by_dealer: Option<i64>,
) -> Result<product::Model> {
    let v = validate(&input)?;
    producer_exists(db, input.producer_id).await?;
    let now = crate::now();
    let p = product::ActiveModel {
        category: Set(v.category),
        producer_id: Set(input.producer_id),
        name_zh: Set(v.name_zh),
        name_en: Set(v.name_en),
        description_zh: Set(input.description_zh.trim().into()),
        description_en: Set(input.description_en.trim().into()),
        registration_no: Set(v.registration_no),
        registration_exempt: Set(input.registration_exempt),
        restricted_use: Set(input.restricted_use),
        status: Set(ProductStatus::Active),
        created_by_dealer_id: Set(created_by_dealer),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_spec(db, p.id, &input).await?;
    Ok(p)
}

async fn write_spec(
    db: &impl ConnectionTrait,
    product_id: i64,
    input: &ProductInput,
) -> Result<()> {
    fertiliser_spec::Entity::delete_many()
        .filter(fertiliser_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    seed_spec::Entity::delete_many()
        .filter(seed_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    pesticide_spec::Entity::delete_many()
        .filter(pesticide_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    pesticide_use::Entity::delete_many()
        .filter(pesticide_use::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    if let Some(f) = &input.fertiliser {
        fertiliser_spec::ActiveModel {
            product_id: Set(product_id),
            fertiliser_type: Set(f.fertiliser_type.clone()),
            n_pct: Set(f.n_pct),
            p2o5_pct: Set(f.p2o5_pct),
            k2o_pct: Set(f.k2o_pct),
            secondary: Set(
                serde_json::to_value(&f.secondary).map_err(|e| Error::Internal(e.to_string()))?
            ),
            organic_matter_pct: Set(f.organic_matter_pct),
            form: Set(f.form.clone()),
            chloride: Set(f.chloride.clone()),
        }
        .insert(db)
        .await?;
    }
    if let Some(s) = &input.seed {
        seed_spec::ActiveModel {
            product_id: Set(product_id),
            crop: Set(s.crop.clone()),
            variety_zh: Set(s.variety_zh.trim().into()),
            variety_en: Set(s.variety_en.trim().into()),
            approval_no: Set(SeedApprovalNo::parse("", &s.approval_no)
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default()),
            germination_pct: Set(s.germination_pct),
            purity_pct: Set(s.purity_pct),
            moisture_pct: Set(s.moisture_pct),
        }
        .insert(db)
        .await?;
    }
    if let Some(x) = &input.pesticide {
        pesticide_spec::ActiveModel {
            product_id: Set(product_id),
            formulation: Set(x.formulation.trim().into()),
            formulation_zh: Set(x.formulation_zh.trim().into()),
            toxicity: Set(x.toxicity.clone()),
            actives: Set(
                serde_json::to_value(&x.actives).map_err(|e| Error::Internal(e.to_string()))?
            ),
            actives_text: Set(x
                .actives
                .iter()
                .map(|a| format!("{} {}", a.name_zh.trim(), a.name_en.trim()))
                .collect::<Vec<_>>()
                .join(" ")),
        }
        .insert(db)
        .await?;
        for u in &x.uses {
            pesticide_use::ActiveModel {
                product_id: Set(product_id),
                crop: Set(u.crop.clone()),
                target_zh: Set(u.target_zh.trim().into()),
                target_en: Set(u.target_en.trim().into()),
                dose_min: Set(u.dose_min),
                dose_max: Set(u.dose_max),
                dose_unit: Set(u.dose_unit.clone()),
                phi_days: Set(u.phi_days),
                max_applications: Set(u.max_applications),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Replaces a product's data and spec. Admins may edit any product; a dealer only one it created.
pub async fn update_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    input: ProductInput,
) -> Result<product::Model> {
    let existing = product(db, id).await?;
    actor.require(
        actor.is_admin()
            || existing
                .created_by_dealer_id
                .is_some_and(|d| actor.works_for(d)),
    )?;
    let v = validate(&input)?;
    if v.category != existing.category {
        return Err(Error::invalid(
            "category",
            Code::OutOfRange,
            "不能修改产品类别",
            "a product's category cannot change",
        ));
    }
    producer_exists(db, input.producer_id).await?;
    let txn = crate::begin_write(db).await?;
    let mut am: product::ActiveModel = existing.into();
    am.producer_id = Set(input.producer_id);
    am.name_zh = Set(v.name_zh);
    am.name_en = Set(v.name_en);
    am.description_zh = Set(input.description_zh.trim().into());
    am.description_en = Set(input.description_en.trim().into());
    am.registration_no = Set(v.registration_no);
    am.registration_exempt = Set(input.registration_exempt);
    am.restricted_use = Set(input.restricted_use);
    am.updated_at = Set(crate::now());
    let p = am.update(&txn).await?;
    write_spec(&txn, id, &input).await?;
    txn.commit().await?;
    Ok(p)
}

/// Lists or delists a product (admins).
pub async fn set_product_status(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<product::Model> {
    actor.require(actor.is_admin())?;
    let mut am: product::ActiveModel = product(db, id).await?.into();
    am.status = Set(if active {
        ProductStatus::Active
    } else {
        ProductStatus::Delisted
    });
    am.updated_at = Set(crate::now());
    Ok(am.update(db).await?)
}

pub async fn product(db: &impl ConnectionTrait, id: i64) -> Result<product::Model> {
    product::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", id))
}
