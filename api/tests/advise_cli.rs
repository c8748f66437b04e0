//! `nongzi advise` end to end: the real binary, fed through stdin or a file.
//!
//! * Every worked example of METHODS.md (vectors 1, 2, 4, 5, 7, 8, 11, 12, 17, 19, 20, 21, 22)
//!   goes through the CLI with the same JSON request as advisor/tests/advisor/worked_examples.rs
//!   and must give the same recomputed values, with the same tolerances.
//! * Every ```json request block of docs/advisor.md gives, through the CLI, exactly what
//!   `advisor::handle_json` gives for the same text.
//! * Batches, malformed and invalid requests, file arguments and a missing file: exit status and
//!   messages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

const DOC: &str = include_str!("../../docs/advisor.md");

// ---------------------------------------------------------------- running the binary

/// What one run of `nongzi advise` produced.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// stdout as JSON (the CLI always prints JSON there for a request it could read).
    /// The output as JSON: one document, or a batch's JSON Lines as an array.
    fn json(&self) -> Value {
        if let Ok(v) = serde_json::from_str(&self.stdout) {
            return v;
        }
        let lines: Result<Vec<Value>, _> = self
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect();
        lines.map(Value::Array).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON: {e}\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    fn assert_status(&self, expected: i32) {
        assert_eq!(
            self.status, expected,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }
}

fn finish(output: std::process::Output) -> Run {
    Run {
        status: output
            .status
            .code()
            .expect("nongzi advise was killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn nongzi() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nongzi"));
    // `advise` needs no configuration; make sure none leaks in from the caller's environment.
    cmd.env_remove("RUST_LOG")
        .env_remove("NONGZI_LOG_FORMAT")
        .current_dir(env!("CARGO_TARGET_TMPDIR"));
    cmd
}

/// `nongzi advise [args]` with `input` on stdin.
fn advise_stdin_with_args(args: &[&str], input: &str) -> Run {
    let mut child = nongzi()
        .arg("advise")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nongzi");
    // The CLI reads all of stdin before it writes anything, so writing first cannot deadlock.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .expect("write stdin");
    finish(child.wait_with_output().expect("wait for nongzi"))
}

/// `nongzi advise` with `input` on stdin.
fn advise_stdin(input: &str) -> Run {
    advise_stdin_with_args(&[], input)
}

/// `nongzi advise FILE`, stdin closed.
fn advise_file(path: &Path) -> Run {
    let output = nongzi()
        .arg("advise")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run nongzi");
    finish(output)
}

/// A fresh file under the target's scratch directory holding `text`.
fn temp_file(name: &str, text: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("advise_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs one request through the CLI (stdin), asserts exit status 0, returns the answer.
#[track_caller]
fn run(request: Value) -> Value {
    let out = advise_stdin(&request.to_string());
    out.assert_status(0);
    let v = out.json();
    assert!(
        v.get("error").is_none(),
        "request failed: {v:#}\n{request:#}"
    );
    v
}

/// A number at a JSON pointer.
#[track_caller]
fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {v:#}"))
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "expected {expected} ± {tol}, got {actual}"
    );
}

/// The answer's `lines[]` as (product, value of `key`).
fn lines_by_product(v: &Value, key: &str) -> Vec<(String, f64)> {
    v["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v:#}"))
        .iter()
        .map(|l| {
            (
                l["product"].as_str().unwrap().to_string(),
                l[key].as_f64().unwrap(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- vectors 1 and 2

fn peanut_request(uptake_per_kg: f64, legume: Option<f64>) -> Value {
    let mut r = json!({
        "method": "nutrient_balance",
        "nutrient": "N",
        "crop": "peanut",
        "target_yield_kg_per_mu": 300,
        "uptake_kg_per_kg_yield": uptake_per_kg,
        "soil": {"soil_test": {"mg_per_kg": 60, "correction_coefficient": 0.55}},
        "recovery_rate": 0.5,
        "fertiliser_nutrient_pct": 46
    });
    if let Some(f) = legume {
        r["legume_n_factor"] = json!(f);
    }
    r
}

#[test]
fn vector_01_nutrient_balance_peanut() {
    // Peanut's 40 % legume factor comes from data/crops.toml by default.
    let v = run(peanut_request(0.05, None));
    close(num(&v, "/soil_supply_kg_per_mu"), 4.95, 1e-9);
    close(num(&v, "/unscaled_product_kg_per_mu"), 43.7, 0.005);
    close(num(&v, "/product_kg_per_mu"), 17.48, 0.005);
    close(num(&v, "/legume_n_factor"), 0.40, 0.0);
    // switched off explicitly, the product is the full 43.7
    let v = run(peanut_request(0.05, Some(1.0)));
    close(num(&v, "/soil_supply_kg_per_mu"), 4.95, 1e-9);
    close(num(&v, "/product_kg_per_mu"), 43.7, 0.005);
    assert!(!v["steps"].as_array().unwrap().is_empty());
}

#[test]
fn vector_02_nutrient_balance_peanut_table_uptake() {
    // 0.068 given explicitly, legume factor off: 67.2 kg urea/mu
    let v = run(peanut_request(0.068, Some(1.0)));
    close(num(&v, "/product_kg_per_mu"), 67.2, 0.05);
    // with the 40 % legume factor: 26.87
    let v = run(peanut_request(0.068, Some(0.40)));
    close(num(&v, "/product_kg_per_mu"), 26.87, 0.005);

    // 0.068 is the table's 6.80 kg per 100 kg: leave the uptake out and the crop supplies it.
    let mut r = peanut_request(0.068, None);
    r.as_object_mut().unwrap().remove("uptake_kg_per_kg_yield");
    let v = run(r);
    close(num(&v, "/uptake_kg_per_kg_yield"), 0.068, 1e-12);
    close(num(&v, "/unscaled_product_kg_per_mu"), 67.2, 0.05);
    close(num(&v, "/product_kg_per_mu"), 26.87, 0.005);
}

// ---------------------------------------------------------------- vectors 4 and 5

#[test]
fn vector_04_response_maximum() {
    let v = run(json!({
        "method": "response_function",
        "a": 240.8, "b": 15.92, "c": -0.44,
        "x_unit_kg": 0.5, "y_unit_kg": 0.5
    }));
    close(num(&v, "/x_max"), 18.1, 0.01);
    close(num(&v, "/x_max_kg_per_mu"), 9.05, 0.01);
    close(num(&v, "/y_max"), 384.8, 0.01);
    close(num(&v, "/y_max_kg_per_mu"), 192.4, 0.01);
    assert!(v["economic"].is_null());
}

#[test]
fn vector_05_response_profit_at_x_max() {
    // Wheat 0.30 yuan/kg = 30 fen, N 1.00 yuan/kg = 100 fen. The source rounds x to 9.05 kg and
    // y to 120.4 -> 192.4 kg: 72 × 0.30 − 9.05 = 12.55 yuan. Unrounded it is 12.5551 yuan.
    let v = run(json!({
        "method": "response_function",
        "a": 240.8, "b": 15.92, "c": -0.44,
        "x_unit_kg": 0.5, "y_unit_kg": 0.5,
        "nutrient_price": {"per_kg_nutrient": {"fen_per_kg": 100}},
        "crop_price_fen_per_kg": 30
    }));
    let profit = v["economic"]["profit_at_x_max_fen_per_mu"]
        .as_i64()
        .unwrap();
    assert!((1255..=1256).contains(&profit), "profit {profit} fen");
    close(profit as f64, 1255.5, 0.6);
    // y0 and y_max in jin, halved to kg
    close(num(&v, "/y0") * 0.5, 120.4, 1e-9);
    close(num(&v, "/y_max_kg_per_mu"), 192.4, 0.01);
    // the economic optimum earns more than the maximum-yield rate
    assert!(
        v["economic"]["profit_fen_per_mu"].as_i64().unwrap() > profit,
        "{v:#}"
    );
}

// ---------------------------------------------------------------- vectors 7 and 8

#[test]
fn vector_07_response_maximum_per_ha() {
    let v = run(json!({
        "method": "response_function",
        "a": 4986.675, "b": 9.72224, "c": -0.01663,
        "area_unit": "ha"
    }));
    close(num(&v, "/x_max"), 292.3, 0.05);
    close(num(&v, "/x_max_kg_per_ha"), 292.3, 0.05);
    close(num(&v, "/x_max_kg_per_mu"), 292.3 / 15.0, 0.01);
}

#[test]
fn vector_08_price_basis_moves_the_optimum() {
    let request = |price: Value| {
        json!({
            "method": "response_function",
            "a": 4986.675, "b": 9.72224, "c": -0.01663,
            "area_unit": "ha",
            "nutrient_price": price,
            "crop_price_fen_per_kg": 127
        })
    };
    // As the paper did: 1.6 yuan/kg of *product* used as if it were the N price -> 254.4 [S].
    let v = run(request(json!({"per_kg_nutrient": {"fen_per_kg": 160}})));
    close(num(&v, "/economic/x_eco"), 254.4, 0.05);
    close(num(&v, "/economic/x_eco_kg_per_ha"), 254.4, 0.05);
    // Priced per kg of product, urea 46 % N: p_x = 1.6 / 0.46 per kg N -> 210.0 [C].
    let v = run(request(
        json!({"per_kg_product": {"fen_per_kg": 160, "nutrient_pct": 46}}),
    ));
    close(num(&v, "/economic/x_eco"), 210.0, 0.05);
    close(num(&v, "/economic/x_eco_kg_per_ha"), 210.0, 0.05);
    close(
        num(&v, "/economic/nutrient_price_fen_per_kg"),
        160.0 / 0.46,
        1e-9,
    );
}

// ---------------------------------------------------------------- vectors 11 and 12

#[test]
fn vector_11_sequential_compound_then_straights() {
    let v = run(json!({
        "method": "sequential_sizing",
        "targets_kg_per_mu": {"n": 8.5, "p2o5": 4.8, "k2o": 6.5},
        "products": [
            {"name": "15-15-15", "analysis": "15-15-15"},
            {"name": "urea", "analysis": "46-0-0"},
            {"name": "K2SO4", "analysis": "0-0-50"}
        ]
    }));
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines[0]["product"], "15-15-15");
    assert_eq!(lines[0]["role"], "compound");
    assert_eq!(lines[0]["sized_to"], "P2O5");
    assert_eq!(lines[1]["product"], "urea");
    assert_eq!(lines[2]["product"], "K2SO4");
    close(num(&v, "/lines/0/kg_per_mu"), 32.0, 1e-9);
    close(num(&v, "/lines/1/kg_per_mu"), 8.0, 0.05);
    close(num(&v, "/lines/2/kg_per_mu"), 3.4, 1e-9);
    assert_eq!(v["shortfalls"], json!([]));
    let nutrients = v["nutrients"].as_array().unwrap();
    assert_eq!(nutrients.len(), 3);
    for line in nutrients {
        close(
            line["supplied"].as_f64().unwrap(),
            line["target"].as_f64().unwrap(),
            1e-9,
        );
    }
}

#[test]
fn vector_12_sequential_straights_only() {
    let v = run(json!({
        "method": "sequential_sizing",
        "targets_kg_per_mu": {"n": 8.5, "p2o5": 4.8, "k2o": 6.5},
        "products": [
            {"name": "urea", "analysis": "46-0-0"},
            {"name": "superphosphate", "analysis": "0-12-0"},
            {"name": "K2SO4", "analysis": "0-0-50"}
        ]
    }));
    assert_eq!(v["lines"][0]["product"], "urea");
    assert_eq!(v["lines"][1]["product"], "superphosphate");
    assert_eq!(v["lines"][2]["product"], "K2SO4");
    close(num(&v, "/lines/0/kg_per_mu"), 18.5, 0.05);
    close(num(&v, "/lines/1/kg_per_mu"), 40.0, 1e-9);
    close(num(&v, "/lines/2/kg_per_mu"), 13.0, 1e-9);
}

// ---------------------------------------------------------------- vectors 17 and 19

#[test]
fn vector_17_rb209_yield_adjustment() {
    let v = run(json!({
        "method": "rb209",
        "yield_adjustment": {
            "nutrient": "P2O5",
            "table_value_kg_per_ha": 90,
            "table_yield_t_per_ha": 8,
            "expected_yield_t_per_ha": 10,
            "offtake": "cereal_grain"
        }
    }));
    close(num(&v, "/yield_adjustment/offtake_kg_per_t"), 7.8, 0.0);
    close(num(&v, "/yield_adjustment/rate_kg_per_ha"), 106.0, 0.5);
    close(num(&v, "/yield_adjustment/rate_kg_per_ha"), 105.6, 1e-9);
}

#[test]
fn vector_19_rb209_indices() {
    for (p, k, pi, ki) in [(12, 150, "1", "2-"), (22, 200, "2", "2+")] {
        let v = run(json!({"method": "rb209", "olsen_p_mg_per_l": p, "k_mg_per_l": k}));
        assert_eq!(v["p_index"]["index"], pi, "P {p} mg/l");
        assert_eq!(v["k_index"]["index"], ki, "K {k} mg/l");
    }
}

// ---------------------------------------------------------------- vector 20

#[test]
fn vector_20_tri_state_classes() {
    let cases = [
        (
            json!({"nutrient": "P", "soil_test_ppm": 15, "crop_group": "corn_soybean"}),
            "build_up",
        ),
        (
            json!({"nutrient": "P", "soil_test_ppm": 35, "crop_group": "corn_soybean"}),
            "maintenance",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 110, "cec_meq_per_100g": 4}),
            "maintenance",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 110, "cec_meq_per_100g": 12}),
            "build_up",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 150, "cec_meq_per_100g": 4}),
            "none",
        ),
    ];
    let mut answers = Vec::new();
    for (mut req, class) in cases {
        req["method"] = json!("tri_state");
        let v = run(req.clone());
        assert_eq!(v["class"], class, "{req}");
        answers.push(v);
    }
    // removal 0: (20 − 15) × 20 / 4 = 25 lb P2O5/acre
    close(num(&answers[0], "/rate_lb_per_acre"), 25.0, 1e-9);
    // (120 − 110) × (1 + 0.05 × 12) + 0 + 20 = 36 lb K2O/acre
    close(num(&answers[3], "/rate_lb_per_acre"), 36.0, 1e-9);
}

// ---------------------------------------------------------------- vector 21

fn basket_request(whole: bool) -> Value {
    // yuan/kg: urea 2.0, DAP 3.5, MOP 2.5, 15-15-15 3.0 -> fen/kg × 50 kg = fen per bag.
    json!({
        "method": "least_cost_basket",
        "targets_kg": {"n": 100, "p2o5": 50, "k2o": 60},
        "products": [
            {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 10000},
            {"name": "DAP", "analysis": "18-46-0", "bag_kg": 50, "price_fen_per_bag": 17500},
            {"name": "MOP", "analysis": "0-0-60", "bag_kg": 50, "price_fen_per_bag": 12500},
            {"name": "15-15-15", "analysis": "15-15-15", "bag_kg": 50, "price_fen_per_bag": 15000}
        ],
        "whole_bags": whole
    })
}

#[test]
fn vector_21_least_cost_basket_fractional() {
    let v = run(basket_request(false));
    assert_eq!(v["feasible"], true);
    assert_eq!(v["cost_fen"], 98015);
    // rounding the continuous answer up bag by bag: 4 urea, 3 DAP, 2 MOP = 1175 yuan
    assert_eq!(v["rounded_up"]["cost_fen"], 117500);
    let kg = lines_by_product(&v, "kg");
    let kg_of = |name: &str| {
        kg.iter()
            .find(|(p, _)| p == name)
            .map_or(0.0, |(_, kg)| *kg)
    };
    close(kg_of("urea"), 174.86, 0.01);
    close(kg_of("DAP"), 108.70, 0.01);
    close(kg_of("MOP"), 100.0, 1e-6);
    close(kg_of("15-15-15"), 0.0, 1e-6);
}

#[test]
fn vector_21_least_cost_basket_whole_bags() {
    let v = run(basket_request(true));
    assert_eq!(v["feasible"], true);
    assert_eq!(v["whole_bags"], true);
    // The unique whole-bag optimum (checked by brute force in the crate's tests): 1150 yuan.
    assert_eq!(v["cost_fen"], 115000);
    let bags: Vec<(String, u64)> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"].as_str().unwrap().to_string(),
                l["bags"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("not a whole number of bags: {l}")),
            )
        })
        .collect();
    assert_eq!(
        bags,
        vec![
            ("urea".to_string(), 4),
            ("DAP".to_string(), 2),
            ("MOP".to_string(), 2),
            ("15-15-15".to_string(), 1)
        ]
    );
    // The same answer carries the fractional optimum and the rounded-up basket for comparison.
    assert_eq!(v["continuous_cost_fen"], 98015);
    assert_eq!(v["rounded_up"]["cost_fen"], 117500);
    // whole bags cost more than the continuous relaxation, less than rounding it up
    let cost = v["cost_fen"].as_i64().unwrap();
    assert!(cost >= v["continuous_cost_fen"].as_i64().unwrap());
    assert!(cost < 117500);
    for line in v["nutrients"].as_array().unwrap() {
        assert!(line["supplied"].as_f64().unwrap() >= line["target"].as_f64().unwrap() - 1e-9);
    }
}

// ---------------------------------------------------------------- vector 22

#[test]
fn vector_22_quefts() {
    let v = run(json!({
        "method": "quefts", "ph": 6.0, "soc_g_per_kg": 10, "k_ex_mmol_per_kg": 5, "olsen_p_mg_per_kg": 10
    }));
    close(num(&v, "/sn_kg_per_ha"), 51.0, 1e-9);
    close(num(&v, "/sp_kg_per_ha"), 8.5, 1e-9);
    close(num(&v, "/sk_kg_per_ha"), 113.6, 0.05);
}

// ---------------------------------------------------------------- docs/advisor.md

/// (fence info, body, line of the opening fence) for each fenced block, as
/// advisor/tests/advisor/docs.rs reads them.
fn blocks(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    current = Some((info.trim().to_string(), String::new(), i + 1));
                }
            }
            Some((info, mut body, start)) => {
                if trimmed.starts_with("```") {
                    out.push((info, body, start));
                } else {
                    body.push_str(line);
                    body.push('\n');
                    current = Some((info, body, start));
                }
            }
        }
    }
    assert!(current.is_none(), "unclosed code fence in docs/advisor.md");
    out
}

/// What the CLI prints for `value`: pretty JSON and a newline for one answer; for a batch (an
/// array), one compact answer per line.
fn printed(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(|v| format!("{v}\n")).collect(),
        v => format!("{}\n", serde_json::to_string_pretty(v).unwrap()),
    }
}

/// `value` as it reads back from the CLI's text. serde_json without `float_roundtrip` may read a
/// float back one ulp off (120.60000000000001 prints as such but parses as 120.6), so a value
/// parsed from stdout is compared with the library's value after the same print-and-parse.
fn as_read_back(value: &Value) -> Value {
    serde_json::from_str(&value.to_string()).unwrap()
}

#[test]
fn every_json_request_in_the_doc_matches_handle_json() {
    let mut methods = std::collections::BTreeSet::new();
    let mut requests = 0;
    for (info, body, line) in blocks(DOC) {
        // ```json blocks are requests; ```json response blocks are (partial) answers.
        if info != "json" {
            continue;
        }
        let expected = advisor::handle_json(&body)
            .unwrap_or_else(|e| panic!("docs/advisor.md line {line}: {e}\n{body}"));
        let out = advise_stdin(&body);
        assert_eq!(
            out.status, 0,
            "docs/advisor.md line {line}: exit status\nstderr:\n{}",
            out.stderr
        );
        // Byte for byte: the CLI prints what handle_json returns, pretty-printed.
        assert_eq!(
            out.stdout,
            printed(&expected),
            "docs/advisor.md line {line}: the CLI differs from handle_json"
        );
        methods.insert(expected["method"].as_str().unwrap().to_string());
        requests += 1;
    }
    assert!(
        requests >= advisor::METHODS.len(),
        "only {requests} requests"
    );
    for m in advisor::METHODS {
        assert!(
            methods.contains(*m),
            "no ```json request for `{m}` went through the CLI"
        );
    }
}

#[test]
fn the_doc_batch_runs_through_the_cli() {
    let (_, body, line) = blocks(DOC)
        .into_iter()
        .find(|(info, _, _)| info == "jsonl")
        .expect("docs/advisor.md has a ```jsonl batch");
    let out = advise_stdin(&body);
    out.assert_status(0);
    let expected: Vec<Value> = body
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let result = advisor::handle_json(l)
                .unwrap_or_else(|e| panic!("docs/advisor.md line {}: {e}", line + 1 + i));
            json!({"line": i + 1, "result": result})
        })
        .collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(out.stdout, printed(&Value::Array(expected)));
}

#[test]
fn the_doc_error_example_prints_what_the_doc_shows() {
    // The ```text example under "Exit status" in docs/advisor.md, as the shell sends it.
    let out = advise_stdin(
        r#"{"method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": -600,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 400}}}
"#,
    );
    out.assert_status(2);
    assert_eq!(
        out.json(),
        json!({
            "error": {
                "code": "invalid_request",
                "field": "target_yield_kg_per_mu",
                "message": "expected a finite number >= 0 (kg/mu), got -600"
            }
        })
    );
    // "a one-line reminder goes to standard error"
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
}

// ---------------------------------------------------------------- batches

#[test]
fn batch_with_a_bad_middle_line() {
    let good_1 = json!({"method": "target_yield", "yields_kg_per_mu": [450, 500, 520]});
    // a negative recovery rate
    let bad = json!({
        "method": "nutrient_balance", "nutrient": "K2O", "crop": "rice",
        "target_yield_kg_per_mu": 500,
        "soil": {"soil_test": {"mg_per_kg": 80, "correction_coefficient": 0.5}},
        "recovery_rate": -0.2
    });
    let good_3 = json!({
        "method": "quefts", "ph": 6.0, "soc_g_per_kg": 10, "k_ex_mmol_per_kg": 5, "olsen_p_mg_per_kg": 10
    });
    let text = format!("{good_1}\n{bad}\n{good_3}\n");

    let out = advise_stdin(&text);
    out.assert_status(2);
    let v = out.json();
    let results = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v:#}"));
    assert_eq!(results.len(), 3, "one result per request line: {v:#}");
    let lines: Vec<u64> = results
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 2, 3]);

    // in order, each as handle_json answers that line alone
    assert_eq!(
        results[0],
        as_read_back(
            &json!({"line": 1, "result": advisor::handle_json(&good_1.to_string()).unwrap()})
        )
    );
    assert_eq!(results[0]["result"]["method"], "target_yield");
    close(
        num(&results[0], "/result/target_yield_kg_per_mu"),
        539.0,
        1e-9,
    );
    assert!(results[1].get("result").is_none(), "{:#}", results[1]);
    assert_eq!(results[1]["error"]["code"], "invalid_request");
    assert_eq!(results[1]["error"]["field"], "recovery_rate");
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("-0.2"),
        "{:#}",
        results[1]
    );
    assert_eq!(
        results[2],
        as_read_back(
            &json!({"line": 3, "result": advisor::handle_json(&good_3.to_string()).unwrap()})
        )
    );
    close(num(&results[2], "/result/sn_kg_per_ha"), 51.0, 1e-9);

    // the whole output is what the library says for the whole input
    assert_eq!(out.stdout, printed(&advisor::handle_input(&text).to_json()));
    assert!(out.stderr.contains("not accepted"), "{}", out.stderr);

    // the same batch from a file, with a blank line: line numbers count it
    let spaced = format!("{good_1}\n\n{bad}\n{good_3}\n");
    let out = advise_file(&temp_file("batch.jsonl", &spaced));
    out.assert_status(2);
    let v = out.json();
    let lines: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 3, 4]);
    assert_eq!(v[1]["error"]["field"], "recovery_rate");
}

#[test]
fn batch_with_a_malformed_middle_line() {
    let text = "{\"method\": \"target_yield\", \"yields_kg_per_mu\": [450, 500, 520]}\n\
                this is not json\n\
                {\"method\": \"lime\", \"current_ph\": 5.2, \"buffer_ph\": 6.2, \"target_ph\": 6.0}\n";
    let out = advise_stdin(text);
    out.assert_status(2);
    let v = out.json();
    let results = v.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["line"], 1);
    assert_eq!(results[0]["result"]["method"], "target_yield");
    assert_eq!(results[1]["line"], 2);
    assert_eq!(results[1]["error"]["code"], "malformed_json");
    assert_eq!(results[2]["line"], 3);
    assert_eq!(results[2]["result"]["method"], "lime");
}

/// `nongzi advise` fed raw bytes on stdin.
fn advise_stdin_bytes(input: &[u8]) -> Run {
    let mut child = nongzi()
        .arg("advise")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nongzi");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("write stdin");
    finish(child.wait_with_output().expect("wait for nongzi"))
}

#[test]
fn batch_with_a_non_utf8_middle_line() {
    let good_1 = json!({"method": "target_yield", "yields_kg_per_mu": [450, 500, 520]});
    let good_3 = json!({"method": "lime", "current_ph": 5.2, "buffer_ph": 6.2, "target_ph": 6.0});
    // line 2: a crop name whose bytes are not UTF-8 (0xFF never occurs in UTF-8)
    let mut input = Vec::new();
    input.extend_from_slice(good_1.to_string().as_bytes());
    input.extend_from_slice(b"\n{\"method\": \"target_yield\", \"crop\": \"ri\xFFce\"}\n");
    input.extend_from_slice(good_3.to_string().as_bytes());
    input.push(b'\n');

    let check = |out: Run| {
        out.assert_status(2);
        let v = out.json();
        let results = v
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {v:#}"));
        assert_eq!(results.len(), 3, "one answer per line: {v:#}");
        assert_eq!(results[0]["line"], 1);
        assert_eq!(
            results[0],
            as_read_back(
                &json!({"line": 1, "result": advisor::handle_json(&good_1.to_string()).unwrap()})
            )
        );
        // the bad line gets its own error, naming the line and the byte
        assert_eq!(results[1]["line"], 2);
        assert!(results[1].get("result").is_none(), "{:#}", results[1]);
        assert_eq!(
            results[1]["error"]["code"], "invalid_utf8",
            "{:#}",
            results[1]
        );
        // `{"method": "target_yield", "crop": "ri` is 38 bytes: the bad byte is the 39th
        assert_eq!(results[1]["error"]["column"], 39, "{:#}", results[1]);
        assert!(
            results[1]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8"),
            "{:#}",
            results[1]
        );
        assert_eq!(results[2]["line"], 3);
        assert_eq!(
            results[2],
            as_read_back(
                &json!({"line": 3, "result": advisor::handle_json(&good_3.to_string()).unwrap()})
            )
        );
        assert!(out.stderr.contains("not accepted"), "{}", out.stderr);
    };
    check(advise_stdin_bytes(&input));
    // the same from a file
    let path = temp_file("non-utf8.jsonl", "");
    std::fs::write(&path, &input).unwrap();
    check(advise_file(&path));
    std::fs::remove_file(&path).unwrap();

    // one request that is not UTF-8 is one error, with its position
    let out = advise_stdin_bytes(b"{\"method\": \"lime\",\n \"current_ph\": \xFF}");
    out.assert_status(2);
    let v = out.json();
    assert_eq!(v["error"]["code"], "invalid_utf8", "{v:#}");
    assert_eq!(v["error"]["line"], 2, "{v:#}");
    assert_eq!(v["error"]["column"], 16, "{v:#}");
}

// ---------------------------------------------------------------- bad requests, files

#[test]
fn malformed_request_exits_2() {
    let out = advise_stdin("this is not json\n");
    out.assert_status(2);
    let v = out.json();
    assert_eq!(v["error"]["code"], "malformed_json", "{v:#}");
    assert_eq!(v["error"]["line"], 1);
    assert!(v["error"]["column"].as_u64().is_some(), "{v:#}");
    assert!(!out.stderr.is_empty());

    // cut short on line 2: the position is reported
    let out = advise_stdin("{\"method\": \"lime\",\n \"current_ph\": }");
    out.assert_status(2);
    let v = out.json();
    assert_eq!(v["error"]["code"], "malformed_json", "{v:#}");
    assert_eq!(v["error"]["line"], 2);
    assert!(v["error"]["column"].as_u64().unwrap() > 1);

    // empty input is not a request either
    let out = advise_stdin("");
    out.assert_status(2);
    assert_eq!(out.json()["error"]["code"], "malformed_json");
}

#[test]
fn invalid_requests_exit_2_and_name_the_field() {
    let balance = |recovery: Value| {
        let mut r = json!({
            "method": "nutrient_balance", "nutrient": "K2O", "crop": "rice",
            "target_yield_kg_per_mu": 500,
            "soil": {"soil_test": {"mg_per_kg": 80, "correction_coefficient": 0.5}}
        });
        r["recovery_rate"] = recovery;
        r
    };
    let cases = [
        // a negative recovery rate, and one above 1
        (balance(json!(-0.2)), "recovery_rate"),
        (balance(json!(1.5)), "recovery_rate"),
        // a missing required field
        (
            json!({
                "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
                "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
            }),
            "target_yield_kg_per_mu",
        ),
        (
            json!({"method": "tri_state", "nutrient": "K", "soil_test_ppm": 110}),
            "cec_meq_per_100g",
        ),
        // a misspelt override
        (
            json!({
                "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
                "target_yield_kg_per_mu": 500, "recovery": 0.3,
                "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 300}}
            }),
            "recovery",
        ),
        // nested path
        (
            json!({
                "method": "least_cost_basket", "targets_kg": {"n": 10},
                "products": [
                    {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 10000},
                    {"name": "bad", "analysis": "46-0", "bag_kg": 50, "price_fen_per_bag": 10000}
                ]
            }),
            "products[1].analysis",
        ),
        // no method at all
        (json!({"x": 1}), "method"),
    ];
    for (request, field) in cases {
        let out = advise_stdin(&request.to_string());
        out.assert_status(2);
        let v = out.json();
        assert_eq!(v["error"]["code"], "invalid_request", "{request}\n{v:#}");
        assert_eq!(v["error"]["field"], field, "{request}\n{v:#}");
        // exactly what the library says
        let e = advisor::handle_json(&request.to_string()).unwrap_err();
        assert_eq!(v, as_read_back(&e.to_json()), "{request}");
        assert!(
            out.stderr.contains("not accepted"),
            "stderr: {}",
            out.stderr
        );
    }
}

#[test]
fn a_file_argument_works_like_stdin() {
    // one request on one line, one pretty-printed, a batch, and a bad request
    let pretty = serde_json::to_string_pretty(&basket_request(true)).unwrap();
    let inputs = [
        ("one_line.json", peanut_request(0.05, None).to_string()),
        ("pretty.json", pretty),
        (
            "batch.jsonl",
            format!(
                "{}\n{}\n",
                json!({"method": "target_yield", "yields_kg_per_mu": [450, 500, 520]}),
                json!({"method": "lime", "current_ph": 5.2, "buffer_ph": 6.2, "target_ph": 6.0})
            ),
        ),
        (
            "bad.json",
            json!({"method": "lime", "current_ph": 5.2, "buffer_ph": 6.2}).to_string(),
        ),
    ];
    for (name, text) in inputs {
        let from_stdin = advise_stdin(&text);
        let path = temp_file(name, &text);
        let from_file = advise_file(&path);
        assert_eq!(from_file.status, from_stdin.status, "{name}");
        assert_eq!(from_file.stdout, from_stdin.stdout, "{name}");
        assert_eq!(from_file.stderr, from_stdin.stderr, "{name}");
        // `-` is stdin
        let dash = advise_stdin_with_args(&["-"], &text);
        assert_eq!(dash.status, from_stdin.status, "{name}");
        assert_eq!(dash.stdout, from_stdin.stdout, "{name}");
        std::fs::remove_file(&path).unwrap();
    }
    // and the values are right through the file too
    let path = temp_file("basket.json", &basket_request(true).to_string());
    let out = advise_file(&path);
    out.assert_status(0);
    assert_eq!(out.json()["cost_fen"], 115000);
    let bad = temp_file("bad.json", "{\"method\": \"lime\", \"current_ph\": 5.2}");
    let out = advise_file(&bad);
    out.assert_status(2);
    assert_eq!(out.json()["error"]["field"], "buffer_ph");
}

#[test]
fn a_missing_file_exits_2_with_a_clear_message() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("advise_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("no-such-request-{}.json", std::process::id()));
    assert!(!path.exists());
    let out = advise_file(&path);
    out.assert_status(2);
    // it names the file ...
    assert!(
        out.stderr
            .contains(&format!("cannot read {}", path.display())),
        "stderr: {}",
        out.stderr
    );
    // ... and the reason, as the OS words it
    let reason = std::fs::read_to_string(&path).unwrap_err().to_string();
    assert!(out.stderr.contains(&reason), "stderr: {}", out.stderr);
    // no answer on stdout
    assert!(out.stdout.trim().is_empty(), "stdout: {}", out.stdout);
}
