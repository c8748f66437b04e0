//! The values of status and kind columns, one enum per column. Each is stored as the string it
//! always was (so no data migration), and a stored string outside the enum is a typed database
//! error when the row is read (`DbErr::Type("unexpected value for ... enum: ...")`), never a
//! silent default. They live here, beside the other value types, so that `entities` depends on
//! nothing but this module; each context re-exports its own (`lots::LotStatus`, ...).

use sea_orm::entity::prelude::*;

/// Declares a stored enum: its sea-orm mapping, its serde form and `as_str` / `parse`, all from
/// one list of `Variant = "STORED"` pairs, so the three can never disagree.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The value stored as `s`, if it is one.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// A lot's recorded status (`lot.status`).
    pub enum LotStatus {
        Active = "ACTIVE",
        /// Held by a failed inspection or a regulator; may be released.
        OnHold = "ON_HOLD",
        /// Recalled for good.
        Recalled = "RECALLED",
    }
}

impl LotStatus {
    /// How a reader says it, in Chinese and English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            LotStatus::Active => ("正常", "active"),
            LotStatus::OnHold => ("暂停销售", "on hold"),
            LotStatus::Recalled => ("已召回", "recalled"),
        }
    }
}

stored_enum! {
    /// A lot's state as of a day, as a user reads it: its status, its inspection and its
    /// expiry together (computed, never stored).
    pub enum LotState {
        Sellable = "SELLABLE",
        Expired = "EXPIRED",
        OnHold = "ON_HOLD",
        Recalled = "RECALLED",
    }
}

impl LotState {
    /// How a reader says it, in Chinese and English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            LotState::Sellable => ("可销售", "sellable"),
            LotState::Expired => ("已过期", "expired"),
            LotState::OnHold => ("暂停销售", "on hold"),
            LotState::Recalled => ("已召回", "recalled"),
        }
    }
}

stored_enum! {
    /// Whether a unit trace code has been sold (`unit_code.status`).
    pub enum UnitCodeStatus {
        Active = "ACTIVE",
        Sold = "SOLD",
    }
}

impl UnitCodeStatus {
    /// How a reader says it, in Chinese and English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            UnitCodeStatus::Active => ("未售出", "not sold"),
            UnitCodeStatus::Sold => ("已售出", "sold"),
        }
    }
}

stored_enum! {
    /// The format a unit trace code follows (`unit_code.kind`).
    pub enum UnitCodeKind {
        /// The 32-digit pesticide code of Announcement 2579.
        Pesticide = "PESTICIDE",
        Seed = "SEED",
        Generic = "GENERIC",
    }
}

stored_enum! {
    /// Where a transfer between two of a dealer's places is (`transfer.status`).
    pub enum TransferStatus {
        InTransit = "IN_TRANSIT",
        Received = "RECEIVED",
    }
}

stored_enum! {
    /// What kind of place stock lives at (`location.kind`).
    pub enum LocationKind {
        /// A dealer's own store.
        DealerStore = "DEALER_STORE",
        /// A village service station.
        Station = "STATION",
        /// A producer's site (where lots are commissioned).
        Producer = "PRODUCER",
    }
}

stored_enum! {
    /// EPCIS business steps (CBV 2.0 names) used by the product (`trace_event.biz_step`).
    pub enum BizStep {
        Commissioning = "commissioning",
        Shipping = "shipping",
        Receiving = "receiving",
        Inspecting = "inspecting",
        RetailSelling = "retail_selling",
        Destroying = "destroying",
        Holding = "holding",
        StockTaking = "stock_taking",
        /// An error declaration on an earlier event.
        Correcting = "correcting",
    }
}

impl BizStep {
    /// How the public trace names the step, in Chinese and English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            BizStep::Commissioning => ("生产放行", "released by the producer"),
            BizStep::Shipping => ("发货", "shipped"),
            BizStep::Receiving => ("入库", "received"),
            BizStep::Inspecting => ("检验", "inspected"),
            BizStep::RetailSelling => ("售出", "sold"),
            BizStep::Destroying => ("销毁", "destroyed"),
            BizStep::Holding => ("封存或召回", "held or recalled"),
            BizStep::StockTaking => ("盘点", "stock count"),
            BizStep::Correcting => ("更正声明", "correction"),
        }
    }
}

stored_enum! {
    /// EPCIS dispositions (CBV 2.0 names) (`trace_event.disposition`).
    pub enum Disposition {
        Active = "active",
        InTransit = "in_transit",
        SellableAccessible = "sellable_accessible",
        Conformant = "conformant",
        NonConformant = "non_conformant",
        RetailSold = "retail_sold",
        Returned = "returned",
        Destroyed = "destroyed",
        Recalled = "recalled",
        Damaged = "damaged",
        NonSellableOther = "non_sellable_other",
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    #[test]
    fn stored_strings_round_trip_and_match_serde() {
        fn check<E>(all: &[E], as_str: fn(E) -> &'static str, parse: fn(&str) -> Option<E>)
        where
            E: ActiveEnum<Value = String> + Copy + PartialEq + std::fmt::Debug + serde::Serialize,
        {
            for &v in all {
                assert_eq!(v.to_value(), as_str(v));
                assert_eq!(E::try_from_value(&as_str(v).to_owned()).unwrap(), v);
                assert_eq!(parse(as_str(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), as_str(v));
            }
        }
        check(LotStatus::ALL, LotStatus::as_str, LotStatus::parse);
        check(LotState::ALL, LotState::as_str, LotState::parse);
        check(
            UnitCodeStatus::ALL,
            UnitCodeStatus::as_str,
            UnitCodeStatus::parse,
        );
        check(UnitCodeKind::ALL, UnitCodeKind::as_str, UnitCodeKind::parse);
        check(
            TransferStatus::ALL,
            TransferStatus::as_str,
            TransferStatus::parse,
        );
        check(LocationKind::ALL, LocationKind::as_str, LocationKind::parse);
        check(BizStep::ALL, BizStep::as_str, BizStep::parse);
        check(Disposition::ALL, Disposition::as_str, Disposition::parse);
    }

    #[test]
    fn an_unknown_stored_string_is_a_type_error() {
        let e = LotStatus::try_from_value(&"DESTROYED".to_owned()).unwrap_err();
        assert!(matches!(e, DbErr::Type(_)), "{e:?}");
        assert!(e.to_string().contains("DESTROYED"), "{e}");
        assert_eq!(LotStatus::parse("active"), None);
    }
}
