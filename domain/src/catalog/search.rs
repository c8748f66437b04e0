//! The catalog search: the filter, the sort, the SQL conditions (sold by a dealer serving the
//! village, matching names, ingredients and targets) and one page of results.

use super::*;

/// Filter for catalog search; every field narrows the result.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub category: Option<Category>,
    /// Matches names (zh, en), registration number, variety, active ingredients and targets.
    pub text: Option<String>,
    /// A crop code or name: seeds of that crop and pesticides registered on it.
    pub crop: Option<String>,
    /// A pest or disease (zh or en), among registered uses.
    pub target: Option<String>,
    pub min_n_pct: Option<f64>,
    pub min_p2o5_pct: Option<f64>,
    pub min_k2o_pct: Option<f64>,
    /// Sold (an active offer) by a dealer that serves this village.
    pub village_id: Option<i64>,
    /// Sold by this dealer.
    pub dealer_id: Option<i64>,
    pub restricted_use: Option<bool>,
    /// Also show delisted products (admins).
    pub include_delisted: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Newest,
    NameZh,
    NameEn,
    /// Lowest active offer price of any pack (products without offers last).
    PriceLow,
}

fn like_pattern(s: &str) -> String {
    let escaped = s
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn like(
    col: impl sea_orm::sea_query::IntoColumnRef,
    pattern: &str,
) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern).escape('\\'))
}

/// Products that have an active offer matching `extra` (a condition on `offer` and
/// `dealer_service_area`).
fn sold_where(extra: Condition, with_area: bool) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.column((sku::Entity, sku::Column::ProductId))
        .from(sku::Entity)
        .inner_join(
            offer::Entity,
            Expr::col((offer::Entity, offer::Column::SkuId)).equals((sku::Entity, sku::Column::Id)),
        );
    if with_area {
        q.inner_join(
            dealer_service_area::Entity,
            Expr::col((
                dealer_service_area::Entity,
                dealer_service_area::Column::DealerId,
            ))
            .equals((offer::Entity, offer::Column::DealerId)),
        );
    }
    q.and_where(Expr::col((offer::Entity, offer::Column::Active)).eq(true))
        .cond_where(extra)
        .to_owned()
}

fn filter_condition(f: &ProductFilter) -> Condition {
    let mut c = Condition::all();
    if !f.include_delisted {
        c = c.add(product::Column::Status.eq(crate::types::ProductStatus::Active));
    }
    if let Some(cat) = f.category {
        c = c.add(product::Column::Category.eq(cat.as_str()));
    }
    if let Some(t) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = like_pattern(t);
        c = c.add(
            Condition::any()
                .add(like((product::Entity, product::Column::NameZh), &p))
                .add(like((product::Entity, product::Column::NameEn), &p))
                .add(like((product::Entity, product::Column::RegistrationNo), &p))
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(seed_spec::Column::ProductId)
                            .from(seed_spec::Entity)
                            .cond_where(
                                Condition::any()
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::VarietyZh),
                                        &p,
                                    ))
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::VarietyEn),
                                        &p,
                                    ))
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::ApprovalNo),
                                        &p,
                                    )),
                            )
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(pesticide_spec::Column::ProductId)
                            .from(pesticide_spec::Entity)
                            .and_where(
                                Expr::expr(Func::lower(Expr::col(
                                    pesticide_spec::Column::ActivesText,
                                )))
                                .like(LikeExpr::new(&p).escape('\\')),
                            )
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(uses_where(
                        Condition::any()
                            .add(like(
                                (pesticide_use::Entity, pesticide_use::Column::TargetZh),
                                &p,
                            ))
                            .add(like(
                                (pesticide_use::Entity, pesticide_use::Column::TargetEn),
                                &p,
                            )),
                    )),
                ),
        );
    }
    if let Some(crop) = f.crop.as_deref() {
        let code = crops::resolve(crop).unwrap_or("__unknown__");
        c = c.add(
            Condition::any()
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(seed_spec::Column::ProductId)
                            .from(seed_spec::Entity)
                            .and_where(Expr::col(seed_spec::Column::Crop).eq(code))
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(uses_where(Condition::all().add(
                        Expr::col((pesticide_use::Entity, pesticide_use::Column::Crop)).eq(code),
                    ))),
                ),
        );
    }
    if let Some(t) = f.target.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = like_pattern(t);
        c = c.add(
            product::Column::Id.in_subquery(uses_where(
                Condition::any()
                    .add(like(
                        (pesticide_use::Entity, pesticide_use::Column::TargetZh),
                        &p,
                    ))
                    .add(like(
                        (pesticide_use::Entity, pesticide_use::Column::TargetEn),
                        &p,
                    )),
            )),
        );
    }
    let mut nutrients = Condition::all();
    let mut any_nutrient = false;
    for (min, col) in [
        (f.min_n_pct, fertiliser_spec::Column::NPct),
        (f.min_p2o5_pct, fertiliser_spec::Column::P2o5Pct),
        (f.min_k2o_pct, fertiliser_spec::Column::K2oPct),
    ] {
        if let Some(m) = min {
            nutrients = nutrients.add(Expr::col((fertiliser_spec::Entity, col)).gte(m));
            any_nutrient = true;
        }
    }
    if any_nutrient {
        c = c.add(
            product::Column::Id.in_subquery(
                Query::select()
                    .column(fertiliser_spec::Column::ProductId)
                    .from(fertiliser_spec::Entity)
                    .cond_where(nutrients)
                    .to_owned(),
            ),
        );
    }
    if let Some(v) = f.village_id {
        c = c.add(
            product::Column::Id.in_subquery(sold_where(
                Condition::all().add(
                    Expr::col((
                        dealer_service_area::Entity,
                        dealer_service_area::Column::VillageId,
                    ))
                    .eq(v),
                ),
                true,
            )),
        );
    }
    if let Some(d) = f.dealer_id {
        c = c.add(product::Column::Id.in_subquery(sold_where(
            Condition::all().add(Expr::col((offer::Entity, offer::Column::DealerId)).eq(d)),
            false,
        )));
    }
    if let Some(r) = f.restricted_use {
        c = c.add(product::Column::RestrictedUse.eq(r));
    }
    c
}

fn uses_where(cond: Condition) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((pesticide_use::Entity, pesticide_use::Column::ProductId))
        .from(pesticide_use::Entity)
        .cond_where(cond)
        .to_owned()
}

/// One page of a search: `limit` products from `offset`, and whether more follow.
pub struct Page {
    pub items: Vec<product::Model>,
    pub has_next: bool,
    pub total: u64,
}

pub async fn search(
    db: &impl ConnectionTrait,
    filter: &ProductFilter,
    sort: SortBy,
    offset: u64,
    limit: u64,
) -> Result<Page> {
    let cond = filter_condition(filter);
    let mut q = product::Entity::find().filter(cond.clone());
    q = match sort {
        SortBy::Newest => q.order_by_desc(product::Column::Id),
        SortBy::NameZh => q
            .order_by_asc(product::Column::NameZh)
            .order_by_asc(product::Column::Id),
        SortBy::NameEn => q
            .order_by_asc(product::Column::NameEn)
            .order_by_asc(product::Column::Id),
        SortBy::PriceLow => {
            let mut min_price = Query::select();
            min_price
                .expr(Func::min(Expr::col((
                    offer::Entity,
                    offer::Column::PriceFen,
                ))))
                .from(offer::Entity)
                .inner_join(
                    sku::Entity,
                    Expr::col((sku::Entity, sku::Column::Id))
                        .equals((offer::Entity, offer::Column::SkuId)),
                )
                .and_where(
                    Expr::col((sku::Entity, sku::Column::ProductId))
                        .equals((product::Entity, product::Column::Id)),
                )
                .and_where(Expr::col((offer::Entity, offer::Column::Active)).eq(true));
            if let Some(d) = filter.dealer_id {
                min_price.and_where(Expr::col((offer::Entity, offer::Column::DealerId)).eq(d));
            }
            let sub = Expr::SubQuery(
                None,
                Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
                    min_price.to_owned(),
                )),
            );
            q.order_by(Func::coalesce([sub, Expr::val(i64::MAX)]), Order::Asc)
                .order_by_asc(product::Column::Id)
        }
    };
    let total = product::Entity::find().filter(cond).count(db).await?;
    let mut items = q.offset(offset).limit(limit + 1).all(db).await?;
    let has_next = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Page {
        items,
        has_next,
        total,
    })
}
