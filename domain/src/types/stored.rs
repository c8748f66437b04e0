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

stored_enum! {
    /// What a trace event's `ref_id` points at (`trace_event.ref_kind`).
    pub enum RefKind {
        /// A stock receipt.
        Receipt = "RECEIPT",
        /// A sale (counter or order).
        Sale = "SALE",
        /// A transfer between a dealer's places.
        Transfer = "TRANSFER",
    }
}

stored_enum! {
    /// What a user is (`app_user.role`).
    pub enum Role {
        Farmer = "FARMER",
        Dealer = "DEALER",
        Agronomist = "AGRONOMIST",
        Regulator = "REGULATOR",
        Admin = "ADMIN",
        /// Keeps a village service station: orders for the village's farmers (代购).
        StationKeeper = "STATION_KEEPER",
    }
}

stored_enum! {
    /// What a dealer's user may do there (`app_user.dealer_role`).
    pub enum DealerRole {
        Owner = "OWNER",
        Staff = "STAFF",
    }
}

stored_enum! {
    /// A region's place in the hierarchy (`region.level`).
    pub enum Level {
        Province = "PROVINCE",
        County = "COUNTY",
        Township = "TOWNSHIP",
        Village = "VILLAGE",
    }
}

stored_enum! {
    /// What a dealer's licence permits (`licence.kind`).
    pub enum LicenceKind {
        PesticideBusiness = "PESTICIDE_BUSINESS",
        RestrictedPesticide = "RESTRICTED_PESTICIDE",
        SeedBusiness = "SEED_BUSINESS",
    }
}

stored_enum! {
    /// Whether a dealer trades (`dealer.status`).
    pub enum DealerStatus {
        /// The only status a dealer has today; the column leaves room for suspension.
        Active = "ACTIVE",
    }
}

stored_enum! {
    /// The outcome of a lot's inspection (`lot.inspection_result`).
    pub enum InspectionResult {
        /// 合格
        Conformant = "CONFORMANT",
        /// 不合格: the lot is held.
        NonConformant = "NON_CONFORMANT",
    }
}

stored_enum! {
    /// How a sale was made (`sale.channel`).
    pub enum SaleChannel {
        /// At the dealer's counter.
        Counter = "COUNTER",
        /// An order handed over.
        Order = "ORDER",
    }
}

stored_enum! {
    /// Which book a ledger line is in (`ledger_line.kind`): 进货台账 or 销售台账.
    pub enum LedgerKind {
        Purchase = "PURCHASE",
        Sale = "SALE",
    }
}

stored_enum! {
    /// What a notification is about (`notification.kind`).
    pub enum NotificationKind {
        LotRecalled = "LOT_RECALLED",
        OrderFlagged = "ORDER_FLAGGED",
        OrderLotSwapped = "ORDER_LOT_SWAPPED",
        RecommendationPublished = "RECOMMENDATION_PUBLISHED",
    }
}

stored_enum! {
    /// Something a dealer should act on (`DomainEvent::StockAlert`).
    pub enum AlertKind {
        LowStock = "LOW_STOCK",
        NearExpiry = "NEAR_EXPIRY",
        Recall = "RECALL",
    }
}

stored_enum! {
    /// Where an order is in its life (`customer_order.status`, `order_event.to_status`).
    pub enum OrderStatus {
        Placed = "PLACED",
        Confirmed = "CONFIRMED",
        ReadyForPickup = "READY_FOR_PICKUP",
        OutForDelivery = "OUT_FOR_DELIVERY",
        Delivered = "DELIVERED",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED",
        Expired = "EXPIRED",
    }
}

stored_enum! {
    /// How an order reaches the farmer (`customer_order.delivery_mode`).
    pub enum DeliveryMode {
        Pickup = "PICKUP",
        VillageStation = "VILLAGE_STATION",
        Home = "HOME",
    }
}

stored_enum! {
    /// How an order is paid (`customer_order.payment_method`).
    pub enum PaymentMethod {
        CashOnDelivery = "CASH_ON_DELIVERY",
        DealerCredit = "DEALER_CREDIT",
        Online = "ONLINE",
    }
}

stored_enum! {
    /// Where an order's money is (`customer_order.payment_status`).
    pub enum PaymentStatus {
        /// Cash on delivery, not yet paid.
        Pending = "PENDING",
        /// Paid in cash at the hand-over.
        Paid = "PAID",
        /// Booked on the farmer's dealer credit.
        OnCredit = "ON_CREDIT",
        /// The credit was given back (the order was cancelled).
        CreditReleased = "CREDIT_RELEASED",
        /// Online: authorised, charged at the hand-over.
        Authorised = "AUTHORISED",
        Captured = "CAPTURED",
        Voided = "VOIDED",
        Refunded = "REFUNDED",
        Failed = "FAILED",
    }
}

stored_enum! {
    /// An online payment at its provider (`payment.status`).
    pub enum ChargeStatus {
        Authorised = "AUTHORISED",
        Captured = "CAPTURED",
        Voided = "VOIDED",
        Refunded = "REFUNDED",
        Failed = "FAILED",
    }
}

impl From<ChargeStatus> for PaymentStatus {
    fn from(c: ChargeStatus) -> Self {
        match c {
            ChargeStatus::Authorised => PaymentStatus::Authorised,
            ChargeStatus::Captured => PaymentStatus::Captured,
            ChargeStatus::Voided => PaymentStatus::Voided,
            ChargeStatus::Refunded => PaymentStatus::Refunded,
            ChargeStatus::Failed => PaymentStatus::Failed,
        }
    }
}

stored_enum! {
    /// What became of the stock an order line reserved (`order_allocation.status`).
    pub enum AllocationStatus {
        Reserved = "RESERVED",
        /// Handed over: the reservation became a sale.
        Sold = "SOLD",
        /// Given back (the order was cancelled or expired, or the lot swapped).
        Released = "RELEASED",
    }
}

stored_enum! {
    /// What a product is (`product.category`).
    pub enum Category {
        /// 肥料
        Fertiliser = "FERTILISER",
        /// 种子
        Seed = "SEED",
        /// 农药
        Pesticide = "PESTICIDE",
    }
}

stored_enum! {
    /// Whether a product is sold (`product.status`).
    pub enum ProductStatus {
        Active = "ACTIVE",
        /// Taken off the catalog by its producer or an admin; kept for the ledgers.
        Delisted = "DELISTED",
    }
}

stored_enum! {
    /// How a recommendation's rates were found (`recommendation.method`).
    #[derive(Default)]
    pub enum Method {
        /// 养分平衡法 (NY/T 1118-2006), soil-test form.
        #[default]
        NutrientBalance = "NUTRIENT_BALANCE",
        /// Rates set by the agronomist; the advisor only sizes the basket.
        ManualRates = "MANUAL_RATES",
    }
}

stored_enum! {
    /// Where a recommendation is in its review (`recommendation.status`).
    pub enum RecommendationStatus {
        /// Computed, waiting for an agronomist.
        Draft = "DRAFT",
        /// Signed and shown to the farmer.
        Published = "PUBLISHED",
        Rejected = "REJECTED",
        /// A newer one was published for the same crop plan.
        Superseded = "SUPERSEDED",
    }
}

stored_enum! {
    /// Where a regional formula is (`regional_formula.status`).
    pub enum FormulaStatus {
        Draft = "DRAFT",
        Published = "PUBLISHED",
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
        check(RefKind::ALL, RefKind::as_str, RefKind::parse);
        check(Category::ALL, Category::as_str, Category::parse);
        check(
            ProductStatus::ALL,
            ProductStatus::as_str,
            ProductStatus::parse,
        );
        check(Method::ALL, Method::as_str, Method::parse);
        check(
            RecommendationStatus::ALL,
            RecommendationStatus::as_str,
            RecommendationStatus::parse,
        );
        check(
            FormulaStatus::ALL,
            FormulaStatus::as_str,
            FormulaStatus::parse,
        );
        check(Role::ALL, Role::as_str, Role::parse);
        check(DealerRole::ALL, DealerRole::as_str, DealerRole::parse);
        check(Level::ALL, Level::as_str, Level::parse);
        check(LicenceKind::ALL, LicenceKind::as_str, LicenceKind::parse);
        check(DealerStatus::ALL, DealerStatus::as_str, DealerStatus::parse);
        check(
            InspectionResult::ALL,
            InspectionResult::as_str,
            InspectionResult::parse,
        );
        check(SaleChannel::ALL, SaleChannel::as_str, SaleChannel::parse);
        check(LedgerKind::ALL, LedgerKind::as_str, LedgerKind::parse);
        check(
            NotificationKind::ALL,
            NotificationKind::as_str,
            NotificationKind::parse,
        );
        check(AlertKind::ALL, AlertKind::as_str, AlertKind::parse);
        check(OrderStatus::ALL, OrderStatus::as_str, OrderStatus::parse);
        check(DeliveryMode::ALL, DeliveryMode::as_str, DeliveryMode::parse);
        check(
            PaymentMethod::ALL,
            PaymentMethod::as_str,
            PaymentMethod::parse,
        );
        check(
            PaymentStatus::ALL,
            PaymentStatus::as_str,
            PaymentStatus::parse,
        );
        check(ChargeStatus::ALL, ChargeStatus::as_str, ChargeStatus::parse);
        check(
            AllocationStatus::ALL,
            AllocationStatus::as_str,
            AllocationStatus::parse,
        );
    }

    #[test]
    fn an_unknown_stored_string_is_a_type_error() {
        let e = LotStatus::try_from_value(&"DESTROYED".to_owned()).unwrap_err();
        assert!(matches!(e, DbErr::Type(_)), "{e:?}");
        assert!(e.to_string().contains("DESTROYED"), "{e}");
        assert_eq!(LotStatus::parse("active"), None);
    }
}

stored_enum! {
    /// Where a unit code was scanned (`code_scan.source`).
    pub enum ScanSource {
        /// Anyone looking the code up on the public trace page (a farmer's scan lands there).
        TracePage = "TRACE_PAGE",
        /// A dealer scanning it at a sale or a hand-over.
        DealerSale = "DEALER_SALE",
    }
}

stored_enum! {
    /// Where a farmer's complaint stands (`complaint.status`).
    pub enum ComplaintStatus {
        /// Filed, not yet handled.
        Open = "OPEN",
        /// Handled: the outcome says what was done.
        Resolved = "RESOLVED",
        /// Looked into and found groundless: the outcome says why.
        Dismissed = "DISMISSED",
    }
}
