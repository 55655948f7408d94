//! Shell-word expansion as BuildKit does it, with every lexer option and escape character,
//! against a few set variables (one empty).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wharf_dockerfile::ShellLexer;

fuzz_target!(|input: (u8, &str)| {
    let (options, word) = input;
    let escape = if options & 1 == 0 { '\\' } else { '`' };
    let lexer = ShellLexer::new(escape)
        .keep_quotes(options & 2 != 0)
        .keep_escapes(options & 4 != 0)
        .keep_unset_variables(options & 8 != 0)
        .ignore_quotes(options & 16 != 0);
    let vars: BTreeMap<String, String> = [
        ("A", "a b  c"),
        ("EMPTY", ""),
        ("PATH", "/usr/bin:/bin"),
        ("X", "${A}$"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let _ = lexer.process_word(word, &vars);
    let _ = lexer.process_words(word, &vars);
});
