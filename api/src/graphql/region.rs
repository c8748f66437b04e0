//! Regions, village service stations and dealers (licences, service areas, offers).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use domain::regions::{self, NewDealer, NewLicence, NewRegion, NewStation};

#[allow(unused_imports)]
use super::enums::*;
use super::errors::{RegionError, payload};
use super::market::*;
use super::{ApiResult, actor, db, lang, parse_gid, parse_gid_opt, to_gql};

#[derive(Default)]
pub struct RegionQuery;

#[Object]
impl RegionQuery {
    /// Regions by level and/or parent (top level: provinces).
    async fn regions(
        &self,
        ctx: &Context<'_>,
        level: Option<LevelGql>,
        parent_id: Option<ID>,
    ) -> ApiResult<Vec<Region>> {
        let l = lang(ctx);
        let parent =
            parse_gid_opt("parentId", "Region", parent_id.as_ref()).map_err(|e| to_gql(e, l))?;
        let rows = regions::children(db(ctx), parent, level.map(Into::into))
            .await
            .map_err(|e| to_gql(e, l))?;
        Ok(rows.into_iter().map(Region).collect())
    }

    async fn region(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Region> {
        let l = lang(ctx);
        let id = parse_gid("id", "Region", &id).map_err(|e| to_gql(e, l))?;
        regions::region(db(ctx), id)
            .await
            .map(Region)
            .map_err(|e| to_gql(e, l))
    }

    /// Villages, of one county or all.
    async fn villages(&self, ctx: &Context<'_>, county_id: Option<ID>) -> ApiResult<Vec<Region>> {
        let l = lang(ctx);
        let county =
            parse_gid_opt("countyId", "Region", county_id.as_ref()).map_err(|e| to_gql(e, l))?;
        Ok(regions::villages(db(ctx), county)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Region)
            .collect())
    }

    /// Dealers, or those delivering to one village.
    async fn dealers(&self, ctx: &Context<'_>, village_id: Option<ID>) -> ApiResult<Vec<Dealer>> {
        let l = lang(ctx);
        let v =
            parse_gid_opt("villageId", "Region", village_id.as_ref()).map_err(|e| to_gql(e, l))?;
        Ok(regions::dealers(db(ctx), v)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Dealer)
            .collect())
    }

    async fn dealer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Dealer> {
        let l = lang(ctx);
        let id = parse_gid("id", "Dealer", &id).map_err(|e| to_gql(e, l))?;
        regions::dealer(db(ctx), id)
            .await
            .map(Dealer)
            .map_err(|e| to_gql(e, l))
    }

    /// Village service stations, of one village or all.
    async fn stations(&self, ctx: &Context<'_>, village_id: Option<ID>) -> ApiResult<Vec<Station>> {
        let l = lang(ctx);
        let v =
            parse_gid_opt("villageId", "Region", village_id.as_ref()).map_err(|e| to_gql(e, l))?;
        let ids = v.map(|v| vec![v]);
        Ok(regions::stations(db(ctx), ids.as_deref())
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Station)
            .collect())
    }
}

#[derive(InputObject)]
pub struct RegionInput {
    level: LevelGql,
    parent_id: Option<ID>,
    code: Option<String>,
    name_zh: String,
    name_en: String,
}

#[derive(InputObject)]
pub struct StationInput {
    village_id: ID,
    name_zh: String,
    name_en: String,
    operator_name: String,
    phone: String,
    hours: String,
}

#[derive(InputObject)]
pub struct LicenceInput {
    kind: LicenceKindGql,
    number: String,
    issuer: String,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
}

impl From<LicenceInput> for NewLicence {
    fn from(l: LicenceInput) -> Self {
        NewLicence {
            kind: l.kind.into(),
            number: l.number,
            issuer: l.issuer,
            valid_from: l.valid_from,
            valid_to: l.valid_to,
        }
    }
}

#[derive(InputObject)]
pub struct DealerInput {
    name_zh: String,
    name_en: String,
    address: String,
    region_id: ID,
    phone: String,
    licences: Vec<LicenceInput>,
    /// Villages the dealer delivers to.
    service_area: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct RegionPayload {
    region: Option<Region>,
    errors: Vec<RegionError>,
}

#[derive(SimpleObject)]
pub struct StationPayload {
    station: Option<Station>,
    errors: Vec<RegionError>,
}

#[derive(SimpleObject)]
pub struct DealerPayload {
    dealer: Option<Dealer>,
    errors: Vec<RegionError>,
}

fn ids(field: &str, list: &[ID]) -> domain::Result<Vec<i64>> {
    list.iter()
        .enumerate()
        .map(|(i, v)| parse_gid(&format!("{field}.{i}"), "Region", v))
        .collect()
}

#[derive(Default)]
pub struct RegionMutation;

#[Object]
impl RegionMutation {
    /// Adds a province, county, township or village (admins).
    async fn region_create(
        &self,
        ctx: &Context<'_>,
        input: RegionInput,
    ) -> ApiResult<RegionPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let parent_id = parse_gid_opt("parentId", "Region", input.parent_id.as_ref())?;
            let new = NewRegion {
                level: input.level.into(),
                parent_id,
                code: input.code,
                name_zh: input.name_zh,
                name_en: input.name_en,
            };
            regions::create_region(db(ctx), a, new).await
        }
        .await;
        payload!(RegionPayload, region, RegionError, r, l, |r| Region(r))
    }

    /// Adds a village service station (admins).
    async fn station_create(
        &self,
        ctx: &Context<'_>,
        input: StationInput,
    ) -> ApiResult<StationPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let village_id = parse_gid("villageId", "Region", &input.village_id)?;
            let new = NewStation {
                village_id,
                name_zh: input.name_zh,
                name_en: input.name_en,
                operator_name: input.operator_name,
                phone: input.phone,
                hours: input.hours,
            };
            regions::create_station(db(ctx), a, new).await
        }
        .await;
        payload!(StationPayload, station, RegionError, r, l, |s| Station(s))
    }

    /// Registers a dealer with licences and service area (admins).
    async fn dealer_create(
        &self,
        ctx: &Context<'_>,
        input: DealerInput,
    ) -> ApiResult<DealerPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let region_id = parse_gid("regionId", "Region", &input.region_id)?;
            let service_area = ids("serviceArea", &input.service_area)?;
            let new = NewDealer {
                name_zh: input.name_zh,
                name_en: input.name_en,
                address: input.address,
                region_id,
                phone: input.phone,
                licences: input.licences.into_iter().map(Into::into).collect(),
                service_area,
            };
            regions::create_dealer(db(ctx), a, new).await
        }
        .await;
        payload!(DealerPayload, dealer, RegionError, r, l, |d| Dealer(d))
    }

    /// Adds a licence to a dealer (admins).
    async fn dealer_licence_add(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        licence: LicenceInput,
    ) -> ApiResult<DealerPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("dealerId", "Dealer", &dealer_id)?;
            regions::add_licence(db(ctx), a, id, licence.into()).await?;
            regions::dealer(db(ctx), id).await
        }
        .await;
        payload!(DealerPayload, dealer, RegionError, r, l, |d| Dealer(d))
    }

    /// Replaces a dealer's service area (admins, or the dealer's owner).
    async fn dealer_service_area_set(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        village_ids: Vec<ID>,
    ) -> ApiResult<DealerPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("dealerId", "Dealer", &dealer_id)?;
            let villages = ids("villageIds", &village_ids)?;
            regions::set_service_area(db(ctx), a, id, &villages).await?;
            regions::dealer(db(ctx), id).await
        }
        .await;
        payload!(DealerPayload, dealer, RegionError, r, l, |d| Dealer(d))
    }
}
