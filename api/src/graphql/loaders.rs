//! DataLoaders: every relation reachable from a list is fetched in one statement per page, not
//! one per row. One loader per request (its cache lives as long as the request).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use domain::entities::{
    dealer, fertiliser_spec, licence, location, lot, offer, pesticide_spec, pesticide_use,
    producer, product, region, seed_spec, sku,
};
use sea_orm::DatabaseConnection;

use super::{lang, to_gql};

pub struct DbLoader {
    db: DatabaseConnection,
}

/// Cached per request: what a list resolver prefetched for its whole page, its children read
/// back without another statement.
pub type Loaders = DataLoader<DbLoader, HashMapCache>;

pub fn new(db: DatabaseConnection) -> Loaders {
    DataLoader::with_cache(DbLoader { db }, tokio::spawn, HashMapCache::default())
}

/// Loads many keys in one batch into the request's cache (list resolvers call this for their
/// page, so the statement count does not depend on how resolvers interleave).
pub async fn prefetch<K>(
    ctx: &Context<'_>,
    keys: impl IntoIterator<Item = K>,
) -> async_graphql::Result<HashMap<K, <DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = LoadError>,
{
    let l = ctx.data_unchecked::<Loaders>();
    l.load_many(keys)
        .await
        .map_err(|e| to_gql(clone_err(&e), lang(ctx)))
}

type LoadError = Arc<domain::Error>;

/// One row per key, looked up by primary key.
macro_rules! by_id {
    ($key:ident, $model:ty, $fetch:path, $id:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for DbLoader {
            type Value = $model;
            type Error = LoadError;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $model>, LoadError> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                Ok($fetch(&self.db, &ids)
                    .await
                    .map_err(Arc::new)?
                    .into_iter()
                    .map(|m| ($key(m.$id), m))
                    .collect())
            }
        }
    };
}

/// Many rows per key, grouped by a foreign key; keys without rows get an empty list.
macro_rules! group_by {
    ($key:ident, $model:ty, $fetch:path, $fk:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for DbLoader {
            type Value = Vec<$model>;
            type Error = LoadError;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Vec<$model>>, LoadError> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let mut out: HashMap<$key, Vec<$model>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for m in $fetch(&self.db, &ids).await.map_err(Arc::new)? {
                    out.entry($key(m.$fk)).or_default().push(m);
                }
                Ok(out)
            }
        }
    };
}

by_id!(
    ProductKey,
    product::Model,
    domain::catalog::products_by_ids,
    id
);
by_id!(LotKey, lot::Model, domain::lots::lots_by_ids, id);
by_id!(
    LocationKey,
    location::Model,
    domain::stock::locations_by_ids,
    id
);
by_id!(SkuKey, sku::Model, domain::catalog::skus_by_ids, id);
by_id!(
    ProducerKey,
    producer::Model,
    domain::catalog::producers_by_ids,
    id
);
by_id!(
    DealerKey,
    dealer::Model,
    domain::regions::dealers_by_ids,
    id
);
by_id!(
    RegionKey,
    region::Model,
    domain::regions::regions_by_ids,
    id
);
by_id!(
    FertiliserSpecKey,
    fertiliser_spec::Model,
    domain::catalog::fertiliser_specs,
    product_id
);
by_id!(
    SeedSpecKey,
    seed_spec::Model,
    domain::catalog::seed_specs,
    product_id
);
by_id!(
    PesticideSpecKey,
    pesticide_spec::Model,
    domain::catalog::pesticide_specs,
    product_id
);
by_id!(
    StationKey,
    domain::entities::service_station::Model,
    domain::regions::stations_by_ids,
    id
);
by_id!(
    FieldKey,
    domain::entities::field::Model,
    domain::fields::fields_by_ids,
    id
);
by_id!(
    CropPlanKey,
    domain::entities::crop_plan::Model,
    domain::agronomy::crop_plans_by_ids,
    id
);
by_id!(
    SoilTestKey,
    domain::entities::soil_test::Model,
    domain::agronomy::soil_tests_by_ids,
    id
);
by_id!(
    UserKey,
    domain::entities::app_user::Model,
    domain::accounts::users_by_ids,
    id
);
group_by!(
    LinesOfOrder,
    domain::entities::order_line::Model,
    domain::orders::lines_by_orders,
    order_id
);
group_by!(
    EventsOfOrder,
    domain::entities::order_event::Model,
    domain::orders::events_by_orders,
    order_id
);
group_by!(
    PaymentsOfOrder,
    domain::entities::payment::Model,
    domain::orders::payments_by_orders,
    order_id
);
group_by!(
    AllocationsOfLine,
    domain::entities::order_allocation::Model,
    domain::orders::allocations_by_lines,
    order_line_id
);
group_by!(
    SkusOfProduct,
    sku::Model,
    domain::catalog::skus_by_products,
    product_id
);
group_by!(
    OffersOfSku,
    offer::Model,
    domain::catalog::offers_by_skus,
    sku_id
);
group_by!(
    OffersOfDealer,
    offer::Model,
    domain::catalog::offers_by_dealers,
    dealer_id
);
group_by!(
    UsesOfProduct,
    pesticide_use::Model,
    domain::catalog::uses_by_products,
    product_id
);
group_by!(
    LicencesOfDealer,
    licence::Model,
    domain::regions::licences_of,
    dealer_id
);
group_by!(
    AreaOfDealer,
    domain::entities::dealer_service_area::Model,
    domain::regions::service_areas_of,
    dealer_id
);

/// Loads one value through the request's loader.
pub async fn one<K>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<Option<<DbLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = LoadError>,
{
    let l = ctx.data_unchecked::<Loaders>();
    l.load_one(key)
        .await
        .map_err(|e| to_gql(clone_err(&e), lang(ctx)))
}

/// Loads a list relation (empty when absent).
pub async fn many<K, M>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Vec<M>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    M: Send + Sync + Clone + 'static,
    DbLoader: Loader<K, Value = Vec<M>, Error = LoadError>,
{
    Ok(one(ctx, key).await?.unwrap_or_default())
}

fn clone_err(e: &domain::Error) -> domain::Error {
    match e {
        domain::Error::NotFound { entity, id } => domain::Error::NotFound {
            entity,
            id: id.clone(),
        },
        // The loader's error is shared by every key of the batch; what reaches the log keeps
        // its causes (the database's own message), not only "database error".
        other => domain::Error::Internal(other.with_causes()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_loaders_database_error_keeps_its_cause() {
        let e = domain::Error::Db(sea_orm::DbErr::Custom("no such table: lot".into()));
        let domain::Error::Internal(msg) = super::clone_err(&e) else {
            panic!("a database error becomes an internal one");
        };
        assert!(msg.starts_with("database error: "), "{msg}");
        assert!(msg.contains("no such table: lot"), "{msg}");
    }
}
