//! Regions, village service stations, licences and dealers (with their service areas and offers).

use super::*;

/// A province, county, township or village.
pub struct Region(pub region::Model);

#[Object]
impl Region {
    async fn id(&self) -> ID {
        gid("Region", self.0.id)
    }
    /// Administrative division code, where known.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    async fn level(&self) -> LevelGql {
        self.0.level.into()
    }
    /// The name in the caller's language.
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        match self.0.parent_id {
            Some(p) => Ok(one(ctx, RegionKey(p)).await?.map(Region)),
            None => Ok(None),
        }
    }
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        let rows = regions::children(db(ctx), Some(self.0.id), None)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(rows.into_iter().map(Region).collect())
    }
    /// Village service stations (villages only).
    async fn stations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Station>> {
        let rows = regions::stations(db(ctx), Some(&[self.0.id]))
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(rows.into_iter().map(Station).collect())
    }
    /// Dealers that deliver to this village.
    async fn dealers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Dealer>> {
        let rows = regions::dealers(db(ctx), Some(self.0.id))
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(rows.into_iter().map(Dealer).collect())
    }
}

/// A village service station (村级服务站): a pick-up and advice point run by a local operator.
pub struct Station(pub service_station::Model);

#[Object]
impl Station {
    async fn id(&self) -> ID {
        gid("Station", self.0.id)
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn operator_name(&self) -> &str {
        &self.0.operator_name
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// Opening hours, e.g. `08:00-18:00`.
    async fn hours(&self) -> &str {
        &self.0.hours
    }
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        Ok(one(ctx, RegionKey(self.0.village_id)).await?.map(Region))
    }
}

pub struct Licence(pub licence::Model);

#[Object]
impl Licence {
    async fn kind(&self) -> LicenceKindGql {
        self.0.kind.into()
    }
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }
    async fn valid_from(&self) -> NaiveDate {
        self.0.valid_from
    }
    async fn valid_to(&self) -> NaiveDate {
        self.0.valid_to
    }
    /// Valid today (China Standard Time).
    async fn valid(&self) -> bool {
        let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
        self.0.valid_from <= today && today <= self.0.valid_to
    }
}

/// An input dealer (农资经销商): a store with licences, a service area and priced offers.
pub struct Dealer(pub dealer::Model);

#[Object]
impl Dealer {
    async fn id(&self) -> ID {
        gid("Dealer", self.0.id)
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn status(&self) -> DealerStatusGql {
        self.0.status.into()
    }
    /// The township or village the store is in.
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        Ok(one(ctx, RegionKey(self.0.region_id)).await?.map(Region))
    }
    async fn licences(&self, ctx: &Context<'_>) -> ApiResult<Vec<Licence>> {
        Ok(many(ctx, LicencesOfDealer(self.0.id))
            .await?
            .into_iter()
            .map(Licence)
            .collect())
    }
    /// Whether the dealer may sell restricted-use pesticides today.
    async fn restricted_use_licensed(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
        Ok(many(ctx, LicencesOfDealer(self.0.id))
            .await?
            .iter()
            .any(|l| {
                l.kind == LicenceKind::RestrictedPesticide
                    && l.valid_from <= today
                    && today <= l.valid_to
            }))
    }
    /// The villages the dealer delivers to.
    async fn service_area(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        let mut out = Vec::new();
        for a in many(ctx, AreaOfDealer(self.0.id)).await? {
            if let Some(r) = one(ctx, RegionKey(a.village_id)).await? {
                out.push(Region(r));
            }
        }
        Ok(out)
    }
    /// The dealer's active offers.
    async fn offers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Offer>> {
        Ok(many(ctx, OffersOfDealer(self.0.id))
            .await?
            .into_iter()
            .map(Offer)
            .collect())
    }
}
