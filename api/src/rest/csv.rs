//! The CSV endpoints dealers and regulators use with spreadsheets: the ledger and recall-report
//! downloads, and the receipts upload (answering JSON).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Lang;
use domain::csv_export::{Cell, CsvExport};
use domain::lots::trace;
use domain::stock::{self, ledger};
use serde::Deserialize;

use super::{LangQuery, RestError, lang_from, rest_actor};
use crate::state::AppState;

pub fn csv_response(body: String, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, disposition.as_str()),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LedgerQuery {
    kind: Option<String>,
    // Text, so that a mistyped date gets the domain's bilingual message, not a framework error.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    lang: Option<String>,
}

/// `GET /dealers/{id}/ledger.csv?kind=PURCHASE|SALE&from=YYYY-MM-DD&to=YYYY-MM-DD[&lang=en]`
/// with the dealer's token: UTF-8 with BOM (Excel opens it), Chinese columns by default.
pub async fn ledger_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(dealer): Path<String>,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, RestError> {
    let lang = lang_from(&headers, q.lang.as_deref());
    let actor = rest_actor(&state, &headers, lang)?;
    let dealer_id = dealer_id_from_path(&dealer)
        .map_err(|()| RestError::not_found(lang, "经销商不存在", "no such dealer"))?;
    let kind = match q.kind.as_deref().unwrap_or("SALE") {
        "PURCHASE" | "purchase" => ledger::Kind::Purchase,
        "SALE" | "sale" => ledger::Kind::Sale,
        _ => {
            return Err(RestError::bad_input(
                lang,
                "kind 应为 PURCHASE 或 SALE",
                "kind must be PURCHASE or SALE",
            ));
        }
    };
    let (from, to) = ledger::parse_range(&q.from, &q.to, domain::today())
        .map_err(|e| RestError::from_domain(e, lang))?;
    let rows = ledger::lines(state.db(), &actor, dealer_id, kind, from, to)
        .await
        .map_err(|e| RestError::from_domain(e, lang))?;
    let body = ledger::to_csv(
        &rows,
        kind,
        lang,
        domain::accounts::is_regulator_or_admin(&actor),
    );
    Ok(csv_response(
        body,
        &format!(
            "ledger-{}-{dealer_id}-{from}-{to}.csv",
            kind.as_str().to_lowercase()
        ),
    ))
}

/// Accepts a numeric id or a Relay global id (`Dealer:3`, base64).
fn dealer_id_from_path(s: &str) -> Result<i64, ()> {
    s.parse().or_else(|_| {
        crate::graphql::parse_gid("dealerId", "Dealer", &async_graphql::ID(s.to_owned()))
            .map_err(|_| ())
    })
}

/// `GET /lots/{id}/recall-report.csv` (regulators, admins).
pub async fn recall_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(lot): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, RestError> {
    let lang = lang_from(&headers, q.lang.as_deref());
    let actor = rest_actor(&state, &headers, lang)?;
    let lot_id = lot
        .parse::<i64>()
        .or_else(|_| {
            crate::graphql::parse_gid("lotId", "Lot", &async_graphql::ID(lot.clone()))
                .map_err(|_| ())
        })
        .map_err(|()| RestError::not_found(lang, "批次不存在", "no such lot"))?;
    let d = domain::bureau::lots::dossier(state.db(), &actor, lot_id)
        .await
        .map_err(|e| RestError::from_domain(e, lang))?;
    Ok(csv_response(
        recall_to_csv(&d, lang),
        &format!("recall-{}-{}.csv", d.report.lot.lot_no, lot_id),
    ))
}

/// The recall report as CSV: what it is about first (product, registration, producer, lot,
/// status, reason, date, who ordered it, when the file was made), then holders, buyers and the
/// chain back to the producer. The same file from the REST route and the bureau's page.
pub fn recall_to_csv(d: &domain::bureau::lots::Dossier, lang: Lang) -> String {
    let r = &d.report;
    let t = &d.public;
    let when = d
        .progress
        .as_ref()
        .map(|p| p.recalled_at)
        .or(d.status_at)
        .map(crate::web::view::china_time)
        .unwrap_or_default();
    let ordered_by = d
        .progress
        .as_ref()
        .and_then(|p| p.ordered_by.clone())
        .unwrap_or_default();
    let product = format!("{} {}", lang.pick(&t.product_zh, &t.product_en), t.pack);
    let status = lang.pick(d.status.words().0, d.status.words().1);
    let produced = t.produced_on.to_string();
    let generated = crate::web::view::china_time(domain::now());
    let about: [(&str, &str); 11] = [
        (lang.pick("召回报告", "Recall report"), &r.lot.trace_code),
        (lang.pick("产品", "Product"), &product),
        (
            lang.pick("登记证号", "Registration"),
            t.registration_no.as_deref().unwrap_or_default(),
        ),
        (
            lang.pick("生产企业", "Producer"),
            lang.pick(&t.producer_zh, &t.producer_en),
        ),
        (lang.pick("批号", "Lot"), &r.lot.lot_no),
        (lang.pick("生产日期", "Produced on"), &produced),
        (lang.pick("状态", "Status"), status),
        (
            lang.pick("原因", "Reason"),
            d.status_reason.as_deref().unwrap_or_default(),
        ),
        (lang.pick("日期", "Date"), &when),
        (lang.pick("下令人", "Ordered by"), &ordered_by),
        (lang.pick("生成时间", "Generated"), &generated),
    ];
    let header = match lang {
        Lang::Zh => [
            "类型",
            "经销商",
            "地点/村",
            "姓名",
            "电话",
            "数量",
            "在途",
            "日期",
            "备注",
        ],
        Lang::En => [
            "type",
            "dealer",
            "location / village",
            "name",
            "phone",
            "quantity",
            "in transit",
            "date",
            "note",
        ],
    };
    // Quantities are numbers (left as they are); every other column is text, neutralised.
    let mut w = CsvExport::titled(&about, &header);
    for h in &r.holders {
        w.row([
            Cell::text(lang.pick("持有", "holder")),
            Cell::text(lang.pick(&h.dealer_zh, &h.dealer_en)),
            Cell::text(lang.pick(&h.location_zh, &h.location_en)),
            Cell::text(""),
            Cell::text(&h.dealer_phone),
            Cell::number(h.on_hand),
            Cell::number(h.in_transit),
            Cell::text(""),
            Cell::text(format!(
                "{} {}",
                lang.pick("已预留", "reserved"),
                h.reserved
            )),
        ]);
    }
    for b in &r.buyers {
        let village = match lang {
            Lang::Zh => b.village_zh.as_deref(),
            Lang::En => b.village_en.as_deref(),
        };
        w.row([
            Cell::text(lang.pick("购买人", "buyer")),
            Cell::text(lang.pick(&b.dealer_zh, &b.dealer_en)),
            Cell::text(village.unwrap_or_default()),
            Cell::text(b.name.as_deref().unwrap_or_default()),
            Cell::text(b.phone.as_deref().unwrap_or_default()),
            Cell::number(b.quantity),
            Cell::text(""),
            Cell::text(domain::local_date(b.sold_at).to_string()),
            Cell::text(""),
        ]);
    }
    for u in &r.backward {
        w.row([
            Cell::text(lang.pick("上游", "upstream")),
            Cell::text(lang.pick(&u.party_zh, &u.party_en)),
            Cell::text(""),
            Cell::text(""),
            Cell::text(""),
            Cell::number(u.quantity),
            Cell::text(""),
            Cell::text(domain::local_date(u.occurred_at).to_string()),
            Cell::text(format!(
                "{} {} {}",
                u.biz_step,
                u.licence.as_deref().unwrap_or_default(),
                u.document.as_deref().unwrap_or_default()
            )),
        ]);
    }
    w.finish()
}

#[derive(Deserialize)]
pub struct UploadQuery {
    policy: Option<String>,
    lang: Option<String>,
}

/// `POST /dealers/{id}/receipts.csv?policy=REJECT_ALL|SKIP_INVALID` with the CSV as the body:
/// the same import as `stockReceiveCsv`, answering JSON (row errors with line and column).
pub async fn receipts_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(dealer): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Response, RestError> {
    let lang = lang_from(&headers, q.lang.as_deref());
    let actor = rest_actor(&state, &headers, lang)?;
    let dealer_id = dealer_id_from_path(&dealer)
        .map_err(|()| RestError::not_found(lang, "经销商不存在", "no such dealer"))?;
    let Ok(text) = std::str::from_utf8(&body) else {
        return Err(RestError::bad_input(
            lang,
            "文件不是 UTF-8 编码：请在 Excel 中另存为“CSV UTF-8”",
            "the file is not UTF-8: save it as \"CSV UTF-8\"",
        ));
    };
    if let Some((line, c)) = first_control_char(text) {
        return Err(RestError::bad_input(
            lang,
            &format!("第 {line} 行含有控制字符 U+{:04X}：请检查文件", c as u32),
            &format!(
                "line {line} contains the control character U+{:04X}: check the file",
                c as u32
            ),
        ));
    }
    let policy = match q.policy.as_deref().unwrap_or("REJECT_ALL") {
        "REJECT_ALL" => stock::CsvPolicy::RejectAll,
        "SKIP_INVALID" => stock::CsvPolicy::SkipInvalid,
        _ => {
            return Err(RestError::bad_input(
                lang,
                "policy 应为 REJECT_ALL 或 SKIP_INVALID",
                "policy must be REJECT_ALL or SKIP_INVALID",
            ));
        }
    };
    let (o, events) = stock::receive_csv(state.db(), &actor, dealer_id, text, policy)
        .await
        .map_err(|e| RestError::from_domain(e, lang))?;
    state.services.bus.publish_all(events).await;
    let status = if o.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // Each receipt with its lot's number and trace code, as the GraphQL answer has
    // them: what the dealer prints on labels next.
    let lots = trace::lots_by_id(state.db(), o.received.iter().map(|r| r.lot_id))
        .await
        .map_err(|e| RestError::from_domain(e, lang))?;
    let receipts: Vec<serde_json::Value> = o
        .received
        .iter()
        .map(|r| {
            let lot = lots.get(&r.lot_id);
            serde_json::json!({
                "receiptId": crate::graphql::gid("Receipt", r.id),
                "lotId": crate::graphql::gid("Lot", r.lot_id),
                "lotNo": lot.map(|l| l.lot_no.as_str()),
                "traceCode": lot.map(|l| l.trace_code.as_str()),
                "quantity": r.quantity,
            })
        })
        .collect();
    let body = serde_json::json!({
        "committed": o.committed,
        "received": o.received.len(),
        "receipts": receipts,
        "lotsCreated": o.lots_created,
        "rowErrors": o.errors.iter().map(|e| serde_json::json!({
            "line": e.line, "column": e.column, "columnName": e.column_name,
            "code": e.code.as_str(), "message": lang.pick(&e.zh, &e.en),
        })).collect::<Vec<_>>(),
    });
    Ok((status, axum::Json(body)).into_response())
}

/// The first control character of an uploaded text other than tab and line breaks (a NUL ends a
/// PostgreSQL text, and no cell of ours holds one), with its 1-based line.
pub fn first_control_char(text: &str) -> Option<(usize, char)> {
    text.lines().enumerate().find_map(|(i, l)| {
        l.chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\r'))
            .map(|c| (i + 1, c))
    })
}
