//! GraphQL enums for the domain's stored statuses and kinds. Each mirrors one domain enum
//! variant for variant, converted both ways by exhaustive matches: a variant added on one side
//! and not the other does not compile. Value names are the stored strings (the derive writes
//! `OnHold` as `ON_HOLD`; the EPCIS names stay in lower case, `retail_selling`), so clients
//! that compared the old string fields keep working; a test checks every name against the
//! domain's `as_str`.

use async_graphql::Enum;
use domain::{lots, orders, regions, stock, types};

/// Declares a GraphQL enum mirroring a domain enum, with `From` both ways.
macro_rules! mirror_enum {
    (
        $(#[$meta:meta])*
        $gql:ident as $name:literal mirrors $dom:ty {
            $( $(#[$vmeta:meta])* $variant:ident, )+
        }
    ) => {
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        #[graphql(name = $name)]
        $(#[$meta])*
        pub enum $gql {
            $( $(#[$vmeta])* $variant, )+
        }

        impl From<$dom> for $gql {
            fn from(d: $dom) -> Self {
                match d {
                    $( <$dom>::$variant => $gql::$variant, )+
                }
            }
        }

        impl From<$gql> for $dom {
            fn from(g: $gql) -> Self {
                match g {
                    $( $gql::$variant => <$dom>::$variant, )+
                }
            }
        }
    };
}

mirror_enum! {
    /// A lot's recorded status.
    LotStatusGql as "LotStatus" mirrors lots::LotStatus {
        Active,
        /// Held by a failed inspection or a regulator; may be released.
        OnHold,
        /// Recalled for good.
        Recalled,
    }
}

mirror_enum! {
    /// A lot's state as of today: its status, inspection and expiry together.
    LotStateGql as "LotState" mirrors lots::LotState {
        Sellable,
        Expired,
        OnHold,
        Recalled,
    }
}

mirror_enum! {
    /// Whether a unit trace code has been sold.
    UnitCodeStatusGql as "UnitCodeStatus" mirrors lots::UnitCodeStatus {
        Active,
        Sold,
    }
}

mirror_enum! {
    /// The format a unit trace code follows.
    UnitCodeKindGql as "UnitCodeKind" mirrors lots::UnitCodeKind {
        /// The 32-digit pesticide code (Announcement 2579).
        Pesticide,
        Seed,
        Generic,
    }
}

mirror_enum! {
    /// Where a transfer between two of a dealer's places is.
    TransferStatusGql as "TransferStatus" mirrors stock::TransferStatus {
        InTransit,
        Received,
    }
}

mirror_enum! {
    /// What kind of place stock lives at.
    LocationKindGql as "LocationKind" mirrors regions::LocationKind {
        /// A dealer's own store.
        DealerStore,
        /// A village service station.
        Station,
        /// A producer's site.
        Producer,
    }
}

mirror_enum! {
    /// EPCIS business step (CBV 2.0 names, in lower case as EPCIS writes them).
    #[graphql(rename_items = "snake_case")]
    BizStepGql as "BizStep" mirrors lots::trace::BizStep {
        Commissioning,
        Shipping,
        Receiving,
        Inspecting,
        RetailSelling,
        Destroying,
        Holding,
        StockTaking,
        /// An error declaration on an earlier event.
        Correcting,
    }
}

mirror_enum! {
    /// EPCIS disposition (CBV 2.0 names, in lower case as EPCIS writes them).
    #[graphql(rename_items = "snake_case")]
    DispositionGql as "Disposition" mirrors lots::trace::Disposition {
        Active,
        InTransit,
        SellableAccessible,
        Conformant,
        NonConformant,
        RetailSold,
        Returned,
        Destroyed,
        Recalled,
        Damaged,
        NonSellableOther,
    }
}

mirror_enum! {
    /// Where an order's money is.
    PaymentStatusGql as "PaymentStatus" mirrors orders::PaymentStatus {
        /// Cash on delivery, not yet paid.
        Pending,
        /// Paid in cash at the hand-over.
        Paid,
        /// Booked on the farmer's dealer credit.
        OnCredit,
        /// The credit was given back (the order was cancelled).
        CreditReleased,
        /// Online: authorised, charged at the hand-over.
        Authorised,
        Captured,
        Voided,
        Refunded,
        Failed,
    }
}

mirror_enum! {
    /// An online payment at its provider.
    ChargeStatusGql as "ChargeStatus" mirrors orders::ChargeStatus {
        Authorised,
        Captured,
        Voided,
        Refunded,
        Failed,
    }
}

mirror_enum! {
    /// What became of the stock an order line reserved.
    AllocationStatusGql as "AllocationStatus" mirrors orders::AllocationStatus {
        Reserved,
        /// Handed over: the reservation became a sale.
        Sold,
        /// Given back (the order was cancelled or expired, or the lot swapped).
        Released,
    }
}

mirror_enum! {
    /// Whether a dealer trades.
    DealerStatusGql as "DealerStatus" mirrors types::DealerStatus {
        Active,
    }
}

mirror_enum! {
    /// The outcome of a lot's inspection.
    InspectionResultGql as "InspectionResult" mirrors types::InspectionResult {
        /// 合格
        Conformant,
        /// 不合格: the lot is held.
        NonConformant,
    }
}

mirror_enum! {
    /// What a trace event's `refId` points at.
    RefKindGql as "TraceRefKind" mirrors types::RefKind {
        /// A stock receipt.
        Receipt,
        /// A sale (counter or order).
        Sale,
        /// A transfer between a dealer's places.
        Transfer,
    }
}

mirror_enum! {
    /// How a sale was made.
    SaleChannelGql as "SaleChannel" mirrors types::SaleChannel {
        /// At the dealer's counter.
        Counter,
        /// An order handed over.
        Order,
    }
}

mirror_enum! {
    /// What a notification is about.
    NotificationKindGql as "NotificationKind" mirrors types::NotificationKind {
        LotRecalled,
        OrderFlagged,
        OrderLotSwapped,
        RecommendationPublished,
    }
}

mirror_enum! {
    /// Something a dealer should act on.
    AlertKindGql as "StockAlertKind" mirrors types::AlertKind {
        LowStock,
        NearExpiry,
        Recall,
    }
}

mirror_enum! {
    /// Whether a product is sold.
    ProductStatusGql as "ProductStatus" mirrors types::ProductStatus {
        Active,
        /// Taken off the catalog; kept for the ledgers.
        Delisted,
    }
}

mirror_enum! {
    /// Where a recommendation is in its review.
    RecommendationStatusGql as "RecommendationStatus" mirrors types::RecommendationStatus {
        /// Computed, waiting for an agronomist.
        Draft,
        /// Signed and shown to the farmer.
        Published,
        Rejected,
        /// A newer one was published for the same crop plan.
        Superseded,
    }
}

mirror_enum! {
    /// Where a regional formula is.
    FormulaStatusGql as "FormulaStatus" mirrors types::FormulaStatus {
        Draft,
        Published,
    }
}

mirror_enum! {
    /// What a user is.
    RoleGql as "Role" mirrors types::Role {
        Farmer,
        Dealer,
        Agronomist,
        Regulator,
        Admin,
        StationKeeper,
    }
}

mirror_enum! {
    /// What a dealer's user may do there.
    DealerRoleGql as "DealerRole" mirrors types::DealerRole {
        Owner,
        Staff,
    }
}

mirror_enum! {
    /// A region's place in the hierarchy.
    LevelGql as "RegionLevel" mirrors types::Level {
        Province,
        County,
        Township,
        Village,
    }
}

mirror_enum! {
    /// What a dealer's licence permits.
    LicenceKindGql as "LicenceKind" mirrors types::LicenceKind {
        /// 农药经营许可证
        PesticideBusiness,
        /// 限制使用农药经营许可
        RestrictedPesticide,
        /// 农作物种子生产经营许可证
        SeedBusiness,
    }
}

mirror_enum! {
    /// What a product is.
    CategoryGql as "Category" mirrors types::Category {
        /// 肥料
        Fertiliser,
        /// 种子
        Seed,
        /// 农药
        Pesticide,
    }
}

mirror_enum! {
    /// Where an order is in its life.
    OrderStatus as "OrderStatus" mirrors orders::Status {
        Placed,
        Confirmed,
        ReadyForPickup,
        OutForDelivery,
        Delivered,
        Completed,
        Cancelled,
        Expired,
    }
}

mirror_enum! {
    /// How an order reaches the farmer.
    DeliveryModeGql as "DeliveryMode" mirrors orders::DeliveryMode {
        /// Collect at the dealer's store.
        Pickup,
        /// Collect at a village station in the dealer's service area.
        VillageStation,
        /// Delivered home (never for restricted-use pesticides).
        Home,
    }
}

mirror_enum! {
    /// How an order is paid.
    PaymentMethodGql as "PaymentMethod" mirrors orders::PaymentMethod {
        CashOnDelivery,
        /// Against the credit limit the dealer set for the farmer.
        DealerCredit,
        /// Through the payment provider (a sandbox here).
        Online,
    }
}

mirror_enum! {
    /// How a recommendation's rates were found.
    MethodGql as "RecommendationMethod" mirrors types::Method {
        NutrientBalance,
        ManualRates,
    }
}

mirror_enum! {
    /// Which book a ledger line is in.
    LedgerKind as "LedgerKind" mirrors types::LedgerKind {
        /// 购进台账
        Purchase,
        /// 销售台账
        Sale,
    }
}

mirror_enum! {
    /// A counterfeit or misuse signal's kind (the bureau's signals).
    SignalKindGql as "SignalKind" mirrors domain::bureau::signals::SignalKind {
        /// A unit code already sold turned up again at a dealer.
        ResoldCode,
        /// A sold unit code scanned outside the seller's county or far from it.
        FarScan,
        /// A restricted-use pesticide sold above the label dose for the buyer's fields.
        AboveLabelDose,
        /// A product sold without the licence it needs on the sale date.
        OutsideLicence,
    }
}

mirror_enum! {
    /// Where a farmer's complaint stands.
    ComplaintStatusGql as "ComplaintStatus" mirrors types::ComplaintStatus {
        Open,
        Resolved,
        Dismissed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain value, as a GraphQL value, is named by its stored string.
    fn names_match<D, G>(all: &[D], as_str: fn(D) -> &'static str)
    where
        D: Copy + Into<G>,
        G: async_graphql::resolver_utils::EnumType,
    {
        for &d in all {
            let g: G = d.into();
            let item = G::items()
                .iter()
                .find(|i| i.value == g)
                .expect("every value has an item");
            assert_eq!(item.name, as_str(d));
        }
        assert_eq!(G::items().len(), all.len());
    }

    #[test]
    fn graphql_names_are_the_stored_strings() {
        names_match::<_, LotStatusGql>(lots::LotStatus::ALL, lots::LotStatus::as_str);
        names_match::<_, LotStateGql>(lots::LotState::ALL, lots::LotState::as_str);
        names_match::<_, UnitCodeStatusGql>(
            lots::UnitCodeStatus::ALL,
            lots::UnitCodeStatus::as_str,
        );
        names_match::<_, UnitCodeKindGql>(lots::UnitCodeKind::ALL, lots::UnitCodeKind::as_str);
        names_match::<_, TransferStatusGql>(
            stock::TransferStatus::ALL,
            stock::TransferStatus::as_str,
        );
        names_match::<_, LocationKindGql>(
            regions::LocationKind::ALL,
            regions::LocationKind::as_str,
        );
        names_match::<_, BizStepGql>(lots::trace::BizStep::ALL, lots::trace::BizStep::as_str);
        names_match::<_, DispositionGql>(
            lots::trace::Disposition::ALL,
            lots::trace::Disposition::as_str,
        );
        names_match::<_, PaymentStatusGql>(
            orders::PaymentStatus::ALL,
            orders::PaymentStatus::as_str,
        );
        names_match::<_, ChargeStatusGql>(orders::ChargeStatus::ALL, orders::ChargeStatus::as_str);
        names_match::<_, AllocationStatusGql>(
            orders::AllocationStatus::ALL,
            orders::AllocationStatus::as_str,
        );
        names_match::<_, DealerStatusGql>(types::DealerStatus::ALL, types::DealerStatus::as_str);
        names_match::<_, InspectionResultGql>(
            types::InspectionResult::ALL,
            types::InspectionResult::as_str,
        );
        names_match::<_, RefKindGql>(types::RefKind::ALL, types::RefKind::as_str);
        names_match::<_, SaleChannelGql>(types::SaleChannel::ALL, types::SaleChannel::as_str);
        names_match::<_, NotificationKindGql>(
            types::NotificationKind::ALL,
            types::NotificationKind::as_str,
        );
        names_match::<_, AlertKindGql>(types::AlertKind::ALL, types::AlertKind::as_str);
        names_match::<_, RoleGql>(types::Role::ALL, types::Role::as_str);
        names_match::<_, DealerRoleGql>(types::DealerRole::ALL, types::DealerRole::as_str);
        names_match::<_, LevelGql>(types::Level::ALL, types::Level::as_str);
        names_match::<_, LicenceKindGql>(types::LicenceKind::ALL, types::LicenceKind::as_str);
        names_match::<_, SignalKindGql>(
            domain::bureau::signals::SignalKind::ALL,
            domain::bureau::signals::SignalKind::as_str,
        );
        names_match::<_, ComplaintStatusGql>(
            types::ComplaintStatus::ALL,
            types::ComplaintStatus::as_str,
        );
        names_match::<_, CategoryGql>(types::Category::ALL, types::Category::as_str);
        names_match::<_, OrderStatus>(orders::Status::ALL, orders::Status::as_str);
        names_match::<_, DeliveryModeGql>(orders::DeliveryMode::ALL, orders::DeliveryMode::as_str);
        names_match::<_, PaymentMethodGql>(
            orders::PaymentMethod::ALL,
            orders::PaymentMethod::as_str,
        );
        names_match::<_, MethodGql>(types::Method::ALL, types::Method::as_str);
        names_match::<_, LedgerKind>(types::LedgerKind::ALL, types::LedgerKind::as_str);
        names_match::<_, ProductStatusGql>(types::ProductStatus::ALL, types::ProductStatus::as_str);
        names_match::<_, RecommendationStatusGql>(
            types::RecommendationStatus::ALL,
            types::RecommendationStatus::as_str,
        );
        names_match::<_, FormulaStatusGql>(types::FormulaStatus::ALL, types::FormulaStatus::as_str);
    }
}
