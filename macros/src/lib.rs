//! weft-macros: `#[weft::main]` and `#[weft::test]`. Being built under issue 2.
