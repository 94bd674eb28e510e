//! Writing the expansion: a plain `fn` that builds a runtime and blocks on
//! the original body.
//!
//! ```text
//! #[weft::main(worker_threads = 2)]        fn main() -> Result<(), E> {
//! async fn main() -> Result<(), E> {  =>       let body = async move { BODY };
//!     BODY                                     let body: Pin<&mut dyn Future<Output = Result<(), E>>> = pin!(body);
//! }                                            ::weft::Builder::new_multi_thread().worker_threads(2)
//!                                                  .build().expect("..").block_on(body)
//!                                          }
//! ```
//! The body is wrapped in an `async move` block unchanged, so `return`, `?`
//! and `.await` inside it behave as in the `async fn`. Coercing the pinned
//! block to `dyn Future<Output = RETURN_TYPE>` tells the compiler the
//! block's output type up front, so `?` inside it knows which error type to
//! convert into. The user's tokens (attributes, visibility, name, return
//! type, body) are copied as the compiler gave them, spans included, so
//! errors inside the body point at the user's code.
//!
//! `#[weft::test(explore = N)]` expands to a call of `weft::explore::run`
//! instead, with the body as a closure that makes a fresh future per seed:
//! ```text
//! #[weft::test(explore = 500)]          #[test] fn t() {
//! async fn t() { BODY }           =>        if let Err(failure) = ::weft::explore::run(
//!                                               ::weft::explore::Options::new().seeds(500),
//!                                               || async move { BODY }) { panic!("{}", failure) }
//!                                       }
//! ```
//! The failure's `Display` carries the seed, the replay command and the
//! task dump, so the test's panic message is the whole report.

use crate::parse::{Error, Flavor, FnParts, Kind, Options};
use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Parses a fixed Rust fragment; the fragments below are constants, so a
/// failure is a bug in this crate.
fn fragment(source: &str) -> TokenStream {
    source.parse().unwrap_or_else(|_| {
        panic!("weft-macros emitted invalid Rust `{source}`; please report this bug")
    })
}

/// The builder chain that creates the runtime `options` ask for.
fn builder_chain(kind: Kind, options: &Options) -> String {
    let mut chain = match options.flavor {
        Flavor::MultiThread => String::from("::weft::Builder::new_multi_thread()"),
        Flavor::CurrentThread | Flavor::Local => {
            String::from("::weft::Builder::new_current_thread()")
        }
    };
    // A current-thread runtime has no worker threads to size: the option is
    // accepted (the attribute's documented form) and has nothing to configure.
    if let (Flavor::MultiThread, Some(count)) = (options.flavor, options.worker_threads) {
        chain.push_str(&format!(".worker_threads({count})"));
    }
    if let Some(paused) = options.start_paused {
        chain.push_str(&format!(".start_paused({paused})"));
    }
    let attribute = kind.attribute();
    let build = match options.flavor {
        Flavor::Local => "build_local",
        Flavor::MultiThread | Flavor::CurrentThread => "build",
    };
    chain.push_str(&format!(
        ".{build}().expect(\"failed to build the weft runtime for {attribute}\")"
    ));
    chain
}

/// The whole replacement function.
pub(crate) fn expand(kind: Kind, options: &Options, parts: FnParts<TokenTree>) -> TokenStream {
    if let Some(seeds) = options.explore {
        return expand_explore(seeds, parts);
    }
    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend(fragment("#[::core::prelude::v1::test]"));
    }
    out.extend(parts.attrs);
    out.extend(parts.vis);
    out.extend(fragment("fn"));
    out.extend([parts.name]);
    out.extend(fragment("()"));
    let output_type: TokenStream = if parts.output.is_empty() {
        fragment("()")
    } else {
        out.extend(fragment("->"));
        out.extend(parts.output.iter().cloned());
        parts.output.into_iter().collect()
    };

    let mut body = fragment("let body = async move");
    body.extend([parts.body]);
    body.extend(fragment(
        "; let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = ",
    ));
    body.extend(output_type);
    body.extend(fragment(">> = ::core::pin::pin!(body);"));
    body.extend(fragment(&builder_chain(kind, options)));
    body.extend(fragment(".block_on(body)"));
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, body))]);
    out
}

/// The replacement of an `explore = seeds` test (see the module doc).
fn expand_explore(seeds: u64, parts: FnParts<TokenTree>) -> TokenStream {
    if let Some(first) = parts.output.first() {
        return compile_error(Error {
            message: "`explore = n` tests return `()`: the body runs once per seed, and a failure is a panic (use `.unwrap()` or `assert!` inside)".to_string(),
            at: Some(first.clone()),
        });
    }
    let mut out = fragment("#[::core::prelude::v1::test]");
    out.extend(parts.attrs);
    out.extend(parts.vis);
    out.extend(fragment("fn"));
    out.extend([parts.name]);
    out.extend(fragment("()"));
    let mut args = fragment(&format!(
        "::weft::explore::Options::new().seeds({seeds}), || async move"
    ));
    args.extend([parts.body]);
    let mut body = fragment("if let ::core::result::Result::Err(failure) = ::weft::explore::run");
    body.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
    body.extend(fragment("{ ::core::panic!(\"{}\", failure) }"));
    out.extend([TokenTree::Group(Group::new(Delimiter::Brace, body))]);
    out
}

/// `::core::compile_error!("message");` pointing at the offending token.
pub(crate) fn compile_error(error: Error<TokenTree>) -> TokenStream {
    let span = error
        .at
        .as_ref()
        .map_or_else(Span::call_site, TokenTree::span);
    let punct = |ch: char, spacing: Spacing| {
        let mut punct = Punct::new(ch, spacing);
        punct.set_span(span);
        TokenTree::Punct(punct)
    };
    let mut message = Literal::string(&error.message);
    message.set_span(span);
    let mut args = Group::new(
        Delimiter::Parenthesis,
        TokenStream::from(TokenTree::Literal(message)),
    );
    args.set_span(span);
    TokenStream::from_iter([
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("core", span)),
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("compile_error", span)),
        punct('!', Spacing::Alone),
        TokenTree::Group(args),
        punct(';', Spacing::Alone),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_chain_follows_the_options() {
        let table = [
            (
                Kind::Main,
                Flavor::MultiThread,
                None,
                None,
                "::weft::Builder::new_multi_thread().build()",
            ),
            (
                Kind::Main,
                Flavor::MultiThread,
                Some(2),
                None,
                "new_multi_thread().worker_threads(2).build()",
            ),
            (
                Kind::Main,
                Flavor::CurrentThread,
                Some(2),
                None,
                "::weft::Builder::new_current_thread().build()",
            ),
            (
                Kind::Test,
                Flavor::CurrentThread,
                None,
                Some(true),
                "new_current_thread().start_paused(true).build()",
            ),
            (
                Kind::Main,
                Flavor::Local,
                None,
                None,
                "::weft::Builder::new_current_thread().build_local()",
            ),
        ];
        for (kind, flavor, worker_threads, start_paused, expected) in table {
            let options = Options {
                flavor,
                worker_threads,
                start_paused,
                explore: None,
            };
            let chain = builder_chain(kind, &options);
            assert!(chain.contains(expected), "{options:?}: {chain}");
            assert!(
                chain.ends_with(&format!("for {}\")", kind.attribute())),
                "{chain}"
            );
        }
    }
}
