//! A product as entered (fertiliser, seed or pesticide attributes) and its validation per
//! RULES.md into what is stored.

use super::*;

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
pub(crate) struct ValidProduct {
    pub(crate) category: Category,
    pub(crate) name_zh: String,
    pub(crate) name_en: String,
    pub(crate) registration_no: Option<String>,
}

pub(crate) fn one_of(errs: &mut Errors, field: &str, v: &str, allowed: &[&str]) {
    if !allowed.contains(&v) {
        errs.push(FieldError::new(
            field,
            Code::InvalidFormat,
            format!("取值应为 {} 之一", allowed.join("、")),
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

pub(crate) fn validate(p: &ProductInput) -> Result<ValidProduct> {
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
                let organic =
                    matches!(f.fertiliser_type.as_str(), "ORGANIC" | "MICROBIAL" | "LIME");
                if f.fertiliser_type == "LIME" && f.secondary.get("Ca").is_none_or(|ca| *ca <= 0.0)
                {
                    errs.push(FieldError::new(
                        "fertiliser.secondary.Ca",
                        Code::Required,
                        "石灰类产品需标明钙（Ca）含量",
                        "a lime product must declare its calcium (Ca) content",
                    ));
                }
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
