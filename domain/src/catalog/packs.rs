//! Pack sizes (SKUs): creating one, reading one, and finding packs by GTIN or by name and pack
//! label, and the packs a receiving form offers.

use super::*;

pub struct SkuInput {
    pub pack_size: f64,
    pub pack_unit: String,
    pub gtin: Option<String>,
}

pub async fn create_sku(
    db: &impl ConnectionTrait,
    actor: &Actor,
    product_id: i64,
    input: SkuInput,
) -> Result<sku::Model> {
    let p = product(db, product_id).await?;
    actor.require(
        actor.is_admin()
            || (actor.role == Role::Dealer
                && p.created_by_dealer_id.is_none_or(|d| actor.works_for(d))),
    )?;
    insert_sku(db, product_id, input).await
}

pub async fn insert_sku(
    db: &impl ConnectionTrait,
    product_id: i64,
    input: SkuInput,
) -> Result<sku::Model> {
    let mut errs = Errors::new();
    if !(input.pack_size.is_finite() && input.pack_size > 0.0 && input.pack_size <= 10_000.0) {
        errs.push(FieldError::new(
            "packSize",
            Code::OutOfRange,
            "包装规格应大于 0",
            "pack size must be greater than 0",
        ));
    }
    one_of(&mut errs, "packUnit", &input.pack_unit, PACK_UNITS);
    let gtin = match input
        .gtin
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        Some(g) => errs
            .take(Gtin::parse("gtin", g))
            .map(|g| g.as_str().to_owned()),
        None => None,
    };
    errs.finish()?;
    sku::ActiveModel {
        product_id: Set(product_id),
        pack_size: Set(input.pack_size),
        pack_unit: Set(input.pack_unit),
        gtin: Set(gtin),
        active: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        crate::accounts::unique_violation(
            e,
            "gtin",
            "该 GTIN 已被其他规格使用",
            "this GTIN is already used by another pack",
        )
    })
}

pub async fn sku(db: &impl ConnectionTrait, id: i64) -> Result<sku::Model> {
    sku::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", id))
}

/// The pack whose barcode (GTIN) this is.
pub async fn pack_by_gtin(db: &impl ConnectionTrait, gtin: &str) -> Result<Option<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::Gtin.eq(gtin.trim()))
        .one(db)
        .await?)
}

/// What a product name and a pack label name.
#[derive(Clone, Debug, PartialEq)]
pub enum PackMatch {
    One(sku::Model),
    /// No product has that name.
    NoProduct,
    /// The product exists but has no such pack: the pack labels it has.
    NoPack(Vec<String>),
    /// Several products of that name have such a pack (different producers): how many.
    Ambiguous(usize),
}

/// `40kg`, `40 KG`, `40 kg` and `40公斤` all read the same.
fn pack_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .replace("公斤", "kg")
        .replace("千克", "kg")
        .replace("毫升", "ml")
        .replace("克", "g")
        .replace("升", "l")
}

/// Finds a pack by its product's name (Chinese or English, as listed; case and surrounding
/// spaces ignored) and its pack label (`40 kg`, `500 ml`; spaces and case ignored).
pub async fn pack_named(db: &impl ConnectionTrait, name: &str, pack: &str) -> Result<PackMatch> {
    let names = [(name.to_owned(), pack.to_owned())];
    Ok(packs_named(db, &names).await?.remove(0))
}

/// [`pack_named`] for many (product name, pack label) pairs at once, in two statements (per
/// 10 000 distinct names): the answers in the order asked.
pub async fn packs_named(
    db: &impl ConnectionTrait,
    names: &[(String, String)],
) -> Result<Vec<PackMatch>> {
    let wanted: std::collections::BTreeSet<String> = names
        .iter()
        .map(|(n, _)| n.trim().to_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let wanted: Vec<String> = wanted.into_iter().collect();
    let mut products: Vec<product::Model> = vec![];
    for chunk in wanted.chunks(crate::IN_CHUNK) {
        products.extend(
            product::Entity::find()
                .filter(
                    Condition::any()
                        .add(
                            Expr::expr(Func::lower(Expr::col(product::Column::NameZh)))
                                .is_in(chunk.iter().cloned()),
                        )
                        .add(
                            Expr::expr(Func::lower(Expr::col(product::Column::NameEn)))
                                .is_in(chunk.iter().cloned()),
                        ),
                )
                .all(db)
                .await?,
        );
    }
    products.sort_by_key(|p| p.id);
    products.dedup_by_key(|p| p.id);
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let mut skus: Vec<sku::Model> = vec![];
    for chunk in ids.chunks(crate::IN_CHUNK) {
        skus.extend(
            sku::Entity::find()
                .filter(sku::Column::ProductId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    skus.sort_by_key(|s| s.id);
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for p in &products {
        for n in [p.name_zh.to_lowercase(), p.name_en.to_lowercase()] {
            let v = by_name.entry(n).or_default();
            if !v.contains(&p.id) {
                v.push(p.id);
            }
        }
    }
    Ok(names
        .iter()
        .map(|(name, pack)| {
            let n = name.trim().to_lowercase();
            let of = match by_name.get(&n) {
                Some(of) if !n.is_empty() => of,
                _ => return PackMatch::NoProduct,
            };
            let skus: Vec<&sku::Model> =
                skus.iter().filter(|s| of.contains(&s.product_id)).collect();
            let want = pack_key(pack);
            let hits: Vec<&&sku::Model> = skus
                .iter()
                .filter(|s| pack_key(&crate::catalog::pack_label(s)) == want)
                .collect();
            match hits.as_slice() {
                [one] => PackMatch::One((**one).clone()),
                [] => {
                    let mut have: Vec<String> =
                        skus.iter().map(|s| crate::catalog::pack_label(s)).collect();
                    have.dedup();
                    PackMatch::NoPack(have)
                }
                many => PackMatch::Ambiguous(many.len()),
            }
        })
        .collect())
}

/// The packs with these barcodes (normalised GTINs), keyed by barcode, in one statement per
/// 10 000 barcodes.
pub async fn packs_by_gtin(
    db: &impl ConnectionTrait,
    gtins: &[String],
) -> Result<BTreeMap<String, sku::Model>> {
    let mut out = BTreeMap::new();
    for chunk in gtins.chunks(crate::IN_CHUNK) {
        for s in sku::Entity::find()
            .filter(sku::Column::Gtin.is_in(chunk.iter().cloned()))
            .order_by_desc(sku::Column::Id)
            .all(db)
            .await?
        {
            if let Some(g) = s.gtin.clone() {
                out.insert(g, s);
            }
        }
    }
    Ok(out)
}

/// A pack as a person picks it: the product, the pack and what tells it apart.
#[derive(Clone, Debug)]
pub struct PackChoice {
    pub sku: sku::Model,
    pub product: product::Model,
    pub producer_name: String,
}

/// Every active pack of a listed product, by product name: what a receiving form offers.
pub async fn pack_choices(db: &impl ConnectionTrait) -> Result<Vec<PackChoice>> {
    let products: BTreeMap<i64, product::Model> = product::Entity::find()
        .filter(product::Column::Status.eq(crate::types::ProductStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let producers: BTreeMap<i64, String> = producer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name_zh))
        .collect();
    let mut out: Vec<PackChoice> = sku::Entity::find()
        .filter(sku::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            let p = products.get(&s.product_id)?.clone();
            Some(PackChoice {
                producer_name: producers.get(&p.producer_id).cloned().unwrap_or_default(),
                sku: s,
                product: p,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.product.name_zh, a.product.id)
            .cmp(&(&b.product.name_zh, b.product.id))
            .then(a.sku.pack_size.total_cmp(&b.sku.pack_size))
    });
    Ok(out)
}
