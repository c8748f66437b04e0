//! Purchase and sales ledgers (购进台账, 销售台账; Pesticide Regulation arts. 26-27): one line per
//! receipt or sale of a lot, with snapshots of the product, producer and counterparty, so later
//! catalog edits never rewrite history. Lines are inserted, never updated or deleted; a
//! correction is a new line pointing at the wrong one.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::accounts::Actor;
use crate::csv_export::{Cell, CsvExport};
use crate::entities::ledger_line;
use crate::error::{Code, Error, Errors, FieldError, Lang, Result};
use crate::types::{Fen, IdNumber};

pub use crate::types::LedgerKind as Kind;

/// What a ledger line copies from the catalog at the time.
#[derive(Clone, Debug)]
pub struct ProductSnapshot {
    pub product_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub spec: String,
    pub registration_no: String,
    pub producer_name: String,
    pub lot_no: String,
}

/// The other side: a supplier (with licence) or a buyer.
#[derive(Clone, Debug, Default)]
pub struct Counterparty {
    pub name: String,
    pub licence: String,
    pub contact: String,
    pub id_number: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn write(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    kind: Kind,
    trace_event_id: Option<i64>,
    at: DateTime<Utc>,
    p: &ProductSnapshot,
    quantity: i64,
    unit_price: Fen,
    party: &Counterparty,
    source_document: &str,
    note: &str,
) -> Result<ledger_line::Model> {
    Ok(line(
        dealer_id,
        kind,
        trace_event_id,
        at,
        p,
        quantity,
        unit_price,
        party,
        source_document,
        note,
    )
    .insert(db)
    .await?)
}

/// The row [`write`] inserts (for writing many lines in one statement).
#[allow(clippy::too_many_arguments)]
pub fn line(
    dealer_id: i64,
    kind: Kind,
    trace_event_id: Option<i64>,
    at: DateTime<Utc>,
    p: &ProductSnapshot,
    quantity: i64,
    unit_price: Fen,
    party: &Counterparty,
    source_document: &str,
    note: &str,
) -> ledger_line::ActiveModel {
    ledger_line::ActiveModel {
        dealer_id: Set(dealer_id),
        kind: Set(kind),
        trace_event_id: Set(trace_event_id),
        occurred_on: Set(crate::local_date(at)),
        occurred_at: Set(at),
        product_id: Set(p.product_id),
        product_name_zh: Set(p.name_zh.clone()),
        product_name_en: Set(p.name_en.clone()),
        spec: Set(p.spec.clone()),
        registration_no: Set(p.registration_no.clone()),
        producer_name: Set(p.producer_name.clone()),
        lot_no: Set(p.lot_no.clone()),
        quantity: Set(quantity),
        unit_price_fen: Set(unit_price.0),
        amount_fen: Set(unit_price.0 * quantity),
        counterparty_name: Set(party.name.clone()),
        counterparty_licence: Set(party.licence.clone()),
        counterparty_contact: Set(party.contact.clone()),
        counterparty_id_number: Set(party.id_number.clone()),
        source_document: Set(source_document.into()),
        corrects_line_id: Set(None),
        note: Set(note.into()),
        created_at: Set(crate::now()),
        ..Default::default()
    }
}

/// A dealer's ledger lines of `kind` with `from <= date <= to` (local dates), oldest first, for
/// the dealer's staff, admins and the county's regulators.
pub async fn lines(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    kind: Kind,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ledger_line::Model>> {
    actor.require(crate::regions::may_view_dealer(db, actor, dealer_id).await?)?;
    if to < from {
        return Err(Error::invalid(
            "to",
            Code::OutOfRange,
            "结束日期不能早于开始日期",
            "the end date is before the start date",
        ));
    }
    Ok(ledger_line::Entity::find()
        .filter(ledger_line::Column::DealerId.eq(dealer_id))
        .filter(ledger_line::Column::Kind.eq(kind.as_str()))
        .filter(ledger_line::Column::OccurredOn.gte(from))
        .filter(ledger_line::Column::OccurredOn.lte(to))
        .order_by_asc(ledger_line::Column::OccurredAt)
        .order_by_asc(ledger_line::Column::Id)
        .all(db)
        .await?)
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        fen.unsigned_abs() / 100,
        fen.unsigned_abs() % 100
    )
}

/// The ledger as CSV: UTF-8 with a BOM so Excel opens it, Chinese column names unless `lang`
/// is English. ID numbers are masked unless `show_id_numbers`.
pub fn to_csv(
    rows: &[ledger_line::Model],
    kind: Kind,
    lang: Lang,
    show_id_numbers: bool,
) -> String {
    let header: Vec<&str> = match (kind, lang) {
        (Kind::Purchase, Lang::Zh) => vec![
            "日期",
            "产品名称",
            "规格",
            "登记证号",
            "生产企业",
            "批号",
            "数量",
            "单价(元)",
            "金额(元)",
            "供货单位",
            "供货单位许可证号",
            "联系方式",
            "来源单据",
            "备注",
        ],
        (Kind::Purchase, Lang::En) => vec![
            "date",
            "product",
            "spec",
            "registration no.",
            "producer",
            "lot",
            "quantity",
            "unit price (yuan)",
            "amount (yuan)",
            "supplier",
            "supplier licence",
            "contact",
            "source document",
            "note",
        ],
        (Kind::Sale, Lang::Zh) => vec![
            "日期",
            "单号",
            "产品名称",
            "规格",
            "登记证号",
            "生产企业",
            "批号",
            "数量",
            "单价(元)",
            "金额(元)",
            "购买人",
            "联系电话",
            "身份证号",
            "备注",
        ],
        (Kind::Sale, Lang::En) => vec![
            "date",
            "order or sale no.",
            "product",
            "spec",
            "registration no.",
            "producer",
            "lot",
            "quantity",
            "unit price (yuan)",
            "amount (yuan)",
            "buyer",
            "phone",
            "ID number",
            "note",
        ],
    };
    let mut w = CsvExport::new(&header);
    for r in rows {
        let mut rec = vec![Cell::text(r.occurred_on.to_string())];
        if kind == Kind::Sale {
            // The order (ORDER-n) or counter sale (SALE-n) the line came from, so an inspector
            // can ask for the receipt.
            rec.push(Cell::text(&r.source_document));
        }
        rec.extend([
            Cell::text(lang.pick(&r.product_name_zh, &r.product_name_en)),
            Cell::text(&r.spec),
            Cell::text(&r.registration_no),
            Cell::text(&r.producer_name),
            Cell::text(&r.lot_no),
            // A return is a negative quantity and amount: numbers, never quoted.
            Cell::number(r.quantity),
            Cell::number(yuan(r.unit_price_fen)),
            Cell::number(yuan(r.amount_fen)),
            Cell::text(&r.counterparty_name),
        ]);
        match kind {
            Kind::Purchase => rec.extend([
                Cell::text(&r.counterparty_licence),
                Cell::text(&r.counterparty_contact),
                Cell::text(&r.source_document),
                Cell::text(&r.note),
            ]),
            Kind::Sale => {
                let id = if show_id_numbers || r.counterparty_id_number.is_empty() {
                    r.counterparty_id_number.clone()
                } else {
                    IdNumber::masked(&r.counterparty_id_number)
                };
                rec.extend([
                    Cell::text(&r.counterparty_contact),
                    Cell::text(id),
                    Cell::text(&r.note),
                ]);
            }
        }
        w.row(rec);
    }
    w.finish()
}

/// The date range of a ledger as a person types it (China dates, `YYYY-MM-DD`): an empty end
/// is today, an empty start is 30 days before the end. A date that is not a date, or an end
/// before the start, is a field error in both languages.
pub fn parse_range(from: &str, to: &str, today: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    fn date(field: &str, s: &str) -> std::result::Result<Option<NaiveDate>, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                FieldError::new(
                    field,
                    Code::InvalidFormat,
                    format!("日期“{s}”无效：请按 年-月-日 填写，例如 2026-12-01"),
                    format!("\"{s}\" is not a date: write it as year-month-day, e.g. 2026-12-01"),
                )
            })
    }
    let mut errs = Errors::new();
    let f = errs.take(date("from", from));
    let t = errs.take(date("to", to));
    errs.finish()?;
    let to = t.flatten().unwrap_or(today);
    let from = f.flatten().unwrap_or(to - chrono::Duration::days(30));
    if to < from {
        return Err(Error::invalid(
            "to",
            Code::OutOfRange,
            "结束日期不能早于开始日期",
            "the end date is before the start date",
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_is_parsed_with_defaults_and_clear_errors() {
        let today = d("2026-12-02");
        assert_eq!(
            parse_range("", "", today).unwrap(),
            (d("2026-11-02"), today)
        );
        assert_eq!(
            parse_range("2026-11-01", "2026-11-30", today).unwrap(),
            (d("2026-11-01"), d("2026-11-30"))
        );
        let Err(Error::Invalid(errs)) = parse_range("2026-13-01", "yesterday", today) else {
            panic!("bad dates are refused");
        };
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "from");
        assert!(errs[0].message(Lang::Zh).contains("2026-13-01"));
        assert!(errs[1].message(Lang::En).contains("year-month-day"));
        let Err(Error::Invalid(errs)) = parse_range("2026-11-30", "2026-11-01", today) else {
            panic!("a reversed range is refused");
        };
        assert_eq!(errs[0].field, "to");
        assert!(errs[0].message(Lang::En).contains("before the start"));
    }
}
