//! async-graphql's own errors (a query that does not parse, does not validate, names no
//! operation, or carries an argument of the wrong type) in the caller's language, each with a
//! code. Our resolvers speak both languages already; these messages come from the library in
//! English, so they are matched against the library's message formats (async-graphql 7.2) and
//! said again in Chinese. A format not in the table keeps its English text after a Chinese
//! lead-in, so a reader always learns what kind of problem it is.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use domain::Lang;

use super::RequestCtx;

/// The code of a query that does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The code of a query that parses but does not fit the schema.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// The library's message formats (`{}` stands for a quoted name or a reason) and what they
/// say in Chinese (`{0}`, `{1}`... are the same pieces, in order). The longer formats come
/// first where one is the beginning of another.
const FORMATS: &[(&str, &str)] = &[
    (
        "Unknown field \"{}\" on type \"{}\".",
        "类型 {1} 没有字段“{0}”。",
    ),
    (
        "Unknown argument \"{}\" on field \"{}\" of type \"{}\".",
        "类型 {2} 的字段“{1}”没有参数“{0}”。",
    ),
    (
        "Field \"{}\" argument \"{}\" of type \"{}\" is required but not provided",
        "字段“{0}”（类型 {2}）缺少必填参数“{1}”",
    ),
    (
        "Field \"{}\" must not have a selection since type \"{}\" has no subfields",
        "字段“{0}”的类型 {1} 没有子字段，不能再选字段",
    ),
    (
        "Field \"{}\" of type \"{}\" must have a selection of subfields",
        "字段“{0}”（类型 {1}）需要选择子字段",
    ),
    (
        "Invalid value for argument \"{}\", expected type \"{}\"",
        "参数“{0}”的值无效：应为 {1} 类型",
    ),
    (
        "Invalid value for argument \"{}\", enumeration type \"{}\" does not contain the value \"{}\"",
        "参数“{0}”的值无效：枚举 {1} 没有取值“{2}”",
    ),
    (
        "Invalid value for argument \"{}\", field \"{}\" of type \"{}\" is required but not provided",
        "参数“{0}”的值无效：缺少 {2} 的必填字段“{1}”",
    ),
    (
        "Invalid value for argument \"{}\", unknown field \"{}\" of type \"{}\"",
        "参数“{0}”的值无效：{2} 没有字段“{1}”",
    ),
    ("Invalid value for argument {}", "参数值无效：{0}"),
    ("Unknown type \"{}\"", "未知类型“{0}”"),
    ("Unknown fragment: \"{}\"", "未知片段“{0}”"),
    ("Fragment \"{}\" is never used", "片段“{0}”没有被使用"),
    ("Unknown directive \"{}\"", "未知指令“{0}”"),
    (
        "Variable \"${}\" is not defined by operation \"{}\"",
        "变量 ${0} 没有在操作“{1}”中声明",
    ),
    ("Variable \"${}\" is not defined", "变量 ${0} 没有声明"),
    (
        "Variable \"${}\" is not used by operation \"{}\"",
        "变量 ${0} 在操作“{1}”中没有使用",
    ),
    ("Variable \"${}\" is not used", "变量 ${0} 没有使用"),
    (
        "Variable \"{}\" of type \"{}\" used in position expecting type \"{}\"",
        "变量 {0} 的类型是 {1}，此处需要 {2}",
    ),
    (
        "There can only be one variable named \"${}\"",
        "变量 ${0} 只能声明一次",
    ),
    (
        "There can only be one argument named \"{}\"",
        "参数“{0}”只能出现一次",
    ),
    (
        "Fields \"{}\" conflict because {}",
        "字段“{0}”有冲突：同一名字选了不同的内容，请用不同的别名分开",
    ),
    (
        "Expected input type \"{}\", found {}.",
        "应为 {0} 类型的值，收到的是 {1}",
    ),
    ("Query is too complex.", "查询过于复杂"),
    ("Query is nested too deep.", "查询嵌套过深"),
    (
        "Unknown operation named \"{}\"",
        "请求中没有名为“{0}”的操作",
    ),
    (
        "Operation name required in request.",
        "请求中有多个操作，请用 operationName 指明执行哪一个",
    ),
    (
        "Failed to parse \"{}\": {}",
        "无法按 {0} 类型读取这个值（{1}）",
    ),
];

/// The pieces of `message` that fill the `{}` of `format`, if the message has that format.
fn fill<'a>(format: &str, message: &'a str) -> Option<Vec<&'a str>> {
    let mut literals = format.split("{}");
    let first = literals.next().unwrap_or("");
    let mut rest = message.strip_prefix(first)?;
    let mut pieces = Vec::new();
    let literals: Vec<&str> = literals.collect();
    for (i, lit) in literals.iter().enumerate() {
        let last = i + 1 == literals.len();
        let at = if lit.is_empty() {
            // A trailing `{}` takes the rest; an empty literal between two `{}` cannot occur.
            rest.len()
        } else if last {
            // The last literal ends the message (a suggestion may follow it).
            rest.rfind(lit)?
        } else {
            rest.find(lit)?
        };
        pieces.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    if rest.is_empty() || rest.starts_with(" Did you mean") {
        Some(pieces)
    } else {
        None
    }
}

/// The suggestion the library adds (` Did you mean "a", "b"?`), said in Chinese.
fn suggestion(message: &str) -> String {
    match message.find(" Did you mean") {
        Some(at) => {
            let names = message[at + " Did you mean".len()..]
                .trim()
                .trim_end_matches('?')
                .trim_start_matches("one of")
                .trim();
            format!("是不是要写 {names}？")
        }
        None => String::new(),
    }
}

/// A library message said in Chinese; `lead` starts a message whose format is not known.
pub fn in_chinese(message: &str, lead: &str) -> String {
    for (en, zh) in FORMATS {
        if let Some(pieces) = fill(en, message) {
            let mut out = (*zh).to_owned();
            for (i, p) in pieces.iter().enumerate() {
                out = out.replace(&format!("{{{i}}}"), p);
            }
            return out + &suggestion(message);
        }
    }
    format!("{lead}：{message}")
}

fn lang(ctx: &ExtensionContext<'_>) -> Lang {
    ctx.data_opt::<RequestCtx>()
        .map(|r| r.lang)
        .unwrap_or_default()
}

/// Gives a library error a code (unless it has one) and, for a Chinese reader, Chinese words.
/// The English message stays in `extensions.detail` for whoever reports the problem.
fn speak(mut e: ServerError, code: &str, lang: Lang) -> ServerError {
    let mut ext = e.extensions.take().unwrap_or_default();
    if ext.get("code").is_some() {
        e.extensions = Some(ext);
        return e;
    }
    ext.set("code", code);
    if lang == Lang::Zh {
        let zh = if code == PARSE_FAILED {
            match e.locations.first() {
                Some(p) => format!("查询语法错误：第 {} 行第 {} 列", p.line, p.column),
                None => "查询语法错误".to_owned(),
            }
        } else {
            in_chinese(&e.message, "查询与接口定义不符")
        };
        ext.set("detail", std::mem::replace(&mut e.message, zh));
    }
    e.extensions = Some(ext);
    e
}

/// An error the library raised outside parsing and validation (an operation name, an input
/// value that does not coerce): given a code and the reader's language. Errors of ours, and
/// any message not in the library's formats, pass unchanged.
pub fn speak_other(e: ServerError, lang: Lang) -> ServerError {
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if has_code || !FORMATS.iter().any(|(en, _)| fill(en, &e.message).is_some()) {
        return e;
    }
    speak(e, "BAD_USER_INPUT", lang)
}

/// The schema extension that gives parse and validation errors their code and language.
pub struct CallersLanguage;

impl ExtensionFactory for CallersLanguage {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CallersLanguageExtension)
    }
}

struct CallersLanguageExtension;

#[async_trait::async_trait]
impl Extension for CallersLanguageExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| speak(e, PARSE_FAILED, lang(ctx)))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let lang = lang(ctx);
        next.run(ctx).await.map_err(|errs| {
            errs.into_iter()
                .map(|e| speak(e, VALIDATION_FAILED, lang))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_messages_are_said_in_chinese() {
        assert_eq!(
            in_chinese(
                "Unknown field \"prodcts\" on type \"Query\". Did you mean \"products\"?",
                "x"
            ),
            "类型 Query 没有字段“prodcts”。是不是要写 \"products\"？"
        );
        assert_eq!(
            in_chinese(
                "Invalid value for argument \"input.quantity\", expected type \"Int\"",
                "x"
            ),
            "参数“input.quantity”的值无效：应为 Int 类型"
        );
        assert_eq!(
            in_chinese(
                "Field \"order\" argument \"id\" of type \"Query\" is required but not provided",
                "x"
            ),
            "字段“order”（类型 Query）缺少必填参数“id”"
        );
        assert_eq!(
            in_chinese("Variable \"$id\" is not defined", "x"),
            "变量 $id 没有声明"
        );
        // A format not in the table keeps its English words after a Chinese lead-in.
        assert_eq!(
            in_chinese("Something new happened", "查询与接口定义不符"),
            "查询与接口定义不符：Something new happened"
        );
    }
}
