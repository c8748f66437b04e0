//! A county's agronomy parameters and settings in the API, and where each value of a draft came
//! from.

use super::*;
use domain::entities::county_parameter;

/// What a county's agronomists set for a crop (and a soil type, or all soils).
pub struct CountyParameter(pub county_parameter::Model);

#[Object]
impl CountyParameter {
    async fn id(&self) -> ID {
        gid("CountyParameter", self.0.id)
    }
    async fn county_id(&self) -> ID {
        gid("Region", self.0.county_id)
    }
    /// The crop's catalog code (RICE, WHEAT_WINTER, MAIZE, ...).
    async fn crop(&self) -> &str {
        &self.0.crop
    }
    async fn crop_name(&self, ctx: &Context<'_>) -> String {
        domain::catalog::crops::find(&self.0.crop)
            .map(|c| pick(ctx, c.1, c.2))
            .unwrap_or_else(|| self.0.crop.clone())
    }
    /// Empty for every soil type of the county.
    async fn soil_type(&self) -> &str {
        &self.0.soil_type
    }
    /// N, P2O5, K2O; absent when the county has not set them.
    async fn correction_coefficients(&self) -> Option<Vec<f64>> {
        triple(
            self.0.correction_n,
            self.0.correction_p2o5,
            self.0.correction_k2o,
        )
    }
    /// First-season recovery rates as fractions (N, P2O5, K2O).
    async fn recovery_rates(&self) -> Option<Vec<f64>> {
        triple(self.0.recovery_n, self.0.recovery_p2o5, self.0.recovery_k2o)
    }
    async fn target_yield_factor(&self) -> Option<f64> {
        self.0.target_yield_factor
    }
    async fn source(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.source_zh, &self.0.source_en)
    }
    async fn source_zh(&self) -> &str {
        &self.0.source_zh
    }
    async fn source_en(&self) -> &str {
        &self.0.source_en
    }
    async fn source_date(&self) -> NaiveDate {
        self.0.source_date
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

fn triple(a: Option<f64>, b: Option<f64>, c: Option<f64>) -> Option<Vec<f64>> {
    Some(vec![a?, b?, c?])
}

#[derive(InputObject)]
pub struct CountyParameterInput {
    pub county_id: ID,
    /// Catalog code or name of the crop (水稻, RICE).
    pub crop: String,
    /// Empty or absent for every soil type.
    pub soil_type: Option<String>,
    /// N, P2O5, K2O.
    pub correction_coefficients: Option<Vec<f64>>,
    /// N, P2O5, K2O as fractions (0.30 for 30 %).
    pub recovery_rates: Option<Vec<f64>>,
    pub target_yield_factor: Option<f64>,
    /// Where the values come from (a field trial, the county's handbook), in Chinese and English.
    pub source_zh: String,
    pub source_en: String,
    pub source_date: NaiveDate,
}

fn three(field: &str, v: Option<Vec<f64>>) -> domain::Result<Option<[f64; 3]>> {
    match v {
        None => Ok(None),
        Some(v) => <[f64; 3]>::try_from(v).map(Some).map_err(|_| {
            Error::invalid(
                field,
                domain::Code::InvalidFormat,
                "需要三个数：N、P2O5、K2O",
                "give three numbers: N, P2O5, K2O",
            )
        }),
    }
}

impl CountyParameterInput {
    pub fn into_domain(self) -> domain::Result<agronomy::CountyParamInput> {
        let crop = domain::catalog::crops::resolve(&self.crop)
            .map(|c| c.to_owned())
            .unwrap_or(self.crop);
        Ok(agronomy::CountyParamInput {
            county_id: parse_gid("countyId", "Region", &self.county_id)?,
            crop,
            soil_type: self.soil_type.unwrap_or_default(),
            correction: three("correctionCoefficients", self.correction_coefficients)?,
            recovery: three("recoveryRates", self.recovery_rates)?,
            target_yield_factor: self.target_yield_factor,
            source_zh: self.source_zh,
            source_en: self.source_en,
            source_date: self.source_date,
        })
    }
}

#[derive(SimpleObject)]
pub struct CountyParameterPayload {
    pub parameter: Option<CountyParameter>,
    pub errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct CountySettingsPayload {
    pub settings: Option<CountySettings>,
    pub errors: Vec<AgronomyError>,
}

#[derive(SimpleObject)]
pub struct DeletePayload {
    pub ok: bool,
    pub errors: Vec<AgronomyError>,
}

/// A county's agronomy settings.
#[derive(SimpleObject)]
pub struct CountySettings {
    pub county_id: ID,
    /// A draft needs a second agronomist's approval before it is published.
    pub require_second_approval: bool,
}

impl From<agronomy::CountySettings> for CountySettings {
    fn from(s: agronomy::CountySettings) -> Self {
        CountySettings {
            county_id: gid("Region", s.county_id),
            require_second_approval: s.require_second_approval,
        }
    }
}

/// One value a draft used and where it came from.
#[derive(SimpleObject)]
pub struct ValueProvenance {
    /// correction.n, recovery.p2o5, targetYieldFactor, targetYield, noFertiliserYield, rates.k2o
    pub key: String,
    pub value: f64,
    /// DRAFT (the agronomist's), CROP_PLAN (measured on the plan), COUNTY (the county's
    /// parameter) or DEFAULT (a sourced default the county has not replaced).
    pub source: String,
    /// The citation, in the caller's language.
    pub citation: String,
}

/// One edit of a draft: who, when, what changed.
#[derive(SimpleObject)]
pub struct RecommendationEdit {
    pub at: Option<DateTime<Utc>>,
    pub by_id: Option<ID>,
    /// params, notesZh, notesEn
    pub changed: Vec<String>,
    /// The rates before the edit (kg/mu of N, P2O5, K2O).
    pub rates_before: Vec<f64>,
}

pub fn provenance_of(parameters: &Value, l: Lang) -> Vec<ValueProvenance> {
    parameters["provenance"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some(ValueProvenance {
                key: p["key"].as_str()?.to_owned(),
                value: p["value"].as_f64()?,
                source: p["source"].as_str()?.to_owned(),
                citation: l
                    .pick(
                        p["cite_zh"].as_str().unwrap_or_default(),
                        p["cite_en"].as_str().unwrap_or_default(),
                    )
                    .to_owned(),
            })
        })
        .collect()
}

pub fn edits_of(parameters: &Value) -> Vec<RecommendationEdit> {
    parameters["edits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| RecommendationEdit {
            at: e["at"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc)),
            by_id: e["by"].as_i64().map(|b| gid("User", b)),
            changed: e["changed"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
            rates_before: e["before"]["rates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect(),
        })
        .collect()
}
