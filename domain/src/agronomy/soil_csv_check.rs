//! Checking a lab's CSV before importing it: every row parsed and checked as the import would,
//! database checks included, inside a transaction that is always rolled back, so nothing is
//! written whatever policy the import itself gives `Preview`.

use super::*;

/// What [`import_soil_csv`] would do with the file, with nothing written: `errors` names every
/// bad cell by line and column; `committed` is always false (any rows in `imported` were rolled
/// back).
pub async fn check_soil_csv<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    text: &str,
) -> Result<SoilCsvOutcome> {
    require_agronomist(actor)?;
    let txn = crate::begin_write(db).await?;
    let mut out = import_soil_csv(&txn, actor, text, CsvPolicy::Preview).await?;
    txn.rollback().await?;
    out.committed = false;
    Ok(out)
}
