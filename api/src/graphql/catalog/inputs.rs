//! The catalog's input objects: the product filter and sort, and what creates or edits products, producers and packs.

use super::*;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ProductSort {
    /// Newest listings first.
    #[default]
    Newest,
    /// By Chinese name (code-point order).
    NameZh,
    NameEn,
    /// Lowest active offer first (of the filtered dealer, if any); unoffered products last.
    PriceLow,
}

impl From<ProductSort> for SortBy {
    fn from(s: ProductSort) -> Self {
        match s {
            ProductSort::Newest => SortBy::Newest,
            ProductSort::NameZh => SortBy::NameZh,
            ProductSort::NameEn => SortBy::NameEn,
            ProductSort::PriceLow => SortBy::PriceLow,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    pub(crate) category: Option<CategoryGql>,
    /// Words in Chinese or English: names, registration number, variety, active ingredient,
    /// pest or disease.
    pub(crate) text: Option<String>,
    /// A crop code (`RICE`) or name (`水稻`, `rice`): seeds of it and pesticides registered on it.
    pub(crate) crop: Option<String>,
    /// A pest or disease among registered uses (`稻飞虱`, `planthopper`).
    pub(crate) target: Option<String>,
    #[graphql(name = "minNPct")]
    pub(crate) min_n_pct: Option<f64>,
    #[graphql(name = "minP2o5Pct")]
    pub(crate) min_p2o5_pct: Option<f64>,
    #[graphql(name = "minK2oPct")]
    pub(crate) min_k2o_pct: Option<f64>,
    /// Sold by a dealer that delivers to this village.
    pub(crate) village_id: Option<ID>,
    /// Sold by this dealer.
    pub(crate) dealer_id: Option<ID>,
    pub(crate) restricted_use: Option<bool>,
}

#[derive(InputObject)]
pub struct ElementInput {
    element: String,
    pct: f64,
}

#[derive(InputObject)]
pub struct FertiliserSpecInput {
    /// STRAIGHT_N, STRAIGHT_P, STRAIGHT_K, COMPOUND, ORGANIC, MICROBIAL, WATER_SOLUBLE or LIME (a liming
    /// soil conditioner, its calcium in `secondary.Ca`).
    fertiliser_type: String,
    #[graphql(name = "nPct")]
    n_pct: f64,
    #[graphql(name = "p2o5Pct")]
    p2o5_pct: f64,
    #[graphql(name = "k2oPct")]
    k2o_pct: f64,
    #[graphql(default)]
    secondary: Vec<ElementInput>,
    #[graphql(default)]
    organic_matter_pct: f64,
    /// GRANULAR, POWDER, LIQUID, CRYSTAL or PRILLED.
    form: String,
    /// NONE, LOW, CHLORIDE or SULPHATE_BASED.
    chloride: String,
}

#[derive(InputObject)]
pub struct SeedSpecInput {
    crop: String,
    variety_zh: String,
    variety_en: String,
    approval_no: String,
    germination_pct: f64,
    purity_pct: f64,
    moisture_pct: f64,
}

#[derive(InputObject)]
pub struct ActiveInput {
    name_zh: String,
    name_en: String,
    content: f64,
    /// `%` or `g/L`.
    content_unit: String,
}

#[derive(InputObject)]
pub struct PesticideUseInput {
    crop: String,
    target_zh: String,
    target_en: String,
    dose_min: f64,
    dose_max: f64,
    /// `g/mu` or `ml/mu`.
    dose_unit: String,
    phi_days: i32,
    max_applications: i32,
}

#[derive(InputObject)]
pub struct PesticideSpecInput {
    formulation: String,
    formulation_zh: String,
    /// LOW, MODERATE, HIGH or SEVERE.
    toxicity: String,
    actives: Vec<ActiveInput>,
    uses: Vec<PesticideUseInput>,
}

#[derive(InputObject)]
pub struct ProductInput {
    category: CategoryGql,
    producer_id: ID,
    name_zh: String,
    name_en: String,
    #[graphql(default)]
    description_zh: String,
    #[graphql(default)]
    description_en: String,
    registration_no: Option<String>,
    #[graphql(default)]
    registration_exempt: bool,
    #[graphql(default)]
    restricted_use: bool,
    fertiliser: Option<FertiliserSpecInput>,
    seed: Option<SeedSpecInput>,
    pesticide: Option<PesticideSpecInput>,
}

impl ProductInput {
    pub(crate) fn into_domain(self) -> domain::Result<catalog::ProductInput> {
        let producer_id = parse_gid("producerId", "Producer", &self.producer_id)?;
        Ok(catalog::ProductInput {
            category: Category::from(self.category).as_str().into(),
            producer_id,
            name_zh: self.name_zh,
            name_en: self.name_en,
            description_zh: self.description_zh,
            description_en: self.description_en,
            registration_no: self.registration_no,
            registration_exempt: self.registration_exempt,
            restricted_use: self.restricted_use,
            fertiliser: self.fertiliser.map(|f| catalog::FertiliserInput {
                fertiliser_type: f.fertiliser_type,
                n_pct: f.n_pct,
                p2o5_pct: f.p2o5_pct,
                k2o_pct: f.k2o_pct,
                secondary: f
                    .secondary
                    .into_iter()
                    .map(|e| (e.element, e.pct))
                    .collect(),
                organic_matter_pct: f.organic_matter_pct,
                form: f.form,
                chloride: f.chloride,
            }),
            seed: self.seed.map(|s| catalog::SeedInput {
                crop: s.crop,
                variety_zh: s.variety_zh,
                variety_en: s.variety_en,
                approval_no: s.approval_no,
                germination_pct: s.germination_pct,
                purity_pct: s.purity_pct,
                moisture_pct: s.moisture_pct,
            }),
            pesticide: self.pesticide.map(|p| catalog::PesticideInput {
                formulation: p.formulation,
                formulation_zh: p.formulation_zh,
                toxicity: p.toxicity,
                actives: p
                    .actives
                    .into_iter()
                    .map(|a| catalog::Active {
                        name_zh: a.name_zh,
                        name_en: a.name_en,
                        content: a.content,
                        content_unit: a.content_unit,
                    })
                    .collect(),
                uses: p
                    .uses
                    .into_iter()
                    .map(|u| catalog::UseInput {
                        crop: u.crop,
                        target_zh: u.target_zh,
                        target_en: u.target_en,
                        dose_min: u.dose_min,
                        dose_max: u.dose_max,
                        dose_unit: u.dose_unit,
                        phi_days: u.phi_days,
                        max_applications: u.max_applications,
                    })
                    .collect(),
            }),
        })
    }
}

#[derive(InputObject)]
pub struct ProducerInput {
    pub(crate) name_zh: String,
    pub(crate) name_en: String,
    pub(crate) address: String,
    pub(crate) licence_no: Option<String>,
}

#[derive(InputObject)]
pub struct SkuInput {
    pub(crate) pack_size: f64,
    /// kg, g, L or ml.
    pub(crate) pack_unit: String,
    pub(crate) gtin: Option<String>,
}
