//! What the advisor is given: stored rows as its typed values, run on a blocking
//! thread; a draft's parameters checked first; its refusals named by the API's field.

use super::*;

/// Runs one advisor request on a blocking thread: the whole-bag search is CPU work (up to its
/// time limit) that must not hold an async worker.
pub(crate) async fn run_advisor<M>(
    request: M,
) -> std::result::Result<M::Response, advisor::RequestError>
where
    M: advisor::api::Method + Send + 'static,
    M::Response: Send + 'static,
{
    tokio::task::spawn_blocking(move || request.run())
        .await
        .unwrap_or_else(|e| {
            Err(advisor::RequestError::Solver(format!(
                "the advisor's thread failed: {e}"
            )))
        })
}

/// A typed advisor value, or its error named by the field of the advisor's request it fills.
pub(crate) fn at<T>(r: advisor::Result<T>, field: &str) -> advisor::Result<T> {
    r.map_err(|e| e.at(field))
}

/// One value per nutrient (N, P2O5, K2O), each checked by `make`.
pub(crate) fn npk<T>(
    v: [f64; 3],
    field: &str,
    make: impl Fn(f64) -> advisor::Result<T>,
) -> advisor::Result<advisor::api::Npk<T>> {
    Ok(advisor::api::Npk {
        n: Some(at(make(v[0]), &format!("{field}.n"))?),
        p2o5: Some(at(make(v[1]), &format!("{field}.p2o5"))?),
        k2o: Some(at(make(v[2]), &format!("{field}.k2o"))?),
    })
}

/// A crop plan's past yields (stored as a JSON array of kg/mu), oldest first.
pub(crate) fn past_yields(v: &Value) -> advisor::Result<Vec<KgPerMu<Yield>>> {
    let ys: Vec<f64> = serde_json::from_value(v.clone()).map_err(|e| {
        advisor::Error::invalid(
            "past_yields_kg_per_mu",
            format!("must be an array of numbers: {e}"),
        )
    })?;
    ys.into_iter()
        .enumerate()
        .map(|(i, y)| at(KgPerMu::try_new(y), &format!("past_yields_kg_per_mu[{i}]")))
        .collect()
}

/// The soil test as the advisor's `recommend` reads it; `with_ph` adds the pH values (only the
/// lime requirement uses them).
pub(crate) fn advisor_soil(
    test: &soil_test::Model,
    olsen_p: f64,
    with_ph: bool,
) -> advisor::Result<advisor::api::RecommendSoil> {
    let ph = |v: f64, field: &str| at(Ph::try_new(v), field);
    Ok(advisor::api::RecommendSoil {
        alkali_n_mg_per_kg: at(
            MgPerKg::try_new(test.alkali_n_mg_kg),
            "soil.alkali_n_mg_per_kg",
        )?,
        olsen_p_mg_per_kg: at(MgPerKg::try_new(olsen_p), "soil.olsen_p_mg_per_kg")?,
        available_k_mg_per_kg: at(
            MgPerKg::try_new(test.available_k_mg_kg),
            "soil.available_k_mg_per_kg",
        )?,
        ph: if with_ph {
            Some(ph(test.ph, "soil.ph")?)
        } else {
            None
        },
        buffer_ph: match test.buffer_ph {
            Some(b) if with_ph => Some(ph(b, "soil.buffer_ph")?),
            _ => None,
        },
    })
}

/// Checks a draft's parameters before the advisor sees them, so that every error names the
/// field as the API spells it (`params.recoveryRates`), not as the advisor's JSON does.
pub fn validate_params(p: &Params) -> Result<()> {
    let mut errs = Errors::new();
    let mut check = |field: &str, ok: bool, zh: &str, en: &str| {
        if !ok {
            errs.push(FieldError::new(field, Code::OutOfRange, zh, en));
        }
    };
    if let Some(c) = p.correction_coefficients {
        check(
            "params.correctionCoefficients",
            c.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 10.0),
            "校正系数应为大于 0 的数（N、P2O5、K2O）",
            "correction coefficients must be numbers greater than 0 (N, P2O5, K2O)",
        );
    }
    if let Some(r) = p.recovery_rates {
        check(
            "params.recoveryRates",
            r.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 1.0),
            "肥料利用率应在 0 到 1 之间（不含 0）",
            "recovery rates must be fractions in (0, 1]",
        );
    }
    if let Some(t) = p.target_yield_kg_per_mu {
        check(
            "params.targetYieldKgPerMu",
            t.is_finite() && t > 0.0 && t <= 20_000.0,
            "目标产量应在 0 到 20000 公斤/亩之间",
            "target yield must be 0 to 20,000 kg/mu",
        );
    }
    if let Some(t) = p.target_ph {
        check(
            "params.targetPh",
            t.is_finite() && (3.0..=9.0).contains(&t),
            "目标 pH 应在 3 到 9 之间",
            "target pH must be between 3 and 9",
        );
    }
    if let Some(m) = p.max_oversupply_pct {
        check(
            "params.maxOversupplyPct",
            m.is_finite() && (0.0..=1000.0).contains(&m),
            "超量上限应在 0 到 1000% 之间",
            "the over-supply cap must be 0 to 1000 %",
        );
    }
    if let Some(ms) = p.basket_time_limit_ms {
        check(
            "params.basketTimeLimitMs",
            ms <= advisor::basket::MAX_TIME_LIMIT.as_millis() as u64,
            "整袋组合搜索的时间限制应在 0 到 60000 毫秒之间",
            "the basket search time limit must be 0 to 60,000 ms",
        );
    }
    if let Some(r) = p.rates_kg_per_mu {
        check(
            "params.ratesKgPerMu",
            r.iter().all(|x| x.is_finite() && (0.0..=200.0).contains(x)),
            "每亩养分用量应在 0 到 200 公斤之间",
            "rates must be 0 to 200 kg per mu",
        );
    }
    errs.finish()
}

pub(crate) fn advisor_error(e: advisor::RequestError) -> Error {
    Error::invalid(
        advisor_field(e.field()),
        Code::InvalidFormat,
        format!("配方计算的参数有误：{e}"),
        format!("the advisor refused the parameters: {e}"),
    )
}

/// The API's name for a field of an advisor request that the advisor refused.
fn advisor_field(field: Option<&str>) -> String {
    let Some(f) = field else {
        return "params".into();
    };
    if f.ends_with("time_limit_ms") {
        return "params.basketTimeLimitMs".into();
    }
    let head = f.split('.').next().unwrap_or(f);
    match head {
        "correction_coefficients" => "params.correctionCoefficients".into(),
        "recovery_rates" => "params.recoveryRates".into(),
        "target_yield_kg_per_mu" | "past_yields_kg_per_mu" => "params.targetYieldKgPerMu".into(),
        "target_ph" => "params.targetPh".into(),
        "targets_kg" => "params.ratesKgPerMu".into(),
        "max_oversupply_pct" | "basket" => "params.maxOversupplyPct".into(),
        "soil" => "soilTestId".into(),
        "products" => "fieldId".into(),
        _ => format!("params.{f}"),
    }
}
