//! Small schema helpers shared by the migrations, so every table is declared the same way.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// A table with a 64-bit auto-increment `id`.
pub fn table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .if_not_exists()
        .col(big_pk_auto("id"))
        .to_owned()
}

/// A foreign key `from_table.from_col -> to_table.id`.
pub fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

pub async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table)
        .if_not_exists();
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt).await
}
