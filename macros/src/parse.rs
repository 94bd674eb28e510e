//! Parsing the attribute arguments and the `async fn` by hand.
//!
//! The grammar accepted (everything else is a `compile_error!` that names
//! the token and says what was expected):
//! ```text
//! args  := (option ("," option)* ","?)?
//! option:= "flavor" "=" ("\"multi_thread\"" | "\"current_thread\"" | "\"local\"")
//!        | "worker_threads" "=" integer (>= 1)
//!        | "start_paused" "=" ("true" | "false")
//!        | "explore" "=" integer (>= 1)          // #[weft::test] only
//! item  := ("#" [..])* ("pub" (..)?)? "async" "fn" IDENT "(" ")" ("->" TYPE)? { BODY }
//! ```

use crate::tree::{Delim, Tree};

/// Which attribute is being expanded; decides defaults and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[weft::main]`: multi-thread by default.
    Main,
    /// `#[weft::test]`: current-thread by default, adds `#[test]`.
    Test,
}

impl Kind {
    /// The attribute as the user wrote it, for messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[weft::main]",
            Kind::Test => "#[weft::test]",
        }
    }
}

/// Runtime flavour, as in `Builder::new_multi_thread` / `new_current_thread`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_multi_thread()`
    MultiThread,
    /// `Builder::new_current_thread()`
    CurrentThread,
    /// `Builder::new_current_thread().build_local()`: a `LocalRuntime`, so
    /// the body may `spawn_local` and hold `!Send` values (`weft::run_local`)
    Local,
}

/// The parsed attribute arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The runtime flavour (default depends on [`Kind`]).
    pub(crate) flavor: Flavor,
    /// `worker_threads = n`, if given.
    pub(crate) worker_threads: Option<usize>,
    /// `start_paused = b`, if given.
    pub(crate) start_paused: Option<bool>,
    /// `explore = n`, if given: run the body under `n` seeded schedules.
    pub(crate) explore: Option<u64>,
}

/// The pieces of the annotated function, as raw tokens.
#[derive(Debug)]
pub(crate) struct FnParts<R> {
    /// Outer attributes (`#` and `[..]` tokens), kept as written.
    pub(crate) attrs: Vec<R>,
    /// Visibility tokens (`pub`, `pub(crate)`), possibly none.
    pub(crate) vis: Vec<R>,
    /// The function's name.
    pub(crate) name: R,
    /// The return type after `->`, or empty for `()`.
    pub(crate) output: Vec<R>,
    /// The body, a brace group.
    pub(crate) body: R,
}

/// A parse failure: the message, and the token to point at (if any).
#[derive(Debug)]
pub(crate) struct Error<R> {
    /// Lowercase, no final period, says what was expected.
    pub(crate) message: String,
    /// The offending token; `None` points at the attribute itself.
    pub(crate) at: Option<R>,
}

fn error<R: Clone, T>(message: String, at: Option<&Tree<R>>) -> Result<T, Error<R>> {
    Err(Error {
        message,
        at: at.map(|tree| tree.raw().clone()),
    })
}

/// Parses the attribute arguments, e.g. `flavor = "current_thread", worker_threads = 2`.
pub(crate) fn parse_options<R: Clone>(kind: Kind, args: &[Tree<R>]) -> Result<Options, Error<R>> {
    let attr = kind.attribute();
    let mut options = Options {
        flavor: match kind {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        },
        worker_threads: None,
        start_paused: None,
        explore: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for option in args.split(|tree| tree.is_punct(',')) {
        let [key, equals, value] = option else {
            if option.is_empty() {
                continue; // a trailing comma (or none at all)
            }
            return error(
                format!("{attr} expects options written `name = value`, separated by commas"),
                option.first(),
            );
        };
        let Tree::Ident(name, _) = key else {
            return error(
                format!("expected an option name, found {}", key.describe()),
                Some(key),
            );
        };
        if !equals.is_punct('=') {
            return error(
                format!("expected `=` after `{name}`, found {}", equals.describe()),
                Some(equals),
            );
        }
        if seen.contains(name) {
            return error(format!("option `{name}` is given twice"), Some(key));
        }
        seen.push(name.clone());
        match name.as_str() {
            "flavor" => options.flavor = parse_flavor(value)?,
            "worker_threads" => options.worker_threads = Some(parse_worker_threads(value)?),
            "start_paused" => options.start_paused = Some(parse_bool(name, value)?),
            "explore" if kind == Kind::Test => {
                options.explore = Some(parse_count(name, value)? as u64)
            }
            _ => {
                let expected = match kind {
                    Kind::Main => "`flavor`, `worker_threads` or `start_paused`",
                    Kind::Test => "`flavor`, `worker_threads`, `start_paused` or `explore`",
                };
                return error(
                    format!("unknown {attr} option `{name}`; expected {expected}"),
                    Some(key),
                );
            }
        }
    }
    if options.start_paused == Some(true) && options.flavor == Flavor::MultiThread {
        return error(
            format!("`start_paused = true` needs `flavor = \"current_thread\"` in {attr}: the paused test clock runs on a current-thread runtime"),
            None,
        );
    }
    check_explore(&options)?;
    Ok(options)
}

/// `explore = n` runs on its own current-thread runtimes with the clock
/// paused: refuse the options that contradict that.
fn check_explore<R: Clone>(options: &Options) -> Result<(), Error<R>> {
    if options.explore.is_none() {
        return Ok(());
    }
    if options.flavor != Flavor::CurrentThread {
        return error(
            "`explore = n` runs every seed on its own current-thread runtime: remove the `flavor` option".to_string(),
            None,
        );
    }
    if options.start_paused == Some(false) {
        return error(
            "`explore = n` always starts the clock paused (that makes timers part of the schedule): remove `start_paused = false`".to_string(),
            None,
        );
    }
    Ok(())
}

fn parse_flavor<R: Clone>(value: &Tree<R>) -> Result<Flavor, Error<R>> {
    match value {
        Tree::Literal(text, _) if text == "\"multi_thread\"" => Ok(Flavor::MultiThread),
        Tree::Literal(text, _) if text == "\"current_thread\"" => Ok(Flavor::CurrentThread),
        Tree::Literal(text, _) if text == "\"local\"" => Ok(Flavor::Local),
        other => error(
            format!(
                "expected `flavor = \"multi_thread\"`, `\"current_thread\"` or `\"local\"`, found {}",
                other.describe()
            ),
            Some(other),
        ),
    }
}

fn parse_worker_threads<R: Clone>(value: &Tree<R>) -> Result<usize, Error<R>> {
    parse_count("worker_threads", value)
}

/// A whole number of at least 1, e.g. `4`, `1_000` or `8usize`.
fn parse_count<R: Clone>(name: &str, value: &Tree<R>) -> Result<usize, Error<R>> {
    let parsed = match value {
        Tree::Literal(text, _) => {
            let digits: String = text
                .trim_end_matches("usize")
                .trim_end_matches("u64")
                .chars()
                .filter(|&c| c != '_')
                .collect();
            digits.parse::<usize>().ok()
        }
        _ => None,
    };
    match parsed {
        Some(count) if count >= 1 => Ok(count),
        _ => error(
            format!(
                "expected `{name}` to be a whole number of at least 1, found {}",
                value.describe()
            ),
            Some(value),
        ),
    }
}

fn parse_bool<R: Clone>(name: &str, value: &Tree<R>) -> Result<bool, Error<R>> {
    if value.is_ident("true") {
        Ok(true)
    } else if value.is_ident("false") {
        Ok(false)
    } else {
        error(
            format!(
                "expected `{name} = true` or `{name} = false`, found {}",
                value.describe()
            ),
            Some(value),
        )
    }
}

/// Splits `item` into attributes, visibility, name, return type and body.
pub(crate) fn parse_fn<R: Clone>(kind: Kind, item: &[Tree<R>]) -> Result<FnParts<R>, Error<R>> {
    let attr = kind.attribute();
    let mut rest = item;
    let mut attrs = Vec::new();
    while let [hash, group @ Tree::Group(Delim::Bracket, ..), tail @ ..] = rest {
        if !hash.is_punct('#') {
            break;
        }
        attrs.extend([hash.raw().clone(), group.raw().clone()]);
        rest = tail;
    }
    let mut vis = Vec::new();
    if let [public, tail @ ..] = rest {
        if public.is_ident("pub") {
            vis.push(public.raw().clone());
            rest = tail;
            if let [scope @ Tree::Group(Delim::Paren, ..), tail @ ..] = rest {
                vis.push(scope.raw().clone());
                rest = tail;
            }
        }
    }
    rest = expect_async_fn(kind, rest)?;
    let [name @ Tree::Ident(..), tail @ ..] = rest else {
        return error(
            "expected the function's name after `fn`".to_string(),
            rest.first(),
        );
    };
    rest = tail;
    if let [generic, ..] = rest {
        if generic.is_punct('<') {
            return error(format!("{attr} functions cannot be generic"), Some(generic));
        }
    }
    let [list @ Tree::Group(Delim::Paren, params, _), tail @ ..] = rest else {
        return error(
            "expected the parameter list `()` after the name".to_string(),
            rest.first(),
        );
    };
    if !params.is_empty() {
        return error(format!("{attr} functions take no arguments"), Some(list));
    }
    let (output, body) = split_output_and_body(attr, tail)?;
    Ok(FnParts {
        attrs,
        vis,
        name: name.raw().clone(),
        output,
        body,
    })
}

/// Checks for `async fn`, explaining what is wrong otherwise, and returns
/// what follows `fn`.
fn expect_async_fn<R: Clone>(kind: Kind, rest: &[Tree<R>]) -> Result<&[Tree<R>], Error<R>> {
    let attr = kind.attribute();
    match rest {
        [keyword, fn_token, tail @ ..] if keyword.is_ident("async") && fn_token.is_ident("fn") => {
            Ok(tail)
        }
        [fn_token, ..] if fn_token.is_ident("fn") => error(
            format!("{attr} needs an `async fn`: add `async` before `fn`"),
            Some(fn_token),
        ),
        [qualifier, ..]
            if ["const", "unsafe", "extern"]
                .iter()
                .any(|q| qualifier.is_ident(q)) =>
        {
            error(
                format!(
                    "{attr} supports a plain `async fn` only, found {}",
                    qualifier.describe()
                ),
                Some(qualifier),
            )
        }
        [other, ..] => error(
            format!(
                "{attr} can only be applied to an `async fn`, found {}",
                other.describe()
            ),
            Some(other),
        ),
        [] => error(format!("{attr} can only be applied to an `async fn`"), None),
    }
}

/// Splits `-> Type { body }` (or just `{ body }`) into the type's tokens and
/// the body group.
fn split_output_and_body<R: Clone>(attr: &str, tail: &[Tree<R>]) -> Result<(Vec<R>, R), Error<R>> {
    let Some((body, before_body)) = tail.split_last() else {
        return error("expected the function body `{ ... }`".to_string(), None);
    };
    if !matches!(body, Tree::Group(Delim::Brace, ..)) {
        return error(
            format!(
                "expected the function body `{{ ... }}`, found {}",
                body.describe()
            ),
            Some(body),
        );
    }
    let output = match before_body {
        [] => Vec::new(),
        [dash, arrow, ty @ ..] if dash.is_punct('-') && arrow.is_punct('>') => {
            if ty.is_empty() {
                return error("expected a return type after `->`".to_string(), Some(arrow));
            }
            if let Some(clause) = ty.iter().find(|tree| tree.is_ident("where")) {
                return error(
                    format!("{attr} functions cannot have a `where` clause"),
                    Some(clause),
                );
            }
            ty.iter().map(|tree| tree.raw().clone()).collect()
        }
        [other, ..] => {
            return error(
                format!(
                    "expected `->` and a return type, or the body, found {}",
                    other.describe()
                ),
                Some(other),
            )
        }
    };
    Ok((output, body.raw().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::lex;

    fn options(kind: Kind, args: &str) -> Result<Options, String> {
        parse_options(kind, &lex(args)).map_err(|err| err.message)
    }

    fn function(item: &str) -> Result<FnParts<String>, String> {
        parse_fn(Kind::Main, &lex(item)).map_err(|err| err.message)
    }

    #[test]
    fn options_default_to_multi_thread_for_main_and_current_thread_for_test() {
        let main = options(Kind::Main, "").expect("empty args are valid");
        assert_eq!(main.flavor, Flavor::MultiThread);
        let test = options(Kind::Test, "").expect("empty args are valid");
        assert_eq!(test.flavor, Flavor::CurrentThread);
        assert_eq!((test.worker_threads, test.start_paused), (None, None));
    }

    #[test]
    fn options_accept_every_documented_form() {
        let table = [
            (
                Kind::Main,
                "flavor = \"current_thread\", worker_threads = 2",
                Flavor::CurrentThread,
                Some(2),
                None,
            ),
            (
                Kind::Main,
                "worker_threads = 4,",
                Flavor::MultiThread,
                Some(4),
                None,
            ),
            (
                Kind::Main,
                "worker_threads = 1_0usize",
                Flavor::MultiThread,
                Some(10),
                None,
            ),
            (
                Kind::Test,
                "start_paused = true",
                Flavor::CurrentThread,
                None,
                Some(true),
            ),
            (Kind::Main, "flavor = \"local\"", Flavor::Local, None, None),
            (
                Kind::Test,
                "flavor = \"multi_thread\", start_paused = false",
                Flavor::MultiThread,
                None,
                Some(false),
            ),
        ];
        for (kind, args, flavor, workers, paused) in table {
            let parsed =
                options(kind, args).unwrap_or_else(|err| panic!("{args:?} rejected: {err}"));
            assert_eq!(
                parsed,
                Options {
                    flavor,
                    worker_threads: workers,
                    start_paused: paused,
                    explore: None,
                },
                "args {args:?}"
            );
        }
    }

    #[test]
    fn options_reject_bad_input_with_a_message_naming_it() {
        let table = [
            ("flavour = \"current_thread\"", "unknown #[weft::main] option `flavour`"),
            ("flavor = \"single\"", "expected `flavor = \"multi_thread\"`, `\"current_thread\"` or `\"local\"`, found `\"single\"`"),
            ("worker_threads = 0", "at least 1, found `0`"),
            ("worker_threads = many", "at least 1, found `many`"),
            ("start_paused = yes", "expected `start_paused = true` or `start_paused = false`"),
            ("worker_threads 2", "expects options written `name = value`"),
            ("worker_threads = 2, worker_threads = 3", "option `worker_threads` is given twice"),
            ("start_paused = true", "needs `flavor = \"current_thread\"`"),
        ];
        for (args, expected) in table {
            let err = options(Kind::Main, args).expect_err(args);
            assert!(
                err.contains(expected),
                "args {args:?}: got {err:?}, expected it to contain {expected:?}"
            );
        }
    }

    #[test]
    fn explore_is_a_test_option_on_a_paused_current_thread_runtime() {
        let parsed = options(Kind::Test, "explore = 1_000").expect("valid");
        assert_eq!(
            (parsed.explore, parsed.flavor),
            (Some(1000), Flavor::CurrentThread)
        );
        let parsed = options(Kind::Test, "explore = 5, start_paused = true").expect("valid");
        assert_eq!(parsed.explore, Some(5));
        let table = [
            (
                Kind::Test,
                "explore = 0",
                "expected `explore` to be a whole number of at least 1",
            ),
            (
                Kind::Test,
                "explore = \"many\"",
                "expected `explore` to be a whole number",
            ),
            (
                Kind::Test,
                "explore = 5, flavor = \"multi_thread\"",
                "remove the `flavor` option",
            ),
            (
                Kind::Test,
                "explore = 5, flavor = \"local\"",
                "remove the `flavor` option",
            ),
            (
                Kind::Test,
                "explore = 5, start_paused = false",
                "remove `start_paused = false`",
            ),
            (
                Kind::Main,
                "explore = 5",
                "unknown #[weft::main] option `explore`",
            ),
        ];
        for (kind, args, expected) in table {
            let err = options(kind, args).expect_err(args);
            assert!(
                err.contains(expected),
                "args {args:?}: got {err:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn parse_fn_keeps_attributes_visibility_and_return_type() {
        let parts = function("#[doc = \"x\"] #[allow(unused)] pub(crate) async fn serve() -> Result<(), Box<dyn Error>> { body }")
            .expect("valid function");
        assert_eq!(parts.attrs, ["#", "[]", "#", "[]"]);
        assert_eq!(parts.vis, ["pub", "()"]);
        assert_eq!(parts.name, "serve");
        assert_eq!(parts.output.concat(), "Result<(),Box<dynError>>");
        assert_eq!(parts.body, "{}");
    }

    #[test]
    fn parse_fn_accepts_a_plain_async_fn_without_return_type() {
        let parts = function("async fn main() { run().await }").expect("valid function");
        assert!(parts.attrs.is_empty() && parts.vis.is_empty() && parts.output.is_empty());
        assert_eq!(parts.name, "main");
    }

    #[test]
    fn parse_fn_rejects_bad_input_with_a_message_naming_it() {
        let table = [
            (
                "fn main() {}",
                "needs an `async fn`: add `async` before `fn`",
            ),
            ("async fn main(port: u16) {}", "functions take no arguments"),
            ("async fn main<T>() {}", "cannot be generic"),
            (
                "unsafe async fn main() {}",
                "supports a plain `async fn` only, found `unsafe`",
            ),
            (
                "struct Main;",
                "can only be applied to an `async fn`, found `struct`",
            ),
            ("async fn main() -> {}", "expected a return type after `->`"),
            (
                "async fn main() -> T where T: Copy {}",
                "cannot have a `where` clause",
            ),
            (
                "async fn main();",
                "expected the function body `{ ... }`, found `;`",
            ),
            ("async fn () {}", "expected the function's name after `fn`"),
        ];
        for (item, expected) in table {
            let err = function(item).expect_err(item);
            assert!(
                err.contains(expected),
                "item {item:?}: got {err:?}, expected it to contain {expected:?}"
            );
        }
    }
}
