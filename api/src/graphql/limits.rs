//! Bounds on a query's shape that are checked right after parsing, before async-graphql
//! validates it. Validation (and the complexity limit) walks every fragment spread as if it were
//! written out, so a 2 KB query whose fragments each spread the next one twice expands to 2^24
//! fields and costs seconds of CPU before it is refused. Here the expanded size is counted with
//! each fragment's size computed once, so the refusal takes time proportional to the query's
//! text, and a query that cannot be reasonable is refused before any walk that is not.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult};

use super::RequestCtx;

/// The most fields a query may select once its fragments are written out. The farmer app's and
/// the console's largest queries select a few hundred; GraphiQL's introspection query about 150.
pub const MAX_EXPANDED_FIELDS: usize = 5_000;
/// The most fragment definitions in one document (a chain of spreads is at most this deep).
pub const MAX_FRAGMENTS: usize = 200;

/// What a query selects with every fragment spread written out (saturating counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    pub fields: usize,
    /// Fields under an alias (`a: products`): how one field is asked for many times.
    pub aliases: usize,
    /// `__schema` and `__type` fields: each answers with a large part of the schema.
    pub introspections: usize,
}

impl Expanded {
    fn add(self, o: Expanded) -> Expanded {
        Expanded {
            fields: self.fields.saturating_add(o.fields),
            aliases: self.aliases.saturating_add(o.aliases),
            introspections: self.introspections.saturating_add(o.introspections),
        }
    }
}

/// The most aliased fields in a query, and the most introspection roots.
pub const MAX_ALIASES: usize = 200;
pub const MAX_INTROSPECTIONS: usize = 4;

/// What `doc` selects with every fragment spread written out. A fragment that spreads itself (a
/// cycle, which validation refuses) counts nothing in its own expansion.
pub fn expanded(doc: &ExecutableDocument) -> Expanded {
    let mut memo = HashMap::new();
    let mut visiting = HashSet::new();
    doc.operations
        .iter()
        .fold(Expanded::default(), |n, (_, op)| {
            n.add(set_size(
                &op.node.selection_set.node,
                doc,
                &mut memo,
                &mut visiting,
            ))
        })
}

fn set_size<'a>(
    set: &'a SelectionSet,
    doc: &'a ExecutableDocument,
    memo: &mut HashMap<&'a str, Expanded>,
    visiting: &mut HashSet<&'a str>,
) -> Expanded {
    let mut n = Expanded::default();
    for item in &set.items {
        let k = match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                let own = Expanded {
                    fields: 1,
                    aliases: usize::from(f.node.alias.is_some()),
                    introspections: usize::from(name == "__schema" || name == "__type"),
                };
                own.add(set_size(&f.node.selection_set.node, doc, memo, visiting))
            }
            Selection::InlineFragment(i) => {
                set_size(&i.node.selection_set.node, doc, memo, visiting)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if let Some(&k) = memo.get(name) {
                    k
                } else if let Some(def) = doc.fragments.get(&s.node.fragment_name.node) {
                    if !visiting.insert(name) {
                        Expanded::default()
                    } else {
                        let k = set_size(&def.node.selection_set.node, doc, memo, visiting);
                        visiting.remove(name);
                        memo.insert(name, k);
                        k
                    }
                } else {
                    // An unknown fragment: validation names it.
                    Expanded::default()
                }
            }
        };
        n = n.add(k);
    }
    n
}

fn count(n: usize) -> String {
    if n == usize::MAX {
        "2^64+".to_owned()
    } else {
        n.to_string()
    }
}

/// Why a parsed document is refused, if it is: the reason in Chinese and in English.
pub fn check(doc: &ExecutableDocument) -> Result<(), (String, String)> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err((
            format!(
                "查询过大：有 {} 个片段（最多 {MAX_FRAGMENTS} 个）",
                doc.fragments.len()
            ),
            format!(
                "Query is too large: {} fragments (at most {MAX_FRAGMENTS})",
                doc.fragments.len()
            ),
        ));
    }
    let n = expanded(doc);
    if n.fields > MAX_EXPANDED_FIELDS {
        return Err((
            format!(
                "查询过大：展开片段后要选 {} 个字段（最多 {MAX_EXPANDED_FIELDS} 个）",
                count(n.fields)
            ),
            format!(
                "Query is too large: it selects {} fields with its fragments written out (at most {MAX_EXPANDED_FIELDS})",
                count(n.fields)
            ),
        ));
    }
    if n.aliases > MAX_ALIASES {
        return Err((
            format!(
                "查询过大：有 {} 个带别名的字段（最多 {MAX_ALIASES} 个）",
                count(n.aliases)
            ),
            format!(
                "Query is too large: {} aliased fields (at most {MAX_ALIASES})",
                count(n.aliases)
            ),
        ));
    }
    if n.introspections > MAX_INTROSPECTIONS {
        return Err((
            format!(
                "查询过大：有 {} 个内省字段（最多 {MAX_INTROSPECTIONS} 个）",
                count(n.introspections)
            ),
            format!(
                "Query is too large: {} introspection fields (at most {MAX_INTROSPECTIONS})",
                count(n.introspections)
            ),
        ));
    }
    Ok(())
}

/// The longest text any argument may carry, except a `csv` argument (bounded by the body cap).
pub const MAX_TEXT_CHARS: usize = 4_000;

/// A refused text: the input path (`input.displayName`), and why in Chinese and in English.
pub type TextProblem = (String, String, String);

/// Why a text value is refused: a control character (a NUL ends a PostgreSQL text and is in no
/// real name, code or note), or more characters than any field of ours holds.
fn text_problem(path: &str, s: &str) -> Option<TextProblem> {
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let u = c as u32;
        return Some((
            path.to_owned(),
            format!("{path}：不能含控制字符 U+{u:04X}"),
            format!("{path}: control character U+{u:04X} is not allowed"),
        ));
    }
    let last = path.rsplit(['.', '[']).next().unwrap_or(path);
    if last != "csv" {
        let n = s.chars().count();
        if n > MAX_TEXT_CHARS {
            return Some((
                path.to_owned(),
                format!("{path}：{n} 个字符太长（最多 {MAX_TEXT_CHARS} 个）"),
                format!("{path}: {n} characters is too long (at most {MAX_TEXT_CHARS})"),
            ));
        }
    }
    None
}

fn const_value(path: &str, v: &async_graphql::Value) -> Option<TextProblem> {
    use async_graphql::Value as V;
    match v {
        V::String(s) => text_problem(path, s),
        V::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| const_value(&format!("{path}[{i}]"), x)),
        V::Object(fields) => fields
            .iter()
            .find_map(|(k, x)| const_value(&format!("{path}.{k}"), x)),
        _ => None,
    }
}

fn doc_value(path: &str, v: &async_graphql_value::Value) -> Option<TextProblem> {
    use async_graphql_value::Value as V;
    match v {
        V::String(s) => text_problem(path, s),
        V::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| doc_value(&format!("{path}[{i}]"), x)),
        V::Object(fields) => fields
            .iter()
            .find_map(|(k, x)| doc_value(&format!("{path}.{k}"), x)),
        _ => None,
    }
}

fn set_texts(set: &SelectionSet) -> Option<TextProblem> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => f
            .node
            .arguments
            .iter()
            .find_map(|(name, v)| doc_value(name.node.as_str(), &v.node))
            .or_else(|| set_texts(&f.node.selection_set.node)),
        Selection::InlineFragment(i) => set_texts(&i.node.selection_set.node),
        Selection::FragmentSpread(_) => None,
    })
}

/// The first text in the variables or the query's own arguments that is refused: the input path
/// (`input.displayName`, `text`) and the message.
pub fn check_texts(
    doc: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Option<TextProblem> {
    variables
        .iter()
        .find_map(|(k, v)| const_value(k.as_str(), v))
        .or_else(|| {
            doc.operations
                .iter()
                .find_map(|(_, op)| set_texts(&op.node.selection_set.node))
        })
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| set_texts(&f.node.selection_set.node))
        })
}

fn refusal(code: &str, message: &str, field: Option<String>) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    if let Some(f) = field {
        ext.set("field", f);
    }
    e.extensions = Some(ext);
    e
}

/// The schema extension that applies [`check`] to every parsed query (HTTP and WebSocket).
pub struct BoundQueries;

impl ExtensionFactory for BoundQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(BoundQueriesExtension)
    }
}

struct BoundQueriesExtension;

// The check runs when the request is prepared, before async-graphql parses it: its own parse
// step walks every spread to check the recursion depth (the same exponential walk), so the
// document is parsed here, checked, and handed on parsed.
#[async_trait::async_trait]
impl Extension for BoundQueriesExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let lang = request
            .data
            .get(&std::any::TypeId::of::<RequestCtx>())
            .and_then(|d| d.downcast_ref::<RequestCtx>())
            .map(|r| r.lang)
            .unwrap_or_default();
        let variables = std::mem::take(&mut request.variables);
        let refused = match request.parsed_query() {
            Ok(doc) => check(doc)
                .map_err(|(zh, en)| refusal("QUERY_TOO_LARGE", lang.pick(&zh, &en), None))
                .and_then(|()| match check_texts(doc, &variables) {
                    Some((field, zh, en)) => {
                        Err(refusal("BAD_USER_INPUT", lang.pick(&zh, &en), Some(field)))
                    }
                    None => Ok(()),
                }),
            // A document that does not parse is left to async-graphql, which says where.
            Err(_) => Ok(()),
        };
        request.variables = variables;
        refused?;
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_overlong_texts_are_named_by_their_path() {
        let doc = async_graphql::parser::parse_query(
            "mutation { a(input: { name: \"x\\u0000y\" }) { ok } }",
        )
        .unwrap();
        let (field, zh, en) = check_texts(&doc, &async_graphql::Variables::default()).unwrap();
        assert_eq!(field, "input.name");
        assert!(
            en.contains("U+0000") && zh.contains("控制字符"),
            "{zh} / {en}"
        );
        let doc =
            async_graphql::parser::parse_query("query($text: String) { a(text: $text) }").unwrap();
        let vars = async_graphql::Variables::from_json(serde_json::json!({
            "text": "稻".repeat(MAX_TEXT_CHARS + 1)
        }));
        assert_eq!(check_texts(&doc, &vars).unwrap().0, "text");
        // A CSV may be long and keep its line breaks; plain text keeps tabs and newlines.
        let vars = async_graphql::Variables::from_json(serde_json::json!({
            "csv": "a,b\n".repeat(MAX_TEXT_CHARS), "text": "第一行\n第二行\t"
        }));
        assert!(check_texts(&doc, &vars).is_none());
    }

    /// Fragments F0..Fn where each spreads the next one twice: 2^n leaves.
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

    #[test]
    fn fan_out_is_counted_without_walking_it() {
        let doc = async_graphql::parser::parse_query(fan_out(60)).unwrap();
        // 2^60 leaves and more fields above them: far past any bound, counted instantly.
        assert!(expanded(&doc).fields > 1 << 60);
        assert!(check(&doc).unwrap_err().1.contains("too large"));
        let small = async_graphql::parser::parse_query(fan_out(4)).unwrap();
        // 2^4 leaves + 2 * (2^4 - 1) fields above them.
        let e = expanded(&small);
        assert_eq!((e.fields, e.aliases), (16 + 30, 30));
        assert!(check(&small).is_ok());
    }

    #[test]
    fn cycles_and_unknown_fragments_are_left_to_validation() {
        let doc =
            async_graphql::parser::parse_query("{ ...A ...Z } fragment A on Query { x ...A }")
                .unwrap();
        assert_eq!(expanded(&doc).fields, 1);
    }
}
