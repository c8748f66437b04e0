//! Dealers: creating one with its licences and service area, adding a licence, changing the
//! service area, reading them, and whether a dealer holds a licence or an actor may view it.

use super::*;

pub struct NewLicence {
    pub kind: LicenceKind,
    pub number: String,
    pub issuer: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

pub struct NewDealer {
    pub name_zh: String,
    pub name_en: String,
    pub address: String,
    pub region_id: i64,
    pub phone: String,
    pub licences: Vec<NewLicence>,
    pub service_area: Vec<i64>,
}

pub async fn create_dealer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    new: NewDealer,
) -> Result<dealer::Model> {
    actor.require(actor.is_admin())?;
    let txn = crate::begin_write(db).await?;
    let d = insert_dealer(&txn, new).await?;
    txn.commit().await?;
    Ok(d)
}

/// Inserts a dealer with its licences, service area and store location. Call inside a
/// transaction: it writes several rows.
pub async fn insert_dealer(db: &impl ConnectionTrait, new: NewDealer) -> Result<dealer::Model> {
    let mut errs = Errors::new();
    let name_zh = errs.take(types::name("nameZh", &new.name_zh, 60));
    let name_en = errs.take(types::name("nameEn", &new.name_en, 100));
    let address = errs.take(types::name("address", &new.address, 200));
    let phone = errs.take(Phone::parse("phone", &new.phone));
    let r = region::Entity::find_by_id(new.region_id).one(db).await?;
    if !r.as_ref().is_some_and(|r| {
        matches!(
            Some(r.level),
            Some(Level::Township | Level::Village | Level::County)
        )
    }) {
        errs.push(FieldError::new(
            "regionId",
            Code::WrongRegionLevel,
            "经销商所在地应为县、乡镇或村",
            "a dealer is located in a county, township or village",
        ));
    }
    for (i, l) in new.licences.iter().enumerate() {
        errs.extend(
            validate_licence(l)
                .into_iter()
                .map(|e| e.under(&format!("licences.{i}"))),
        );
    }
    for (i, v) in new.service_area.iter().enumerate() {
        expect_level(
            db,
            &mut errs,
            &format!("serviceArea.{i}"),
            *v,
            Level::Village,
        )
        .await?;
    }
    errs.finish()?;
    let now = crate::now();
    let d = dealer::ActiveModel {
        name_zh: Set(name_zh.unwrap()),
        name_en: Set(name_en.unwrap()),
        address: Set(address.unwrap()),
        region_id: Set(new.region_id),
        phone: Set(phone.unwrap().as_str().into()),
        status: Set(types::DealerStatus::Active),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for l in new.licences {
        insert_licence(db, d.id, l).await?;
    }
    set_service_area_rows(db, d.id, &new.service_area).await?;
    location::ActiveModel {
        kind: Set(LocationKind::DealerStore),
        dealer_id: Set(Some(d.id)),
        station_id: Set(None),
        name_zh: Set(d.name_zh.clone()),
        name_en: Set(d.name_en.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(d)
}

fn validate_licence(l: &NewLicence) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Err(e) = types::name("number", &l.number, 60) {
        errs.push(e);
    }
    if let Err(e) = types::name("issuer", &l.issuer, 100) {
        errs.push(e);
    }
    if l.valid_to <= l.valid_from {
        errs.push(FieldError::new(
            "validTo",
            Code::OutOfRange,
            "有效期截止日期应晚于起始日期",
            "valid-to must be after valid-from",
        ));
    }
    errs
}

async fn insert_licence(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    l: NewLicence,
) -> Result<licence::Model> {
    licence::ActiveModel {
        dealer_id: Set(dealer_id),
        kind: Set(l.kind),
        number: Set(l.number.trim().into()),
        issuer: Set(l.issuer.trim().into()),
        valid_from: Set(l.valid_from),
        valid_to: Set(l.valid_to),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        crate::accounts::unique_violation(
            e,
            "number",
            "该许可证号已登记",
            "this licence number is already registered",
        )
    })
}

pub async fn add_licence(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    l: NewLicence,
) -> Result<licence::Model> {
    actor.require(actor.is_admin())?;
    dealer(db, dealer_id).await?;
    let errs = validate_licence(&l);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    insert_licence(db, dealer_id, l).await
}

/// Replaces a dealer's service area (admins, or the dealer's owner).
pub async fn set_service_area<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    villages: &[i64],
) -> Result<()> {
    actor.require(
        actor.is_admin()
            || (actor.works_for(dealer_id)
                && actor.dealer_role == Some(crate::accounts::DealerRole::Owner)),
    )?;
    dealer(db, dealer_id).await?;
    let mut errs = Errors::new();
    for (i, v) in villages.iter().enumerate() {
        expect_level(
            db,
            &mut errs,
            &format!("villageIds.{i}"),
            *v,
            Level::Village,
        )
        .await?;
    }
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    dealer_service_area::Entity::delete_many()
        .filter(dealer_service_area::Column::DealerId.eq(dealer_id))
        .exec(&txn)
        .await?;
    set_service_area_rows(&txn, dealer_id, villages).await?;
    txn.commit().await?;
    Ok(())
}

async fn set_service_area_rows(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    villages: &[i64],
) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for v in villages {
        if seen.insert(*v) {
            dealer_service_area::ActiveModel {
                dealer_id: Set(dealer_id),
                village_id: Set(*v),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn dealer(db: &impl ConnectionTrait, id: i64) -> Result<dealer::Model> {
    dealer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("dealer", id))
}

pub async fn dealers(
    db: &impl ConnectionTrait,
    village_id: Option<i64>,
) -> Result<Vec<dealer::Model>> {
    let mut q = dealer::Entity::find().order_by_asc(dealer::Column::Id);
    if let Some(v) = village_id {
        let ids: Vec<i64> = dealer_service_area::Entity::find()
            .filter(dealer_service_area::Column::VillageId.eq(v))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.dealer_id)
            .collect();
        q = q.filter(dealer::Column::Id.is_in(ids));
    }
    Ok(q.all(db).await?)
}

pub async fn dealers_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<dealer::Model>> {
    Ok(dealer::Entity::find()
        .filter(dealer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn licences_of(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
) -> Result<Vec<licence::Model>> {
    Ok(licence::Entity::find()
        .filter(licence::Column::DealerId.is_in(dealer_ids.iter().copied()))
        .order_by_asc(licence::Column::Id)
        .all(db)
        .await?)
}

pub async fn service_areas_of(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
) -> Result<Vec<dealer_service_area::Model>> {
    Ok(dealer_service_area::Entity::find()
        .filter(dealer_service_area::Column::DealerId.is_in(dealer_ids.iter().copied()))
        .all(db)
        .await?)
}

/// Whether a dealer holds a licence of `kind` valid on `on`.
pub async fn holds_licence(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    kind: LicenceKind,
    on: NaiveDate,
) -> Result<bool> {
    Ok(licence::Entity::find()
        .filter(licence::Column::DealerId.eq(dealer_id))
        .filter(licence::Column::Kind.eq(kind.as_str()))
        .filter(licence::Column::ValidFrom.lte(on))
        .filter(licence::Column::ValidTo.gte(on))
        .one(db)
        .await?
        .is_some())
}

/// Staff of the dealer, admins, and regulators of the dealer's county.
pub async fn may_view_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<bool> {
    if may_operate(actor, dealer_id) {
        return Ok(true);
    }
    if actor.role == Role::Regulator {
        let d = dealer(db, dealer_id).await?;
        let county = county_of(db, d.region_id).await?;
        return Ok(county.is_some_and(|c| actor.county_ids.contains(&c)));
    }
    Ok(false)
}
