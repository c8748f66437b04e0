//! The catalog queries: product search (a Relay connection, prefetched per page), products, producers, crops.

use super::*;

/// Largest page of `products`.
pub const MAX_PAGE: i32 = 100;
const DEFAULT_PAGE: i32 = 20;

fn cursor(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

/// Above any offset this server hands out (the catalogue is nowhere near a billion products); a
/// larger one is forged, and near `u64::MAX` the next offset (`+ 1`) would overflow.
const MAX_CURSOR_OFFSET: u64 = 1_000_000_000;

fn decode_cursor(c: &str) -> domain::Result<u64> {
    let bad = || {
        Error::invalid(
            "after",
            Code::InvalidFormat,
            "无效的分页游标",
            "not a valid cursor",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| bad())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .filter(|&n| n <= MAX_CURSOR_OFFSET)
        .ok_or_else(bad)
}

/// Loads every relation the query selects for the whole page, one statement per relation, so a
/// page of 100 costs what a page of 5 does.
async fn prefetch_page(ctx: &Context<'_>, items: &[product::Model]) -> ApiResult<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let ids: Vec<i64> = items.iter().map(|p| p.id).collect();
    if node.field("producer").exists() {
        prefetch(ctx, items.iter().map(|p| ProducerKey(p.producer_id))).await?;
    }
    if node.field("fertiliser").exists() {
        prefetch(ctx, ids.iter().map(|i| FertiliserSpecKey(*i))).await?;
    }
    if node.field("seed").exists() {
        prefetch(ctx, ids.iter().map(|i| SeedSpecKey(*i))).await?;
    }
    let pesticide = node.field("pesticide");
    if pesticide.exists() {
        prefetch(ctx, ids.iter().map(|i| PesticideSpecKey(*i))).await?;
        if pesticide.field("uses").exists() {
            prefetch(ctx, ids.iter().map(|i| UsesOfProduct(*i))).await?;
        }
    }
    let skus = node.field("skus");
    if skus.exists() {
        let by_product = prefetch(ctx, ids.iter().map(|i| SkusOfProduct(*i))).await?;
        let offers = skus.field("offers");
        if offers.exists() {
            let sku_ids: Vec<i64> = by_product.values().flatten().map(|s| s.id).collect();
            let by_sku = prefetch(ctx, sku_ids.iter().map(|i| OffersOfSku(*i))).await?;
            if offers.field("dealer").exists() {
                let dealers: std::collections::BTreeSet<i64> =
                    by_sku.values().flatten().map(|o| o.dealer_id).collect();
                prefetch(ctx, dealers.into_iter().map(DealerKey)).await?;
            }
        }
    }
    Ok(())
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Searches the catalog. At most 100 products a page.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize * child_complexity + 1"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProductFilterInput>,
        #[graphql(default)] sort_by: ProductSort,
    ) -> ApiResult<ProductConnection> {
        let l = lang(ctx);
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(to_gql(
                Error::invalid(
                    "first",
                    Code::OutOfRange,
                    "每页数量应在 1 到 100 之间",
                    "first must be between 1 and 100",
                ),
                l,
            ));
        }
        let offset = match after.as_deref() {
            Some(c) => decode_cursor(c).map_err(|e| to_gql(e, l))? + 1,
            None => 0,
        };
        let f = filter.unwrap_or_default();
        let admin = ctx
            .data_opt::<crate::graphql::RequestCtx>()
            .and_then(|r| r.actor.as_ref())
            .is_some_and(|a| a.is_admin());
        let pf = (|| -> domain::Result<ProductFilter> {
            Ok(ProductFilter {
                category: f.category.map(Into::into),
                text: f.text,
                crop: f.crop,
                target: f.target,
                min_n_pct: f.min_n_pct,
                min_p2o5_pct: f.min_p2o5_pct,
                min_k2o_pct: f.min_k2o_pct,
                village_id: parse_gid_opt("filter.villageId", "Region", f.village_id.as_ref())?,
                dealer_id: parse_gid_opt("filter.dealerId", "Dealer", f.dealer_id.as_ref())?,
                restricted_use: f.restricted_use,
                include_delisted: admin,
            })
        })()
        .map_err(|e| to_gql(e, l))?;
        let page = catalog::search(db(ctx), &pf, sort_by.into(), offset, first as u64)
            .await
            .map_err(|e| to_gql(e, l))?;
        prefetch_page(ctx, &page.items).await?;
        let mut conn = Connection::with_additional_fields(
            offset > 0,
            page.has_next,
            ProductConnectionFields {
                total_count: page.total,
            },
        );
        conn.edges.extend(
            page.items
                .into_iter()
                .enumerate()
                .map(|(i, p)| Edge::new(cursor(offset + i as u64), Product(p))),
        );
        Ok(conn)
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Product> {
        let l = lang(ctx);
        let id = parse_gid("id", "Product", &id).map_err(|e| to_gql(e, l))?;
        catalog::product(db(ctx), id)
            .await
            .map(Product)
            .map_err(|e| to_gql(e, l))
    }

    async fn producers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Producer>> {
        Ok(catalog::producers(db(ctx))
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(Producer)
            .collect())
    }

    /// Crop codes used by seeds, pesticide uses and the advisor.
    async fn crops(&self, ctx: &Context<'_>) -> Vec<Crop> {
        crops::CROPS
            .iter()
            .map(|c| Crop {
                code: c.0.into(),
                name: pick(ctx, c.1, c.2),
                name_zh: c.1.into(),
                name_en: c.2.into(),
            })
            .collect()
    }
}
