//! Receiving rows of lots (new or known) in batches, shared by the CSV receipt and the
//! single-row receipt of a lot; the per-row checks against a lot already on record.

use super::*;

/// Receives checked lots (see [`check_csv_row`]) into the dealer's store as [`receive_lot_in`]
/// does one by one, with the same lots, trace events, stock, receipts and ledger lines, in a
/// number of statements that does not grow with the rows (one per 1 000 rows and table
/// written), except one update per stock row the lots already have at the store.
pub(crate) async fn receive_lots_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    rows: Vec<LotReceipt>,
) -> Result<(Vec<stock_receipt::Model>, Vec<DomainEvent>)> {
    if rows.is_empty() {
        return Ok((vec![], vec![]));
    }
    let location = store_location(db, dealer_id).await?;
    let now = crate::now();
    // The packs, their products, the lots already recorded (locked), their producers and specs.
    let sku_ids: BTreeSet<i64> = rows.iter().map(|r| r.sku_id).collect();
    let skus = rows_by_id!(db, sku, sku_ids.iter().copied());
    let of: BTreeSet<i64> = skus.values().map(|s| s.product_id).collect();
    let products = rows_by_id!(db, product, of);
    let lot_nos: BTreeSet<String> = rows.iter().map(|r| r.lot_no.trim().to_owned()).collect();
    let lot_nos: Vec<String> = lot_nos.into_iter().collect();
    let mut lots: BTreeMap<(i64, String), lot::Model> = BTreeMap::new();
    for chunk in lot_nos.chunks(crate::IN_CHUNK) {
        let mut q = lot::Entity::find()
            .filter(lot::Column::LotNo.is_in(chunk.iter().cloned()))
            .filter(lot::Column::SkuId.is_in(sku_ids.iter().copied()));
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            q = sea_orm::QuerySelect::lock_exclusive(q);
        }
        for l in q.all(db).await? {
            lots.insert((l.sku_id, l.lot_no.clone()), l);
        }
    }
    // New lots, once each, in file order.
    let mut new_inputs: Vec<LotInput> = vec![];
    let mut new_keys: BTreeSet<(i64, String)> = BTreeSet::new();
    for r in &rows {
        let key = (r.sku_id, r.lot_no.trim().to_owned());
        if !lots.contains_key(&key) && new_keys.insert(key) {
            new_inputs.push(LotInput {
                sku_id: r.sku_id,
                lot_no: r.lot_no.trim().to_owned(),
                producer_id: None,
                produced_on: r.produced_on,
                expires_on: r.expires_on,
                gtin: None,
                inspection: r.inspection.clone(),
                unit_codes: vec![],
            });
        }
    }
    let mut commissioning = vec![];
    if !new_inputs.is_empty() {
        let mut made: Vec<lot::Model> = vec![];
        for chunk in new_inputs.chunks(trace::INSERT_CHUNK) {
            let models = chunk.iter().map(|i| {
                let s = &skus[&i.sku_id];
                new_lot(
                    actor,
                    i,
                    s.id,
                    i.lot_no.clone(),
                    products[&s.product_id].producer_id,
                    s.gtin.clone(),
                    now,
                )
            });
            let mut stored = lot::Entity::insert_many(models)
                .exec_with_returning(db)
                .await
                .map_err(|e| {
                    crate::accounts::unique_violation(
                        e,
                        "lotNo",
                        "该规格下已有同一批号",
                        "this pack size already has a lot with this number",
                    )
                })?;
            stored.sort_by_key(|l| l.id);
            made.extend(stored);
        }
        let of: BTreeSet<i64> = made.iter().map(|l| l.producer_id).collect();
        let producers = rows_by_id!(db, producer, of);
        let mut sites: BTreeMap<i64, i64> = BTreeMap::new();
        for (id, p) in &producers {
            sites.insert(*id, producer_location(db, p).await?.id);
        }
        for (l, input) in made.into_iter().zip(&new_inputs) {
            commissioning.extend(lot_commissioning(actor, &l, sites[&l.producer_id], input));
            lots.insert((l.sku_id, l.lot_no.clone()), l);
        }
    }
    // Distinct ids only: an `IN` list of one per row would pass SQLite's variable limit.
    let of: BTreeSet<i64> = lots.values().map(|l| l.producer_id).collect();
    let producers = rows_by_id!(db, producer, of);
    let product_ids: Vec<i64> = products.keys().copied().collect();
    let ferts: BTreeMap<i64, fertiliser_spec::Model> = fertiliser_spec::Entity::find()
        .filter(fertiliser_spec::Column::ProductId.is_in(product_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.product_id, f))
        .collect();
    let pests: BTreeMap<i64, pesticide_spec::Model> = pesticide_spec::Entity::find()
        .filter(pesticide_spec::Column::ProductId.is_in(product_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|x| (x.product_id, x))
        .collect();
    // Stock: one row per lot at the store, added to or created.
    let lot_of = |r: &LotReceipt| &lots[&(r.sku_id, r.lot_no.trim().to_owned())];
    let mut adds: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &rows {
        *adds.entry(lot_of(r).id).or_default() += r.quantity;
    }
    let lot_ids: Vec<i64> = adds.keys().copied().collect();
    let mut have: BTreeSet<i64> = BTreeSet::new();
    for chunk in lot_ids.chunks(crate::IN_CHUNK) {
        have.extend(
            stock::Entity::find()
                .filter(stock::Column::LocationId.eq(location.id))
                .filter(stock::Column::DealerId.eq(dealer_id))
                .filter(stock::Column::LotId.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|s| s.lot_id),
        );
    }
    for (lot_id, n) in adds.iter().filter(|(l, _)| have.contains(l)) {
        add_stock(db, location.id, *lot_id, dealer_id, *n).await?;
    }
    let fresh: Vec<(i64, i64)> = adds
        .iter()
        .filter(|(l, _)| !have.contains(l))
        .map(|(l, n)| (*l, *n))
        .collect();
    for chunk in fresh.chunks(trace::INSERT_CHUNK) {
        stock::Entity::insert_many(chunk.iter().map(|(lot_id, n)| stock::ActiveModel {
            location_id: Set(location.id),
            lot_id: Set(*lot_id),
            dealer_id: Set(dealer_id),
            on_hand: Set(*n),
            reserved: Set(0),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    // The receipts, then their receiving events after the new lots' own.
    let mut receipts: Vec<stock_receipt::Model> = vec![];
    for chunk in rows.chunks(trace::INSERT_CHUNK) {
        let models = chunk.iter().map(|r| stock_receipt::ActiveModel {
            dealer_id: Set(dealer_id),
            location_id: Set(location.id),
            lot_id: Set(lot_of(r).id),
            quantity: Set(r.quantity),
            unit_cost_fen: Set(r.unit_cost_fen),
            supplier_name: Set(r.supplier.name.trim().into()),
            supplier_licence_no: Set(r.supplier.licence_no.trim().into()),
            supplier_contact: Set(r.supplier.contact.trim().into()),
            source_document: Set(r.source_document.trim().into()),
            actor_id: Set(actor.user_id),
            received_at: Set(trace::micros(now)),
            ..Default::default()
        });
        let mut stored = stock_receipt::Entity::insert_many(models)
            .exec_with_returning(db)
            .await?;
        stored.sort_by_key(|r| r.id);
        receipts.extend(stored);
    }
    let first_receiving = commissioning.len();
    let mut events = commissioning;
    for (r, receipt) in rows.iter().zip(&receipts) {
        let mut e = NewEvent::new(
            lot_of(r).id,
            BizStep::Receiving,
            Disposition::SellableAccessible,
            r.quantity,
            Some(actor.user_id),
        );
        e.to_location_id = Some(location.id);
        e.dealer_id = Some(dealer_id);
        e.occurred_at = now;
        e.ref_kind = Some(crate::types::RefKind::Receipt);
        e.ref_id = Some(receipt.id);
        e.note = format!(
            "from {} ({})",
            receipt.supplier_name, receipt.supplier_licence_no
        );
        events.push(e);
    }
    let stored = trace::append_many(db, events).await?;
    // A purchase-ledger line per receipt.
    let mut lines = vec![];
    for ((r, receipt), ev) in rows.iter().zip(&receipts).zip(&stored[first_receiving..]) {
        let l = lot_of(r);
        let s = &skus[&r.sku_id];
        let p = &products[&s.product_id];
        let c = LotContext {
            lot: l.clone(),
            sku: s.clone(),
            product: p.clone(),
            producer: producers
                .get(&l.producer_id)
                .cloned()
                .ok_or_else(|| Error::not_found("producer", l.producer_id))?,
        };
        let spec = spec_of(s, ferts.get(&p.id), pests.get(&p.id));
        let party = Counterparty {
            name: receipt.supplier_name.clone(),
            licence: receipt.supplier_licence_no.clone(),
            contact: receipt.supplier_contact.clone(),
            id_number: String::new(),
        };
        lines.push(ledger::line(
            dealer_id,
            ledger::Kind::Purchase,
            Some(ev.id),
            now,
            &snapshot_of(&c, spec),
            r.quantity,
            Fen(r.unit_cost_fen),
            &party,
            &receipt.source_document,
            "",
        ));
    }
    for chunk in lines.chunks(trace::INSERT_CHUNK) {
        crate::entities::ledger_line::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await?;
    }
    let events = receipts
        .iter()
        .map(|r| DomainEvent::StockChanged {
            dealer_id,
            lot_id: r.lot_id,
            location_id: location.id,
        })
        .collect();
    Ok((receipts, events))
}

/// A lot as the checks of a CSV receipt need it.
pub(crate) struct KnownLot {
    pub(crate) lot_no: String,
    pub(crate) produced_on: NaiveDate,
    pub(crate) expires_on: NaiveDate,
    pub(crate) recalled: bool,
}

/// What [`receive_lot_in`] would refuse about a CSV row, without the database: the lots named
/// are in `known`. Ok(true) when the row creates its lot.
pub(crate) fn check_csv_row(
    row: &CsvRow,
    known: &BTreeMap<(i64, String), KnownLot>,
    today: NaiveDate,
) -> Result<bool> {
    let (created, recalled, expires_on) =
        match known.get(&(row.sku_id, row.lot_no.trim().to_owned())) {
            Some(l) if l.produced_on != row.produced_on || l.expires_on != row.expires_on => {
                return Err(Error::invalid(
                    "expires_on",
                    Code::CodeMismatch,
                    format!(
                        "批号 {} 已登记，但生产日期或有效期不同（{} / {}）",
                        l.lot_no, l.produced_on, l.expires_on
                    ),
                    format!(
                        "lot {} exists with other dates ({} / {})",
                        l.lot_no, l.produced_on, l.expires_on
                    ),
                ));
            }
            Some(l) => (false, l.recalled, l.expires_on),
            None => {
                // As insert_lot checks a new lot.
                let mut errs = Errors::new();
                errs.take(types::name("lotNo", &row.lot_no, 20));
                if row.expires_on <= row.produced_on {
                    errs.push(FieldError::new(
                        "expiresOn",
                        Code::OutOfRange,
                        "有效期应晚于生产日期",
                        "expiry must be after the production date",
                    ));
                }
                if row.produced_on > today {
                    errs.push(FieldError::new(
                        "producedOn",
                        Code::OutOfRange,
                        "生产日期不能晚于今天",
                        "production date cannot be in the future",
                    ));
                }
                if let Some(i) = &row.inspection {
                    validate_inspection(&mut errs, i, "inspection");
                }
                errs.finish()?;
                (true, false, row.expires_on)
            }
        };
    // As receive_in checks a receipt.
    let mut errs = Errors::new();
    check_receipt_terms(
        &mut errs,
        row.quantity,
        row.unit_cost_fen,
        &row.supplier,
        &row.source_document,
    );
    errs.finish()?;
    if recalled {
        return Err(Error::invalid(
            "lotId",
            Code::LotRecalled,
            "该批次已被召回，不能入库",
            "this lot is recalled and cannot be received",
        ));
    }
    if today >= expires_on {
        return Err(Error::invalid(
            "lotId",
            Code::LotNotSellable,
            "该批次已过期，不能入库",
            "this lot has expired and cannot be received",
        ));
    }
    Ok(created)
}

impl From<CsvRow> for LotReceipt {
    fn from(r: CsvRow) -> Self {
        LotReceipt {
            sku_id: r.sku_id,
            lot_no: r.lot_no,
            produced_on: r.produced_on,
            expires_on: r.expires_on,
            inspection: r.inspection,
            quantity: r.quantity,
            unit_cost_fen: r.unit_cost_fen,
            supplier: r.supplier,
            source_document: r.source_document,
        }
    }
}

/// One lot received from a supplier, the lot named by its pack and lot number: a lot already
/// recorded is received again (its dates must agree), a new one is created first.
#[derive(Clone, Debug)]
pub struct LotReceipt {
    pub sku_id: i64,
    pub lot_no: String,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub inspection: Option<InspectionInput>,
    pub quantity: i64,
    pub unit_cost_fen: i64,
    pub supplier: Supplier,
    pub source_document: String,
}

/// Receives one lot into the dealer's store (the receiving form): the lot is created when it is
/// new, then received, in one transaction. Returns the receipt and whether the lot was new.
pub async fn receive_lot<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    input: LotReceipt,
) -> Result<(stock_receipt::Model, bool, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let txn = crate::begin_write(db).await?;
    let (r, ev, created) = receive_lot_in(&txn, actor, dealer_id, input).await?;
    txn.commit().await?;
    Ok((r, created, ev))
}

async fn receive_lot_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    row: LotReceipt,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>, bool)> {
    let existing = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(row.sku_id))
        .filter(lot::Column::LotNo.eq(row.lot_no.trim()))
        .one(db)
        .await?;
    let (lot_id, created) = match existing {
        Some(l) if l.produced_on != row.produced_on || l.expires_on != row.expires_on => {
            return Err(Error::invalid(
                "expires_on",
                Code::CodeMismatch,
                format!(
                    "批号 {} 已登记，但生产日期或有效期不同（{} / {}）",
                    l.lot_no, l.produced_on, l.expires_on
                ),
                format!(
                    "lot {} exists with other dates ({} / {})",
                    l.lot_no, l.produced_on, l.expires_on
                ),
            ));
        }
        Some(l) => (l.id, false),
        None => {
            let input = LotInput {
                sku_id: row.sku_id,
                lot_no: row.lot_no.clone(),
                producer_id: None,
                produced_on: row.produced_on,
                expires_on: row.expires_on,
                gtin: None,
                inspection: row.inspection.clone(),
                unit_codes: vec![],
            };
            (insert_lot(db, actor, input).await?.id, true)
        }
    };
    let (r, ev) = receive_in(
        db,
        actor,
        ReceiptInput {
            dealer_id,
            location_id: None,
            lot_id,
            quantity: row.quantity,
            unit_cost_fen: row.unit_cost_fen,
            supplier: row.supplier,
            source_document: row.source_document,
            received_at: None,
        },
    )
    .await?;
    Ok((r, ev, created))
}
