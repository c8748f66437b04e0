//! A product's page: its registration, labels, and the village's offers with the dealers'
//! licences that matter for it.

use crate::web::ctx::{Path, Query};
use axum::extract::State;
use domain::catalog::{self, Category};
use domain::entities::product;
use domain::regions::LicenceKind;
use domain::shop;
use serde::Deserialize;

use crate::state::AppState;
use crate::web::ctx::{page, urlencode};
use crate::web::view::{self, money};
use crate::web::{Chrome, Ctx, WebError, WebResult};

pub struct OfferView {
    pub id: i64,
    pub dealer: String,
    pub dealer_phone: String,
    pub dealer_address: String,
    pub licences: Vec<String>,
    pub pack: String,
    pub price: String,
    pub per_kg: Option<String>,
    pub stock: String,
    pub stock_class: &'static str,
    pub available: i64,
    pub lot_no: Option<String>,
    pub trace_url: Option<String>,
    pub expires: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "product.html")]
struct ProductPage {
    c: Chrome,
    p: product::Model,
    name: String,
    description: String,
    category: &'static str,
    producer: String,
    producer_licence: String,
    analysis: Option<String>,
    seed: Option<String>,
    pesticide: Option<String>,
    toxicity: String,
    uses: Vec<view::UseRow>,
    offers: Vec<OfferView>,
    added: bool,
    idem: String,
}

#[derive(Deserialize)]
pub struct AddedQuery {
    added: Option<String>,
}

pub async fn product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AddedQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let p = catalog::product(db, id).await?;
    if p.status != domain::catalog::ProductStatus::Active {
        return Err(WebError::NotFound);
    }
    let (_, village) = shop::farmer_village(db, actor).await?;
    let producer = catalog::producers_by_ids(db, &[p.producer_id])
        .await?
        .into_iter()
        .next();
    let analysis = catalog::fertiliser_specs(db, &[p.id])
        .await?
        .into_iter()
        .next()
        .map(|f| {
            let mut s = format!("N-P₂O₅-K₂O {}-{}-{}", f.n_pct, f.p2o5_pct, f.k2o_pct);
            if f.chloride == "CHLORIDE" {
                s.push_str(lang.pick("（含氯）", " (contains chloride)"));
            }
            s
        });
    let seed = catalog::seed_specs(db, &[p.id])
        .await?
        .into_iter()
        .next()
        .map(|s| {
            format!(
                "{} · {} {} · {} {}%",
                lang.pick(&s.variety_zh, &s.variety_en),
                lang.pick("审定编号", "approval"),
                s.approval_no,
                lang.pick("发芽率", "germination"),
                s.germination_pct
            )
        });
    let spec = catalog::pesticide_specs(db, &[p.id])
        .await?
        .into_iter()
        .next();
    let pesticide = spec.as_ref().map(|s| {
        format!(
            "{} · {}",
            s.actives_text,
            lang.pick(&s.formulation_zh, &s.formulation)
        )
    });
    let toxicity = spec
        .as_ref()
        .map(|s| view::toxicity_words(&s.toxicity, lang).to_owned())
        .unwrap_or_default();
    let uses = view::uses(catalog::uses_by_products(db, &[p.id]).await?, lang);
    let offers = match &village {
        Some(v) => shop::village_offers(db, v.id, &[p.id]).await?,
        None => vec![],
    };
    let dealer_ids: Vec<i64> = offers.iter().map(|o| o.dealer.id).collect();
    let licences = domain::regions::licences_of(db, &dealer_ids).await?;
    let today = domain::today();
    let offers = offers
        .into_iter()
        .map(|o| OfferView {
            id: o.offer.id,
            dealer: lang.pick(&o.dealer.name_zh, &o.dealer.name_en).to_owned(),
            dealer_phone: o.dealer.phone.clone(),
            dealer_address: o.dealer.address.clone(),
            licences: licences
                .iter()
                .filter(|l| l.dealer_id == o.dealer.id && l.valid_to >= today)
                .filter(|l| licence_matters(l.kind, &p))
                .map(|l| format!("{} {}", view::licence_words(l.kind, lang), l.number))
                .collect(),
            pack: domain::catalog::pack_label(&o.sku),
            price: money(o.offer.price_fen),
            per_kg: shop::fen_per_kg(o.offer.price_fen, &o.sku).map(|f| {
                let unit = if matches!(o.sku.pack_unit.as_str(), "L" | "ml") {
                    "L"
                } else {
                    "kg"
                };
                format!("{}/{unit}", money(f))
            }),
            stock: view::stock_words(o.available, &o.sku.pack_unit, lang),
            stock_class: view::stock_class(o.available),
            available: o.available,
            lot_no: o.next_lot.as_ref().map(|l| l.lot_no.clone()),
            trace_url: o
                .next_lot
                .as_ref()
                .map(|l| format!("/t/{}", urlencode(&l.trace_code))),
            expires: o.next_lot.as_ref().map(|l| l.expires_on.to_string()),
        })
        .collect();
    page(&ProductPage {
        c: Chrome::new(&ctx, lang.pick(&p.name_zh, &p.name_en), "find"),
        name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
        description: lang.pick(&p.description_zh, &p.description_en).to_owned(),
        category: view::category_words(p.category, lang),
        producer: producer
            .as_ref()
            .map(|x| lang.pick(&x.name_zh, &x.name_en).to_owned())
            .unwrap_or_default(),
        producer_licence: producer.and_then(|x| x.licence_no).unwrap_or_default(),
        analysis,
        seed,
        pesticide,
        toxicity,
        uses,
        offers,
        added: q.added.is_some(),
        idem: crate::web::ctx::random_token(),
        p,
    })
}

/// The dealer licences a buyer of this product should see: the pesticide licence (and the
/// restricted-use one for a restricted product) for pesticides, the seed licence for seed.
/// Fertiliser needs no dealer licence.
fn licence_matters(kind: LicenceKind, p: &product::Model) -> bool {
    match p.category {
        Category::Pesticide => {
            kind == LicenceKind::PesticideBusiness
                || (p.restricted_use && kind == LicenceKind::RestrictedPesticide)
        }
        Category::Seed => kind == LicenceKind::SeedBusiness,
        Category::Fertiliser => false,
    }
}
