//! `abuse-rss`: what the abusive requests of issue 14 do to a running server's memory. It sends,
//! to a server started separately (a release build, so the figures are the ones a county runs),
//! the requests that once took a server from 70 MiB to 796 MiB and kept it there, then a burst
//! of farmers signing up at once, and prints the server's resident memory (VmRSS, and the peak
//! VmHWM) from `/proc/<pid>/status` before, after each step and after the server has idled.
//!
//! ```text
//! cargo build --release -p nongzi -p e2e --examples
//! DATABASE_URL=sqlite:///tmp/abuse.db?mode=rwc target/release/nongzi serve --demo --bind 127.0.0.1:18890 &
//! target/release/examples/abuse-rss --url http://127.0.0.1:18890 --pid $!
//! ```
//!
//! The steps: 200 ordinary catalog pages (the baseline); 20 x one 64 KB query of 1 000 aliases
//! of `__schema`; 20 x a 2.6 KB fragment fan-out of 2^30 fields; 20 x a 300 KB body; 20 x a
//! 100 000-character search; then `--signups` (250) farmers registering at the same moment. For
//! each it prints how the server answered (HTTP status or GraphQL code, counted).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

struct Args {
    url: String,
    pid: u32,
    signups: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: String::new(),
        pid: 0,
        signups: 250,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => a.url = v,
            "--pid" => a.pid = v.parse()?,
            "--signups" => a.signups = v.parse()?,
            _ => bail!("unknown argument {k}"),
        }
    }
    if a.url.is_empty() || a.pid == 0 {
        bail!("usage: abuse-rss --url http://127.0.0.1:PORT --pid PID [--signups 250]");
    }
    Ok(a)
}

/// (VmRSS, VmHWM) of the process, in MiB.
fn memory(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    Ok((kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0))
}

/// How the server answered: `HTTP 413`, or the first GraphQL error code, or `OK`.
async fn outcome(r: reqwest::Result<reqwest::Response>) -> String {
    match r {
        Err(e) => format!(
            "no answer ({})",
            if e.is_timeout() { "timeout" } else { "error" }
        ),
        Ok(r) => {
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            match body["errors"][0]["extensions"]["code"].as_str() {
                Some(code) => format!("HTTP {status} {code}"),
                None if status == 200 => "OK".to_owned(),
                None => format!("HTTP {status}"),
            }
        }
    }
}

fn fan_out(n: usize) -> String {
    let mut q = String::from("{ ...F0 }\n");
    for i in 0..n {
        q.push_str(&format!(
            "fragment F{i} on Query {{ a: regions {{ ...F{j} }} b: regions {{ ...F{j} }} }}\n",
            j = i + 1
        ));
    }
    q.push_str(&format!("fragment F{n} on Query {{ __typename }}\n"));
    q
}

struct Report {
    pid: u32,
    rows: Vec<(String, f64, f64, String)>,
}

impl Report {
    fn take(&mut self, step: &str, answers: &BTreeMap<String, usize>) -> anyhow::Result<()> {
        let (rss, hwm) = memory(self.pid)?;
        let answers = answers
            .iter()
            .map(|(k, n)| format!("{n} x {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("{step:<46} RSS {rss:7.1} MiB  peak {hwm:7.1} MiB  {answers}");
        self.rows.push((step.to_owned(), rss, hwm, answers));
        Ok(())
    }
}

async fn send_many(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    body: impl Fn(usize) -> String,
) -> BTreeMap<String, usize> {
    let mut answers = BTreeMap::new();
    for i in 0..n {
        let r = client
            .post(format!("{url}/graphql"))
            .header("content-type", "application/json")
            .body(body(i))
            .send()
            .await;
        *answers.entry(outcome(r).await).or_default() += 1;
    }
    answers
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut report = Report {
        pid: a.pid,
        rows: Vec::new(),
    };
    report.take("started", &BTreeMap::new())?;

    let catalog = json!({ "query": "{ products(first: 20) { edges { node { id name producer { nameZh } skus { id packSize packUnit offers { priceFen dealer { name } } } } } } }" }).to_string();
    let answers = send_many(&client, &a.url, 200, |_| catalog.clone()).await;
    report.take("200 catalog pages (baseline)", &answers)?;

    // 1 000 aliases of the whole schema's introspection, in a 64 KB anonymous query.
    let aliases: String = (0..1000)
        .map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name }} }} }} "))
        .collect();
    let introspection = json!({ "query": format!("{{ {aliases} }}") }).to_string();
    let answers = send_many(&client, &a.url, 20, |_| introspection.clone()).await;
    report.take(
        &format!(
            "20 x 1 000 aliased __schema ({} KB)",
            introspection.len() / 1024
        ),
        &answers,
    )?;

    let fan = json!({ "query": fan_out(30) }).to_string();
    let answers = send_many(&client, &a.url, 20, |_| fan.clone()).await;
    report.take(
        &format!("20 x fragment fan-out 2^30 ({} B)", fan.len()),
        &answers,
    )?;

    let big =
        json!({ "query": format!("{{ __typename }} # {}", "x".repeat(300 * 1024)) }).to_string();
    let answers = send_many(&client, &a.url, 20, |_| big.clone()).await;
    report.take("20 x 300 KB body", &answers)?;

    let search = json!({
        "query": "query($t: String!) { products(first: 20, filter: { text: $t }) { totalCount } }",
        "variables": { "t": "尿".repeat(100_000) }
    })
    .to_string();
    let answers = send_many(&client, &a.url, 20, |_| search.clone()).await;
    report.take("20 x 100 000-character search", &answers)?;

    tokio::time::sleep(Duration::from_secs(5)).await;
    report.take("after 5 s idle", &BTreeMap::new())?;

    // Every farmer at the same moment: each registration hashes a password (argon2id, 19 MiB).
    let started = Instant::now();
    let base = 13_700_000_000u64 + u64::from(std::process::id() % 1000) * 10_000;
    let tasks: Vec<_> = (0..a.signups)
        .map(|i| {
            let client = client.clone();
            let url = a.url.clone();
            tokio::spawn(async move {
                let body = json!({
                    "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken errors { code } } }",
                    "variables": { "i": {
                        "phone": (base + i as u64).to_string(),
                        "password": "a-long-password-2026",
                        "displayName": format!("压测农户{i}"),
                    } }
                });
                let t = Instant::now();
                let r = client.post(format!("{url}/graphql")).json(&body).send().await;
                (outcome(r).await, t.elapsed())
            })
        })
        .collect();
    let mut answers = BTreeMap::new();
    let mut times = Vec::new();
    for t in tasks {
        let (o, took) = t.await?;
        *answers.entry(o).or_default() += 1;
        times.push(took);
    }
    times.sort();
    let burst = started.elapsed();
    report.take(&format!("{} sign-ups at once", a.signups), &answers)?;
    println!(
        "  sign-up burst: {:.1} s in all; answer time p50 {:.0} ms, max {:.0} ms",
        burst.as_secs_f64(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3)
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    report.take("after 5 s idle", &BTreeMap::new())?;
    Ok(())
}
