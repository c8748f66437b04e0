//! `fuzz-graphql`: a schema-driven GraphQL fuzzer (issue 14). It reads the schema by
//! introspection from a running Nongzi server, signs in as the demo farmer, dealer owner,
//! agronomist and regulator (and also sends anonymously), collects real IDs and codes from the
//! demo data, then sends `--requests` operations, each one query or mutation field with
//! arguments of the right shape and hostile values: empty, over-long and control-character
//! texts, full-width and CJK, emoji, extreme numbers, wrong-kind and malformed global IDs, bad
//! dates, unknown enum values, empty and 1 000-item lists, and real IDs so that requests get
//! past the first check.
//!
//! Every answer is counted by its `extensions.code`. Each `INTERNAL`, each 5xx, each answer
//! that is not JSON and each dropped connection is logged with the exact request, one JSON
//! object a line, to `--log`. It prints a table and exits with status 1 when any `INTERNAL`,
//! 5xx or dropped connection was seen.
//!
//! ```text
//! nongzi serve --demo --bind 127.0.0.1:18731 &
//! cargo run -p e2e --example fuzz-graphql -- --url http://127.0.0.1:18731/graphql \
//!     --requests 40000 --seed 1
//! ```
//!
//! Request `i` is a function of the seed, `i` and the demo data alone (the IDs are collected
//! before the run starts), so a logged request can be regenerated; the answers also depend on
//! what earlier mutations changed. Only servers on 127.0.0.1 are fuzzed. The server should allow
//! many logins and trace look-ups (`NONGZI_LOGIN_LIMIT_PHONE`, `NONGZI_LOGIN_LIMIT_IP`,
//! `NONGZI_TRACE_LIMIT_PER_MINUTE`), or most answers are `RATE_LIMITED`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The demo accounts (api/data/demo.toml), by the role they play here.
const ROLES: [(&str, &str, &str); 4] = [
    ("farmer", "13800000006", "demo-farmer-2026"),
    ("dealer", "13800000004", "demo-dealer-2026"),
    ("agronomist", "13800000003", "demo-agronomist-2026"),
    ("regulator", "13800000002", "demo-regulator-2026"),
];

const INTROSPECTION: &str = r#"query {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name
      fields { name args { name defaultValue type { ...T } } type { ...T } }
      inputFields { name defaultValue type { ...T } }
      enumValues { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

struct Args {
    url: String,
    requests: usize,
    seed: u64,
    concurrency: usize,
    log: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: fuzz-graphql [--url http://127.0.0.1:18731/graphql] [--requests 40000] [--seed 1]\n\
         \x20                   [--concurrency 8] [--log fuzz-graphql.log]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:18731/graphql".to_owned(),
        requests: 40_000,
        seed: 1,
        concurrency: 8,
        log: "fuzz-graphql.log".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--url" => a.url = value(),
            "--requests" => a.requests = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => a.seed = value().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => a.concurrency = value().parse().unwrap_or_else(|_| usage()),
            "--log" => a.log = value(),
            _ => usage(),
        }
    }
    if a.requests == 0 || a.concurrency == 0 {
        usage();
    }
    a
}

/// Only servers on this machine are fuzzed.
fn check_local(url: &str) -> anyhow::Result<()> {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|h| {
            h.trim_start_matches('[')
                .split([']', ':'])
                .next()
                .unwrap_or(h)
        })
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
        bail!("{url}: only servers on 127.0.0.1 are fuzzed");
    }
    Ok(())
}

/// A small deterministic generator (splitmix64), one per request.
struct Rng(u64);

impl Rng {
    fn for_request(seed: u64, i: usize) -> Rng {
        let mut r = Rng(seed ^ (i as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---- the schema, from introspection ----

#[derive(Clone, Debug)]
enum TypeRef {
    NonNull(Box<TypeRef>),
    List(Box<TypeRef>),
    Named(String),
}

impl TypeRef {
    fn parse(v: &Value) -> anyhow::Result<TypeRef> {
        let of = || TypeRef::parse(&v["ofType"]).map(Box::new);
        Ok(match v["kind"].as_str().context("type kind")? {
            "NON_NULL" => TypeRef::NonNull(of()?),
            "LIST" => TypeRef::List(of()?),
            _ => TypeRef::Named(v["name"].as_str().context("type name")?.to_owned()),
        })
    }
    fn named(&self) -> &str {
        match self {
            TypeRef::NonNull(t) | TypeRef::List(t) => t.named(),
            TypeRef::Named(n) => n,
        }
    }
    fn graphql(&self) -> String {
        match self {
            TypeRef::NonNull(t) => format!("{}!", t.graphql()),
            TypeRef::List(t) => format!("[{}]", t.graphql()),
            TypeRef::Named(n) => n.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct InputValue {
    name: String,
    ty: TypeRef,
    has_default: bool,
}

impl InputValue {
    fn parse(v: &Value) -> anyhow::Result<InputValue> {
        Ok(InputValue {
            name: v["name"].as_str().context("input name")?.to_owned(),
            ty: TypeRef::parse(&v["type"])?,
            has_default: !v["defaultValue"].is_null(),
        })
    }
    fn required(&self) -> bool {
        matches!(self.ty, TypeRef::NonNull(_)) && !self.has_default
    }
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    args: Vec<InputValue>,
    ty: TypeRef,
}

#[derive(Debug, Default)]
struct Type {
    kind: String,
    fields: Vec<Field>,
    input_fields: Vec<InputValue>,
    enum_values: Vec<String>,
}

struct Schema {
    types: BTreeMap<String, Type>,
    /// (operation keyword, root field).
    roots: Vec<(&'static str, Field)>,
}

impl Schema {
    fn parse(data: &Value) -> anyhow::Result<Schema> {
        let s = &data["__schema"];
        let mut types = BTreeMap::new();
        for t in s["types"].as_array().context("types")? {
            let name = t["name"].as_str().context("type name")?.to_owned();
            let fields = t["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    Ok(Field {
                        name: f["name"].as_str().context("field name")?.to_owned(),
                        args: f["args"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(InputValue::parse)
                            .collect::<anyhow::Result<_>>()?,
                        ty: TypeRef::parse(&f["type"])?,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let input_fields = t["inputFields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(InputValue::parse)
                .collect::<anyhow::Result<_>>()?;
            let enum_values = t["enumValues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["name"].as_str().map(str::to_owned))
                .collect();
            types.insert(
                name,
                Type {
                    kind: t["kind"].as_str().unwrap_or("").to_owned(),
                    fields,
                    input_fields,
                    enum_values,
                },
            );
        }
        let mut roots = Vec::new();
        for (op, key) in [("query", "queryType"), ("mutation", "mutationType")] {
            if let Some(name) = s[key]["name"].as_str() {
                for f in &types.get(name).context("root type")?.fields {
                    roots.push((op, f.clone()));
                }
            }
        }
        Ok(Schema { types, roots })
    }

    fn is_leaf(&self, name: &str) -> bool {
        self.types
            .get(name)
            .is_none_or(|t| t.kind == "SCALAR" || t.kind == "ENUM")
    }

    /// A selection of every field without required arguments, three levels deep, at most
    /// `budget` fields, so that resolvers below the root run too.
    fn selection(&self, ty: &str, depth: usize, budget: &mut usize) -> String {
        let Some(t) = self.types.get(ty) else {
            return String::new();
        };
        if t.kind == "UNION" {
            return "__typename".to_owned();
        }
        let mut parts = Vec::new();
        for f in &t.fields {
            if *budget == 0 || f.args.iter().any(InputValue::required) {
                continue;
            }
            let inner = f.ty.named();
            if self.is_leaf(inner) {
                *budget -= 1;
                parts.push(f.name.clone());
            } else if depth < 3 {
                *budget -= 1;
                let sub = self.selection(inner, depth + 1, budget);
                if !sub.is_empty() {
                    parts.push(format!("{} {{ {sub} }}", f.name));
                }
            }
        }
        if parts.is_empty() {
            "__typename".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

// ---- values ----

/// A generated argument value: written into the query as a literal or sent as a variable.
#[derive(Clone, Debug)]
enum Gen {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Enum(String),
    List(Vec<Gen>),
    Obj(Vec<(String, Gen)>),
}

impl Gen {
    fn json(&self) -> Value {
        match self {
            Gen::Null => Value::Null,
            Gen::Bool(b) => json!(b),
            Gen::Int(n) => json!(n),
            Gen::Float(x) => json!(x),
            Gen::Str(s) | Gen::Enum(s) => json!(s),
            Gen::List(items) => Value::Array(items.iter().map(Gen::json).collect()),
            Gen::Obj(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.json())).collect())
            }
        }
    }
    fn literal(&self) -> String {
        match self {
            Gen::Null => "null".to_owned(),
            Gen::Bool(b) => b.to_string(),
            Gen::Int(n) => n.to_string(),
            Gen::Float(x) => format!("{x:e}"),
            Gen::Str(s) => json!(s).to_string(),
            Gen::Enum(s) => s.clone(),
            Gen::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Gen::literal)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Gen::Obj(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.literal()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn gid(kind: &str, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// Real values from the demo data: global IDs by their kind, and codes, phones and names.
#[derive(Default)]
struct Pool {
    ids: BTreeMap<String, BTreeSet<String>>,
    /// By class (`code`, `phone`, `date`, `name`), and by exact field name (`=analysis`).
    texts: BTreeMap<String, BTreeSet<String>>,
    nums: BTreeMap<String, BTreeSet<i64>>,
}

impl Pool {
    fn harvest(&mut self, v: &Value, key: &str) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| self.harvest(x, k)),
            Value::Array(items) => items.iter().for_each(|x| self.harvest(x, key)),
            Value::String(s) if key == "id" || key.ends_with("Id") => {
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                if let Some((kind, _)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                    self.ids
                        .entry(kind.to_owned())
                        .or_default()
                        .insert(s.clone());
                }
            }
            Value::Number(n) => {
                if let Some(n) = n.as_i64() {
                    let set = self.nums.entry(key.to_owned()).or_default();
                    if set.len() < 50 {
                        set.insert(n);
                    }
                }
            }
            Value::String(s) if !s.is_empty() && s.chars().count() <= 64 => {
                let exact = self.texts.entry(format!("={key}")).or_default();
                if exact.len() < 50 {
                    exact.insert(s.clone());
                }
                let k = key.to_ascii_lowercase();
                let class = if k.contains("code") {
                    "code"
                } else if k.contains("phone") {
                    "phone"
                } else if k.contains("date") || k.ends_with("at") {
                    "date"
                } else if k.contains("name") {
                    "name"
                } else {
                    return;
                };
                let set = self.texts.entry(class.to_owned()).or_default();
                if set.len() < 200 {
                    set.insert(s.clone());
                }
            }
            _ => {}
        }
    }

    fn frozen(&self) -> Frozen {
        Frozen {
            ids: self
                .ids
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            texts: self
                .texts
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            nums: self
                .nums
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().copied().collect()))
                .collect(),
        }
    }
}

/// The pool, fixed once the run starts (so request `i` depends only on the seed and `i`).
struct Frozen {
    ids: BTreeMap<String, Vec<String>>,
    texts: BTreeMap<String, Vec<String>>,
    nums: BTreeMap<String, Vec<i64>>,
}

/// The global ID kind an argument most likely names (`lotId` is a Lot, `villageIds` a Region).
fn id_kind(arg: &str, field: &Field) -> String {
    let base = arg
        .strip_suffix("Ids")
        .or_else(|| arg.strip_suffix("Id"))
        .unwrap_or(arg);
    let base = if base == "id" || base == "ids" {
        field
            .ty
            .named()
            .trim_end_matches("Payload")
            .to_ascii_lowercase()
    } else {
        base.to_ascii_lowercase()
    };
    let kind = match base.as_str() {
        "village" | "county" | "parent" | "region" => "Region",
        "farmer" | "user" => "User",
        "line" => "OrderLine",
        "event" | "traceevent" => "TraceEvent",
        "notificationsmarkread" | "int" => "Notification",
        "soiltest" => "SoilTest",
        "cropplan" => "CropPlan",
        other => {
            let mut c = other.chars();
            return c
                .next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default();
        }
    };
    kind.to_owned()
}

fn long_text(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "a".repeat(4_001),
        1 => "稻".repeat(4_001),
        2 => "稻".repeat(3_999),
        3 => "🌾".repeat(3_990),
        _ => "x".repeat(100_000),
    }
}

const STRINGS: &[&str] = &[
    "",
    " ",
    "   \t ",
    "\u{0}",
    "a\u{0}b",
    "\u{7}\u{8}",
    "\u{1b}[31mred",
    "\u{7f}",
    "\u{85}",
    "line\nbreak",
    "tab\tin",
    "ＡＢＣ１２３",
    "１３８０００００００６",
    "全角　空格",
    "中文English混合 mixed",
    "化肥",
    "复合肥15-15-15",
    "🌾🚜👩‍🌾",
    "\u{200b}\u{feff}",
    "\u{202e}evil",
    "e\u{301}",
    "'; DROP TABLE lot; --",
    "%",
    "_%_",
    "\\",
    "\"",
    "<script>alert(1)</script>",
    "-1",
    "0",
    "99999999999999999999",
    "1e308",
    "NaN",
    "null",
    "15-15-15",
    "0-0-0",
    "99-99-99",
    "13800000006",
    "+8613800000006",
    "110101199003077777",
    "demo-farmer-2026",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "-0001-01-01",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "PRZ0EZ2M6BH1",
    "10801581001000000000000000039001",
    "6901234567892",
    "NY/T 1118-2006",
    "农肥(2026)准字0001号",
    "PD20260001",
];

const DATES: &[&str] = &[
    "2026-01-01",
    "2026-06-30",
    "2026-02-29",
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "+275760-09-13",
    "+262142-12-31",
    "-262143-01-01",
    "-0001-01-01",
    "1970-01-01",
    "",
    "today",
    "2026/01/01",
    "２０２６-０１-０１",
];

const DATETIMES: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-12-31T23:59:59+08:00",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "+262143-12-31T23:59:59Z",
    "+262142-12-31T23:59:59Z",
    "-262143-01-01T00:00:00Z",
    "2026-01-01T00:00:00+25:00",
    "2026-02-30T00:00:00Z",
    "2026-01-01",
    "",
    "yesterday",
];

const INTS: &[i64] = &[
    0,
    1,
    2,
    3,
    5,
    10,
    100,
    1_000,
    -1,
    -100,
    i32::MAX as i64,
    i32::MIN as i64,
    i32::MAX as i64 - 1,
    1_000_000,
    99_999_999,
    4_294_967_296,
    i64::MAX,
];

const FLOATS: &[f64] = &[
    0.0, -0.0, 1.0, -1.0, 0.5, 6.5, 1e308, -1e308, 1e-308, 5e-324, 1e20, 100.0, 9999.0,
];

struct Gener<'a> {
    schema: &'a Schema,
    pool: &'a Frozen,
    /// The percentage of values that are hostile; the others look like real input, so that a
    /// request gets past the first check and the hostile value reaches deeper code.
    hostile: u64,
}

impl Gener<'_> {
    fn id(&self, rng: &mut Rng, kind: &str) -> String {
        let kinds: Vec<&String> = self.pool.ids.keys().collect();
        let real = |rng: &mut Rng, k: &str| {
            self.pool
                .ids
                .get(k)
                .map(|v| rng.pick(v).clone())
                .unwrap_or_else(|| gid(k, "1"))
        };
        match rng.below(20) {
            0..=8 => real(rng, kind),
            9..=11 if !kinds.is_empty() => {
                let k = rng.pick(&kinds).as_str().to_owned();
                real(rng, &k)
            }
            12 => gid(kind, "-1"),
            13 => gid(kind, "99999999999999999999"),
            14 => gid(
                kind,
                rng.pick::<&str>(&["0", "", "abc", "1.5", " 1", "1 ", "+1", "0x10"]),
            ),
            15 => gid("Offer", "1"),
            16 => (*rng.pick(&["not base64!!", "", "====", "TG90OjE=", "Lot:1", "1", "🌾"]))
                .to_owned(),
            17 => base64::engine::general_purpose::STANDARD.encode(format!("{kind}:1")),
            18 => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode([0xff, 0xfe, 0x00, 0x3a, 0x31]),
            _ => gid(kind, &i64::MAX.to_string()),
        }
    }

    fn string(&self, rng: &mut Rng, name: &str) -> String {
        let n = name.to_ascii_lowercase();
        let class = if n.contains("code") || n == "csv" {
            Some("code")
        } else if n.contains("phone") {
            Some("phone")
        } else if n.contains("name") {
            Some("name")
        } else {
            None
        };
        if n == "after" && rng.chance(60) {
            // A Relay cursor: real ones, and forged offsets at the edges of the integer types.
            let forged = rng.pick(&[
                "-1",
                "0",
                "1",
                "4294967296",
                "9223372036854775807",
                "18446744073709551615",
                "18446744073709551616",
                "1e3",
                "",
            ]);
            return match self.pool.texts.get("=endCursor") {
                Some(v) if rng.chance(40) => rng.pick(v).clone(),
                _ => base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(format!("offset:{forged}")),
            };
        }
        match rng.below(10) {
            0..=2 => {
                if let Some(v) = class.and_then(|c| self.pool.texts.get(c)) {
                    return rng.pick(v).clone();
                }
                (*rng.pick(STRINGS)).to_owned()
            }
            3 => long_text(rng),
            4 if n == "csv" => {
                let lines = rng.below(5);
                let mut s = rng
                    .pick(&[
                        "sku,lot,quantity\n",
                        "field,sampled_on,ph,om,n,p,k\n",
                        "a,b\n",
                        "",
                    ])
                    .to_string();
                for _ in 0..lines {
                    s.push_str(rng.pick::<&str>(STRINGS));
                    s.push(',');
                    s.push_str(&rng.pick(INTS).to_string());
                    s.push('\n');
                }
                s
            }
            _ => (*rng.pick(STRINGS)).to_owned(),
        }
    }

    fn value(&self, rng: &mut Rng, ty: &TypeRef, name: &str, field: &Field, depth: usize) -> Gen {
        let hostile = rng.chance(self.hostile);
        match ty {
            TypeRef::NonNull(inner) => {
                // A null where one is required: validation should say so.
                if hostile && rng.chance(3) {
                    Gen::Null
                } else {
                    self.value(rng, inner, name, field, depth)
                }
            }
            TypeRef::List(inner) => {
                if hostile && rng.chance(5) {
                    return Gen::Null;
                }
                let n = match if hostile {
                    rng.below(20)
                } else {
                    4 + rng.below(10)
                } {
                    0..=3 => 0,
                    4..=12 => 1,
                    13..=17 => 2 + rng.below(3),
                    _ => 1_000,
                };
                // A 1 000-item list repeats one value, so its size stays in kilobytes.
                if n == 1_000 {
                    let one = self.value(rng, inner, name, field, depth + 1);
                    return Gen::List(vec![one; n]);
                }
                Gen::List(
                    (0..n)
                        .map(|_| self.value(rng, inner, name, field, depth + 1))
                        .collect(),
                )
            }
            TypeRef::Named(t) if hostile => {
                if rng.chance(4) {
                    return Gen::Null;
                }
                self.named(rng, t, name, field, depth)
            }
            TypeRef::Named(t) => self.plausible(rng, t, name, field, depth),
        }
    }

    /// A value that looks like real input: demo data where there is some for this name.
    fn plausible(&self, rng: &mut Rng, t: &str, name: &str, field: &Field, depth: usize) -> Gen {
        let n = name.to_ascii_lowercase();
        match t {
            "ID" => {
                let kind = id_kind(name, field);
                Gen::Str(match self.pool.ids.get(&kind) {
                    Some(v) => rng.pick(v).clone(),
                    None => self.id(rng, &kind),
                })
            }
            "String" | "JSON" => {
                Gen::Str(if let Some(v) = self.pool.texts.get(&format!("={name}")) {
                    rng.pick(v).clone()
                } else if n.contains("phone") {
                    format!("139{:08}", rng.below(100_000_000))
                } else if n.contains("password") {
                    format!("fuzz-pass-{}", rng.below(1_000_000))
                } else if n.contains("key") {
                    format!("fuzz-key-{:016x}", rng.next())
                } else if n.contains("date") {
                    format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28))
                } else if n.contains("code") && self.pool.texts.contains_key("code") {
                    rng.pick(&self.pool.texts["code"]).clone()
                } else {
                    (*rng.pick(&[
                        "测试 test",
                        "化肥",
                        "fuzz note 备注",
                        "ABC-123",
                        "玉米",
                        "1",
                    ]))
                    .to_owned()
                })
            }
            "Int" => Gen::Int(match self.pool.nums.get(name) {
                Some(v) if rng.chance(60) => *rng.pick(v),
                _ => 1 + rng.below(10) as i64,
            }),
            "Float" => Gen::Float((1 + rng.below(400)) as f64 / 10.0),
            "Boolean" => Gen::Bool(rng.chance(50)),
            "NaiveDate" => Gen::Str(format!(
                "2026-{:02}-{:02}",
                1 + rng.below(12),
                1 + rng.below(28)
            )),
            "DateTime" => Gen::Str(format!("2026-{:02}-01T08:00:00Z", 1 + rng.below(12))),
            _ => match self.schema.types.get(t) {
                Some(ty) if ty.kind == "ENUM" && !ty.enum_values.is_empty() => {
                    Gen::Enum(rng.pick(&ty.enum_values).clone())
                }
                Some(ty) if ty.kind == "INPUT_OBJECT" && depth < 6 => {
                    let mut fields = Vec::new();
                    for f in &ty.input_fields {
                        if f.required() || rng.chance(50) {
                            let v = self.value(rng, &f.ty, &f.name, field, depth + 1);
                            fields.push((f.name.clone(), v));
                        }
                    }
                    Gen::Obj(fields)
                }
                _ => Gen::Null,
            },
        }
    }

    fn named(&self, rng: &mut Rng, t: &str, name: &str, field: &Field, depth: usize) -> Gen {
        match t {
            "ID" => Gen::Str(self.id(rng, &id_kind(name, field))),
            "String" => Gen::Str(self.string(rng, name)),
            "Int" => Gen::Int(match rng.below(10) {
                0..=5 => *rng.pick(&INTS[..10]),
                _ => *rng.pick(INTS),
            }),
            "Float" => Gen::Float(*rng.pick(FLOATS)),
            "Boolean" => Gen::Bool(rng.chance(50)),
            "NaiveDate" => Gen::Str(match rng.below(4) {
                0 => self
                    .pool
                    .texts
                    .get("date")
                    .map(|v| rng.pick(v).chars().take(10).collect())
                    .unwrap_or_default(),
                _ => (*rng.pick(DATES)).to_owned(),
            }),
            "DateTime" => Gen::Str((*rng.pick(DATETIMES)).to_owned()),
            "JSON" => Gen::Str(self.string(rng, name)),
            _ => match self.schema.types.get(t) {
                Some(ty) if ty.kind == "ENUM" => {
                    if rng.chance(3) || ty.enum_values.is_empty() {
                        Gen::Enum("NOT_A_VALUE".to_owned())
                    } else {
                        Gen::Enum(rng.pick(&ty.enum_values).clone())
                    }
                }
                Some(ty) if ty.kind == "INPUT_OBJECT" && depth < 6 => {
                    let mut fields = Vec::new();
                    for f in &ty.input_fields {
                        if f.required() || rng.chance(70) {
                            let v = self.value(rng, &f.ty, &f.name, field, depth + 1);
                            fields.push((f.name.clone(), v));
                        }
                    }
                    Gen::Obj(fields)
                }
                _ => Gen::Null,
            },
        }
    }
}

// ---- requests ----

struct Op {
    role: usize,
    field: String,
    body: Value,
}

/// Bodies stay under the server's 256 KiB cap: a larger one is refused (413) before it is read,
/// which the client sees as a closed connection, and nothing behind the cap is exercised.
const MAX_BODY: usize = 250 * 1024;

fn make_op(schema: &Schema, pool: &Frozen, seed: u64, i: usize) -> Op {
    let mut rng = Rng::for_request(seed, i);
    for _ in 0..8 {
        let op = one_op(schema, pool, &mut rng);
        if op.body.to_string().len() <= MAX_BODY {
            return op;
        }
    }
    one_op(schema, pool, &mut Rng::for_request(seed ^ 1, i))
}

fn one_op(schema: &Schema, pool: &Frozen, rng: &mut Rng) -> Op {
    let role = rng.below(ROLES.len() + 1);
    let (op, field) = rng.pick(&schema.roots);
    let hostile = *rng.pick(&[0, 3, 3, 10, 10, 30, 100]);
    let g = Gener {
        schema,
        pool,
        hostile,
    };
    let inline = rng.chance(15);
    let mut decls = Vec::new();
    let mut args = Vec::new();
    let mut vars = serde_json::Map::new();
    for (n, a) in field.args.iter().enumerate() {
        if !a.required() && rng.chance(30) {
            continue;
        }
        let v = g.value(rng, &a.ty, &a.name, field, 0);
        if inline {
            args.push(format!("{}: {}", a.name, v.literal()));
        } else {
            decls.push(format!("$a{n}: {}", a.ty.graphql()));
            args.push(format!("{}: $a{n}", a.name));
            vars.insert(format!("a{n}"), v.json());
        }
    }
    let mut budget = 120;
    let sel = if schema.is_leaf(field.ty.named()) {
        String::new()
    } else {
        format!(
            " {{ {} }}",
            schema.selection(field.ty.named(), 1, &mut budget)
        )
    };
    let decls = if decls.is_empty() {
        String::new()
    } else {
        format!("({})", decls.join(", "))
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let query = format!("{op} F{decls} {{ {}{args}{sel} }}", field.name);
    Op {
        role,
        field: field.name.clone(),
        body: json!({ "query": query, "variables": vars }),
    }
}

/// What one answer was.
enum Answer {
    /// HTTP status, the codes of its top-level errors (empty: no errors), the body.
    Json(u16, Vec<String>, Value),
    NonJson(u16, String),
    Dropped(String),
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    lang: &str,
    body: &Value,
) -> Answer {
    let mut req = client.post(url).header("accept-language", lang).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Answer::Dropped(format!("{e:#}")),
    };
    let status = resp.status().as_u16();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return Answer::Dropped(format!("reading the body: {e:#}")),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.is_object() => {
            let mut codes: Vec<String> = v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("(no code)")
                        .to_owned()
                })
                .collect();
            codes.sort();
            codes.dedup();
            Answer::Json(status, codes, v)
        }
        _ => Answer::NonJson(status, text.chars().take(2_000).collect()),
    }
}

async fn login(
    client: &reqwest::Client,
    url: &str,
    phone: &str,
    password: &str,
) -> anyhow::Result<String> {
    let body = json!({
        "query": "mutation($p: String!, $w: String!) { login(phone: $p, password: $w) { accessToken errors { code } } }",
        "variables": { "p": phone, "w": password },
    });
    match send(client, url, None, "en", &body).await {
        Answer::Json(_, _, v) => v["data"]["login"]["accessToken"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("signing in as {phone}: {v}")),
        _ => bail!("signing in as {phone}: no JSON answer"),
    }
}

/// Collects real IDs and codes: every root query without required arguments, for every role,
/// then every query whose required arguments are IDs, with the IDs found so far (twice).
async fn harvest(
    client: &reqwest::Client,
    url: &str,
    schema: &Schema,
    tokens: &[Option<String>],
) -> Pool {
    let mut pool = Pool::default();
    for pass in 0..3 {
        let frozen = pool.frozen();
        for (op, field) in schema.roots.iter().filter(|(op, _)| *op == "query") {
            let required: Vec<&InputValue> = field.args.iter().filter(|a| a.required()).collect();
            if (pass == 0) != required.is_empty() || required.iter().any(|a| a.ty.named() != "ID") {
                continue;
            }
            let mut budget = 300;
            let sel = if schema.is_leaf(field.ty.named()) {
                String::new()
            } else {
                format!(
                    " {{ {} }}",
                    schema.selection(field.ty.named(), 1, &mut budget)
                )
            };
            // Up to 6 tries per field, each with other IDs of the guessed kind.
            let tries = if required.is_empty() { 1 } else { 6 };
            for t in 0..tries {
                let mut decls = Vec::new();
                let mut args = Vec::new();
                let mut vars = serde_json::Map::new();
                let mut complete = true;
                for (n, a) in required.iter().enumerate() {
                    let kind = id_kind(&a.name, field);
                    let Some(ids) = frozen.ids.get(&kind).filter(|v| !v.is_empty()) else {
                        complete = false;
                        break;
                    };
                    let list =
                        matches!(&a.ty, TypeRef::NonNull(t) if matches!(**t, TypeRef::List(_)));
                    let id = ids[(t * 7 + n) % ids.len()].clone();
                    decls.push(format!("$a{n}: {}", a.ty.graphql()));
                    args.push(format!("{}: $a{n}", a.name));
                    vars.insert(format!("a{n}"), if list { json!([id]) } else { json!(id) });
                }
                if !complete {
                    break;
                }
                let decls = if decls.is_empty() {
                    String::new()
                } else {
                    format!("({})", decls.join(", "))
                };
                let args = if args.is_empty() {
                    String::new()
                } else {
                    format!("({})", args.join(", "))
                };
                let query = format!("{op} H{decls} {{ {}{args}{sel} }}", field.name);
                for token in tokens {
                    let body = json!({ "query": query, "variables": vars });
                    if let Answer::Json(_, _, v) =
                        send(client, url, token.as_deref(), "en", &body).await
                    {
                        pool.harvest(&v["data"], "data");
                    }
                }
            }
        }
    }
    pool
}

#[derive(Default)]
struct Tally {
    requests: usize,
    by_code: BTreeMap<String, usize>,
    /// Mutation payload `errors { code }`: how far requests got.
    by_payload_code: BTreeMap<String, usize>,
    by_field_internal: BTreeMap<String, usize>,
    internal: usize,
    http_5xx: usize,
    non_json: usize,
    dropped: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args();
    check_local(&a.url)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let intro = match send(
        &client,
        &a.url,
        None,
        "en",
        &json!({ "query": INTROSPECTION }),
    )
    .await
    {
        Answer::Json(_, _, v) if v["data"]["__schema"].is_object() => v,
        _ => bail!(
            "{}: no introspection answer (is the server running?)",
            a.url
        ),
    };
    let schema = Schema::parse(&intro["data"])?;
    let mut tokens: Vec<Option<String>> = Vec::new();
    for (_, phone, password) in ROLES {
        tokens.push(Some(login(&client, &a.url, phone, password).await?));
    }
    tokens.push(None);
    let started = Instant::now();
    let pool = harvest(&client, &a.url, &schema, &tokens).await;
    let frozen = pool.frozen();
    println!(
        "schema: {} root fields; pool: {} IDs of {} kinds ({}), collected in {:.1} s",
        schema.roots.len(),
        frozen.ids.values().map(Vec::len).sum::<usize>(),
        frozen.ids.len(),
        frozen.ids.keys().cloned().collect::<Vec<_>>().join(" "),
        started.elapsed().as_secs_f64()
    );

    let log = Arc::new(Mutex::new(std::io::BufWriter::new(
        std::fs::File::create(&a.log).with_context(|| format!("creating {}", a.log))?,
    )));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let no_code_logged = Arc::new(AtomicUsize::new(0));
    let schema = Arc::new(schema);
    let frozen = Arc::new(frozen);
    let tokens = Arc::new(tokens);
    let started = Instant::now();
    futures_util::stream::iter(0..a.requests)
        .for_each_concurrent(a.concurrency, |i| {
            let (client, url, schema, frozen, tokens, log, tally) = (
                client.clone(),
                a.url.clone(),
                schema.clone(),
                frozen.clone(),
                tokens.clone(),
                log.clone(),
                tally.clone(),
            );
            let no_code_logged = no_code_logged.clone();
            let seed = a.seed;
            async move {
                let op = make_op(&schema, &frozen, seed, i);
                let role = ROLES.get(op.role).map_or("anonymous", |r| r.0);
                let lang = if i % 2 == 0 { "zh-CN" } else { "en" };
                let answer = send(&client, &url, tokens[op.role].as_deref(), lang, &op.body).await;
                let (status, codes, problem, detail) = match &answer {
                    Answer::Json(s, codes, v) => {
                        let bad = *s >= 500 || codes.iter().any(|c| c == "INTERNAL");
                        let kind = if bad {
                            Some("internal")
                        } else if codes.iter().any(|c| c == "(no code)")
                            && no_code_logged.fetch_add(1, Ordering::Relaxed) < 200
                        {
                            // Not a failure; a sample shows which refusals carry no code.
                            Some("no-code")
                        } else {
                            None
                        };
                        (*s, codes.clone(), kind, v.clone())
                    }
                    Answer::NonJson(s, t) => (
                        *s,
                        vec![format!("(non-JSON {s})")],
                        Some("non-json"),
                        json!(t),
                    ),
                    Answer::Dropped(e) => {
                        (0, vec!["(dropped)".to_owned()], Some("dropped"), json!(e))
                    }
                };
                let mut t = tally.lock().expect("tally");
                t.requests += 1;
                if codes.is_empty() {
                    *t.by_code.entry("(no error)".to_owned()).or_default() += 1;
                }
                for c in &codes {
                    *t.by_code.entry(c.clone()).or_default() += 1;
                }
                if let Answer::Json(_, _, v) = &answer {
                    for e in v["data"][&op.field]["errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let c = e["code"].as_str().unwrap_or("(none)");
                        *t.by_payload_code.entry(c.to_owned()).or_default() += 1;
                    }
                }
                if codes.iter().any(|c| c == "INTERNAL") {
                    t.internal += 1;
                    *t.by_field_internal.entry(op.field.clone()).or_default() += 1;
                }
                if status >= 500 {
                    t.http_5xx += 1;
                }
                match answer {
                    Answer::NonJson(..) => t.non_json += 1,
                    Answer::Dropped(_) => t.dropped += 1,
                    Answer::Json(..) => {}
                }
                drop(t);
                if let Some(kind) = problem {
                    let line = json!({
                        "i": i, "seed": seed, "kind": kind, "role": role, "status": status,
                        "field": op.field, "request": op.body, "answer": detail,
                    });
                    let mut w = log.lock().expect("log");
                    let _ = writeln!(w, "{line}");
                }
            }
        })
        .await;
    log.lock().expect("log").flush()?;
    let elapsed = started.elapsed();
    let t = tally.lock().expect("tally");
    println!(
        "\nfuzz-graphql: {} requests, seed {}, {} at a time, in {:.1} s ({:.0} requests/s) against {}",
        t.requests,
        a.seed,
        a.concurrency,
        elapsed.as_secs_f64(),
        t.requests as f64 / elapsed.as_secs_f64(),
        a.url
    );
    println!("\n| answer (extensions.code) | count |\n|---|---:|");
    for (code, n) in &t.by_code {
        println!("| {code} | {n} |");
    }
    println!("\n| mutation payload errors (code) | count |\n|---|---:|");
    for (code, n) in &t.by_payload_code {
        println!("| {code} | {n} |");
    }
    println!(
        "\nINTERNAL = {}   HTTP 5xx = {}   non-JSON = {}   dropped = {}",
        t.internal, t.http_5xx, t.non_json, t.dropped
    );
    for (field, n) in &t.by_field_internal {
        println!("  INTERNAL in {field}: {n}");
    }
    println!("requests logged to {}", a.log);
    if t.internal + t.http_5xx + t.dropped > 0 {
        std::process::exit(1);
    }
    Ok(())
}
