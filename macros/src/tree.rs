//! A small, testable model of a token stream.
//!
//! `proc_macro`'s types only work while the compiler runs a macro: a unit
//! test that builds a `TokenStream` panics. So the parser works on
//! [`Tree<R>`], which records each token's kind and text, plus `R`, the raw
//! token it came from. In the macro `R` is `proc_macro::TokenTree` (so the
//! output reuses the user's tokens, spans included); in unit tests `R` is the
//! token's text, produced by `lex` (test-only) from a string.

/// Bracket kind of a [`Tree::Group`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delim {
    /// `( ... )`
    Paren,
    /// `[ ... ]`
    Bracket,
    /// `{ ... }`
    Brace,
    /// An invisible group the compiler made (e.g. around a `$x:expr`).
    None,
}

/// One token tree, with the raw token `R` it stands for.
#[derive(Debug, Clone)]
pub(crate) enum Tree<R> {
    /// An identifier or keyword (`async`, `fn`, `main`, `true`).
    Ident(String, R),
    /// One punctuation character (`#`, `-`, `>`, `,`, `=`).
    Punct(char, R),
    /// A literal, as written (`"current_thread"`, `2`, `2usize`).
    Literal(String, R),
    /// A delimited group and the trees inside it.
    Group(Delim, Vec<Tree<R>>, R),
}

impl<R> Tree<R> {
    /// The raw token this tree stands for.
    pub(crate) fn raw(&self) -> &R {
        match self {
            Tree::Ident(_, raw) | Tree::Punct(_, raw) | Tree::Literal(_, raw) => raw,
            Tree::Group(_, _, raw) => raw,
        }
    }

    /// True if this is the identifier or keyword `word`.
    pub(crate) fn is_ident(&self, word: &str) -> bool {
        matches!(self, Tree::Ident(text, _) if text == word)
    }

    /// True if this is the punctuation character `ch`.
    pub(crate) fn is_punct(&self, ch: char) -> bool {
        matches!(self, Tree::Punct(c, _) if *c == ch)
    }

    /// A short human description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tree::Ident(text, _) | Tree::Literal(text, _) => format!("`{text}`"),
            Tree::Punct(ch, _) => format!("`{ch}`"),
            Tree::Group(Delim::Paren, ..) => "`( ... )`".to_string(),
            Tree::Group(Delim::Bracket, ..) => "`[ ... ]`".to_string(),
            Tree::Group(Delim::Brace, ..) => "`{ ... }`".to_string(),
            Tree::Group(Delim::None, ..) => "a macro-generated group".to_string(),
        }
    }
}

/// Converts a compiler token stream into trees whose raw tokens are the
/// compiler's own (spans preserved).
pub(crate) fn from_stream(stream: proc_macro::TokenStream) -> Vec<Tree<proc_macro::TokenTree>> {
    use proc_macro::{Delimiter, TokenTree};
    stream
        .into_iter()
        .map(|token| match &token {
            TokenTree::Ident(ident) => Tree::Ident(ident.to_string(), token),
            TokenTree::Punct(punct) => Tree::Punct(punct.as_char(), token),
            TokenTree::Literal(literal) => Tree::Literal(literal.to_string(), token),
            TokenTree::Group(group) => {
                let delim = match group.delimiter() {
                    Delimiter::Parenthesis => Delim::Paren,
                    Delimiter::Bracket => Delim::Bracket,
                    Delimiter::Brace => Delim::Brace,
                    Delimiter::None => Delim::None,
                };
                Tree::Group(delim, from_stream(group.stream()), token)
            }
        })
        .collect()
}

/// Test-only lexer: turns Rust-like source into trees whose raw value is the
/// token's text (a group's raw text is its delimiters, e.g. `"{}"`).
/// Handles identifiers, numbers, plain string literals, punctuation and
/// nested groups: enough for function headers and attribute arguments.
#[cfg(test)]
pub(crate) fn lex(source: &str) -> Vec<Tree<String>> {
    let chars: Vec<char> = source.chars().collect();
    let mut pos = 0;
    let trees = lex_until(&chars, &mut pos, None);
    assert_eq!(
        pos,
        chars.len(),
        "unbalanced close delimiter in test input {source:?}"
    );
    trees
}

#[cfg(test)]
fn lex_until(chars: &[char], pos: &mut usize, close: Option<char>) -> Vec<Tree<String>> {
    let mut trees = Vec::new();
    while let Some(&ch) = chars.get(*pos) {
        let start = *pos;
        *pos += 1;
        let take_while = |pos: &mut usize, keep: fn(char) -> bool| {
            while chars.get(*pos).is_some_and(|&c| keep(c)) {
                *pos += 1;
            }
        };
        match ch {
            c if c.is_whitespace() => {}
            c if Some(c) == close => return trees,
            '(' | '[' | '{' => {
                let (delim, end) = match ch {
                    '(' => (Delim::Paren, ')'),
                    '[' => (Delim::Bracket, ']'),
                    _ => (Delim::Brace, '}'),
                };
                let inner = lex_until(chars, pos, Some(end));
                trees.push(Tree::Group(delim, inner, format!("{ch}{end}")));
            }
            '"' => {
                while chars.get(*pos).is_some_and(|&c| c != '"') {
                    *pos += if chars[*pos] == '\\' { 2 } else { 1 };
                }
                *pos += 1;
                let text: String = chars[start..*pos].iter().collect();
                trees.push(Tree::Literal(text.clone(), text));
            }
            c if c.is_ascii_digit() => {
                take_while(pos, |c| c.is_ascii_alphanumeric() || c == '_');
                let text: String = chars[start..*pos].iter().collect();
                trees.push(Tree::Literal(text.clone(), text));
            }
            c if c.is_alphabetic() || c == '_' => {
                take_while(pos, |c| c.is_alphanumeric() || c == '_');
                let text: String = chars[start..*pos].iter().collect();
                trees.push(Tree::Ident(text.clone(), text));
            }
            c => trees.push(Tree::Punct(c, c.to_string())),
        }
    }
    assert!(close.is_none(), "unclosed group in test input");
    trees
}
