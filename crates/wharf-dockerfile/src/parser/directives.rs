//! Parser directives: `# syntax=...`, `# escape=...` and `# check=...` comments at the very top
//! of a Dockerfile. The first line that is not a directive (a blank line, another comment, an
//! instruction) ends them; each may appear once.

use crate::error::ErrorKind;
use crate::go_compat;

/// The parser directives of a Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// The frontend image, e.g. `docker/dockerfile:1`.
    pub syntax: Option<String>,
    /// The escape character, `\` (the default) or `` ` ``.
    pub escape: Option<char>,
    /// Which lint checks to skip and whether warnings are errors.
    pub check: Option<CheckDirective>,
}

impl Directives {
    /// The escape character in force.
    pub fn escape_char(&self) -> char {
        self.escape.unwrap_or('\\')
    }
}

/// The `# check=skip=RULE,RULE;error=true` directive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckDirective {
    /// Rules not to check.
    pub skip: Vec<String>,
    /// `skip=all`: no checks at all.
    pub skip_all: bool,
    /// Lint warnings fail the build.
    pub error: bool,
}

/// Reads directives line by line until the first line that is not one.
#[derive(Debug, Default)]
pub(crate) struct DirectiveScanner {
    done: bool,
    directives: Directives,
}

impl DirectiveScanner {
    /// Looks at one line (newline and leading whitespace already trimmed); `true` when it was
    /// a directive.
    pub(crate) fn scan(&mut self, line: &str) -> Result<bool, ErrorKind> {
        if self.done {
            return Ok(false);
        }
        let Some((name, value)) = line
            .strip_prefix('#')
            .and_then(|comment| split_directive(comment.trim_start()))
        else {
            self.done = true;
            return Ok(false);
        };
        let name = name.to_ascii_lowercase();
        let already_seen = match name.as_str() {
            "syntax" => self.directives.syntax.is_some(),
            "escape" => self.directives.escape.is_some(),
            "check" => self.directives.check.is_some(),
            _ => {
                self.done = true;
                return Ok(false);
            }
        };
        if already_seen {
            return Err(ErrorKind::DuplicateDirective { name });
        }
        match name.as_str() {
            "syntax" => self.directives.syntax = Some(value.to_owned()),
            "escape" => self.directives.escape = Some(parse_escape(value)?),
            _ => self.directives.check = Some(parse_check(value)?),
        }
        Ok(true)
    }

    pub(crate) fn escape_char(&self) -> char {
        self.directives.escape_char()
    }

    pub(crate) fn into_directives(self) -> Directives {
        self.directives
    }
}

/// Go's regexp `\s`.
fn is_regex_space(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\u{c}' | '\r')
}

/// Splits `name = value` the way BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` does.
fn split_directive(text: &str) -> Option<(&str, &str)> {
    let name_len = text
        .char_indices()
        .take_while(|&(index, ch)| ch.is_ascii_alphabetic() || (index > 0 && ch.is_ascii_digit()))
        .count();
    if name_len == 0 {
        return None;
    }
    let (name, rest) = text.split_at(name_len);
    let after_equals = rest.trim_start_matches(is_regex_space).strip_prefix('=')?;
    let value = after_equals
        .trim_start_matches(is_regex_space)
        .trim_end_matches(is_regex_space);
    if !value.is_empty() {
        return Some((name, value));
    }
    // Only blanks after `=`: the regex's lazy group still takes one character, the last.
    let last = after_equals.chars().next_back()?;
    Some((name, &after_equals[after_equals.len() - last.len_utf8()..]))
}

fn parse_escape(value: &str) -> Result<char, ErrorKind> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(ErrorKind::InvalidEscapeToken {
            token: value.to_owned(),
        }),
    }
}

fn parse_check(value: &str) -> Result<CheckDirective, ErrorKind> {
    let mut check = CheckDirective::default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(check);
    }
    let invalid = |option: &str| ErrorKind::InvalidCheckDirective {
        option: option.to_owned(),
    };
    for part in value.splitn(2, ';') {
        let (key, setting) = part.split_once('=').ok_or_else(|| invalid(part))?;
        match key.trim() {
            "skip" => match setting.trim() {
                "all" => check.skip_all = true,
                rules => {
                    check.skip = rules
                        .split(',')
                        .map(|rule| rule.trim().to_owned())
                        .collect()
                }
            },
            "error" => {
                check.error = go_compat::parse_bool(setting.trim()).ok_or_else(|| invalid(part))?;
            }
            _ => return Err(invalid(part)),
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(lines: &[&str]) -> Result<Directives, ErrorKind> {
        let mut scanner = DirectiveScanner::default();
        for line in lines {
            scanner.scan(line)?;
        }
        Ok(scanner.into_directives())
    }

    #[test]
    fn reads_all_three_directives() {
        let directives = scan_all(&[
            "# syntax = docker/dockerfile:1.7",
            "#escape=`",
            "# check=skip=JSONArgsRecommended, StageNameCasing;error=true",
        ])
        .unwrap();
        assert_eq!(directives.syntax.as_deref(), Some("docker/dockerfile:1.7"));
        assert_eq!(directives.escape_char(), '`');
        assert_eq!(
            directives.check,
            Some(CheckDirective {
                skip: vec!["JSONArgsRecommended".into(), "StageNameCasing".into()],
                skip_all: false,
                error: true,
            })
        );
    }

    #[test]
    fn the_first_other_line_ends_directives() {
        let directives = scan_all(&["# a comment", "# escape=`"]).unwrap();
        assert_eq!(directives.escape, None);
        let directives = scan_all(&["", "# escape=`"]).unwrap();
        assert_eq!(directives.escape, None);
        let directives = scan_all(&["# unknown=x", "# escape=`"]).unwrap();
        assert_eq!(directives.escape, None);
    }

    #[test]
    fn errors() {
        assert_eq!(
            scan_all(&["# escape=x"]).unwrap_err().to_string(),
            "invalid escape token `x` in the escape directive"
        );
        assert_eq!(
            scan_all(&["# syntax=a", "# SYNTAX=b"])
                .unwrap_err()
                .to_string(),
            "only one `syntax` parser directive can be used"
        );
        assert_eq!(
            scan_all(&["# check=skip"]).unwrap_err().to_string(),
            "invalid option `skip` in the check directive"
        );
        // A blank value after `=` is one blank character, as the reference regex makes it.
        assert!(matches!(
            scan_all(&["# escape= "]),
            Err(ErrorKind::InvalidEscapeToken { token }) if token == " "
        ));
    }

    #[test]
    fn skip_all() {
        let directives = scan_all(&["# check=skip=all"]).unwrap();
        assert!(directives.check.is_some_and(|check| check.skip_all));
    }
}
