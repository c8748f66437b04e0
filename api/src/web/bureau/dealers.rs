//! Dealers' records (诚信档案): `GET /bureau/dealers` lists the county's dealers with their
//! counts of signals, complaints and recalled lots; `GET /bureau/dealers/{id}` is one dealer's
//! record: licences and their validity, recalls handled, signals, inspections of the lots it
//! received, and farmers' complaints, each complaint with a form for its outcome
//! (`POST /bureau/complaints/{id}/resolve`, one-shot).

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::bureau::complaints::{self as bc, ComplaintView};
use domain::bureau::records;
use domain::types::{ComplaintStatus, InspectionResult};
use serde::Deserialize;

use super::Desk;
use super::signals::{SignalRow, signal_row};
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token};
use crate::web::view::china_time;
use crate::web::{Chrome, Ctx, WebResult};

pub struct DealerListRow {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub signals: usize,
    pub complaints: usize,
    pub open_complaints: usize,
    pub recalls: usize,
}

#[derive(askama::Template)]
#[template(path = "bureau/dealers.html")]
struct DealersPage {
    c: Chrome,
    rows: Vec<DealerListRow>,
    /// Complaints about no known dealer (a code whose seller is not on record).
    complaints: Vec<ComplaintRow>,
    errors: Vec<String>,
    failed: Option<i64>,
    outcome: String,
    idem: String,
    done: bool,
}

impl DealersPage {
    fn is_failed(&self, id: &i64) -> bool {
        self.failed == Some(*id)
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    county: Option<i64>,
    #[serde(default)]
    done: String,
}

/// `GET /bureau/dealers`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult {
    render_list(
        &state,
        &ctx,
        q.county,
        vec![],
        None,
        String::new(),
        q.done == "resolved",
    )
    .await
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    county: Option<i64>,
    errors: Vec<String>,
    failed: Option<i64>,
    outcome: String,
    done: bool,
) -> WebResult {
    let desk = Desk::open_county(
        state,
        ctx,
        ctx.l("诚信档案", "Dealer records"),
        "dealers",
        county,
    )
    .await?;
    let (_, rows) = records::county_dealers(state.db(), desk.actor(), Some(desk.county.id)).await?;
    let loose = bc::county_complaints(state.db(), desk.actor(), Some(desk.county.id), None, None)
        .await?
        .into_iter()
        .filter(|c| c.c.dealer_id.is_none())
        .map(|c| complaint_row(&c, ctx.lang))
        .collect();
    let refused = !errors.is_empty();
    let mut resp = page(&DealersPage {
        rows: rows
            .into_iter()
            .map(|r| DealerListRow {
                id: r.dealer.id,
                name: ctx.l(&r.dealer.name_zh, &r.dealer.name_en).to_owned(),
                phone: r.dealer.phone,
                signals: r.signals,
                complaints: r.complaints,
                open_complaints: r.open_complaints,
                recalls: r.recalls,
            })
            .collect(),
        complaints: loose,
        errors,
        failed,
        outcome,
        idem: random_token(),
        done,
        c: desk.c,
    })?;
    if refused {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub struct LicenceRowView {
    pub kind: &'static str,
    pub number: String,
    pub issuer: String,
    pub validity: String,
    pub state: String,
    pub state_class: &'static str,
}

pub struct RecallRowView {
    pub lot_id: i64,
    pub product: String,
    pub lot_no: String,
    pub at: String,
    pub reason: String,
    pub stock_left: i64,
    pub sold: i64,
    pub reached: String,
    pub anonymous: usize,
}

pub struct InspectionRowView {
    pub lot_id: i64,
    pub product: String,
    pub lot_no: String,
    pub received: String,
    pub report: String,
    pub result: &'static str,
    pub bad: bool,
}

pub struct ComplaintRow {
    pub id: i64,
    pub at: String,
    pub about: String,
    pub lot_id: Option<i64>,
    pub body: String,
    pub has_photo: bool,
    pub status: &'static str,
    pub status_code: &'static str,
    pub outcome: String,
    pub resolved_at: String,
}

pub fn complaint_row(v: &ComplaintView, lang: Lang) -> ComplaintRow {
    let c = &v.c;
    let (zh, en) = bc::status_words(c.status);
    let about = match (c.order_id, &c.code) {
        (Some(o), _) => format!("{} {o}", lang.pick("订单", "Order")),
        (None, Some(code)) => format!("{} {code}", lang.pick("追溯码", "Trace code")),
        _ => String::new(),
    };
    let dealer = v
        .dealer
        .as_ref()
        .map(|d| format!(" · {}", lang.pick(&d.name_zh, &d.name_en)))
        .unwrap_or_default();
    ComplaintRow {
        id: c.id,
        at: china_time(c.created_at),
        about: format!("{about}{dealer}"),
        lot_id: c.lot_id,
        body: c.body.clone(),
        has_photo: v.has_photo,
        status: lang.pick(zh, en),
        status_code: c.status.as_str(),
        outcome: c.outcome.clone().unwrap_or_default(),
        resolved_at: c.resolved_at.map(china_time).unwrap_or_default(),
    }
}

#[derive(askama::Template)]
#[template(path = "bureau/dealer.html")]
struct DealerPage {
    c: Chrome,
    id: i64,
    name: String,
    address: String,
    phone: String,
    region: String,
    licences: Vec<LicenceRowView>,
    recalls: Vec<RecallRowView>,
    rows: Vec<SignalRow>,
    inspections: Vec<InspectionRowView>,
    bad_count: usize,
    good_count: usize,
    complaints: Vec<ComplaintRow>,
    errors: Vec<String>,
    /// The complaint a refused outcome was for, and what was typed.
    failed: Option<i64>,
    outcome: String,
    idem: String,
    done: bool,
}

impl DealerPage {
    fn is_failed(&self, id: &i64) -> bool {
        self.failed == Some(*id)
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `GET /bureau/dealers/{id}`.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    render(
        &state,
        &ctx,
        id,
        vec![],
        None,
        String::new(),
        q.done == "resolved",
    )
    .await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    errors: Vec<String>,
    failed: Option<i64>,
    outcome: String,
    done: bool,
) -> WebResult {
    let desk = Desk::open(state, ctx, ctx.l("诚信档案", "Dealer record"), "dealers").await?;
    let r = records::dealer_record(state.db(), desk.actor(), id).await?;
    let lang = ctx.lang;
    let pick = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    let licences = r
        .licences
        .iter()
        .map(|l| {
            let (state, class) = if l.valid && l.days_left <= 90 {
                (
                    format!(
                        "{}{}{}",
                        pick("有效，", "valid, "),
                        l.days_left,
                        pick(" 天后到期", " days left")
                    ),
                    "warn",
                )
            } else if l.valid {
                (pick("有效", "valid"), "ok")
            } else if l.days_left < 0 {
                (pick("已过期", "expired"), "out")
            } else {
                (pick("尚未生效", "not yet in force"), "warn")
            };
            LicenceRowView {
                kind: match l.licence.kind {
                    domain::types::LicenceKind::PesticideBusiness => {
                        lang.pick("农药经营许可证", "Pesticide business licence")
                    }
                    domain::types::LicenceKind::RestrictedPesticide => {
                        lang.pick("限制使用农药经营许可", "Restricted-use pesticide licence")
                    }
                    domain::types::LicenceKind::SeedBusiness => {
                        lang.pick("种子生产经营许可证", "Seed business licence")
                    }
                },
                number: l.licence.number.clone(),
                issuer: l.licence.issuer.clone(),
                validity: format!("{} – {}", l.licence.valid_from, l.licence.valid_to),
                state,
                state_class: class,
            }
        })
        .collect();
    let recalls = r
        .recalls
        .iter()
        .map(|x| RecallRowView {
            lot_id: x.lot.id,
            product: pick(&x.product_zh, &x.product_en),
            lot_no: x.lot.lot_no.clone(),
            at: x.recalled_at.map(china_time).unwrap_or_default(),
            reason: x.reason.clone().unwrap_or_default(),
            stock_left: x.stock_left,
            sold: x.sold,
            reached: format!(
                "{} / {} ({} {})",
                x.notified,
                x.buyers_with_account,
                x.read,
                pick("已读", "read")
            ),
            anonymous: x.anonymous_sales,
        })
        .collect();
    let inspections: Vec<InspectionRowView> = r
        .inspections
        .iter()
        .map(|i| InspectionRowView {
            lot_id: i.lot.id,
            product: pick(&i.product_zh, &i.product_en),
            lot_no: i.lot.lot_no.clone(),
            received: i.received_on.to_string(),
            report: format!(
                "{} {} {}",
                i.lot.inspection_report_no.as_deref().unwrap_or_default(),
                i.lot.inspection_lab.as_deref().unwrap_or_default(),
                i.lot
                    .inspection_date
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            result: match i.lot.inspection_result {
                Some(InspectionResult::NonConformant) => lang.pick("不合格", "non-conformant"),
                _ => lang.pick("合格", "conformant"),
            },
            bad: i.lot.inspection_result == Some(InspectionResult::NonConformant),
        })
        .collect();
    let bad_count = inspections.iter().filter(|i| i.bad).count();
    let good_count = inspections.len() - bad_count;
    let region = r
        .region
        .as_ref()
        .map(|x| pick(&x.name_zh, &x.name_en))
        .unwrap_or_default();
    let refused = !errors.is_empty();
    let mut resp = page(&DealerPage {
        id,
        name: pick(&r.dealer.name_zh, &r.dealer.name_en),
        address: r.dealer.address.clone(),
        phone: r.dealer.phone.clone(),
        region,
        licences,
        recalls,
        rows: r.signals.iter().map(|s| signal_row(s, lang)).collect(),
        inspections,
        bad_count,
        good_count,
        complaints: r
            .complaints
            .iter()
            .map(|v| complaint_row(v, lang))
            .collect(),
        errors,
        failed,
        outcome,
        idem: random_token(),
        done,
        c: desk.c,
    })?;
    if refused {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
}

/// `POST /bureau/complaints/{id}/resolve` (one-shot): the outcome and status of a complaint;
/// back to the dealer's record (or, for a complaint about no dealer, the dealers' list).
pub async fn resolve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "dealers").await?;
    let c = bc::complaint(state.db(), desk.actor(), id).await?;
    let back = match c.c.dealer_id {
        Some(d) => format!("/bureau/dealers/{d}"),
        None => "/bureau/dealers".to_owned(),
    };
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let status = ComplaintStatus::parse(form.status.trim()).unwrap_or(ComplaintStatus::Resolved);
    match bc::resolve_complaint(state.db(), desk.actor(), id, status, &form.outcome).await {
        Ok(_) => {
            let url = format!("{back}?done=resolved#complaint-{id}");
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            match c.c.dealer_id {
                Some(d) => render(&state, &ctx, d, errors, Some(id), form.outcome, false).await,
                None => {
                    render_list(&state, &ctx, None, errors, Some(id), form.outcome, false).await
                }
            }
        }
    }
}
