//! Soil tests entered by hand: checking the values, storing them, reading them back.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct SoilTestInput {
    pub field_id: i64,
    pub sampled_on: NaiveDate,
    pub depth_from_cm: i32,
    pub depth_to_cm: i32,
    pub lab: String,
    pub lab_sample_id: String,
    pub ph: f64,
    pub buffer_ph: Option<f64>,
    pub organic_matter_g_kg: f64,
    pub alkali_n_mg_kg: f64,
    pub olsen_p_mg_kg: Option<f64>,
    pub mehlich3_p_mg_kg: Option<f64>,
    pub available_k_mg_kg: f64,
    pub cec_cmol_kg: Option<f64>,
    pub ca_mg_kg: Option<f64>,
    pub mg_mg_kg: Option<f64>,
    pub s_mg_kg: Option<f64>,
    pub zn_mg_kg: Option<f64>,
    pub b_mg_kg: Option<f64>,
}

/// Plausible ranges: a value outside is a typo or a unit mix-up (g/kg vs mg/kg), not a soil.
pub(crate) fn validate_soil(t: &SoilTestInput) -> Vec<FieldError> {
    let mut errs = Errors::new();
    let range = |errs: &mut Errors, field: &str, v: f64, lo: f64, hi: f64, unit: &str| {
        if !(v.is_finite() && (lo..=hi).contains(&v)) {
            errs.push(FieldError::new(
                field,
                Code::OutOfRange,
                format!("应在 {lo} 到 {hi} {unit} 之间（请检查单位）"),
                format!("must be between {lo} and {hi} {unit} (check the unit)"),
            ));
        }
    };
    range(&mut errs, "ph", t.ph, 3.0, 10.0, "");
    if let Some(b) = t.buffer_ph {
        range(&mut errs, "bufferPh", b, 3.0, 8.0, "");
    }
    range(
        &mut errs,
        "organicMatterGKg",
        t.organic_matter_g_kg,
        0.0,
        300.0,
        "g/kg",
    );
    range(
        &mut errs,
        "alkaliNMgKg",
        t.alkali_n_mg_kg,
        0.0,
        1000.0,
        "mg/kg",
    );
    range(
        &mut errs,
        "availableKMgKg",
        t.available_k_mg_kg,
        0.0,
        3000.0,
        "mg/kg",
    );
    if let Some(v) = t.olsen_p_mg_kg {
        range(&mut errs, "olsenPMgKg", v, 0.0, 500.0, "mg/kg");
    }
    if let Some(v) = t.mehlich3_p_mg_kg {
        range(&mut errs, "mehlich3PMgKg", v, 0.0, 1000.0, "mg/kg");
    }
    if t.olsen_p_mg_kg.is_none() && t.mehlich3_p_mg_kg.is_none() {
        errs.push(FieldError::new(
            "olsenPMgKg",
            Code::Required,
            "请填写有效磷（Olsen 法或 Mehlich-3 法）",
            "give available P (Olsen or Mehlich-3)",
        ));
    }
    for (f, v, hi) in [
        ("cecCmolKg", t.cec_cmol_kg, 100.0),
        ("caMgKg", t.ca_mg_kg, 20000.0),
        ("mgMgKg", t.mg_mg_kg, 5000.0),
        ("sMgKg", t.s_mg_kg, 1000.0),
        ("znMgKg", t.zn_mg_kg, 200.0),
        ("bMgKg", t.b_mg_kg, 50.0),
    ] {
        if let Some(v) = v {
            range(&mut errs, f, v, 0.0, hi, "");
        }
    }
    if !(0..t.depth_to_cm).contains(&t.depth_from_cm) || t.depth_to_cm > 100 {
        errs.push(FieldError::new(
            "depthCm",
            Code::OutOfRange,
            "取样深度应如 0-20 厘米",
            "sampling depth must look like 0-20 cm",
        ));
    }
    if t.sampled_on > crate::today() {
        errs.push(FieldError::new(
            "sampledOn",
            Code::OutOfRange,
            "取样日期不能晚于今天",
            "the sampling date cannot be in the future",
        ));
    }
    if let Err(e) = types::name("lab", &t.lab, 100) {
        errs.push(e);
    }
    if let Err(e) = types::name("labSampleId", &t.lab_sample_id, 60) {
        errs.push(e);
    }
    match errs.finish() {
        Ok(()) => vec![],
        Err(Error::Invalid(v)) => v,
        Err(_) => vec![],
    }
}

/// The row a checked soil test is stored as (one entered by form, or each row of a lab's CSV).
pub(crate) fn soil_test_row(
    t: &SoilTestInput,
    entered_by: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> soil_test::ActiveModel {
    soil_test::ActiveModel {
        field_id: Set(t.field_id),
        sampled_on: Set(t.sampled_on),
        depth_from_cm: Set(t.depth_from_cm),
        depth_to_cm: Set(t.depth_to_cm),
        lab: Set(t.lab.trim().into()),
        lab_sample_id: Set(t.lab_sample_id.trim().into()),
        ph: Set(t.ph),
        buffer_ph: Set(t.buffer_ph),
        organic_matter_g_kg: Set(t.organic_matter_g_kg),
        alkali_n_mg_kg: Set(t.alkali_n_mg_kg),
        olsen_p_mg_kg: Set(t.olsen_p_mg_kg),
        mehlich3_p_mg_kg: Set(t.mehlich3_p_mg_kg),
        available_k_mg_kg: Set(t.available_k_mg_kg),
        cec_cmol_kg: Set(t.cec_cmol_kg),
        ca_mg_kg: Set(t.ca_mg_kg),
        mg_mg_kg: Set(t.mg_mg_kg),
        s_mg_kg: Set(t.s_mg_kg),
        zn_mg_kg: Set(t.zn_mg_kg),
        b_mg_kg: Set(t.b_mg_kg),
        entered_by: Set(entered_by),
        created_at: Set(now),
        ..Default::default()
    }
}

async fn insert_soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    t: SoilTestInput,
) -> Result<soil_test::Model> {
    let errs = validate_soil(&t);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    if soil_test::Entity::find()
        .filter(soil_test::Column::Lab.eq(t.lab.trim()))
        .filter(soil_test::Column::LabSampleId.eq(t.lab_sample_id.trim()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid(
            "labSampleId",
            Code::Duplicate,
            "该化验室的样品编号已录入",
            "this lab sample id is already recorded",
        ));
    }
    soil_test_row(&t, actor.user_id, crate::now())
        .insert(db)
        .await
        .map_err(|e| {
            crate::accounts::unique_violation(
                e,
                "labSampleId",
                "该化验室的样品编号已录入",
                "this lab sample id is already recorded",
            )
        })
}

/// An agronomist enters a soil test for a field in their counties.
pub async fn create_soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    t: SoilTestInput,
) -> Result<soil_test::Model> {
    require_agronomist(actor)?;
    field_for(db, actor, t.field_id).await?;
    insert_soil_test(db, actor, t).await
}

pub async fn soil_tests_of(
    db: &impl ConnectionTrait,
    field_id: i64,
) -> Result<Vec<soil_test::Model>> {
    Ok(soil_test::Entity::find()
        .filter(soil_test::Column::FieldId.eq(field_id))
        .order_by_desc(soil_test::Column::SampledOn)
        .order_by_desc(soil_test::Column::Id)
        .all(db)
        .await?)
}

pub async fn soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<soil_test::Model> {
    let t = soil_test::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("soil test", id))?;
    field_for(db, actor, t.field_id)
        .await
        .map_err(|_| Error::not_found("soil test", id))?;
    Ok(t)
}

/// Soil tests by id, for loaders of lists that name one (recommendations).
pub async fn soil_tests_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<soil_test::Model>> {
    Ok(soil_test::Entity::find()
        .filter(soil_test::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
