//! The catalog mutations and their payloads: products, producers, packs and offers.

use super::*;

#[derive(SimpleObject)]
pub struct ProductPayload {
    product: Option<Product>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct ProducerPayload {
    producer: Option<Producer>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct SkuPayload {
    sku: Option<Sku>,
    errors: Vec<CatalogError>,
}

#[derive(SimpleObject)]
pub struct OfferPayload {
    offer: Option<Offer>,
    errors: Vec<CatalogError>,
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Adds a producer (admins and dealers).
    async fn producer_create(
        &self,
        ctx: &Context<'_>,
        input: ProducerInput,
    ) -> ApiResult<ProducerPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let new = catalog::NewProducer {
            name_zh: input.name_zh,
            name_en: input.name_en,
            address: input.address,
            licence_no: input.licence_no,
        };
        payload!(
            ProducerPayload,
            producer,
            CatalogError,
            catalog::create_producer(db(ctx), a, new).await,
            l,
            |v| Producer(v)
        )
    }

    /// Lists a product with its category spec (admins and dealers). Registration numbers,
    /// analyses and registered uses are checked against the rules for its category.
    async fn product_create(
        &self,
        ctx: &Context<'_>,
        input: ProductInput,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async { catalog::create_product(db(ctx), a, input.into_domain()?).await }.await;
        payload!(ProductPayload, product, CatalogError, r, l, |v| Product(v))
    }

    /// Replaces a product's data and spec (admins; dealers for products they listed).
    async fn product_update(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductInput,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Product", &id)?;
            catalog::update_product(db(ctx), a, id, input.into_domain()?).await
        }
        .await;
        payload!(ProductPayload, product, CatalogError, r, l, |v| Product(v))
    }

    /// Lists (`active: true`) or delists a product (admins).
    async fn product_set_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> ApiResult<ProductPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Product", &id)?;
            catalog::set_product_status(db(ctx), a, id, active).await
        }
        .await;
        payload!(ProductPayload, product, CatalogError, r, l, |v| Product(v))
    }

    /// Adds a pack size to a product (admins and dealers).
    async fn sku_create(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        input: SkuInput,
    ) -> ApiResult<SkuPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let pid = parse_gid("productId", "Product", &product_id)?;
            catalog::create_sku(
                db(ctx),
                a,
                pid,
                catalog::SkuInput {
                    pack_size: input.pack_size,
                    pack_unit: input.pack_unit,
                    gtin: input.gtin,
                },
            )
            .await
        }
        .await;
        payload!(SkuPayload, sku, CatalogError, r, l, |v| Sku(v))
    }

    /// Sets a dealer's price (integer fen) for a pack size, or withdraws it (`active: false`).
    /// Dealers price only for their own store, and only what their licences allow.
    async fn offer_set(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        sku_id: ID,
        price_fen: i64,
        #[graphql(default = true)] active: bool,
    ) -> ApiResult<OfferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let d = parse_gid("dealerId", "Dealer", &dealer_id)?;
            let s = parse_gid("skuId", "Sku", &sku_id)?;
            catalog::set_offer(db(ctx), a, d, s, price_fen, active).await
        }
        .await;
        payload!(OfferPayload, offer, CatalogError, r, l, |v| Offer(v))
    }
}
