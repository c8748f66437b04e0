//! Typed quantities, so that a unit mix-up is a compile error rather than a wrong rate.
//!
//! A quantity carries its unit in its type name (`KgPerMu`, `KgPerHa`, `MgPerKg`, ...) and what
//! it is a quantity *of* in a marker type parameter (`N`, `P`, `P2O5`, `K`, `K2O`, `Product`,
//! `Yield`, ...). Conversions are explicit methods carrying the factor from METHODS.md
//! "Unit facts"; there is no implicit `From` between units.
//!
//! Every quantity is finite and non-negative by construction: [`KgPerMu::try_new`] (and serde,
//! which goes through it) rejects anything else, and signed differences are plain `f64`
//! (see [`KgPerMu::signed_diff`]).
//!
//! ```
//! use advisor::units::{KgPerMu, MgPerKg, Mu, N, P, P2O5};
//! let soil_p = MgPerKg::<P>::new(12.0);
//! let stock: KgPerMu<P2O5> = soil_p.plough_layer_kg_per_mu().to_oxide();
//! assert!((stock.value() - 12.0 * 0.15 * 2.2913).abs() < 1e-9);
//! let field = KgPerMu::<N>::new(10.0) * Mu::new(15.0);
//! assert_eq!(field.value(), 150.0);
//! // The correct spellings of what the examples below get wrong:
//! use advisor::units::{Kg, KgPerHa, MgPerLitre, Product};
//! let _per_ha: KgPerHa<N> = KgPerMu::<N>::new(10.0).to_kg_per_ha();
//! let _total = KgPerMu::<P>::new(1.0).to_oxide() + KgPerMu::<P2O5>::new(1.0);
//! let _n: Kg<N> = Kg::<Product>::new(50.0).nutrient(advisor::units::Content::<N>::new(0.46));
//! let _index_input: f64 = MgPerLitre::<P>::new(20.0).value();
//! ```
//!
//! Mixing area bases does not compile:
//! ```compile_fail
//! use advisor::units::{KgPerHa, KgPerMu, N};
//! let per_ha: KgPerHa<N> = KgPerMu::<N>::new(10.0);
//! ```
//! Neither does mixing element and oxide:
//! ```compile_fail
//! use advisor::units::{KgPerMu, P, P2O5};
//! let total = KgPerMu::<P>::new(1.0) + KgPerMu::<P2O5>::new(1.0);
//! ```
//! Nor kg of product with kg of nutrient:
//! ```compile_fail
//! use advisor::units::{Kg, N, Product};
//! let n: Kg<N> = Kg::<Product>::new(50.0);
//! ```
//! A mg/l soil test (volume basis) has no conversion to a nutrient stock:
//! ```compile_fail
//! use advisor::units::{MgPerLitre, P};
//! let stock = MgPerLitre::<P>::new(20.0).plough_layer_kg_per_mu();
//! ```

use std::fmt;
use std::iter::Sum;
use std::marker::PhantomData;
use std::ops::{Add, AddAssign, Div, Mul};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// 1 ha = 15 mu (METHODS.md "Unit facts": 1 mu = 10 000/15 m2).
pub const MU_PER_HA: f64 = 15.0;
/// P -> P2O5 from atomic masses (METHODS.md "Unit facts").
pub const P2O5_PER_P: f64 = 2.2913;
/// K -> K2O from atomic masses (METHODS.md "Unit facts").
pub const K2O_PER_K: f64 = 1.2046;
/// NY/T 1118-2006: the 0-20 cm plough layer holds 150 000 kg soil per mu, so mg/kg x 0.15 = kg/mu.
pub const PLOUGH_LAYER_KG_PER_MU_PER_MG_PER_KG: f64 = 0.15;
/// General soil stock form: kg/ha = mg/kg x depth (cm) x bulk density (g/cm3) x 0.1.
pub const KG_PER_HA_PER_MG_PER_KG_CM_GCM3: f64 = 0.1;
/// US convention (2 million lb of soil per acre furrow slice): ppm x 2 = lb/acre.
pub const LB_PER_ACRE_PER_PPM: f64 = 2.0;
/// lb/acre x 1.12085 = kg/ha (METHODS.md "Unit facts").
pub const KG_PER_HA_PER_LB_PER_ACRE: f64 = 1.12085;
/// 1 US (short) ton = 2000 lb, so t/acre x 2000 x 1.12085 = kg/ha.
pub const LB_PER_US_TON: f64 = 2000.0;

macro_rules! marker {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$m])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub struct $name;
        )*
    };
}

marker!(
    /// Nitrogen (element and fertiliser-label form are the same).
    N,
    /// Phosphorus as the element (soil tests report P).
    P,
    /// Phosphorus as the oxide (fertiliser labels and recommendations report P2O5).
    P2O5,
    /// Potassium as the element (soil tests report K).
    K,
    /// Potassium as the oxide (fertiliser labels report K2O).
    K2O,
    /// Magnesium (RB209 Mg index).
    Mg,
    /// Fertiliser product as sold (kg in the bag), not the nutrient in it.
    Product,
    /// Harvested economic yield of the crop.
    Yield,
    /// Agricultural lime (the NCDA table's material).
    Lime,
    /// A nutrient chosen at run time (the JSON layer); only for reporting.
    AnyNutrient,
);

/// A soil-test element with a fertiliser oxide form.
pub trait Element {
    type Oxide;
    /// kg oxide per kg element.
    const OXIDE_PER_ELEMENT: f64;
}

impl Element for P {
    type Oxide = P2O5;
    const OXIDE_PER_ELEMENT: f64 = P2O5_PER_P;
}

impl Element for K {
    type Oxide = K2O;
    const OXIDE_PER_ELEMENT: f64 = K2O_PER_K;
}

/// The inverse of [`Element`]: an oxide's element.
pub trait Oxide {
    type Element;
    /// kg element per kg oxide; METHODS.md prints these as 0.4364 and 0.8301, here the exact
    /// inverse so that element -> oxide -> element round-trips.
    const ELEMENT_PER_OXIDE: f64;
}

impl Oxide for P2O5 {
    type Element = P;
    const ELEMENT_PER_OXIDE: f64 = 1.0 / P2O5_PER_P;
}

impl Oxide for K2O {
    type Element = K;
    const ELEMENT_PER_OXIDE: f64 = 1.0 / K2O_PER_K;
}

/// The three nutrients recommended as fertiliser, in the form fertiliser labels use.
pub trait FertiliserNutrient: Copy + fmt::Debug + Default + 'static {
    /// The form a soil test reports (N, P, K).
    type SoilForm: Copy + fmt::Debug + Default + 'static;
    /// kg label form per kg soil-test form (1 for N).
    const LABEL_PER_SOIL_FORM: f64;
    const KIND: Nutrient;
}

impl FertiliserNutrient for N {
    type SoilForm = N;
    const LABEL_PER_SOIL_FORM: f64 = 1.0;
    const KIND: Nutrient = Nutrient::N;
}

impl FertiliserNutrient for P2O5 {
    type SoilForm = P;
    const LABEL_PER_SOIL_FORM: f64 = P2O5_PER_P;
    const KIND: Nutrient = Nutrient::P2O5;
}

impl FertiliserNutrient for K2O {
    type SoilForm = K;
    const LABEL_PER_SOIL_FORM: f64 = K2O_PER_K;
    const KIND: Nutrient = Nutrient::K2O;
}

/// A fertiliser nutrient chosen at run time (requests name it as a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Nutrient {
    N,
    P2O5,
    K2O,
}

impl Nutrient {
    pub const ALL: [Nutrient; 3] = [Nutrient::N, Nutrient::P2O5, Nutrient::K2O];

    pub fn index(self) -> usize {
        match self {
            Nutrient::N => 0,
            Nutrient::P2O5 => 1,
            Nutrient::K2O => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Nutrient::N => "N",
            Nutrient::P2O5 => "P2O5",
            Nutrient::K2O => "K2O",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Nutrient::N => "氮 (N)",
            Nutrient::P2O5 => "磷 (P2O5)",
            Nutrient::K2O => "钾 (K2O)",
        }
    }

    /// The JSON key used for this nutrient inside target objects.
    pub fn key(self) -> &'static str {
        match self {
            Nutrient::N => "n",
            Nutrient::P2O5 => "p2o5",
            Nutrient::K2O => "k2o",
        }
    }
}

impl fmt::Display for Nutrient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

fn checked(value: f64, unit: &'static str) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::Quantity { unit, value })
    }
}

macro_rules! quantity {
    ($(#[$m:meta])* $name:ident, $unit:literal) => {
        $(#[$m])*
        #[derive(Serialize, Deserialize)]
        #[serde(try_from = "f64", into = "f64", bound = "")]
        pub struct $name<Q>(f64, PhantomData<Q>);

        impl<Q> $name<Q> {
            pub const UNIT: &'static str = $unit;
            pub const ZERO: Self = Self(0.0, PhantomData);

            /// A quantity from a value known to be valid (literals, constants).
            ///
            /// # Panics
            /// If `value` is negative or not finite; use [`Self::try_new`] for input.
            #[track_caller]
            pub fn new(value: f64) -> Self {
                match Self::try_new(value) {
                    Ok(q) => q,
                    Err(e) => panic!("{e}"),
                }
            }

            /// Parses a value at the edge: finite and >= 0, or an error.
            pub fn try_new(value: f64) -> Result<Self> {
                checked(value, $unit).map(|v| Self(v, PhantomData))
            }

            /// Internal constructor for results of arithmetic that cannot go negative.
            fn raw(value: f64) -> Self {
                debug_assert!(value.is_finite() && value >= 0.0, "{} {}", value, $unit);
                Self(value, PhantomData)
            }

            pub fn value(self) -> f64 {
                self.0
            }

            /// `self - other` as a plain signed number (a deficit may be negative).
            pub fn signed_diff(self, other: Self) -> f64 {
                self.0 - other.0
            }

            /// `self - other`, or zero when `other` is larger.
            pub fn saturating_sub(self, other: Self) -> Self {
                Self::raw((self.0 - other.0).max(0.0))
            }

            /// Scales by a non-negative factor.
            pub fn scale(self, factor: f64) -> Self {
                Self::raw(self.0 * factor)
            }

            /// Forgets which nutrient this is, keeping the unit (for run-time reports).
            pub fn erase(self) -> $name<AnyNutrient> {
                $name(self.0, PhantomData)
            }
        }

        impl<Q: Element> $name<Q> {
            /// Element -> oxide (P -> P2O5 x 2.2913, K -> K2O x 1.2046).
            pub fn to_oxide(self) -> $name<Q::Oxide> {
                $name(self.0 * Q::OXIDE_PER_ELEMENT, PhantomData)
            }
        }

        impl<Q: Oxide> $name<Q> {
            /// Oxide -> element (P2O5 -> P x 0.4364, K2O -> K x 0.8301).
            pub fn to_element(self) -> $name<Q::Element> {
                $name(self.0 * Q::ELEMENT_PER_OXIDE, PhantomData)
            }
        }

        impl<Q: FertiliserNutrient> $name<Q> {
            /// Soil-test form (N, P, K) -> label form (N, P2O5, K2O).
            pub fn from_soil_form(soil: $name<Q::SoilForm>) -> Self {
                Self(soil.0 * Q::LABEL_PER_SOIL_FORM, PhantomData)
            }
        }

        impl<Q> Clone for $name<Q> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<Q> Copy for $name<Q> {}
        impl<Q> PartialEq for $name<Q> {
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }
        impl<Q> PartialOrd for $name<Q> {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                self.0.partial_cmp(&other.0)
            }
        }
        impl<Q> Default for $name<Q> {
            fn default() -> Self {
                Self::ZERO
            }
        }
        impl<Q> fmt::Debug for $name<Q> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}<{}>", self.0, $unit, short_type_name::<Q>())
            }
        }
        impl<Q> TryFrom<f64> for $name<Q> {
            type Error = Error;
            fn try_from(value: f64) -> Result<Self> {
                Self::try_new(value)
            }
        }
        impl<Q> From<$name<Q>> for f64 {
            fn from(q: $name<Q>) -> f64 {
                q.0
            }
        }
        impl<Q> Add for $name<Q> {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0, PhantomData)
            }
        }
        impl<Q> AddAssign for $name<Q> {
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }
        impl<Q> Sum for $name<Q> {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::ZERO, Add::add)
            }
        }
        /// The ratio of two like quantities is a plain number.
        impl<Q> Div for $name<Q> {
            type Output = f64;
            fn div(self, rhs: Self) -> f64 {
                self.0 / rhs.0
            }
        }
    };
}

fn short_type_name<Q>() -> &'static str {
    let full = std::any::type_name::<Q>();
    full.rsplit("::").next().unwrap_or(full)
}

quantity!(
    /// A mass in kg.
    Kg,
    "kg"
);
quantity!(
    /// A rate in kg per mu (Chinese practice).
    KgPerMu,
    "kg/mu"
);
quantity!(
    /// A rate in kg per hectare.
    KgPerHa,
    "kg/ha"
);
quantity!(
    /// A rate in lb per acre (US extension).
    LbPerAcre,
    "lb/acre"
);
quantity!(
    /// A rate in US (short) tons per acre (NCDA lime).
    UsTonPerAcre,
    "US t/acre"
);
quantity!(
    /// A soil concentration on a mass basis, mg per kg of dry soil.
    MgPerKg,
    "mg/kg"
);
quantity!(
    /// A soil concentration in parts per million by mass (US labs; numerically mg/kg).
    Ppm,
    "ppm"
);
quantity!(
    /// A soil concentration on a *volume* basis (RB209 labs): mg per litre of soil.
    /// Deliberately has no conversion to mg/kg or to a nutrient stock.
    MgPerLitre,
    "mg/l"
);

// ---- area ----

/// An area in mu (亩).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Mu(f64);

/// An area in hectares.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Hectare(f64);

macro_rules! area {
    ($name:ident, $unit:literal) => {
        impl $name {
            /// # Panics
            /// If `value` is negative or not finite.
            #[track_caller]
            pub fn new(value: f64) -> Self {
                match Self::try_new(value) {
                    Ok(a) => a,
                    Err(e) => panic!("{e}"),
                }
            }
            pub fn try_new(value: f64) -> Result<Self> {
                checked(value, $unit).map(Self)
            }
            pub fn value(self) -> f64 {
                self.0
            }
        }
        impl TryFrom<f64> for $name {
            type Error = Error;
            fn try_from(value: f64) -> Result<Self> {
                Self::try_new(value)
            }
        }
        impl From<$name> for f64 {
            fn from(a: $name) -> f64 {
                a.0
            }
        }
    };
}
area!(Mu, "mu");
area!(Hectare, "ha");

impl Mu {
    pub fn to_hectare(self) -> Hectare {
        Hectare(self.0 / MU_PER_HA)
    }
}

impl Hectare {
    pub fn to_mu(self) -> Mu {
        Mu(self.0 * MU_PER_HA)
    }
}

impl<Q> KgPerMu<Q> {
    pub fn to_kg_per_ha(self) -> KgPerHa<Q> {
        KgPerHa::raw(self.0 * MU_PER_HA)
    }
}

impl<Q> KgPerHa<Q> {
    pub fn to_kg_per_mu(self) -> KgPerMu<Q> {
        KgPerMu::raw(self.0 / MU_PER_HA)
    }

    pub fn to_lb_per_acre(self) -> LbPerAcre<Q> {
        LbPerAcre::raw(self.0 / KG_PER_HA_PER_LB_PER_ACRE)
    }
}

impl<Q> Mul<Mu> for KgPerMu<Q> {
    type Output = Kg<Q>;
    fn mul(self, area: Mu) -> Kg<Q> {
        Kg::raw(self.0 * area.0)
    }
}

impl<Q> Mul<Hectare> for KgPerHa<Q> {
    type Output = Kg<Q>;
    fn mul(self, area: Hectare) -> Kg<Q> {
        Kg::raw(self.0 * area.0)
    }
}

impl<Q> Div<Mu> for Kg<Q> {
    type Output = KgPerMu<Q>;
    fn div(self, area: Mu) -> KgPerMu<Q> {
        KgPerMu::raw(self.0 / area.0)
    }
}

impl<Q> LbPerAcre<Q> {
    pub fn to_kg_per_ha(self) -> KgPerHa<Q> {
        KgPerHa::raw(self.0 * KG_PER_HA_PER_LB_PER_ACRE)
    }
}

impl<Q> UsTonPerAcre<Q> {
    pub fn to_lb_per_acre(self) -> LbPerAcre<Q> {
        LbPerAcre::raw(self.0 * LB_PER_US_TON)
    }
}

// ---- soil concentration -> stock ----

impl<Q> MgPerKg<Q> {
    /// NY/T 1118-2006 plough layer (0-20 cm, 150 000 kg soil/mu): mg/kg x 0.15 = kg/mu.
    pub fn plough_layer_kg_per_mu(self) -> KgPerMu<Q> {
        KgPerMu::raw(self.0 * PLOUGH_LAYER_KG_PER_MU_PER_MG_PER_KG)
    }

    /// General form: kg/ha = mg/kg x depth (cm) x bulk density (g/cm3) x 0.1.
    pub fn stock_kg_per_ha(self, layer: SoilLayer) -> KgPerHa<Q> {
        KgPerHa::raw(
            self.0
                * layer.depth_cm
                * layer.bulk_density_g_per_cm3
                * KG_PER_HA_PER_MG_PER_KG_CM_GCM3,
        )
    }

    /// mg/kg and ppm (by mass) are the same number; the types differ only to mark the lab
    /// convention, so the conversion is explicit but exact.
    pub fn to_ppm(self) -> Ppm<Q> {
        Ppm::raw(self.0)
    }
}

impl<Q> Ppm<Q> {
    pub fn to_mg_per_kg(self) -> MgPerKg<Q> {
        MgPerKg::raw(self.0)
    }

    /// US convention: ppm x 2 = lb/acre (2 million lb soil per acre furrow slice).
    pub fn to_lb_per_acre(self) -> LbPerAcre<Q> {
        LbPerAcre::raw(self.0 * LB_PER_ACRE_PER_PPM)
    }
}

/// A soil layer for the general concentration -> stock conversion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoilLayer {
    pub depth_cm: f64,
    pub bulk_density_g_per_cm3: f64,
}

impl SoilLayer {
    /// NY/T 1118-2006 plough layer: 20 cm; 150 000 kg soil per mu implies 1.125 g/cm3.
    pub const PLOUGH_LAYER: SoilLayer = SoilLayer {
        depth_cm: 20.0,
        bulk_density_g_per_cm3: 1.125,
    };
}

// ---- product <-> nutrient ----

/// Mass fraction of nutrient `Q` in a product (0..=1), e.g. urea has `Content::<N>` 0.46.
#[derive(Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64", bound = "")]
pub struct Content<Q>(f64, PhantomData<Q>);

impl<Q> Content<Q> {
    /// # Panics
    /// Outside 0..=1; use [`Self::try_new`] for input.
    #[track_caller]
    pub fn new(fraction: f64) -> Self {
        match Self::try_new(fraction) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn try_new(fraction: f64) -> Result<Self> {
        if fraction.is_finite() && (0.0..=1.0).contains(&fraction) {
            Ok(Self(fraction, PhantomData))
        } else {
            Err(Error::Fraction {
                what: "nutrient content",
                value: fraction,
            })
        }
    }

    /// From a label percentage (46 for urea).
    pub fn from_percent(percent: f64) -> Result<Self> {
        Self::try_new(percent / 100.0)
    }

    pub fn value(self) -> f64 {
        self.0
    }

    pub fn percent(self) -> f64 {
        self.0 * 100.0
    }

    pub fn erase(self) -> Content<AnyNutrient> {
        Content(self.0, PhantomData)
    }
}

impl<Q> Clone for Content<Q> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<Q> Copy for Content<Q> {}
impl<Q> PartialEq for Content<Q> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<Q> fmt::Debug for Content<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, short_type_name::<Q>())
    }
}
impl<Q> TryFrom<f64> for Content<Q> {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_new(value)
    }
}
impl<Q> From<Content<Q>> for f64 {
    fn from(c: Content<Q>) -> f64 {
        c.0
    }
}

macro_rules! product_nutrient {
    ($name:ident) => {
        impl $name<Product> {
            /// Nutrient in this much product.
            pub fn nutrient<Q>(self, content: Content<Q>) -> $name<Q> {
                $name::raw(self.0 * content.0)
            }
        }
        impl<Q> $name<Q> {
            /// Product needed to carry this much nutrient; `None` if the product has none.
            pub fn product(self, content: Content<Q>) -> Option<$name<Product>> {
                (content.0 > 0.0).then(|| $name::raw(self.0 / content.0))
            }
        }
    };
}
product_nutrient!(Kg);
product_nutrient!(KgPerMu);
product_nutrient!(KgPerHa);

// ---- crop uptake ----

/// kg of nutrient `Q` taken up per kg of economic yield (the table gives it per 100 kg).
#[derive(Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64", bound = "")]
pub struct Uptake<Q>(f64, PhantomData<Q>);

impl<Q> Uptake<Q> {
    /// # Panics
    /// If negative or not finite.
    #[track_caller]
    pub fn per_kg(value: f64) -> Self {
        match Self::try_per_kg(value) {
            Ok(u) => u,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn try_per_kg(value: f64) -> Result<Self> {
        checked(value, "kg nutrient/kg yield").map(|v| Self(v, PhantomData))
    }

    /// From the textbook's "kg per 100 kg yield".
    pub fn per_100kg(value: f64) -> Result<Self> {
        Self::try_per_kg(value / 100.0)
    }

    pub fn value(self) -> f64 {
        self.0
    }

    /// Nutrient taken up by a yield.
    pub fn of(self, yield_rate: KgPerMu<Yield>) -> KgPerMu<Q> {
        KgPerMu::raw(self.0 * yield_rate.0)
    }
}

impl<Q> Clone for Uptake<Q> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<Q> Copy for Uptake<Q> {}
impl<Q> fmt::Debug for Uptake<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kg {}/kg yield", self.0, short_type_name::<Q>())
    }
}
impl<Q> TryFrom<f64> for Uptake<Q> {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_per_kg(value)
    }
}
impl<Q> From<Uptake<Q>> for f64 {
    fn from(u: Uptake<Q>) -> f64 {
        u.0
    }
}

// ---- validated scalars used by several methods ----

/// First-season recovery rate of fertiliser nutrient, in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct RecoveryRate(f64);

impl RecoveryRate {
    pub fn try_new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 && value <= 1.0 {
            Ok(Self(value))
        } else {
            Err(Error::Fraction {
                what: "recovery rate (must be in (0, 1])",
                value,
            })
        }
    }

    /// # Panics
    /// Outside (0, 1].
    #[track_caller]
    pub fn new(value: f64) -> Self {
        match Self::try_new(value) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for RecoveryRate {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_new(value)
    }
}
impl From<RecoveryRate> for f64 {
    fn from(r: RecoveryRate) -> f64 {
        r.0
    }
}

/// A share in (0, 1] (legume N factor, over-supply fractions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Share(f64);

impl Share {
    pub fn try_new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 && value <= 1.0 {
            Ok(Self(value))
        } else {
            Err(Error::Fraction {
                what: "share (must be in (0, 1])",
                value,
            })
        }
    }

    /// # Panics
    /// Outside (0, 1].
    #[track_caller]
    pub fn new(value: f64) -> Self {
        match Self::try_new(value) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Share {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_new(value)
    }
}
impl From<Share> for f64 {
    fn from(r: Share) -> f64 {
        r.0
    }
}

/// A strictly positive finite number (correction coefficients, unit factors, pH-free scalars).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Positive(f64);

impl Positive {
    pub fn try_new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(Error::NotPositive { value })
        }
    }

    /// # Panics
    /// If not > 0.
    #[track_caller]
    pub fn new(value: f64) -> Self {
        match Self::try_new(value) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Positive {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_new(value)
    }
}
impl From<Positive> for f64 {
    fn from(r: Positive) -> f64 {
        r.0
    }
}

/// A soil pH on the 0-14 scale.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Ph(f64);

impl Ph {
    pub fn try_new(value: f64) -> Result<Self> {
        if value.is_finite() && (0.0..=14.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(Error::Ph { value })
        }
    }

    /// # Panics
    /// Outside 0..=14.
    #[track_caller]
    pub fn new(value: f64) -> Self {
        match Self::try_new(value) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Ph {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::try_new(value)
    }
}
impl From<Ph> for f64 {
    fn from(r: Ph) -> f64 {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plough_layer_general_form_agrees_with_0_15() {
        // 0.15 kg/mu per mg/kg = 2.25 kg/ha per mg/kg = 20 cm x 1.125 g/cm3 x 0.1.
        let t = MgPerKg::<N>::new(60.0);
        let a = t.plough_layer_kg_per_mu().to_kg_per_ha().value();
        let b = t.stock_kg_per_ha(SoilLayer::PLOUGH_LAYER).value();
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        assert!((a - 135.0).abs() < 1e-9);
    }

    #[test]
    fn us_conversions() {
        let kg_ha = Ppm::<P>::new(10.0).to_lb_per_acre().to_kg_per_ha();
        assert!((kg_ha.value() - 22.417).abs() < 1e-9);
        let lime = UsTonPerAcre::<Lime>::new(1.0)
            .to_lb_per_acre()
            .to_kg_per_ha();
        assert!((lime.value() - 2241.7).abs() < 1e-9);
    }

    #[test]
    fn rejects_negative_and_nan() {
        assert!(KgPerMu::<N>::try_new(-1.0).is_err());
        assert!(KgPerMu::<N>::try_new(f64::NAN).is_err());
        assert!(serde_json::from_str::<KgPerMu<N>>("-3").is_err());
        assert!(RecoveryRate::try_new(0.0).is_err());
        assert!(RecoveryRate::try_new(1.0).is_ok());
        assert!(Content::<N>::from_percent(101.0).is_err());
    }
}
