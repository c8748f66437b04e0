//! Keeps docs/advisor.md honest: every ```json block is a request that `handle_json` accepts, and
//! every ```json response block right after it matches what the request really returns (a
//! response block may leave out keys and cut arrays short, but what it shows must be right).

use serde_json::Value;

const DOC: &str = include_str!("../../../docs/advisor.md");

/// (fence info, body, line of the opening fence) for each fenced block.
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

/// `doc` shows a part of `actual`: same scalars (numbers within 1e-6 relative), every key of a
/// doc object present in the actual object, a doc array a prefix of the actual array.
fn shows_part_of(doc: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (doc, actual) {
        (Value::Object(d), Value::Object(a)) => {
            for (k, dv) in d {
                let av = a
                    .get(k)
                    .ok_or_else(|| format!("{path}.{k}: not in the real response"))?;
                shows_part_of(dv, av, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(d), Value::Array(a)) => {
            if d.len() > a.len() {
                return Err(format!(
                    "{path}: doc shows {} items, response has {}",
                    d.len(),
                    a.len()
                ));
            }
            for (i, (dv, av)) in d.iter().zip(a).enumerate() {
                shows_part_of(dv, av, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(d), Value::Number(a)) => {
            let (d, a) = (d.as_f64().unwrap(), a.as_f64().unwrap());
            if (d - a).abs() <= 1e-6 * a.abs().max(1.0) {
                Ok(())
            } else {
                Err(format!("{path}: doc says {d}, response says {a}"))
            }
        }
        (d, a) if d == a => Ok(()),
        (d, a) => Err(format!("{path}: doc says {d}, response says {a}")),
    }
}

#[test]
fn every_json_example_in_the_doc_runs() {
    let mut requests = 0;
    let mut responses = 0;
    let mut methods = std::collections::BTreeSet::new();
    let mut last: Option<(Value, usize)> = None;
    for (info, body, line) in blocks(DOC) {
        match info.as_str() {
            "json" => {
                let out = advisor::handle_json(&body)
                    .unwrap_or_else(|e| panic!("docs/advisor.md line {line}: {e}\n{body}"));
                methods.insert(out["method"].as_str().unwrap().to_string());
                last = Some((out, line));
                requests += 1;
            }
            "json response" => {
                let doc: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("docs/advisor.md line {line}: not JSON: {e}"));
                let (actual, req_line) = last.take().unwrap_or_else(|| {
                    panic!("docs/advisor.md line {line}: response without a request")
                });
                if let Err(e) = shows_part_of(&doc, &actual, "") {
                    panic!(
                        "docs/advisor.md line {line} (request at line {req_line}): {e}\nreal response:\n{actual:#}"
                    );
                }
                responses += 1;
            }
            "jsonl" => {
                for (i, l) in body
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    advisor::handle_json(l)
                        .unwrap_or_else(|e| panic!("docs/advisor.md line {}: {e}", line + 1 + i));
                }
            }
            _ => {}
        }
    }
    // Every method is documented with a request that runs.
    for m in advisor::METHODS {
        assert!(
            methods.contains(*m),
            "docs/advisor.md has no runnable example of `{m}`"
        );
    }
    assert!(
        responses >= advisor::METHODS.len(),
        "{responses} response examples for {requests} requests"
    );
}

#[test]
fn shell_examples_use_the_documented_command() {
    // Each method section shows how to run it from the shell.
    let runs = DOC.matches("cargo run --release -- advise").count();
    assert!(runs >= advisor::METHODS.len(), "only {runs} shell examples");
}
