//! Unit trace codes (one per bag or bottle): their format, and adding them to a lot.

use super::*;

/// Checks a unit code against its product: a pesticide code has 32 or more digits, its first
/// digit is the registration category, digits 2-7 are the last six of the registration number
/// and digit 8 the production type (Announcement 2579); other codes are 8 to 64 letters, digits
/// or `-`.
pub fn check_unit_code(
    p: &product::Model,
    code: &str,
    field: &str,
) -> std::result::Result<UnitCodeKind, FieldError> {
    let c = code.trim();
    if p.category == crate::types::Category::Pesticide {
        if c.len() < 32 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                Code::InvalidFormat,
                "农药追溯码应为至少 32 位数字",
                "a pesticide trace code is at least 32 digits",
            ));
        }
        let reg = p
            .registration_no
            .as_deref()
            .and_then(|r| PesticideRegNo::parse("", r).ok())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    Code::CodeMismatch,
                    "产品没有有效的农药登记证号",
                    "the product has no valid pesticide registration",
                )
            })?;
        if c.as_bytes()[0] != reg.category_digit() {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                "追溯码第 1 位与登记证类别不符",
                "digit 1 does not match the registration category",
            ));
        }
        if &c[1..7] != reg.last6() {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                format!(
                    "追溯码第 2-7 位（{}）与登记证号后 6 位（{}）不符",
                    &c[1..7],
                    reg.last6()
                ),
                format!(
                    "digits 2-7 ({}) do not match the last six digits of the registration ({})",
                    &c[1..7],
                    reg.last6()
                ),
            ));
        }
        if !matches!(c.as_bytes()[7], b'1' | b'2' | b'3') {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                "追溯码第 8 位（生产类型）应为 1、2 或 3",
                "digit 8 (production type) must be 1, 2 or 3",
            ));
        }
        return Ok(UnitCodeKind::Pesticide);
    }
    if !(8..=64).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(FieldError::new(
            field,
            Code::InvalidFormat,
            "追溯码应为 8 到 64 位字母或数字",
            "a unit code is 8 to 64 letters or digits",
        ));
    }
    Ok(if p.category == crate::types::Category::Seed {
        UnitCodeKind::Seed
    } else {
        UnitCodeKind::Generic
    })
}

pub(crate) async fn insert_unit_codes(
    db: &impl ConnectionTrait,
    l: &lot::Model,
    p: &product::Model,
    codes: &[String],
) -> Result<usize> {
    let mut errs = Errors::new();
    let mut seen = BTreeSet::new();
    let mut kinds = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let field = format!("unitCodes.{i}");
        match check_unit_code(p, c, &field) {
            Ok(k) => {
                if !seen.insert(c.trim().to_owned()) {
                    errs.push(FieldError::new(
                        field,
                        Code::Duplicate,
                        "追溯码重复",
                        "this code is listed twice",
                    ));
                } else {
                    kinds.push((c.trim().to_owned(), k));
                }
            }
            Err(e) => errs.push(e),
        }
    }
    let existing = unit_code::Entity::find()
        .filter(unit_code::Column::Code.is_in(seen.iter().cloned()))
        .all(db)
        .await?;
    for e in existing {
        let i = codes.iter().position(|c| c.trim() == e.code).unwrap_or(0);
        errs.push(FieldError::new(
            format!("unitCodes.{i}"),
            Code::Duplicate,
            "该追溯码已被使用，追溯码永不重复分配",
            "this code is already in use; a code is never reassigned",
        ));
    }
    errs.finish()?;
    let now = crate::now();
    for (code, kind) in &kinds {
        unit_code::ActiveModel {
            code: Set(code.clone()),
            lot_id: Set(l.id),
            kind: Set(*kind),
            status: Set(UnitCodeStatus::Active),
            sale_id: Set(None),
            flagged_at: Set(None),
            flag_reason: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(|e| {
            crate::accounts::unique_violation(
                e,
                "unitCodes",
                "该追溯码已被使用",
                "this code is already in use",
            )
        })?;
    }
    Ok(kinds.len())
}

/// Adds unit trace codes to a lot (admins and dealers).
pub async fn add_unit_codes<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    codes: &[String],
) -> Result<usize> {
    actor.require(actor.is_admin() || actor.role == Role::Dealer)?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let n = insert_unit_codes(&txn, &l, &p, codes).await?;
    txn.commit().await?;
    Ok(n)
}

pub async fn unit_codes_of(
    db: &impl ConnectionTrait,
    lot_id: i64,
) -> Result<Vec<unit_code::Model>> {
    Ok(unit_code::Entity::find()
        .filter(unit_code::Column::LotId.eq(lot_id))
        .order_by_asc(unit_code::Column::Id)
        .all(db)
        .await?)
}
