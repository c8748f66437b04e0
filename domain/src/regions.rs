//! Regions (province > county > township > village), village service stations, dealers with
//! licences and service areas, and the stock locations that belong to them.
//!
//! Parts: `locations` (stock locations); `stations` (village service stations); `dealers` (dealers,
//! their licences and service areas, whether an actor may view one). This file holds the regions
//! and the level and licence kinds.

mod dealers;
mod locations;
mod stations;

pub use dealers::*;
pub use locations::*;
pub use stations::*;

pub use crate::types::LocationKind;

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

pub use crate::types::LicenceKind;
