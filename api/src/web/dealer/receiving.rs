//! The dealer console: receiving (收货入库). One lot by a form, or many by a CSV file uploaded
//! in the browser: the file is first checked without writing anything (every bad cell shown
//! with its line and column), then received whole or without its bad rows. After receiving,
//! the lot's labels print with the QR code of its public trace page.
//!
//! The CSV flow (template, upload and check, apply) is the part `csv`; the one-lot form and the
//! labels stay here.

pub mod csv;

use csv::{apply, template, upload};

use crate::web::ctx::{Path, Query};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use domain::error::{Code, FieldError};
use domain::lots::InspectionInput;
use domain::stock::{self, LotReceipt, Supplier};
use domain::types::InspectionResult;
use serde::Deserialize;

use super::Console;
use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::{claim, finish};
use crate::web::ctx::{page, random_token};
use crate::web::{Chrome, Ctx, WebError, WebResult};

pub struct PackOpt {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

pub struct DoneLot {
    pub lot_id: i64,
    pub text: String,
}

/// The one-lot form as typed (kept across a refusal).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LotFields {
    #[serde(default)]
    pub pack: String,
    #[serde(default)]
    pub gtin: String,
    #[serde(default)]
    pub lot_no: String,
    #[serde(default)]
    pub produced_on: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub unit_cost: String,
    #[serde(default)]
    pub supplier_name: String,
    #[serde(default)]
    pub supplier_licence_no: String,
    #[serde(default)]
    pub supplier_contact: String,
    #[serde(default)]
    pub source_document: String,
    #[serde(default)]
    pub inspection_report_no: String,
    #[serde(default)]
    pub inspection_lab: String,
    #[serde(default)]
    pub inspection_result: String,
    #[serde(default)]
    pub inspection_date: String,
}

#[derive(askama::Template)]
#[template(path = "dealer/receiving.html")]
struct ReceivingPage {
    c: Chrome,
    packs: Vec<PackOpt>,
    f: LotFields,
    errors: Vec<String>,
    csv_errors: Vec<String>,
    done: Vec<DoneLot>,
    idem: String,
}

#[derive(Deserialize, Default)]
pub struct ReceivingQuery {
    /// Lots just received (comma-separated ids): the notice with their label links.
    #[serde(default)]
    lots: String,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    f: LotFields,
    errors: Vec<String>,
    csv_errors: Vec<String>,
    done_lots: &[i64],
) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("收货入库", "Receiving"), "receiving").await?;
    let db = state.db();
    let chosen: Option<i64> = f.pack.trim().parse().ok();
    let packs = domain::catalog::pack_choices(db)
        .await?
        .into_iter()
        .map(|p| PackOpt {
            id: p.sku.id,
            label: format!(
                "{} · {} · {}{}",
                ctx.l(&p.product.name_zh, &p.product.name_en),
                domain::catalog::pack_label(&p.sku),
                p.producer_name,
                p.sku
                    .gtin
                    .as_deref()
                    .map(|g| format!(" · {g}"))
                    .unwrap_or_default()
            ),
            selected: chosen == Some(p.sku.id),
        })
        .collect();
    let mut done = Vec::new();
    for id in done_lots {
        if let Ok(l) = stock::lot_label(db, con.actor(), con.dealer_id(), *id).await {
            done.push(DoneLot {
                lot_id: *id,
                text: format!(
                    "{} {} · {} {}",
                    ctx.l(&l.product.name_zh, &l.product.name_en),
                    domain::catalog::pack_label(&l.sku),
                    ctx.l("批号", "lot"),
                    l.lot.lot_no
                ),
            });
        }
    }
    page(&ReceivingPage {
        c: con.c,
        packs,
        f,
        errors,
        csv_errors,
        done,
        idem: random_token(),
    })
}

/// `GET /dealer/receiving`.
pub async fn receiving(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReceivingQuery>,
) -> WebResult {
    let lots: Vec<i64> = q
        .lots
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .take(200)
        .collect();
    render(&state, &ctx, LotFields::default(), vec![], vec![], &lots).await
}

fn field_err(field: &str, zh: String, en: String) -> FieldError {
    FieldError::new(field, Code::InvalidFormat, zh, en)
}

fn date(field: &str, zh: &str, en: &str, v: &str, errs: &mut Vec<FieldError>) -> NaiveDate {
    let t = v.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y/%m/%d"))
        .unwrap_or_else(|_| {
            errs.push(if t.is_empty() {
                FieldError::new(
                    field,
                    Code::Required,
                    format!("请填写{zh}"),
                    format!("{en} is required"),
                )
            } else {
                field_err(
                    field,
                    format!("{zh}“{t}”应为 年-月-日，例如 2026-03-01"),
                    format!("{en} \"{t}\" must be a date like 2026-03-01"),
                )
            });
            NaiveDate::default()
        })
}

/// Reads the form into the domain's input; what cannot be read is a bilingual field error.
async fn parse_lot(state: &AppState, f: &mut LotFields) -> Result<LotReceipt, domain::Error> {
    let mut errs = Vec::new();
    // A scanned GS1 code also carries the lot number and dates: fill what was left empty.
    let mut gtin = f.gtin.trim().to_owned();
    if !gtin.is_empty()
        && let Ok(g) = domain::lots::gs1::parse(&gtin)
        && let Some(code) = g.gtin.clone()
    {
        if f.lot_no.trim().is_empty()
            && let Some(l) = g.lot
        {
            f.lot_no = l;
        }
        if f.produced_on.trim().is_empty()
            && let Some(d) = g.produced_on
        {
            f.produced_on = d.to_string();
        }
        if f.expires_on.trim().is_empty()
            && let Some(d) = g.expires_on
        {
            f.expires_on = d.to_string();
        }
        gtin = code;
    }
    let sku_id = if !gtin.is_empty() {
        match domain::types::Gtin::parse("gtin", &gtin) {
            Ok(g) => match domain::catalog::pack_by_gtin(state.db(), g.as_str()).await? {
                Some(s) => {
                    f.pack = s.id.to_string();
                    s.id
                }
                None => {
                    errs.push(field_err(
                        "gtin",
                        format!("没有商品条码为 {gtin} 的规格：请在列表中选择"),
                        format!("no pack has the barcode {gtin}: choose it from the list"),
                    ));
                    0
                }
            },
            Err(e) => {
                errs.push(e);
                0
            }
        }
    } else {
        match f.pack.trim().parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                errs.push(FieldError::new(
                    "pack",
                    Code::Required,
                    "请选择产品规格，或扫描商品条码",
                    "choose the product and pack, or scan its barcode",
                ));
                0
            }
        }
    };
    let produced_on = date(
        "producedOn",
        "生产日期",
        "production date",
        &f.produced_on,
        &mut errs,
    );
    let expires_on = date(
        "expiresOn",
        "有效期至",
        "expiry date",
        &f.expires_on,
        &mut errs,
    );
    let quantity = match f.quantity.trim().parse::<i64>() {
        Ok(q) => q,
        Err(_) => {
            errs.push(field_err(
                "quantity",
                format!("数量“{}”应为整数", f.quantity.trim()),
                format!("quantity \"{}\" must be a whole number", f.quantity.trim()),
            ));
            0
        }
    };
    let unit_cost_fen = match stock::parse_yuan(&f.unit_cost) {
        Some(c) => c,
        None => {
            errs.push(field_err(
                "unitCostFen",
                format!("进货单价“{}”应为元，最多两位小数", f.unit_cost.trim()),
                format!(
                    "unit cost \"{}\" must be yuan with at most two decimals",
                    f.unit_cost.trim()
                ),
            ));
            0
        }
    };
    let inspection = match f.inspection_result.trim() {
        "" => None,
        r => Some(InspectionInput {
            report_no: f.inspection_report_no.trim().to_owned(),
            lab: f.inspection_lab.trim().to_owned(),
            result: InspectionResult::parse(r).unwrap_or_else(|| {
                errs.push(field_err(
                    "inspection.result",
                    format!("检验结果“{r}”应为 合格 或 不合格"),
                    format!("inspection result \"{r}\" must be conformant or non-conformant"),
                ));
                InspectionResult::Conformant
            }),
            date: date(
                "inspection.date",
                "检验日期",
                "inspection date",
                &f.inspection_date,
                &mut errs,
            ),
        }),
    };
    if !errs.is_empty() {
        return Err(domain::Error::Invalid(errs));
    }
    Ok(LotReceipt {
        sku_id,
        lot_no: f.lot_no.trim().to_owned(),
        produced_on,
        expires_on,
        inspection,
        quantity,
        unit_cost_fen,
        supplier: Supplier {
            name: f.supplier_name.clone(),
            licence_no: f.supplier_licence_no.clone(),
            contact: f.supplier_contact.clone(),
        },
        source_document: f.source_document.clone(),
    })
}

#[derive(Deserialize)]
pub struct LotForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(flatten)]
    f: LotFields,
}

/// `POST /dealer/receiving`: one lot received (one-shot).
pub async fn receive_one(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LotForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let con = Console::open(&state, &ctx, "", "receiving").await?;
    let idem = form.idem.clone();
    if let Err(done) = claim(&state, con.session, &idem, "/dealer/receiving").await? {
        return Ok(done);
    }
    let mut f = form.f;
    let result = match parse_lot(&state, &mut f).await {
        Ok(input) => stock::receive_lot(state.db(), con.actor(), con.dealer_id(), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((r, _, events)) => {
            publish_events(&state, events).await;
            let url = format!("/dealer/receiving?lots={}", r.lot_id);
            finish(&state, con.session, &idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, con.session, &idem, None).await?;
            let errors = messages(e, &ctx)?;
            render(&state, &ctx, f, errors, vec![], &[]).await
        }
    }
}

// ---------------------------------------------------------------- labels

pub struct Label {
    pub n: usize,
}

#[derive(askama::Template)]
#[template(path = "dealer/labels.html")]
struct LabelsPage {
    c: Chrome,
    lot_id: i64,
    product: String,
    reg_no: String,
    producer: String,
    pack: String,
    lot_no: String,
    produced: String,
    expires: String,
    trace_code: String,
    trace_url: String,
    qr: String,
    count: usize,
    labels: Vec<Label>,
}

#[derive(Deserialize, Default)]
pub struct LabelsQuery {
    n: Option<usize>,
}

/// The largest sheet printed at once.
const MAX_LABELS: usize = 200;

/// `GET /dealer/lots/{id}/labels?n=`: printable shelf labels of a received lot, each with the
/// QR code of the lot's public trace page (an inline SVG drawn here; nothing is fetched).
pub async fn labels(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<LabelsQuery>,
) -> WebResult {
    let con = Console::open(&state, &ctx, ctx.l("批次标签", "Lot labels"), "receiving").await?;
    let l = stock::lot_label(state.db(), con.actor(), con.dealer_id(), id).await?;
    let url = crate::rest::trace_url(&headers, &l.lot.trace_code);
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| WebError::Internal("qr".into()))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(120, 120)
        .quiet_zone(true)
        .build();
    // Inline in HTML: the XML declaration goes, and the picture is named for screen readers.
    let qr = qr
        .split_once("<svg")
        .map(|(_, rest)| format!("<svg aria-hidden=\"true\" focusable=\"false\"{rest}"))
        .unwrap_or_default();
    let count =
        q.n.unwrap_or((l.received as usize).min(12))
            .clamp(1, MAX_LABELS);
    page(&LabelsPage {
        lot_id: id,
        product: ctx.l(&l.product.name_zh, &l.product.name_en).to_owned(),
        reg_no: l.product.registration_no.clone().unwrap_or_default(),
        producer: l.producer_name.clone(),
        pack: domain::catalog::pack_label(&l.sku),
        lot_no: l.lot.lot_no.clone(),
        produced: l.lot.produced_on.to_string(),
        expires: l.lot.expires_on.to_string(),
        trace_code: l.lot.trace_code.clone(),
        trace_url: url,
        qr,
        count,
        labels: (1..=count).map(|n| Label { n }).collect(),
        c: con.c,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/receiving", get(receiving).post(receive_one))
        .route("/dealer/receiving/template.csv", get(template))
        .route("/dealer/receiving/csv", post(upload))
        .route("/dealer/receiving/csv/apply", post(apply))
        .route("/dealer/lots/{id}/labels", get(labels))
}
