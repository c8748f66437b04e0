//! Regions (province > county > township > village), village service stations, dealers with
//! licences and service areas, and the stock locations that belong to them.

mod locations;

pub use crate::types::LocationKind;
pub use locations::*;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};

use crate::accounts::{Actor, Role, may_operate};
use crate::entities::{dealer, dealer_service_area, licence, location, region, service_station};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::types::{self, Phone};

pub use crate::types::Level;

impl Level {
    fn parent(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::County => Some(Level::Province),
            Level::Township => Some(Level::County),
            Level::Village => Some(Level::Township),
        }
    }
    /// Administrative code length: 6 digits for province and county, 9 for township, 12 for
    /// village (GB/T 2260 and the statistical division codes).
    fn code_len(self) -> usize {
        match self {
            Level::Province | Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
}

pub struct NewRegion {
    pub level: Level,
    pub parent_id: Option<i64>,
    pub code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
}

pub async fn create_region(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewRegion,
) -> Result<region::Model> {
    actor.require(actor.is_admin())?;
    insert_region(db, new).await
}

/// Inserts a region after checking its level against its parent's (used by the demo loader too).
pub async fn insert_region(db: &impl ConnectionTrait, new: NewRegion) -> Result<region::Model> {
    let mut errs = Errors::new();
    let name_zh = errs.take(types::name("nameZh", &new.name_zh, 60));
    let name_en = errs.take(types::name("nameEn", &new.name_en, 100));
    if let Some(c) = &new.code
        && (c.len() != new.level.code_len() || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        errs.push(FieldError::new(
            "code",
            Code::InvalidFormat,
            format!(
                "{}级行政区划代码应为 {} 位数字",
                level_zh(new.level),
                new.level.code_len()
            ),
            format!(
                "a {} code must be {} digits",
                new.level.as_str().to_lowercase(),
                new.level.code_len()
            ),
        ));
    }
    match (new.level.parent(), new.parent_id) {
        (None, Some(_)) => errs.push(FieldError::new(
            "parentId",
            Code::WrongRegionLevel,
            "省级行政区没有上级",
            "a province has no parent",
        )),
        (Some(_), None) => errs.push(FieldError::new(
            "parentId",
            Code::Required,
            "请指定上级行政区",
            "parent region is required",
        )),
        (Some(want), Some(pid)) => {
            let parent = region::Entity::find_by_id(pid).one(db).await?;
            if parent.as_ref().map(|p| p.level) != Some(want) {
                errs.push(FieldError::new(
                    "parentId",
                    Code::WrongRegionLevel,
                    format!("上级应为{}级行政区", level_zh(want)),
                    format!("parent must be a {}", want.as_str().to_lowercase()),
                ));
            }
        }
        (None, None) => {}
    }
    errs.finish()?;
    region::ActiveModel {
        code: Set(new.code),
        level: Set(new.level),
        parent_id: Set(new.parent_id),
        name_zh: Set(name_zh.unwrap()),
        name_en: Set(name_en.unwrap()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        crate::accounts::unique_violation(
            e,
            "code",
            "行政区划代码已存在",
            "this region code already exists",
        )
    })
}

fn level_zh(l: Level) -> &'static str {
    match l {
        Level::Province => "省",
        Level::County => "县",
        Level::Township => "乡镇",
        Level::Village => "村",
    }
}

pub async fn region(db: &impl ConnectionTrait, id: i64) -> Result<region::Model> {
    region::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("region", id))
}

pub async fn regions_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<region::Model>> {
    Ok(region::Entity::find()
        .filter(region::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn children(
    db: &impl ConnectionTrait,
    parent_id: Option<i64>,
    level: Option<Level>,
) -> Result<Vec<region::Model>> {
    let mut q = region::Entity::find().order_by_asc(region::Column::Id);
    q = match parent_id {
        Some(p) => q.filter(region::Column::ParentId.eq(p)),
        None => q,
    };
    if let Some(l) = level {
        q = q.filter(region::Column::Level.eq(l.as_str()));
    }
    Ok(q.all(db).await?)
}

/// Villages of a county (through its townships), or all villages.
pub async fn villages(
    db: &impl ConnectionTrait,
    county_id: Option<i64>,
) -> Result<Vec<region::Model>> {
    let mut q = region::Entity::find()
        .filter(region::Column::Level.eq(Level::Village.as_str()))
        .order_by_asc(region::Column::Id);
    if let Some(c) = county_id {
        let townships: Vec<i64> = children(db, Some(c), Some(Level::Township))
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        q = q.filter(region::Column::ParentId.is_in(townships));
    }
    Ok(q.all(db).await?)
}

/// The county a region lies in (itself if it is one).
pub async fn county_of(db: &impl ConnectionTrait, region_id: i64) -> Result<Option<i64>> {
    let mut cur = region(db, region_id).await?;
    loop {
        match Some(cur.level) {
            Some(Level::County) => return Ok(Some(cur.id)),
            Some(Level::Province) | None => return Ok(None),
            _ => match cur.parent_id {
                Some(p) => cur = region(db, p).await?,
                None => return Ok(None),
            },
        }
    }
}

/// [`county_of`] for many regions at once: one statement per level climbed (a village is three
/// levels below its county), not one per region. Regions that are not found, or lie above any
/// county, map to `None`.
pub async fn counties_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::BTreeMap<i64, Option<i64>>> {
    use std::collections::BTreeMap;
    let start: std::collections::BTreeSet<i64> = ids.into_iter().collect();
    let mut seen: BTreeMap<i64, region::Model> = BTreeMap::new();
    let mut todo: Vec<i64> = start.iter().copied().collect();
    // Each round reads the parents of the regions of the round before; Level has five levels.
    for _ in 0..8 {
        if todo.is_empty() {
            break;
        }
        let mut next = vec![];
        for chunk in todo.chunks(crate::IN_CHUNK) {
            for r in region::Entity::find()
                .filter(region::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                let climb = !matches!(
                    Some(r.level),
                    Some(Level::County) | Some(Level::Province) | None
                );
                if let Some(p) = r.parent_id.filter(|p| climb && !seen.contains_key(p)) {
                    next.push(p);
                }
                seen.insert(r.id, r);
            }
        }
        next.sort_unstable();
        next.dedup();
        todo = next;
    }
    Ok(start
        .into_iter()
        .map(|id| {
            let mut cur = seen.get(&id);
            let county = loop {
                match cur {
                    None => break None,
                    Some(r) => match Some(r.level) {
                        Some(Level::County) => break Some(r.id),
                        Some(Level::Province) | None => break None,
                        _ => cur = r.parent_id.and_then(|p| seen.get(&p)),
                    },
                }
            };
            (id, county)
        })
        .collect())
}

pub struct NewStation {
    pub village_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub operator_name: String,
    pub phone: String,
    pub hours: String,
}

pub async fn create_station<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    new: NewStation,
) -> Result<service_station::Model> {
    actor.require(actor.is_admin())?;
    let txn = crate::begin_write(db).await?;
    let s = insert_station(&txn, new).await?;
    txn.commit().await?;
    Ok(s)
}

pub async fn insert_station(
    db: &impl ConnectionTrait,
    new: NewStation,
) -> Result<service_station::Model> {
    let mut errs = Errors::new();
    let name_zh = errs.take(types::name("nameZh", &new.name_zh, 60));
    let name_en = errs.take(types::name("nameEn", &new.name_en, 100));
    let op = errs.take(types::name("operatorName", &new.operator_name, 30));
    let phone = errs.take(Phone::parse("phone", &new.phone));
    let hours = errs.take(types::name("hours", &new.hours, 60));
    expect_level(db, &mut errs, "villageId", new.village_id, Level::Village).await?;
    errs.finish()?;
    let s = service_station::ActiveModel {
        village_id: Set(new.village_id),
        name_zh: Set(name_zh.unwrap()),
        name_en: Set(name_en.unwrap()),
        operator_name: Set(op.unwrap()),
        phone: Set(phone.unwrap().as_str().into()),
        hours: Set(hours.unwrap()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    location::ActiveModel {
        kind: Set(LocationKind::Station),
        dealer_id: Set(None),
        station_id: Set(Some(s.id)),
        name_zh: Set(s.name_zh.clone()),
        name_en: Set(s.name_en.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(s)
}

async fn expect_level(
    db: &impl ConnectionTrait,
    errs: &mut Errors,
    field: &str,
    id: i64,
    want: Level,
) -> Result<()> {
    let r = region::Entity::find_by_id(id).one(db).await?;
    match r {
        None => errs.push(FieldError::new(
            field,
            Code::UnknownReference,
            "行政区不存在",
            "no such region",
        )),
        Some(r) if Some(r.level) != Some(want) => errs.push(FieldError::new(
            field,
            Code::WrongRegionLevel,
            format!("应为{}级行政区", level_zh(want)),
            format!("must be a {}", want.as_str().to_lowercase()),
        )),
        _ => {}
    }
    Ok(())
}

pub async fn station(db: &impl ConnectionTrait, id: i64) -> Result<Option<service_station::Model>> {
    Ok(service_station::Entity::find_by_id(id).one(db).await?)
}

pub async fn stations(
    db: &impl ConnectionTrait,
    village_ids: Option<&[i64]>,
) -> Result<Vec<service_station::Model>> {
    let mut q = service_station::Entity::find().order_by_asc(service_station::Column::Id);
    if let Some(v) = village_ids {
        q = q.filter(service_station::Column::VillageId.is_in(v.iter().copied()));
    }
    Ok(q.all(db).await?)
}

pub use crate::types::LicenceKind;

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

pub async fn stations_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<service_station::Model>> {
    Ok(service_station::Entity::find()
        .filter(service_station::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
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
