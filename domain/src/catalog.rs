//! The catalog: producers, products whose attributes depend on their category (fertiliser, seed,
//! pesticide), pack sizes (SKUs) and dealers' priced offers. Validated per RULES.md.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{Actor, Role};
use crate::entities::{
    dealer_service_area, fertiliser_spec, offer, pesticide_spec, pesticide_use, producer, product,
    seed_spec, sku,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::regions::{self, LicenceKind};
use crate::types::{self, Analysis, Fen, FertiliserRegNo, Gtin, PesticideRegNo, SeedApprovalNo};

/// `40 kg`, `500 ml`.
pub fn pack_label(s: &sku::Model) -> String {
    if s.pack_size.fract() == 0.0 {
        format!("{:.0} {}", s.pack_size, s.pack_unit)
    } else {
        format!("{} {}", s.pack_size, s.pack_unit)
    }
}

pub mod crops {
    //! Crop codes shared by seed specs, pesticide uses and the advisor. The crops the advisor
    //! can plan come from its table (advisor/data/crops.toml); the catalog adds only the crops
    //! it lists that the advisor has no uptake data for.

    use std::sync::LazyLock;

    /// (code, zh, en, horticultural: vegetables, fruit, tea, fungi or herbs, for which highly
    /// toxic pesticides are never allowed: RULES.md rule 9).
    pub type Crop = (&'static str, &'static str, &'static str, bool);

    /// Crops of the catalog (pesticide uses, seeds) that the advisor has no uptake data for,
    /// so no fertiliser plan: they are not in advisor/data/crops.toml.
    const CATALOG_ONLY: &[Crop] = &[
        ("CITRUS", "柑橘", "citrus", true),
        ("TEA", "茶", "tea", true),
    ];

    /// Every crop: the advisor's, in its order, then the catalog's own.
    pub static CROPS: LazyLock<Vec<Crop>> = LazyLock::new(|| {
        advisor::data::tables()
            .crops
            .iter()
            .map(|c| {
                (
                    c.code.as_str(),
                    c.zh.as_str(),
                    c.name_en.as_str(),
                    c.horticultural,
                )
            })
            .chain(CATALOG_ONLY.iter().copied())
            .collect()
    });

    pub fn find(code: &str) -> Option<&'static Crop> {
        CROPS.iter().find(|c| c.0 == code)
    }

    /// Resolves a code, or a zh/en crop name, to its code. The advisor's key ("winter_wheat")
    /// and its English name with the yield basis ("peanut (pods)") resolve too.
    pub fn resolve(s: &str) -> Option<&'static str> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        CROPS
            .iter()
            .find(|c| c.0.eq_ignore_ascii_case(t) || c.1 == t || c.2.eq_ignore_ascii_case(t))
            .map(|c| c.0)
            .or_else(|| {
                advisor::data::tables()
                    .crops
                    .iter()
                    .find(|c| c.key.eq_ignore_ascii_case(t) || c.en.eq_ignore_ascii_case(t))
                    .map(|c| c.code.as_str())
            })
    }

    /// The advisor's key for a catalog crop code, when the advisor can plan it.
    pub fn advisor_key(code: &str) -> Option<&'static str> {
        advisor::data::tables()
            .crop_by_code(code)
            .map(|c| c.key.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Fertiliser,
    Seed,
    Pesticide,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Fertiliser => "FERTILISER",
            Category::Seed => "SEED",
            Category::Pesticide => "PESTICIDE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "FERTILISER" => Category::Fertiliser,
            "SEED" => Category::Seed,
            "PESTICIDE" => Category::Pesticide,
            _ => return None,
        })
    }
}

pub const FERTILISER_TYPES: &[&str] = &[
    "STRAIGHT_N",
    "STRAIGHT_P",
    "STRAIGHT_K",
    "COMPOUND",
    "ORGANIC",
    "MICROBIAL",
    "WATER_SOLUBLE",
];
pub const FORMS: &[&str] = &["GRANULAR", "POWDER", "LIQUID", "CRYSTAL", "PRILLED"];
pub const CHLORIDE: &[&str] = &["NONE", "LOW", "CHLORIDE", "SULPHATE_BASED"];
pub const TOXICITY: &[&str] = &["LOW", "MODERATE", "HIGH", "SEVERE"];
pub const DOSE_UNITS: &[&str] = &["g/mu", "ml/mu"];
pub const PACK_UNITS: &[&str] = &["kg", "g", "L", "ml"];
const SECONDARY: &[&str] = &["Ca", "Mg", "S", "Zn", "B", "Mn", "Fe", "Cu", "Mo", "Si"];

#[derive(Clone, Debug, Default, Deserialize)]
pub struct FertiliserInput {
    pub fertiliser_type: String,
    pub n_pct: f64,
    pub p2o5_pct: f64,
    pub k2o_pct: f64,
    #[serde(default)]
    pub secondary: BTreeMap<String, f64>,
    #[serde(default)]
    pub organic_matter_pct: f64,
    pub form: String,
    pub chloride: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SeedInput {
    pub crop: String,
    pub variety_zh: String,
    pub variety_en: String,
    pub approval_no: String,
    pub germination_pct: f64,
    pub purity_pct: f64,
    pub moisture_pct: f64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Active {
    pub name_zh: String,
    pub name_en: String,
    pub content: f64,
    /// `%` or `g/L`.
    pub content_unit: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct UseInput {
    pub crop: String,
    pub target_zh: String,
    pub target_en: String,
    pub dose_min: f64,
    pub dose_max: f64,
    pub dose_unit: String,
    pub phi_days: i32,
    pub max_applications: i32,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PesticideInput {
    pub formulation: String,
    pub formulation_zh: String,
    pub toxicity: String,
    pub actives: Vec<Active>,
    pub uses: Vec<UseInput>,
}

#[derive(Clone, Debug)]
pub struct ProductInput {
    pub category: String,
    pub producer_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub description_zh: String,
    pub description_en: String,
    pub registration_no: Option<String>,
    pub registration_exempt: bool,
    pub restricted_use: bool,
    pub fertiliser: Option<FertiliserInput>,
    pub seed: Option<SeedInput>,
    pub pesticide: Option<PesticideInput>,
}

/// A product input that passed every rule.
struct ValidProduct {
    category: Category,
    name_zh: String,
    name_en: String,
    registration_no: Option<String>,
}

fn one_of(errs: &mut Errors, field: &str, v: &str, allowed: &[&str]) {
    if !allowed.contains(&v) {
        errs.push(FieldError::new(
            field,
            Code::InvalidFormat,
            format!("取值应为 {} 之一", allowed.join("、")),
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

fn validate(p: &ProductInput) -> Result<ValidProduct> {
    let mut errs = Errors::new();
    let category = Category::parse(&p.category);
    if category.is_none() {
        one_of(
            &mut errs,
            "category",
            &p.category,
            &["FERTILISER", "SEED", "PESTICIDE"],
        );
    }
    let name_zh = errs.take(types::name("nameZh", &p.name_zh, 80));
    let name_en = errs.take(types::name("nameEn", &p.name_en, 160));
    for (f, d) in [
        ("descriptionZh", &p.description_zh),
        ("descriptionEn", &p.description_en),
    ] {
        if d.chars().count() > 2000 {
            errs.push(FieldError::new(
                f,
                Code::TooLong,
                "不能超过 2000 个字符",
                "must be at most 2000 characters",
            ));
        }
    }
    let spec_count = [
        p.fertiliser.is_some(),
        p.seed.is_some(),
        p.pesticide.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let mut registration_no = None;
    match category {
        Some(Category::Fertiliser) => {
            if let Some(f) = &p.fertiliser {
                let organic = matches!(f.fertiliser_type.as_str(), "ORGANIC" | "MICROBIAL");
                one_of(
                    &mut errs,
                    "fertiliser.fertiliserType",
                    &f.fertiliser_type,
                    FERTILISER_TYPES,
                );
                one_of(&mut errs, "fertiliser.form", &f.form, FORMS);
                one_of(&mut errs, "fertiliser.chloride", &f.chloride, CHLORIDE);
                match Analysis::checked("fertiliser", f.n_pct, f.p2o5_pct, f.k2o_pct, !organic) {
                    Ok(a) => {
                        let expect_one = match f.fertiliser_type.as_str() {
                            "STRAIGHT_N" => Some(a.n > 0.0 && a.p2o5 == 0.0 && a.k2o == 0.0),
                            "STRAIGHT_P" => Some(a.p2o5 > 0.0 && a.n == 0.0 && a.k2o == 0.0),
                            "STRAIGHT_K" => Some(a.k2o > 0.0 && a.n == 0.0 && a.p2o5 == 0.0),
                            "COMPOUND" => Some(a.declared_count() >= 2),
                            _ => None,
                        };
                        if expect_one == Some(false) {
                            errs.push(FieldError::new("fertiliser", Code::InvalidAnalysis, "养分标识与肥料类型不符（单质肥只含一种大量元素，复合肥至少两种）", "analysis does not match the fertiliser type (a straight has one nutrient, a compound at least two)"));
                        }
                    }
                    Err(es) => errs.extend(es),
                }
                for (k, v) in &f.secondary {
                    if !SECONDARY.contains(&k.as_str()) {
                        errs.push(FieldError::new(
                            format!("fertiliser.secondary.{k}"),
                            Code::InvalidFormat,
                            "未知的中微量元素",
                            "unknown secondary or trace element",
                        ));
                    } else if let Err(e) = types::percent(&format!("fertiliser.secondary.{k}"), *v)
                    {
                        errs.push(e);
                    }
                }
                if let Err(e) = types::percent("fertiliser.organicMatterPct", f.organic_matter_pct)
                {
                    errs.push(e);
                }
                // Exempt (肥料登记管理办法, art. 11 as commonly reproduced; unconfirmed against the
                // gazette text): long-used products with a national or sector standard, i.e.
                // straights, simple salts (DAP, KH2PO4, KNO3: two nutrients) and high-concentration
                // compounds (total >= 40 %). Organic, microbial and water-soluble products are not.
                if p.registration_exempt {
                    let declared = [f.n_pct, f.p2o5_pct, f.k2o_pct]
                        .iter()
                        .filter(|v| **v > 0.0)
                        .count();
                    let simple = f.fertiliser_type.starts_with("STRAIGHT_")
                        || (f.fertiliser_type == "COMPOUND"
                            && (declared == 2 || f.n_pct + f.p2o5_pct + f.k2o_pct >= 40.0));
                    if !simple {
                        errs.push(FieldError::new("registrationExempt", Code::InvalidRegistration, "只有尿素、磷酸二铵等单质肥料、简单化合物和高浓度复合肥可免于登记", "only straights, simple salts (urea, DAP ...) and high-concentration compounds are exempt from registration"));
                    }
                    if p.registration_no
                        .as_deref()
                        .is_some_and(|r| !r.trim().is_empty())
                    {
                        errs.push(FieldError::new(
                            "registrationNo",
                            Code::InvalidRegistration,
                            "免登记产品不应填写登记证号",
                            "an exempt product has no registration number",
                        ));
                    }
                } else {
                    match p
                        .registration_no
                        .as_deref()
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                    {
                        None => errs.push(FieldError::new(
                            "registrationNo",
                            Code::Required,
                            "请填写肥料登记证号，或标明免于登记",
                            "a fertiliser needs a registration number or an exemption",
                        )),
                        Some(r) => {
                            registration_no = errs
                                .take(FertiliserRegNo::parse("registrationNo", r))
                                .map(|r| r.as_str().to_owned())
                        }
                    }
                }
            } else {
                errs.push(FieldError::new(
                    "fertiliser",
                    Code::MissingSpec,
                    "肥料须填写养分等规格",
                    "a fertiliser needs its analysis and spec",
                ));
            }
        }
        Some(Category::Seed) => match &p.seed {
            Some(s) => {
                if crops::find(&s.crop).is_none() {
                    errs.push(FieldError::new(
                        "seed.crop",
                        Code::InvalidFormat,
                        "未知作物",
                        "unknown crop",
                    ));
                }
                errs.take(types::name("seed.varietyZh", &s.variety_zh, 60));
                errs.take(types::name("seed.varietyEn", &s.variety_en, 100));
                let a = errs.take(SeedApprovalNo::parse("seed.approvalNo", &s.approval_no));
                for (f, v) in [
                    ("seed.germinationPct", s.germination_pct),
                    ("seed.purityPct", s.purity_pct),
                    ("seed.moisturePct", s.moisture_pct),
                ] {
                    errs.take(types::percent(f, v));
                }
                if p.registration_exempt {
                    errs.push(FieldError::new(
                        "registrationExempt",
                        Code::InvalidRegistration,
                        "种子必须有审定或登记编号",
                        "seed must have a variety approval or registration",
                    ));
                }
                registration_no = a.map(|a| a.as_str().to_owned());
            }
            None => errs.push(FieldError::new(
                "seed",
                Code::MissingSpec,
                "种子须填写作物、品种和质量指标",
                "a seed needs crop, variety and quality figures",
            )),
        },
        Some(Category::Pesticide) => match &p.pesticide {
            Some(x) => {
                match p
                    .registration_no
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                {
                    None => errs.push(FieldError::new(
                        "registrationNo",
                        Code::Required,
                        "农药必须有登记证号",
                        "a pesticide needs its registration number",
                    )),
                    Some(r) => {
                        registration_no = errs
                            .take(PesticideRegNo::parse("registrationNo", r))
                            .map(|r| r.as_str().to_owned())
                    }
                }
                if p.registration_exempt {
                    errs.push(FieldError::new(
                        "registrationExempt",
                        Code::InvalidRegistration,
                        "农药不能免于登记",
                        "pesticides are never exempt from registration",
                    ));
                }
                errs.take(types::name("pesticide.formulation", &x.formulation, 10));
                errs.take(types::name(
                    "pesticide.formulationZh",
                    &x.formulation_zh,
                    20,
                ));
                one_of(&mut errs, "pesticide.toxicity", &x.toxicity, TOXICITY);
                if x.actives.is_empty() {
                    errs.push(FieldError::new(
                        "pesticide.actives",
                        Code::Required,
                        "至少填写一种有效成分",
                        "at least one active ingredient is required",
                    ));
                }
                for (i, a) in x.actives.iter().enumerate() {
                    let f = format!("pesticide.actives.{i}");
                    errs.take(types::name(&format!("{f}.nameZh"), &a.name_zh, 40));
                    errs.take(types::name(&format!("{f}.nameEn"), &a.name_en, 80));
                    one_of(
                        &mut errs,
                        &format!("{f}.contentUnit"),
                        &a.content_unit,
                        &["%", "g/L"],
                    );
                    let max = if a.content_unit == "%" { 100.0 } else { 1000.0 };
                    if !(a.content.is_finite() && a.content > 0.0 && a.content <= max) {
                        errs.push(FieldError::new(
                            format!("{f}.content"),
                            Code::OutOfRange,
                            "有效成分含量超出范围",
                            "active ingredient content out of range",
                        ));
                    }
                }
                if x.uses.is_empty() {
                    errs.push(FieldError::new(
                        "pesticide.uses",
                        Code::Required,
                        "至少填写一项登记用途（作物、防治对象、用药量）",
                        "at least one registered use (crop, target, dose) is required",
                    ));
                }
                let highly_toxic = matches!(x.toxicity.as_str(), "HIGH" | "SEVERE");
                for (i, u) in x.uses.iter().enumerate() {
                    let f = format!("pesticide.uses.{i}");
                    match crops::find(&u.crop) {
                        None => errs.push(FieldError::new(format!("{f}.crop"), Code::InvalidFormat, "未知作物", "unknown crop")),
                        Some(c) if c.3 && highly_toxic => errs.push(FieldError::new(format!("{f}.crop"), Code::OutOfRange, "高毒、剧毒农药不得用于蔬菜、瓜果、茶叶、菌类和中草药", "highly toxic pesticides are never registered for vegetables, fruit, tea, fungi or herbs")),
                        _ => {}
                    }
                    errs.take(types::name(&format!("{f}.targetZh"), &u.target_zh, 40));
                    errs.take(types::name(&format!("{f}.targetEn"), &u.target_en, 80));
                    one_of(
                        &mut errs,
                        &format!("{f}.doseUnit"),
                        &u.dose_unit,
                        DOSE_UNITS,
                    );
                    if !(u.dose_min.is_finite()
                        && u.dose_max.is_finite()
                        && u.dose_min > 0.0
                        && u.dose_min <= u.dose_max)
                    {
                        errs.push(FieldError::new(
                            format!("{f}.doseMin"),
                            Code::OutOfRange,
                            "用药量范围无效（应 0 < 最小 ≤ 最大）",
                            "dose range is invalid (need 0 < min <= max)",
                        ));
                    }
                    if !(0..=365).contains(&u.phi_days) {
                        errs.push(FieldError::new(
                            format!("{f}.phiDays"),
                            Code::OutOfRange,
                            "安全间隔期应在 0 到 365 天之间",
                            "pre-harvest interval must be 0 to 365 days",
                        ));
                    }
                    if !(1..=20).contains(&u.max_applications) {
                        errs.push(FieldError::new(
                            format!("{f}.maxApplications"),
                            Code::OutOfRange,
                            "每季最多使用次数应在 1 到 20 之间",
                            "maximum applications per season must be 1 to 20",
                        ));
                    }
                }
            }
            None => errs.push(FieldError::new(
                "pesticide",
                Code::MissingSpec,
                "农药须填写有效成分、剂型、毒性和登记用途",
                "a pesticide needs actives, formulation, toxicity and registered uses",
            )),
        },
        None => {}
    }
    if category.is_some() && spec_count > 1 {
        errs.push(FieldError::new(
            "category",
            Code::MissingSpec,
            "只能填写与类别对应的一种规格",
            "give only the spec that matches the category",
        ));
    }
    if p.restricted_use && category != Some(Category::Pesticide) {
        errs.push(FieldError::new(
            "restrictedUse",
            Code::OutOfRange,
            "只有农药可以是限制使用",
            "only pesticides can be restricted-use",
        ));
    }
    errs.finish()?;
    Ok(ValidProduct {
        category: category.unwrap(),
        name_zh: name_zh.unwrap(),
        name_en: name_en.unwrap(),
        registration_no,
    })
}

fn may_edit_catalog(actor: &Actor) -> bool {
    actor.is_admin() || actor.role == Role::Dealer
}

pub struct NewProducer {
    pub name_zh: String,
    pub name_en: String,
    pub address: String,
    pub licence_no: Option<String>,
}

pub async fn create_producer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewProducer,
) -> Result<producer::Model> {
    actor.require(may_edit_catalog(actor))?;
    insert_producer(db, new).await
}

pub async fn insert_producer(
    db: &impl ConnectionTrait,
    new: NewProducer,
) -> Result<producer::Model> {
    let mut errs = Errors::new();
    let zh = errs.take(types::name("nameZh", &new.name_zh, 80));
    let en = errs.take(types::name("nameEn", &new.name_en, 160));
    let addr = errs.take(types::name("address", &new.address, 200));
    errs.finish()?;
    Ok(producer::ActiveModel {
        name_zh: Set(zh.unwrap()),
        name_en: Set(en.unwrap()),
        address: Set(addr.unwrap()),
        licence_no: Set(new
            .licence_no
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Creates a product with its category spec (admins and dealers).
pub async fn create_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: ProductInput,
) -> Result<product::Model> {
    actor.require(may_edit_catalog(actor))?;
    let txn = crate::begin_write(db).await?;
    let p = insert_product(
        &txn,
        input,
        if actor.role == Role::Dealer {
            actor.dealer_id
        } else {
            None
        },
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// Inserts a product and its spec rows. Call inside a transaction.
pub async fn insert_product(
    db: &impl ConnectionTrait,
    input: ProductInput,
    created_by_dealer: Option<i64>,
) -> Result<product::Model> {
    let v = validate(&input)?;
    producer_exists(db, input.producer_id).await?;
    let now = crate::now();
    let p = product::ActiveModel {
        category: Set(v.category.as_str().into()),
        producer_id: Set(input.producer_id),
        name_zh: Set(v.name_zh),
        name_en: Set(v.name_en),
        description_zh: Set(input.description_zh.trim().into()),
        description_en: Set(input.description_en.trim().into()),
        registration_no: Set(v.registration_no),
        registration_exempt: Set(input.registration_exempt),
        restricted_use: Set(input.restricted_use),
        status: Set("ACTIVE".into()),
        created_by_dealer_id: Set(created_by_dealer),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_spec(db, p.id, &input).await?;
    Ok(p)
}

async fn producer_exists(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    producer::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| {
            Error::invalid(
                "producerId",
                Code::UnknownReference,
                "生产企业不存在",
                "no such producer",
            )
        })
}

async fn write_spec(
    db: &impl ConnectionTrait,
    product_id: i64,
    input: &ProductInput,
) -> Result<()> {
    fertiliser_spec::Entity::delete_many()
        .filter(fertiliser_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    seed_spec::Entity::delete_many()
        .filter(seed_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    pesticide_spec::Entity::delete_many()
        .filter(pesticide_spec::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    pesticide_use::Entity::delete_many()
        .filter(pesticide_use::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    if let Some(f) = &input.fertiliser {
        fertiliser_spec::ActiveModel {
            product_id: Set(product_id),
            fertiliser_type: Set(f.fertiliser_type.clone()),
            n_pct: Set(f.n_pct),
            p2o5_pct: Set(f.p2o5_pct),
            k2o_pct: Set(f.k2o_pct),
            secondary: Set(
                serde_json::to_value(&f.secondary).map_err(|e| Error::Internal(e.to_string()))?
            ),
            organic_matter_pct: Set(f.organic_matter_pct),
            form: Set(f.form.clone()),
            chloride: Set(f.chloride.clone()),
        }
        .insert(db)
        .await?;
    }
    if let Some(s) = &input.seed {
        seed_spec::ActiveModel {
            product_id: Set(product_id),
            crop: Set(s.crop.clone()),
            variety_zh: Set(s.variety_zh.trim().into()),
            variety_en: Set(s.variety_en.trim().into()),
            approval_no: Set(SeedApprovalNo::parse("", &s.approval_no)
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default()),
            germination_pct: Set(s.germination_pct),
            purity_pct: Set(s.purity_pct),
            moisture_pct: Set(s.moisture_pct),
        }
        .insert(db)
        .await?;
    }
    if let Some(x) = &input.pesticide {
        pesticide_spec::ActiveModel {
            product_id: Set(product_id),
            formulation: Set(x.formulation.trim().into()),
            formulation_zh: Set(x.formulation_zh.trim().into()),
            toxicity: Set(x.toxicity.clone()),
            actives: Set(
                serde_json::to_value(&x.actives).map_err(|e| Error::Internal(e.to_string()))?
            ),
            actives_text: Set(x
                .actives
                .iter()
                .map(|a| format!("{} {}", a.name_zh.trim(), a.name_en.trim()))
                .collect::<Vec<_>>()
                .join(" ")),
        }
        .insert(db)
        .await?;
        for u in &x.uses {
            pesticide_use::ActiveModel {
                product_id: Set(product_id),
                crop: Set(u.crop.clone()),
                target_zh: Set(u.target_zh.trim().into()),
                target_en: Set(u.target_en.trim().into()),
                dose_min: Set(u.dose_min),
                dose_max: Set(u.dose_max),
                dose_unit: Set(u.dose_unit.clone()),
                phi_days: Set(u.phi_days),
                max_applications: Set(u.max_applications),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Replaces a product's data and spec. Admins may edit any product; a dealer only one it created.
pub async fn update_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    input: ProductInput,
) -> Result<product::Model> {
    let existing = product(db, id).await?;
    actor.require(
        actor.is_admin()
            || existing
                .created_by_dealer_id
                .is_some_and(|d| actor.works_for(d)),
    )?;
    let v = validate(&input)?;
    if v.category.as_str() != existing.category {
        return Err(Error::invalid(
            "category",
            Code::OutOfRange,
            "不能修改产品类别",
            "a product's category cannot change",
        ));
    }
    producer_exists(db, input.producer_id).await?;
    let txn = crate::begin_write(db).await?;
    let mut am: product::ActiveModel = existing.into();
    am.producer_id = Set(input.producer_id);
    am.name_zh = Set(v.name_zh);
    am.name_en = Set(v.name_en);
    am.description_zh = Set(input.description_zh.trim().into());
    am.description_en = Set(input.description_en.trim().into());
    am.registration_no = Set(v.registration_no);
    am.registration_exempt = Set(input.registration_exempt);
    am.restricted_use = Set(input.restricted_use);
    am.updated_at = Set(crate::now());
    let p = am.update(&txn).await?;
    write_spec(&txn, id, &input).await?;
    txn.commit().await?;
    Ok(p)
}

/// Lists or delists a product (admins).
pub async fn set_product_status(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<product::Model> {
    actor.require(actor.is_admin())?;
    let mut am: product::ActiveModel = product(db, id).await?.into();
    am.status = Set(if active { "ACTIVE" } else { "DELISTED" }.into());
    am.updated_at = Set(crate::now());
    Ok(am.update(db).await?)
}

pub async fn product(db: &impl ConnectionTrait, id: i64) -> Result<product::Model> {
    product::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", id))
}

pub struct SkuInput {
    pub pack_size: f64,
    pub pack_unit: String,
    pub gtin: Option<String>,
}

pub async fn create_sku(
    db: &impl ConnectionTrait,
    actor: &Actor,
    product_id: i64,
    input: SkuInput,
) -> Result<sku::Model> {
    let p = product(db, product_id).await?;
    actor.require(
        actor.is_admin()
            || (actor.role == Role::Dealer
                && p.created_by_dealer_id.is_none_or(|d| actor.works_for(d))),
    )?;
    insert_sku(db, product_id, input).await
}

pub async fn insert_sku(
    db: &impl ConnectionTrait,
    product_id: i64,
    input: SkuInput,
) -> Result<sku::Model> {
    let mut errs = Errors::new();
    if !(input.pack_size.is_finite() && input.pack_size > 0.0 && input.pack_size <= 10_000.0) {
        errs.push(FieldError::new(
            "packSize",
            Code::OutOfRange,
            "包装规格应大于 0",
            "pack size must be greater than 0",
        ));
    }
    one_of(&mut errs, "packUnit", &input.pack_unit, PACK_UNITS);
    let gtin = match input
        .gtin
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        Some(g) => errs
            .take(Gtin::parse("gtin", g))
            .map(|g| g.as_str().to_owned()),
        None => None,
    };
    errs.finish()?;
    sku::ActiveModel {
        product_id: Set(product_id),
        pack_size: Set(input.pack_size),
        pack_unit: Set(input.pack_unit),
        gtin: Set(gtin),
        active: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        crate::accounts::unique_violation(
            e,
            "gtin",
            "该 GTIN 已被其他规格使用",
            "this GTIN is already used by another pack",
        )
    })
}

pub async fn sku(db: &impl ConnectionTrait, id: i64) -> Result<sku::Model> {
    sku::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", id))
}

/// The pack whose barcode (GTIN) this is.
pub async fn pack_by_gtin(db: &impl ConnectionTrait, gtin: &str) -> Result<Option<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::Gtin.eq(gtin.trim()))
        .one(db)
        .await?)
}

/// What a product name and a pack label name.
#[derive(Clone, Debug, PartialEq)]
pub enum PackMatch {
    One(sku::Model),
    /// No product has that name.
    NoProduct,
    /// The product exists but has no such pack: the pack labels it has.
    NoPack(Vec<String>),
    /// Several products of that name have such a pack (different producers): how many.
    Ambiguous(usize),
}

/// `40kg`, `40 KG`, `40 kg` and `40公斤` all read the same.
fn pack_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .replace("公斤", "kg")
        .replace("千克", "kg")
        .replace("毫升", "ml")
        .replace("克", "g")
        .replace("升", "l")
}

/// Finds a pack by its product's name (Chinese or English, as listed; case and surrounding
/// spaces ignored) and its pack label (`40 kg`, `500 ml`; spaces and case ignored).
pub async fn pack_named(db: &impl ConnectionTrait, name: &str, pack: &str) -> Result<PackMatch> {
    let names = [(name.to_owned(), pack.to_owned())];
    Ok(packs_named(db, &names).await?.remove(0))
}

/// [`pack_named`] for many (product name, pack label) pairs at once, in two statements (per
/// 10 000 distinct names): the answers in the order asked.
pub async fn packs_named(
    db: &impl ConnectionTrait,
    names: &[(String, String)],
) -> Result<Vec<PackMatch>> {
    let wanted: std::collections::BTreeSet<String> = names
        .iter()
        .map(|(n, _)| n.trim().to_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let wanted: Vec<String> = wanted.into_iter().collect();
    let mut products: Vec<product::Model> = vec![];
    for chunk in wanted.chunks(crate::IN_CHUNK) {
        products.extend(
            product::Entity::find()
                .filter(
                    Condition::any()
                        .add(
                            Expr::expr(Func::lower(Expr::col(product::Column::NameZh)))
                                .is_in(chunk.iter().cloned()),
                        )
                        .add(
                            Expr::expr(Func::lower(Expr::col(product::Column::NameEn)))
                                .is_in(chunk.iter().cloned()),
                        ),
                )
                .all(db)
                .await?,
        );
    }
    products.sort_by_key(|p| p.id);
    products.dedup_by_key(|p| p.id);
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let mut skus: Vec<sku::Model> = vec![];
    for chunk in ids.chunks(crate::IN_CHUNK) {
        skus.extend(
            sku::Entity::find()
                .filter(sku::Column::ProductId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    skus.sort_by_key(|s| s.id);
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for p in &products {
        for n in [p.name_zh.to_lowercase(), p.name_en.to_lowercase()] {
            let v = by_name.entry(n).or_default();
            if !v.contains(&p.id) {
                v.push(p.id);
            }
        }
    }
    Ok(names
        .iter()
        .map(|(name, pack)| {
            let n = name.trim().to_lowercase();
            let of = match by_name.get(&n) {
                Some(of) if !n.is_empty() => of,
                _ => return PackMatch::NoProduct,
            };
            let skus: Vec<&sku::Model> =
                skus.iter().filter(|s| of.contains(&s.product_id)).collect();
            let want = pack_key(pack);
            let hits: Vec<&&sku::Model> = skus
                .iter()
                .filter(|s| pack_key(&crate::catalog::pack_label(s)) == want)
                .collect();
            match hits.as_slice() {
                [one] => PackMatch::One((**one).clone()),
                [] => {
                    let mut have: Vec<String> =
                        skus.iter().map(|s| crate::catalog::pack_label(s)).collect();
                    have.dedup();
                    PackMatch::NoPack(have)
                }
                many => PackMatch::Ambiguous(many.len()),
            }
        })
        .collect())
}

/// The packs with these barcodes (normalised GTINs), keyed by barcode, in one statement per
/// 10 000 barcodes.
pub async fn packs_by_gtin(
    db: &impl ConnectionTrait,
    gtins: &[String],
) -> Result<BTreeMap<String, sku::Model>> {
    let mut out = BTreeMap::new();
    for chunk in gtins.chunks(crate::IN_CHUNK) {
        for s in sku::Entity::find()
            .filter(sku::Column::Gtin.is_in(chunk.iter().cloned()))
            .order_by_desc(sku::Column::Id)
            .all(db)
            .await?
        {
            if let Some(g) = s.gtin.clone() {
                out.insert(g, s);
            }
        }
    }
    Ok(out)
}

/// A pack as a person picks it: the product, the pack and what tells it apart.
#[derive(Clone, Debug)]
pub struct PackChoice {
    pub sku: sku::Model,
    pub product: product::Model,
    pub producer_name: String,
}

/// Every active pack of a listed product, by product name: what a receiving form offers.
pub async fn pack_choices(db: &impl ConnectionTrait) -> Result<Vec<PackChoice>> {
    let products: BTreeMap<i64, product::Model> = product::Entity::find()
        .filter(product::Column::Status.eq("ACTIVE"))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let producers: BTreeMap<i64, String> = producer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name_zh))
        .collect();
    let mut out: Vec<PackChoice> = sku::Entity::find()
        .filter(sku::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            let p = products.get(&s.product_id)?.clone();
            Some(PackChoice {
                producer_name: producers.get(&p.producer_id).cloned().unwrap_or_default(),
                sku: s,
                product: p,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.product.name_zh, a.product.id)
            .cmp(&(&b.product.name_zh, b.product.id))
            .then(a.sku.pack_size.total_cmp(&b.sku.pack_size))
    });
    Ok(out)
}

/// Sets a dealer's price for a SKU (creating or updating the offer). Dealers price only for
/// themselves, and only what their licences allow them to sell (RULES.md rule 3).
pub async fn set_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    sku_id: i64,
    price_fen: i64,
    active: bool,
) -> Result<offer::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let s = sku(db, sku_id).await?;
    let p = product(db, s.product_id).await?;
    let price = Fen::parse_positive("priceFen", price_fen).map_err(|e| Error::Invalid(vec![e]))?;
    if active {
        check_licences(db, dealer_id, &p).await?;
    }
    upsert_offer(db, dealer_id, sku_id, price, active).await
}

async fn check_licences(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    p: &product::Model,
) -> Result<()> {
    let today = crate::now().date_naive();
    let needs: &[(LicenceKind, &str, &str)] = match (p.category.as_str(), p.restricted_use) {
        ("PESTICIDE", true) => &[
            (
                LicenceKind::PesticideBusiness,
                "经营农药须持有有效的农药经营许可证",
                "selling pesticides needs a valid pesticide business licence",
            ),
            (
                LicenceKind::RestrictedPesticide,
                "经营限制使用农药须持有有效的限制使用农药经营许可",
                "selling restricted-use pesticides needs a valid restricted-use licence",
            ),
        ],
        ("PESTICIDE", false) => &[(
            LicenceKind::PesticideBusiness,
            "经营农药须持有有效的农药经营许可证",
            "selling pesticides needs a valid pesticide business licence",
        )],
        ("SEED", _) => &[(
            LicenceKind::SeedBusiness,
            "经营种子须持有有效的种子经营许可证",
            "selling seed needs a valid seed business licence",
        )],
        _ => &[],
    };
    for (kind, zh, en) in needs {
        if !regions::holds_licence(db, dealer_id, *kind, today).await? {
            return Err(Error::invalid("skuId", Code::LicenceRequired, *zh, *en));
        }
    }
    Ok(())
}

/// Writes an offer without the actor check (used by the demo loader after its own checks).
pub async fn upsert_offer(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    sku_id: i64,
    price: Fen,
    active: bool,
) -> Result<offer::Model> {
    let now = crate::now();
    let existing = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .filter(offer::Column::SkuId.eq(sku_id))
        .one(db)
        .await?;
    Ok(match existing {
        Some(o) => {
            let mut am: offer::ActiveModel = o.into();
            am.price_fen = Set(price.0);
            am.active = Set(active);
            am.updated_at = Set(now);
            am.update(db).await?
        }
        None => {
            offer::ActiveModel {
                dealer_id: Set(dealer_id),
                sku_id: Set(sku_id),
                price_fen: Set(price.0),
                active: Set(active),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    })
}

/// Filter for catalog search; every field narrows the result.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub category: Option<Category>,
    /// Matches names (zh, en), registration number, variety, active ingredients and targets.
    pub text: Option<String>,
    /// A crop code or name: seeds of that crop and pesticides registered on it.
    pub crop: Option<String>,
    /// A pest or disease (zh or en), among registered uses.
    pub target: Option<String>,
    pub min_n_pct: Option<f64>,
    pub min_p2o5_pct: Option<f64>,
    pub min_k2o_pct: Option<f64>,
    /// Sold (an active offer) by a dealer that serves this village.
    pub village_id: Option<i64>,
    /// Sold by this dealer.
    pub dealer_id: Option<i64>,
    pub restricted_use: Option<bool>,
    /// Also show delisted products (admins).
    pub include_delisted: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Newest,
    NameZh,
    NameEn,
    /// Lowest active offer price of any pack (products without offers last).
    PriceLow,
}

fn like_pattern(s: &str) -> String {
    let escaped = s
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn like(
    col: impl sea_orm::sea_query::IntoColumnRef,
    pattern: &str,
) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern).escape('\\'))
}

/// Products that have an active offer matching `extra` (a condition on `offer` and
/// `dealer_service_area`).
fn sold_where(extra: Condition, with_area: bool) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.column((sku::Entity, sku::Column::ProductId))
        .from(sku::Entity)
        .inner_join(
            offer::Entity,
            Expr::col((offer::Entity, offer::Column::SkuId)).equals((sku::Entity, sku::Column::Id)),
        );
    if with_area {
        q.inner_join(
            dealer_service_area::Entity,
            Expr::col((
                dealer_service_area::Entity,
                dealer_service_area::Column::DealerId,
            ))
            .equals((offer::Entity, offer::Column::DealerId)),
        );
    }
    q.and_where(Expr::col((offer::Entity, offer::Column::Active)).eq(true))
        .cond_where(extra)
        .to_owned()
}

fn filter_condition(f: &ProductFilter) -> Condition {
    let mut c = Condition::all();
    if !f.include_delisted {
        c = c.add(product::Column::Status.eq("ACTIVE"));
    }
    if let Some(cat) = f.category {
        c = c.add(product::Column::Category.eq(cat.as_str()));
    }
    if let Some(t) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = like_pattern(t);
        c = c.add(
            Condition::any()
                .add(like((product::Entity, product::Column::NameZh), &p))
                .add(like((product::Entity, product::Column::NameEn), &p))
                .add(like((product::Entity, product::Column::RegistrationNo), &p))
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(seed_spec::Column::ProductId)
                            .from(seed_spec::Entity)
                            .cond_where(
                                Condition::any()
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::VarietyZh),
                                        &p,
                                    ))
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::VarietyEn),
                                        &p,
                                    ))
                                    .add(like(
                                        (seed_spec::Entity, seed_spec::Column::ApprovalNo),
                                        &p,
                                    )),
                            )
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(pesticide_spec::Column::ProductId)
                            .from(pesticide_spec::Entity)
                            .and_where(
                                Expr::expr(Func::lower(Expr::col(
                                    pesticide_spec::Column::ActivesText,
                                )))
                                .like(LikeExpr::new(&p).escape('\\')),
                            )
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(uses_where(
                        Condition::any()
                            .add(like(
                                (pesticide_use::Entity, pesticide_use::Column::TargetZh),
                                &p,
                            ))
                            .add(like(
                                (pesticide_use::Entity, pesticide_use::Column::TargetEn),
                                &p,
                            )),
                    )),
                ),
        );
    }
    if let Some(crop) = f.crop.as_deref() {
        let code = crops::resolve(crop).unwrap_or("__unknown__");
        c = c.add(
            Condition::any()
                .add(
                    product::Column::Id.in_subquery(
                        Query::select()
                            .column(seed_spec::Column::ProductId)
                            .from(seed_spec::Entity)
                            .and_where(Expr::col(seed_spec::Column::Crop).eq(code))
                            .to_owned(),
                    ),
                )
                .add(
                    product::Column::Id.in_subquery(uses_where(Condition::all().add(
                        Expr::col((pesticide_use::Entity, pesticide_use::Column::Crop)).eq(code),
                    ))),
                ),
        );
    }
    if let Some(t) = f.target.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = like_pattern(t);
        c = c.add(
            product::Column::Id.in_subquery(uses_where(
                Condition::any()
                    .add(like(
                        (pesticide_use::Entity, pesticide_use::Column::TargetZh),
                        &p,
                    ))
                    .add(like(
                        (pesticide_use::Entity, pesticide_use::Column::TargetEn),
                        &p,
                    )),
            )),
        );
    }
    let mut nutrients = Condition::all();
    let mut any_nutrient = false;
    for (min, col) in [
        (f.min_n_pct, fertiliser_spec::Column::NPct),
        (f.min_p2o5_pct, fertiliser_spec::Column::P2o5Pct),
        (f.min_k2o_pct, fertiliser_spec::Column::K2oPct),
    ] {
        if let Some(m) = min {
            nutrients = nutrients.add(Expr::col((fertiliser_spec::Entity, col)).gte(m));
            any_nutrient = true;
        }
    }
    if any_nutrient {
        c = c.add(
            product::Column::Id.in_subquery(
                Query::select()
                    .column(fertiliser_spec::Column::ProductId)
                    .from(fertiliser_spec::Entity)
                    .cond_where(nutrients)
                    .to_owned(),
            ),
        );
    }
    if let Some(v) = f.village_id {
        c = c.add(
            product::Column::Id.in_subquery(sold_where(
                Condition::all().add(
                    Expr::col((
                        dealer_service_area::Entity,
                        dealer_service_area::Column::VillageId,
                    ))
                    .eq(v),
                ),
                true,
            )),
        );
    }
    if let Some(d) = f.dealer_id {
        c = c.add(product::Column::Id.in_subquery(sold_where(
            Condition::all().add(Expr::col((offer::Entity, offer::Column::DealerId)).eq(d)),
            false,
        )));
    }
    if let Some(r) = f.restricted_use {
        c = c.add(product::Column::RestrictedUse.eq(r));
    }
    c
}

fn uses_where(cond: Condition) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((pesticide_use::Entity, pesticide_use::Column::ProductId))
        .from(pesticide_use::Entity)
        .cond_where(cond)
        .to_owned()
}

/// One page of a search: `limit` products from `offset`, and whether more follow.
pub struct Page {
    pub items: Vec<product::Model>,
    pub has_next: bool,
    pub total: u64,
}

pub async fn search(
    db: &impl ConnectionTrait,
    filter: &ProductFilter,
    sort: SortBy,
    offset: u64,
    limit: u64,
) -> Result<Page> {
    let cond = filter_condition(filter);
    let mut q = product::Entity::find().filter(cond.clone());
    q = match sort {
        SortBy::Newest => q.order_by_desc(product::Column::Id),
        SortBy::NameZh => q
            .order_by_asc(product::Column::NameZh)
            .order_by_asc(product::Column::Id),
        SortBy::NameEn => q
            .order_by_asc(product::Column::NameEn)
            .order_by_asc(product::Column::Id),
        SortBy::PriceLow => {
            let mut min_price = Query::select();
            min_price
                .expr(Func::min(Expr::col((
                    offer::Entity,
                    offer::Column::PriceFen,
                ))))
                .from(offer::Entity)
                .inner_join(
                    sku::Entity,
                    Expr::col((sku::Entity, sku::Column::Id))
                        .equals((offer::Entity, offer::Column::SkuId)),
                )
                .and_where(
                    Expr::col((sku::Entity, sku::Column::ProductId))
                        .equals((product::Entity, product::Column::Id)),
                )
                .and_where(Expr::col((offer::Entity, offer::Column::Active)).eq(true));
            if let Some(d) = filter.dealer_id {
                min_price.and_where(Expr::col((offer::Entity, offer::Column::DealerId)).eq(d));
            }
            let sub = Expr::SubQuery(
                None,
                Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(
                    min_price.to_owned(),
                )),
            );
            q.order_by(Func::coalesce([sub, Expr::val(i64::MAX)]), Order::Asc)
                .order_by_asc(product::Column::Id)
        }
    };
    let total = product::Entity::find().filter(cond).count(db).await?;
    let mut items = q.offset(offset).limit(limit + 1).all(db).await?;
    let has_next = items.len() as u64 > limit;
    items.truncate(limit as usize);
    Ok(Page {
        items,
        has_next,
        total,
    })
}

// Batched look-ups for the API's DataLoaders: one statement per relation, whatever the page size.

pub async fn products_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<product::Model>> {
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn producers_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<producer::Model>> {
    Ok(producer::Entity::find()
        .filter(producer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn producers(db: &impl ConnectionTrait) -> Result<Vec<producer::Model>> {
    Ok(producer::Entity::find()
        .order_by_asc(producer::Column::Id)
        .all(db)
        .await?)
}

pub async fn skus_by_products(
    db: &impl ConnectionTrait,
    product_ids: &[i64],
) -> Result<Vec<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::ProductId.is_in(product_ids.iter().copied()))
        .filter(sku::Column::Active.eq(true))
        .order_by_asc(sku::Column::PackSize)
        .all(db)
        .await?)
}

pub async fn skus_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn offers_by_skus(
    db: &impl ConnectionTrait,
    sku_ids: &[i64],
) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::SkuId.is_in(sku_ids.iter().copied()))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::PriceFen)
        .all(db)
        .await?)
}

pub async fn offers_by_dealers(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::DealerId.is_in(dealer_ids.iter().copied()))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?)
}

pub async fn fertiliser_specs(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<fertiliser_spec::Model>> {
    Ok(fertiliser_spec::Entity::find()
        .filter(fertiliser_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn seed_specs(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<seed_spec::Model>> {
    Ok(seed_spec::Entity::find()
        .filter(seed_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn pesticide_specs(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<pesticide_spec::Model>> {
    Ok(pesticide_spec::Entity::find()
        .filter(pesticide_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn uses_by_products(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<pesticide_use::Model>> {
    Ok(pesticide_use::Entity::find()
        .filter(pesticide_use::Column::ProductId.is_in(ids.iter().copied()))
        .order_by_asc(pesticide_use::Column::Id)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------- a dealer's own offers

/// An offer with the pack and product it sells.
#[derive(Clone, Debug)]
pub struct OfferView {
    pub offer: offer::Model,
    pub sku: sku::Model,
    pub product: product::Model,
}

/// Every offer of a dealer, withdrawn ones too.
async fn all_offers_of(db: &impl ConnectionTrait, dealer_id: i64) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?)
}

/// The dealer's offers, active and withdrawn, by product name and pack (the dealer's staff and
/// admins).
pub async fn offers_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<OfferView>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let offers = all_offers_of(db, dealer_id).await?;
    let skus: BTreeMap<i64, sku::Model> =
        skus_by_ids(db, &offers.iter().map(|o| o.sku_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let products: BTreeMap<i64, product::Model> =
        products_by_ids(db, &skus.values().map(|s| s.product_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut out: Vec<OfferView> = offers
        .into_iter()
        .filter_map(|o| {
            let s = skus.get(&o.sku_id)?.clone();
            let p = products.get(&s.product_id)?.clone();
            Some(OfferView {
                offer: o,
                sku: s,
                product: p,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.product
            .name_zh
            .cmp(&b.product.name_zh)
            .then(a.sku.pack_size.total_cmp(&b.sku.pack_size))
            .then(a.offer.id.cmp(&b.offer.id))
    });
    Ok(out)
}

/// The villages a dealer's offers reach: an active offer is shown to the farmers of every
/// village in the dealer's service area (the storefront lists only dealers serving the
/// farmer's village); a withdrawn offer reaches none. Sorted by name.
pub async fn villages_reached(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<crate::entities::region::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let ids: Vec<i64> = regions::service_areas_of(db, &[dealer_id])
        .await?
        .into_iter()
        .map(|a| a.village_id)
        .collect();
    let mut v = regions::regions_by_ids(db, &ids).await?;
    v.sort_by(|a, b| a.name_zh.cmp(&b.name_zh).then(a.id.cmp(&b.id)));
    Ok(v)
}

/// Packs of listed products the dealer does not offer yet, by product name (what "add an
/// offer" may choose from; the licence check comes when the offer is made).
pub async fn packs_to_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<(sku::Model, product::Model)>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let offered: std::collections::BTreeSet<i64> = all_offers_of(db, dealer_id)
        .await?
        .into_iter()
        .map(|o| o.sku_id)
        .collect();
    let products: BTreeMap<i64, product::Model> = product::Entity::find()
        .filter(product::Column::Status.eq("ACTIVE"))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out: Vec<(sku::Model, product::Model)> = sku::Entity::find()
        .filter(sku::Column::Active.eq(true))
        .filter(sku::Column::ProductId.is_in(products.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| !offered.contains(&s.id))
        .filter_map(|s| {
            let p = products.get(&s.product_id)?.clone();
            Some((s, p))
        })
        .collect();
    out.sort_by(|a, b| {
        a.1.name_zh
            .cmp(&b.1.name_zh)
            .then(a.0.pack_size.total_cmp(&b.0.pack_size))
            .then(a.0.id.cmp(&b.0.id))
    });
    Ok(out)
}

/// Changes the price of an offer, withdraws it or offers it again, by the offer's id: only the
/// dealer's own staff (or an admin) may, and re-offering checks the licences as a new offer does.
pub async fn update_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    offer_id: i64,
    price_fen: i64,
    active: bool,
) -> Result<offer::Model> {
    let o = offer::Entity::find_by_id(offer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("offer", offer_id))?;
    actor.require(crate::accounts::may_operate(actor, o.dealer_id))?;
    set_offer(db, actor, o.dealer_id, o.sku_id, price_fen, active).await
}

#[cfg(test)]
mod tests {
    use super::crops;

    #[test]
    fn every_advisor_crop_resolves_by_code_and_by_name() {
        let advisor_crops = &advisor::data::tables().crops;
        assert!(!advisor_crops.is_empty());
        for c in advisor_crops {
            // the advisor's key, its Chinese name and its English name all name one crop...
            let code = crops::resolve(&c.key)
                .unwrap_or_else(|| panic!("advisor crop key {} does not resolve", c.key));
            for name in [c.zh.as_str(), c.en.as_str(), &c.en.to_uppercase()] {
                assert_eq!(crops::resolve(name), Some(code), "{name}");
            }
            // ... whose catalog code resolves to itself, is listed, and maps back to the advisor
            assert_eq!(crops::resolve(code), Some(code));
            assert_eq!(crops::resolve(&code.to_lowercase()), Some(code));
            let listed = crops::find(code).unwrap_or_else(|| panic!("{code} is not listed"));
            assert_eq!(listed.1, c.zh);
            assert_eq!(crops::advisor_key(code), Some(c.key.as_str()));
            assert_eq!(crops::resolve(&format!("  {}  ", listed.2)), Some(code));
        }
        // every listed crop resolves by code and by both names, and appears once
        for c in crops::CROPS.iter() {
            assert_eq!(crops::resolve(c.0), Some(c.0));
            assert_eq!(crops::resolve(c.1), Some(c.0));
            assert_eq!(crops::resolve(c.2), Some(c.0));
            assert_eq!(crops::CROPS.iter().filter(|d| d.0 == c.0).count(), 1);
        }
        // the catalog's own crops, which the advisor cannot plan, stay listed
        for code in ["CITRUS", "TEA"] {
            assert!(crops::find(code).is_some_and(|c| c.3), "{code}");
            assert_eq!(crops::advisor_key(code), None);
        }
        assert_eq!(crops::resolve("香蕉树"), None);
        assert_eq!(crops::resolve(""), None);
    }
}
