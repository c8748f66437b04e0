//! Receipts from a CSV file: the columns and their accepted headers, and the whole-file
//! receipt, checked in one pass (every row's references read up front, in batches).

use super::*;
use crate::types::InspectionResult;

/// What a receipt CSV did (or, for a preview, would do).
#[derive(Clone, Debug, Default)]
pub struct CsvOutcome {
    pub received: Vec<stock_receipt::Model>,
    pub lots_created: usize,
    pub errors: Vec<RowError>,
    /// False when the policy rejected the whole file, and always for a preview.
    pub committed: bool,
    /// The file's header cells and its data rows as read (for a preview table).
    pub headers: Vec<String>,
    pub rows: Vec<CsvLine>,
    /// Lines of the rows that would be (or were) received.
    pub good_lines: Vec<usize>,
}

/// Columns of a receipt CSV and the header names accepted for each (English or Chinese).
/// The pack is named by `gtin` (the barcode; the old `sku` id column still works), or by
/// `product` + `pack` (the product's name and its pack label, e.g. `40 kg`): one of the two is
/// required, checked per row.
pub const COLUMNS: &[(&str, &[&str], bool)] = &[
    ("sku", &["gtin", "sku", "商品条码", "规格编号"], false),
    (
        "product",
        &["product", "product_name", "产品名称", "商品名称"],
        false,
    ),
    ("pack", &["pack", "pack_size", "规格", "包装规格"], false),
    ("lot_no", &["lot_no", "lot", "批号"], true),
    ("produced_on", &["produced_on", "生产日期"], true),
    (
        "expires_on",
        &["expires_on", "expiry", "有效期至", "失效日期"],
        true,
    ),
    ("quantity", &["quantity", "数量"], true),
    ("unit_cost", &["unit_cost", "单价", "进货单价"], true),
    (
        "supplier_name",
        &["supplier_name", "supplier", "供货单位"],
        true,
    ),
    (
        "supplier_licence_no",
        &["supplier_licence_no", "供货单位许可证号"],
        true,
    ),
    ("supplier_contact", &["supplier_contact", "联系方式"], true),
    (
        "source_document",
        &["source_document", "来源单据", "单据号"],
        true,
    ),
    (
        "inspection_report_no",
        &["inspection_report_no", "检验报告编号"],
        false,
    ),
    ("inspection_lab", &["inspection_lab", "检验机构"], false),
    (
        "inspection_result",
        &["inspection_result", "检验结果"],
        false,
    ),
    ("inspection_date", &["inspection_date", "检验日期"], false),
];

pub(crate) struct CsvRow {
    pub(crate) line: usize,
    pub(crate) sku_id: i64,
    pub(crate) lot_no: String,
    pub(crate) produced_on: NaiveDate,
    pub(crate) expires_on: NaiveDate,
    pub(crate) quantity: i64,
    pub(crate) unit_cost_fen: i64,
    pub(crate) supplier: Supplier,
    pub(crate) source_document: String,
    pub(crate) inspection: Option<InspectionInput>,
}

/// Receives stock from a CSV file (UTF-8, with or without BOM), creating lots that are new.
/// Every bad row names its line and column; with `RejectAll` nothing of a file with a bad row
/// is written.
pub async fn receive_csv<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    text: &str,
    policy: CsvPolicy,
) -> Result<(CsvOutcome, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let (mut rdr, text) = crate::csv_import::reader(text);
    let mut out = CsvOutcome::default();
    let (
        crate::csv_import::Header {
            cells: headers,
            index,
        },
        missing,
    ) = match crate::csv_import::header(&mut rdr, COLUMNS) {
        Ok(h) => h,
        Err(e) => {
            out.errors.push(e);
            return Ok((out, vec![]));
        }
    };
    out.errors.extend(missing);
    let by_name = index.contains_key("product") && index.contains_key("pack");
    if !(index.contains_key("sku") || by_name) {
        out.errors.push(RowError {
            line: 1,
            column: None,
            column_name: Some("gtin".into()),
            code: Code::Required,
            zh: "缺少列：商品条码（gtin），或 产品名称（product）和 规格（pack）".into(),
            en: "missing column: gtin, or product and pack".into(),
        });
    }
    out.headers = headers.iter().map(str::to_owned).collect();
    if !out.errors.is_empty() {
        return Ok((out, vec![]));
    }
    // One pass over the text: every record with its line, and what its pack is named by, so
    // that the packs of the whole file are looked up in a few statements, not one per row.
    let mut lines = CsvLines::new(text);
    let mut records = Vec::new();
    let (mut gtins, mut sku_ids, mut names) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let cell_of = |rec: &csv::StringRecord, name: &str| {
        index
            .get(name)
            .and_then(|i| rec.get(*i))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    for rec in rdr.records() {
        match rec {
            Ok(rec) => {
                let line = rec.position().map(|p| lines.line(p)).unwrap_or(0);
                match (
                    cell_of(&rec, "sku"),
                    cell_of(&rec, "product"),
                    cell_of(&rec, "pack"),
                ) {
                    (Some(v), _, _) if v.len() >= 8 => {
                        if let Ok(g) = Gtin::parse("sku", &v) {
                            gtins.insert(g.as_str().to_owned());
                        }
                    }
                    (Some(v), _, _) => {
                        if let Ok(id) = v.parse::<i64>() {
                            sku_ids.insert(id);
                        }
                    }
                    (None, Some(n), Some(p)) => {
                        names.insert((n, p));
                    }
                    _ => {}
                }
                records.push(Ok((line, rec)));
            }
            Err(e) => {
                let line = e.position().map(|p| lines.line(p)).unwrap_or(0);
                records.push(Err((line, e)));
            }
        }
    }
    let gtins: Vec<String> = gtins.into_iter().collect();
    let by_gtin = crate::catalog::packs_by_gtin(db, &gtins).await?;
    let sku_ids: Vec<i64> = sku_ids.into_iter().collect();
    let mut by_id = BTreeMap::new();
    for chunk in sku_ids.chunks(crate::IN_CHUNK) {
        by_id.extend(rows_by_id!(db, sku, chunk.iter().copied()));
    }
    let names: Vec<(String, String)> = names.into_iter().collect();
    let by_name: BTreeMap<(String, String), crate::catalog::PackMatch> = names
        .iter()
        .cloned()
        .zip(crate::catalog::packs_named(db, &names).await?)
        .collect();
    // Then every row is checked against them, in file order.
    let mut rows = Vec::new();
    for rec in records {
        let (line, rec) = match rec {
            Ok(r) => r,
            Err((line, e)) => {
                out.errors.push(RowError {
                    line,
                    column: None,
                    column_name: None,
                    code: Code::InvalidFormat,
                    zh: format!("CSV 格式错误：{e}"),
                    en: format!("malformed CSV: {e}"),
                });
                continue;
            }
        };
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        out.rows.push(CsvLine {
            line,
            cells: rec.iter().map(str::to_owned).collect(),
        });
        let mut row_errs = Vec::new();
        let mut cell = |name: &str, zh: &str, en: &str| -> Option<String> {
            let i = index.get(name).copied();
            let v = i.and_then(|i| rec.get(i)).unwrap_or("").to_owned();
            if v.is_empty() && COLUMNS.iter().any(|c| c.0 == name && c.2) {
                row_errs.push((
                    i,
                    name.to_owned(),
                    Code::Required,
                    format!("{zh}不能为空"),
                    format!("{en} is required"),
                ));
                return None;
            }
            Some(v)
        };
        let sku_raw = cell("sku", "", "").filter(|v| !v.is_empty());
        let product_name = cell("product", "", "").filter(|v| !v.is_empty());
        let pack_name = cell("pack", "", "").filter(|v| !v.is_empty());
        let lot_no = cell("lot_no", "批号", "lot number");
        let produced = cell("produced_on", "生产日期", "production date");
        let expires = cell("expires_on", "有效期", "expiry date");
        let quantity = cell("quantity", "数量", "quantity");
        let cost = cell("unit_cost", "单价", "unit cost");
        let s_name = cell("supplier_name", "供货单位", "supplier name");
        let s_lic = cell(
            "supplier_licence_no",
            "供货单位许可证号",
            "supplier licence",
        );
        let s_contact = cell("supplier_contact", "联系方式", "supplier contact");
        let doc = cell("source_document", "来源单据", "source document");
        let i_no = cell("inspection_report_no", "", "").unwrap_or_default();
        let i_lab = cell("inspection_lab", "", "").unwrap_or_default();
        let i_res = cell("inspection_result", "", "").unwrap_or_default();
        let i_date = cell("inspection_date", "", "").unwrap_or_default();
        let mut bad = |name: &str, zh: String, en: String| {
            row_errs.push((
                index.get(name).copied(),
                name.to_owned(),
                Code::InvalidFormat,
                zh,
                en,
            ))
        };
        let produced_on = produced.as_deref().and_then(|v| {
            parse_date(v).or_else(|| {
                bad(
                    "produced_on",
                    format!("生产日期“{v}”应为 YYYY-MM-DD"),
                    format!("production date \"{v}\" must be YYYY-MM-DD"),
                );
                None
            })
        });
        let expires_on = expires.as_deref().and_then(|v| {
            parse_date(v).or_else(|| {
                bad(
                    "expires_on",
                    format!("有效期“{v}”应为 YYYY-MM-DD"),
                    format!("expiry \"{v}\" must be YYYY-MM-DD"),
                );
                None
            })
        });
        let quantity = quantity.as_deref().and_then(|v| match v.parse::<i64>() {
            Ok(q) if (1..=MAX_QTY).contains(&q) => Some(q),
            _ => {
                bad(
                    "quantity",
                    format!("数量“{v}”应为 1 到 1000000 的整数"),
                    format!("quantity \"{v}\" must be a whole number from 1 to 1,000,000"),
                );
                None
            }
        });
        let unit_cost_fen = cost.as_deref().and_then(|v| {
            parse_yuan(v).or_else(|| {
                bad(
                    "unit_cost",
                    format!("单价“{v}”应为元，最多两位小数"),
                    format!("unit cost \"{v}\" must be yuan with at most two decimals"),
                );
                None
            })
        });
        if let (Some(p), Some(e)) = (produced_on, expires_on)
            && e <= p
        {
            bad(
                "expires_on",
                "有效期应晚于生产日期".into(),
                "expiry must be after the production date".into(),
            );
        }
        let inspection = if i_no.is_empty() && i_res.is_empty() {
            None
        } else {
            let result = match i_res.as_str() {
                "合格" | "CONFORMANT" | "conformant" => Some(InspectionResult::Conformant),
                "不合格" | "NON_CONFORMANT" | "non_conformant" => {
                    Some(InspectionResult::NonConformant)
                }
                v => {
                    bad(
                        "inspection_result",
                        format!("检验结果“{v}”应为 合格 或 不合格"),
                        format!("inspection result \"{v}\" must be CONFORMANT or NON_CONFORMANT"),
                    );
                    None
                }
            };
            let date = parse_date(&i_date).or_else(|| {
                bad(
                    "inspection_date",
                    "检验日期应为 YYYY-MM-DD".into(),
                    "inspection date must be YYYY-MM-DD".into(),
                );
                None
            });
            match (result, date) {
                (Some(r), Some(d)) => Some(InspectionInput {
                    report_no: i_no,
                    lab: i_lab,
                    result: r,
                    date: d,
                }),
                _ => None,
            }
        };
        // The pack: a GTIN (or the old numeric id of a pack size), else product name + pack.
        let sku_id = match (
            sku_raw.as_deref(),
            product_name.as_deref(),
            pack_name.as_deref(),
        ) {
            (Some(v), _, _) if v.len() >= 8 => match Gtin::parse("sku", v) {
                Ok(g) => match by_gtin.get(g.as_str()) {
                    Some(s) => Some(s.id),
                    None => {
                        bad(
                            "sku",
                            format!("没有商品条码为 {v} 的规格"),
                            format!("no pack has the barcode (GTIN) {v}"),
                        );
                        None
                    }
                },
                Err(_) => {
                    bad(
                        "sku",
                        format!("商品条码“{v}”无效"),
                        format!("barcode (GTIN) \"{v}\" is not valid"),
                    );
                    None
                }
            },
            (Some(v), _, _) => match v.parse::<i64>() {
                Ok(id) if by_id.contains_key(&id) => Some(id),
                _ => {
                    bad(
                        "sku",
                        format!("规格编号“{v}”不存在"),
                        format!("no pack size with id \"{v}\""),
                    );
                    None
                }
            },
            (None, Some(name), Some(pack)) => {
                let key = (name.to_owned(), pack.to_owned());
                match by_name
                    .get(&key)
                    .cloned()
                    .unwrap_or(crate::catalog::PackMatch::NoProduct)
                {
                    crate::catalog::PackMatch::One(s) => Some(s.id),
                    crate::catalog::PackMatch::NoProduct => {
                        bad(
                            "product",
                            format!("没有名为“{name}”的产品"),
                            format!("no product is named \"{name}\""),
                        );
                        None
                    }
                    crate::catalog::PackMatch::NoPack(have) => {
                        bad(
                            "pack",
                            format!("“{name}”没有规格“{pack}”（有：{}）", have.join("、")),
                            format!(
                                "\"{name}\" has no pack \"{pack}\" (it has: {})",
                                have.join(", ")
                            ),
                        );
                        None
                    }
                    crate::catalog::PackMatch::Ambiguous(n) => {
                        bad(
                            "product",
                            format!("有 {n} 个产品名为“{name}”、规格为“{pack}”：请改用商品条码"),
                            format!(
                                "{n} products are named \"{name}\" with pack \"{pack}\": use the barcode (GTIN) instead"
                            ),
                        );
                        None
                    }
                }
            }
            (None, name, pack) => {
                let (col, zh, en) = match (name, pack) {
                    (Some(_), None) => ("pack", "规格不能为空", "pack is required"),
                    (None, Some(_)) => ("product", "产品名称不能为空", "product is required"),
                    _ if index.contains_key("sku") => (
                        "sku",
                        "商品条码不能为空（或填写产品名称和规格）",
                        "barcode (GTIN) is required (or give product and pack)",
                    ),
                    _ => (
                        "product",
                        "产品名称和规格不能为空",
                        "product and pack are required",
                    ),
                };
                bad(col, zh.into(), en.into());
                None
            }
        };
        if row_errs.is_empty() {
            rows.push(CsvRow {
                line,
                sku_id: sku_id.unwrap_or_default(),
                lot_no: lot_no.unwrap_or_default(),
                produced_on: produced_on.unwrap_or_default(),
                expires_on: expires_on.unwrap_or_default(),
                quantity: quantity.unwrap_or_default(),
                unit_cost_fen: unit_cost_fen.unwrap_or_default(),
                supplier: Supplier {
                    name: s_name.unwrap_or_default(),
                    licence_no: s_lic.unwrap_or_default(),
                    contact: s_contact.unwrap_or_default(),
                },
                source_document: doc.unwrap_or_default(),
                inspection,
            });
        }
        for (i, name, code, zh, en) in row_errs {
            out.errors.push(RowError {
                line,
                column: i.map(|i| i + 1),
                column_name: Some(
                    headers
                        .get(i.unwrap_or(usize::MAX))
                        .unwrap_or(&name)
                        .to_owned(),
                ),
                code,
                zh,
                en,
            });
        }
    }
    if policy == CsvPolicy::RejectAll && !out.errors.is_empty() {
        return Ok((out, vec![]));
    }
    // What the database would refuse, for every row at once: the lots the file names that are
    // recorded already (one statement per 10 000 lot numbers), then each row in turn as
    // receiving it would check it. A lot the file creates is recorded for the rows after it.
    let lot_nos: BTreeSet<String> = rows.iter().map(|r| r.lot_no.trim().to_owned()).collect();
    let lot_nos: Vec<String> = lot_nos.into_iter().collect();
    let row_skus: BTreeSet<i64> = rows.iter().map(|r| r.sku_id).collect();
    let mut known: BTreeMap<(i64, String), KnownLot> = BTreeMap::new();
    for chunk in lot_nos.chunks(crate::IN_CHUNK) {
        for l in lot::Entity::find()
            .filter(lot::Column::LotNo.is_in(chunk.iter().cloned()))
            .filter(lot::Column::SkuId.is_in(row_skus.iter().copied()))
            .all(db)
            .await?
        {
            known.insert(
                (l.sku_id, l.lot_no.clone()),
                KnownLot {
                    lot_no: l.lot_no,
                    produced_on: l.produced_on,
                    expires_on: l.expires_on,
                    recalled: l.status == LotStatus::Recalled,
                },
            );
        }
    }
    let today = crate::today();
    let mut good = Vec::new();
    for row in rows {
        let line = row.line;
        match check_csv_row(&row, &known, today) {
            Ok(created) => {
                if created {
                    known.insert(
                        (row.sku_id, row.lot_no.trim().to_owned()),
                        KnownLot {
                            lot_no: row.lot_no.trim().to_owned(),
                            produced_on: row.produced_on,
                            expires_on: row.expires_on,
                            recalled: false,
                        },
                    );
                }
                out.good_lines.push(line);
                out.lots_created += usize::from(created);
                good.push(row);
            }
            Err(Error::Invalid(errs)) => {
                for e in errs {
                    let col = csv_column_for(&e.field);
                    let i = col.and_then(|c| index.get(c).copied());
                    out.errors.push(RowError {
                        line,
                        column: i.map(|i| i + 1),
                        column_name: i.and_then(|i| headers.get(i)).map(str::to_owned),
                        code: e.code,
                        zh: e.zh,
                        en: e.en,
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    out.errors.sort_by_key(|e| (e.line, e.column));
    if policy == CsvPolicy::Preview || (policy == CsvPolicy::RejectAll && !out.errors.is_empty()) {
        if policy == CsvPolicy::RejectAll {
            out.lots_created = 0;
            out.good_lines.clear();
        }
        return Ok((out, vec![]));
    }
    // Every remaining row was checked: they go in together, in one transaction, many rows to
    // a statement. Should the database still refuse one (another user changed a lot
    // meanwhile), nothing is written.
    let txn = crate::begin_write(db).await?;
    let receipts: Vec<LotReceipt> = good.into_iter().map(LotReceipt::from).collect();
    match receive_lots_in(&txn, actor, dealer_id, receipts).await {
        Ok((received, events)) => {
            txn.commit().await?;
            out.received = received;
            out.committed = true;
            Ok((out, events))
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Maps a domain field to the CSV column that carries it.
fn csv_column_for(field: &str) -> Option<&'static str> {
    Some(match field {
        "lotNo" => "lot_no",
        "producedOn" => "produced_on",
        "expiresOn" | "expires_on" => "expires_on",
        "quantity" => "quantity",
        "unitCostFen" => "unit_cost",
        "supplier.name" => "supplier_name",
        "supplier.licenceNo" => "supplier_licence_no",
        "supplier.contact" => "supplier_contact",
        "sourceDocument" => "source_document",
        "lotId" | "skuId" | "gtin" => "sku",
        f if f.starts_with("inspection.result") => "inspection_result",
        f if f.starts_with("inspection.date") => "inspection_date",
        f if f.starts_with("inspection.reportNo") => "inspection_report_no",
        f if f.starts_with("inspection.lab") => "inspection_lab",
        _ => return None,
    })
}
