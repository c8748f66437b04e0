//! Bad requests: every error names the field at fault.

use advisor::{Error, handle_batch, handle_json};
use serde_json::json;

fn field_of(request: serde_json::Value) -> String {
    match handle_json(&request.to_string()) {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => {
            assert!(e.is_request_error(), "{e}");
            e.field()
                .unwrap_or_else(|| panic!("no field in {e:?}"))
                .to_string()
        }
    }
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = handle_json("{\"method\": \"lime\",\n \"current_ph\": }").unwrap_err();
    match err {
        Error::Malformed { line, column, .. } => {
            assert_eq!(line, 2);
            assert!(column > 1);
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert_eq!(handle_json("[1,").unwrap_err().code(), "malformed_json");
}

#[test]
fn method_errors() {
    assert_eq!(field_of(json!({"x": 1})), "method");
    assert_eq!(field_of(json!({"method": "fertilise"})), "method");
    assert_eq!(field_of(json!({"method": 3})), "method");
    assert_eq!(field_of(json!([1, 2])), "(root)");
}

#[test]
fn negative_yield_names_the_field() {
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": -500,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
    }));
    assert_eq!(f, "target_yield_kg_per_mu");
    let f = field_of(json!({"method": "target_yield", "yields_kg_per_mu": [400, -1, 500]}));
    assert_eq!(f, "yields_kg_per_mu[1]");
}

#[test]
fn recovery_rate_outside_0_1() {
    for bad in [0.0, 1.5, -0.2] {
        let f = field_of(json!({
            "method": "nutrient_balance", "nutrient": "K2O", "crop": "rice",
            "target_yield_kg_per_mu": 500,
            "soil": {"soil_test": {"mg_per_kg": 80, "correction_coefficient": 0.5}},
            "recovery_rate": bad
        }));
        assert_eq!(f, "recovery_rate");
    }
}

#[test]
fn response_function_c_must_be_negative() {
    for c in [0.0, 0.01] {
        let f = field_of(json!({"method": "response_function", "a": 1, "b": 2, "c": c}));
        assert_eq!(f, "c");
    }
    let f = field_of(json!({
        "method": "response_function", "a": 1, "b": 2, "c": -0.1,
        "nutrient_price": {"per_kg_nutrient": {"fen_per_kg": 100}}
    }));
    assert_eq!(f, "crop_price_fen_per_kg");
    let f = field_of(json!({
        "method": "response_function", "a": 1, "b": 2, "c": -0.1,
        "nutrient_price": {"per_kg_product": {"fen_per_kg": 100, "nutrient_pct": 0}},
        "crop_price_fen_per_kg": 200
    }));
    assert_eq!(f, "nutrient_price.per_kg_product.nutrient_pct");
}

#[test]
fn nested_paths_and_typos() {
    let products = json!([
        {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 10000},
        {"name": "bad", "analysis": "46-0", "bag_kg": 50, "price_fen_per_bag": 10000}
    ]);
    let f = field_of(
        json!({"method": "least_cost_basket", "targets_kg": {"n": 10}, "products": products}),
    );
    assert_eq!(f, "products[1].analysis");
    // money is integer fen: a fractional price is rejected
    let f = field_of(json!({
        "method": "least_cost_basket", "targets_kg": {"n": 10},
        "products": [{"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 100.5}]
    }));
    assert_eq!(f, "products[0].price_fen_per_bag");
    // a misspelt override is an error, not silently ignored
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": 500, "recovery": 0.3,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
    }));
    assert_eq!(f, "recovery");
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
    }));
    assert_eq!(f, "target_yield_kg_per_mu");
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": 500,
        "soil": {"soil_test": {"mg_per_kg": 80}}
    }));
    assert_eq!(f, "soil.soil_test");
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "mango",
        "target_yield_kg_per_mu": 500,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
    }));
    assert_eq!(f, "crop");
    let f = field_of(json!({
        "method": "least_cost_basket", "targets_kg": {"n": 10, "p": 3},
        "products": []
    }));
    assert_eq!(f, "targets_kg.p");
    let f = field_of(json!({
        "method": "recommend", "crop": "rice", "area_mu": 5, "target_yield_kg_per_mu": 500,
        "soil": {"alkali_n_mg_per_kg": 80, "olsen_p_mg_per_kg": 12, "available_k_mg_per_kg": 90},
        "correction_coefficients": {"n": 0.5, "p2o5": 0.5},
        "products": []
    }));
    assert_eq!(f, "correction_coefficients.k2o");
    let f = field_of(json!({
        "method": "tri_state", "nutrient": "K", "soil_test_ppm": 110
    }));
    assert_eq!(f, "cec_meq_per_100g");
    let f = field_of(json!({
        "method": "nutrient_balance", "nutrient": "P2O5", "crop": "peanut",
        "target_yield_kg_per_mu": 300, "legume_n_factor": 0.4,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 200}}
    }));
    assert_eq!(f, "legume_n_factor");
}

#[test]
fn batch_reports_each_line() {
    let text = "{\"method\":\"target_yield\",\"yields_kg_per_mu\":[400,420,440]}\n\
                \n\
                {\"method\":\"lime\",\"current_ph\":5.0}\n\
                not json\n\
                {\"method\":\"quefts\",\"ph\":6,\"soc_g_per_kg\":10,\"k_ex_mmol_per_kg\":5,\"olsen_p_mg_per_kg\":10}\n";
    let out = handle_batch(text);
    let lines: Vec<usize> = out.iter().map(|l| l.line).collect();
    assert_eq!(lines, vec![1, 3, 4, 5]);
    assert!(out[0].result.is_ok());
    assert_eq!(
        out[1].result.as_ref().unwrap_err().field(),
        Some("buffer_ph")
    );
    assert_eq!(out[2].result.as_ref().unwrap_err().code(), "malformed_json");
    assert!(out[3].result.is_ok());
    let printed = out[1].to_json();
    assert_eq!(printed["line"], 3);
    assert_eq!(printed["error"]["field"], "buffer_ph");
}
