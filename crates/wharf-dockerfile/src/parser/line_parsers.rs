//! Turns one logical line (continuations joined) into a [`Node`]: the instruction word, the
//! `--flags`, and the arguments, split the way each instruction wants them.

use super::{Arguments, KeyValueArg, Node};
use crate::error::ErrorKind;

/// The separators of BuildKit's `[\t\v\f\r ]+` (no newline, no Unicode spaces).
fn is_blank(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// Builds the node for `line`. Unknown instructions are kept without arguments; rejecting
/// them is the job of the typed layer, which can suggest a correction.
pub(super) fn node_from_line(line: &str, escape: char) -> Result<Node, ErrorKind> {
    let (instruction, flags, rest) = split_command(line);
    let (args, exec_form) = match instruction.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => json_or_words(&rest)?,
        "arg" => (Arguments::List(quoted_words(&rest, escape)), false),
        "cmd" | "entrypoint" | "run" | "shell" => json_or_string(&rest)?,
        "env" => (key_values(&rest, "ENV", escape)?, false),
        "label" => (key_values(&rest, "LABEL", escape)?, false),
        "expose" | "from" => (Arguments::List(blank_separated(&rest)), false),
        "healthcheck" => healthcheck(&rest)?,
        "maintainer" | "stopsignal" | "user" | "workdir" => (whole(&rest), false),
        "onbuild" if !rest.is_empty() => {
            let trigger = node_from_line(&rest, escape)?;
            (Arguments::Trigger(Box::new(trigger)), false)
        }
        _ => (Arguments::List(Vec::new()), false),
    };
    Ok(Node {
        instruction: instruction.to_owned(),
        flags,
        args,
        exec_form,
        heredocs: Vec::new(),
        original: line.to_owned(),
        lines: Default::default(),
        comments: Vec::new(),
    })
}

/// Splits off the instruction word and the leading `--flags`; the rest is trimmed.
fn split_command(line: &str) -> (&str, Vec<String>, String) {
    let line = line.trim();
    let Some(blank) = line.find(is_blank) else {
        return (line, Vec::new(), String::new());
    };
    let (instruction, after) = line.split_at(blank);
    let (rest, flags) = extract_flags(after.trim_start_matches(is_blank));
    (instruction, flags, rest.trim().to_owned())
}

/// Reads leading words that start with `--` (quotes and `\` escapes allowed inside them) and
/// returns the remaining text and the flags. A lone `--` ends the flags and is dropped.
fn extract_flags(line: &str) -> (&str, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Blank,
        Word,
        Quoted(char),
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let rest_from = |index: usize| chars.get(index).map_or("", |&(offset, _)| &line[offset..]);
    let mut flags = Vec::new();
    let mut word = String::new();
    let mut quoted_empty_ok = false;
    let mut phase = Phase::Blank;
    let mut index = 0;
    while index < chars.len() {
        let ch = chars[index].1;
        match phase {
            Phase::Blank => {
                if ch.is_whitespace() {
                    index += 1;
                    continue;
                }
                let starts_flag =
                    ch == '-' && chars.get(index + 1).is_some_and(|&(_, next)| next == '-');
                if !starts_flag {
                    return (rest_from(index), flags);
                }
                phase = Phase::Word;
            }
            Phase::Word => {
                if ch.is_whitespace() {
                    if word == "--" {
                        return (rest_from(index), flags);
                    }
                    if quoted_empty_ok || !word.is_empty() {
                        flags.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    quoted_empty_ok = false;
                    phase = Phase::Blank;
                    index += 1;
                    continue;
                }
                match ch {
                    '\'' | '"' => {
                        quoted_empty_ok = true;
                        phase = Phase::Quoted(ch);
                    }
                    '\\' => {
                        if let Some(&(_, escaped)) = chars.get(index + 1) {
                            word.push(escaped);
                            index += 1;
                        }
                    }
                    _ => word.push(ch),
                }
                index += 1;
            }
            Phase::Quoted(quote) => {
                if ch == quote {
                    phase = Phase::Word;
                } else if ch == '\\' {
                    match chars.get(index + 1) {
                        Some(&(_, escaped)) => {
                            word.push(escaped);
                            index += 1;
                        }
                        None => phase = Phase::Word,
                    }
                } else {
                    word.push(ch);
                }
                index += 1;
            }
        }
    }
    if phase != Phase::Blank && word != "--" && (quoted_empty_ok || !word.is_empty()) {
        flags.push(word);
    }
    ("", flags)
}

/// Words separated by whitespace, with quotes and escapes kept for later expansion (ARG, and
/// the `name=value` form of ENV and LABEL).
fn quoted_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Blank,
        Word,
        Quoted(char),
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted_empty_ok = false;
    let mut phase = Phase::Blank;
    let mut index = 0;
    while index < chars.len() {
        let mut ch = chars[index];
        let at_last = index + 1 == chars.len();
        match phase {
            Phase::Blank if ch.is_whitespace() => {}
            Phase::Blank | Phase::Word => {
                if ch.is_whitespace() {
                    if quoted_empty_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    quoted_empty_ok = false;
                    phase = Phase::Blank;
                    index += 1;
                    continue;
                }
                phase = Phase::Word;
                if ch == '\'' || ch == '"' {
                    quoted_empty_ok = true;
                    phase = Phase::Quoted(ch);
                }
                if ch == escape {
                    if at_last {
                        // A trailing escape is dropped.
                        index += 1;
                        continue;
                    }
                    // Outside quotes the escape stays, together with what it escapes.
                    word.push(ch);
                    index += 1;
                    ch = chars[index];
                }
                word.push(ch);
            }
            Phase::Quoted(quote) => {
                if ch == quote {
                    phase = Phase::Word;
                }
                if ch == escape && quote != '\'' {
                    if at_last {
                        phase = Phase::Word;
                        index += 1;
                        continue;
                    }
                    word.push(ch);
                    index += 1;
                    ch = chars[index];
                }
                word.push(ch);
            }
        }
        index += 1;
    }
    if phase != Phase::Blank && (quoted_empty_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// ENV and LABEL: `KEY value` (legacy: one pair, the value is the rest of the line) or
/// `KEY=value KEY2="value 2" ...`.
fn key_values(rest: &str, instruction: &'static str, escape: char) -> Result<Arguments, ErrorKind> {
    let words = quoted_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Arguments::List(Vec::new()));
    };
    if !first.contains('=') {
        let Some((key, value)) = rest.split_once(is_blank) else {
            return Err(ErrorKind::MissingValue { instruction });
        };
        return Ok(Arguments::Pairs(vec![KeyValueArg {
            key: key.to_owned(),
            value: value.trim_start_matches(is_blank).to_owned(),
            legacy: true,
        }]));
    }
    let pairs = words
        .iter()
        .map(|word| {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| ErrorKind::MissingEquals {
                    instruction,
                    word: word.clone(),
                })?;
            Ok(KeyValueArg {
                key: key.to_owned(),
                value: value.to_owned(),
                legacy: false,
            })
        })
        .collect::<Result<_, ErrorKind>>()?;
    Ok(Arguments::Pairs(pairs))
}

fn blank_separated(rest: &str) -> Vec<String> {
    rest.split(is_blank)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

fn whole(rest: &str) -> Arguments {
    if rest.is_empty() {
        Arguments::List(Vec::new())
    } else {
        Arguments::List(vec![rest.to_owned()])
    }
}

/// Why text is not an exec-form (JSON) argument list.
enum NotExecForm {
    /// Not JSON at all: read it as shell form.
    NotJson,
    /// A JSON array with something other than strings: an error.
    NotStrings,
}

fn json_strings(rest: &str) -> Result<Vec<String>, NotExecForm> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Err(NotExecForm::NotJson);
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_str(rest).map_err(|_| NotExecForm::NotJson)?;
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::String(text) => Ok(text),
            _ => Err(NotExecForm::NotStrings),
        })
        .collect()
}

/// CMD, ENTRYPOINT, RUN, SHELL: a JSON array (exec form) or the whole text (shell form).
fn json_or_string(rest: &str) -> Result<(Arguments, bool), ErrorKind> {
    if rest.is_empty() {
        return Ok((Arguments::List(Vec::new()), false));
    }
    match json_strings(rest) {
        Ok(strings) => Ok((Arguments::List(strings), true)),
        Err(NotExecForm::NotStrings) => Err(ErrorKind::NotStringArray),
        Err(NotExecForm::NotJson) => Ok((whole(rest), false)),
    }
}

/// ADD, COPY, VOLUME: a JSON array or whitespace-separated words.
fn json_or_words(rest: &str) -> Result<(Arguments, bool), ErrorKind> {
    match json_strings(rest) {
        Ok(strings) => Ok((Arguments::List(strings), true)),
        Err(NotExecForm::NotStrings) => Err(ErrorKind::NotStringArray),
        Err(NotExecForm::NotJson) => Ok((Arguments::List(blank_separated(rest)), false)),
    }
}

/// HEALTHCHECK: a type word (`CMD`, `NONE`) then, for CMD, a command like CMD's.
fn healthcheck(rest: &str) -> Result<(Arguments, bool), ErrorKind> {
    let kind_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if kind_len == 0 {
        return Ok((Arguments::List(Vec::new()), false));
    }
    let (kind, command) = rest.split_at(kind_len);
    let (command, exec_form) = json_or_string(command.trim_start())?;
    let mut args = vec![kind.to_owned()];
    if let Arguments::List(command) = command {
        args.extend(command);
    }
    Ok((Arguments::List(args), exec_form))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_split_off() {
        assert_eq!(
            split_command("COPY --from=build --chown='a b' src /dst"),
            (
                "COPY",
                vec!["--from=build".into(), "--chown=a b".into()],
                "src /dst".into()
            )
        );
        assert_eq!(
            split_command("COPY --doit=true -- foo /tmp/"),
            ("COPY", vec!["--doit=true".into()], "foo /tmp/".into())
        );
        assert_eq!(
            split_command("CMD --doit [ \"a\" ]"),
            ("CMD", vec!["--doit".into()], "[ \"a\" ]".into())
        );
        assert_eq!(split_command("RUN"), ("RUN", vec![], String::new()));
        assert_eq!(
            split_command("RUN --mount=type=cache,target=/x\tmake"),
            (
                "RUN",
                vec!["--mount=type=cache,target=/x".into()],
                "make".into()
            )
        );
        assert_eq!(split_command("RUN -x"), ("RUN", vec![], "-x".into()));
        assert_eq!(
            split_command("RUN --flag"),
            ("RUN", vec!["--flag".into()], String::new())
        );
    }

    #[test]
    fn quoted_words_keep_quotes_and_escapes() {
        assert_eq!(
            quoted_words(r#"abc="123 456" def 'x y'z a\ b"#, '\\'),
            [r#"abc="123 456""#, "def", "'x y'z", r"a\ b"]
        );
        assert_eq!(quoted_words(r#"a="" b"#, '\\'), [r#"a="""#, "b"]);
        assert_eq!(quoted_words(r"trailing\", '\\'), ["trailing"]);
        assert_eq!(quoted_words("a`\"b", '`'), ["a`\"b"]);
    }

    #[test]
    fn key_value_forms() {
        let Arguments::Pairs(legacy) = key_values("PATH  /usr/bin:$PATH", "ENV", '\\').unwrap()
        else {
            panic!("pairs expected");
        };
        assert_eq!(legacy[0].value, "/usr/bin:$PATH");
        assert!(legacy[0].legacy);
        assert_eq!(
            key_values("PATH", "ENV", '\\').unwrap_err().to_string(),
            "ENV must have two arguments"
        );
        assert_eq!(
            key_values("a=b c", "LABEL", '\\').unwrap_err().to_string(),
            "can't find `=` in `c`: LABEL arguments must be of the form name=value"
        );
    }

    #[test]
    fn exec_form_needs_an_array_of_strings() {
        assert_eq!(
            json_or_string(r#"[ "echo", [ "nested json" ] ]"#).unwrap_err(),
            ErrorKind::NotStringArray
        );
        let (args, exec_form) = json_or_string("['single']").unwrap();
        assert_eq!(args, Arguments::List(vec!["['single']".into()]));
        assert!(!exec_form);
        let (args, exec_form) = json_or_words(r#"["a b", "c"]"#).unwrap();
        assert_eq!(args, Arguments::List(vec!["a b".into(), "c".into()]));
        assert!(exec_form);
    }
}
