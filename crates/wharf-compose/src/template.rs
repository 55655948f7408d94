//! Variable substitution in one string, as compose-go's `template` does: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`,
//! `${VAR+alt}`, nested in defaults, and `$$` for a literal `$`.

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${` without its `}`, or something that is not a variable between the braces.
    Invalid { template: String },
    /// `${VAR:?reason}` or `${VAR?reason}` with the variable missing.
    MissingRequired { variable: String, reason: String },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Invalid { template } => write!(f, "invalid template: {template:?}"),
            TemplateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            TemplateError::MissingRequired { variable, reason } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {reason}"
                )
            }
        }
    }
}

/// Substitutes `template` with values from `lookup`. `unset` hears the names of variables
/// that were used without a value and without a default (compose warns about them).
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, TemplateError> {
    let invalid = || TemplateError::Invalid {
        template: template.to_owned(),
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if after.starts_with(is_name_start) {
            let name_end = after.find(|c| !is_name_char(c)).unwrap_or(after.len());
            let name = &after[..name_end];
            out.push_str(&value_or_warn(name, lookup, unset));
            rest = &after[name_end..];
        } else if after.starts_with('{') {
            let close = closing_brace(after).ok_or_else(invalid)?;
            let inner = &after[1..close];
            out.push_str(&braced(inner, lookup, unset).map_err(|error| match error {
                TemplateError::Invalid { .. } => invalid(),
                other => other,
            })?);
            rest = &after[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The operators after a braced name, in the order compose-go tries them when two start at
/// the same place (`:-` before `-`).
const OPERATORS: [&str; 6] = [":?", "?", ":-", "-", ":+", "+"];

/// The text between `${` and `}`.
fn braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, TemplateError> {
    let invalid = || TemplateError::Invalid {
        template: inner.to_owned(),
    };
    if !inner.starts_with(is_name_start) {
        return Err(invalid());
    }
    let name_end = inner.find(|c| !is_name_char(c)).unwrap_or(inner.len());
    let name = &inner[..name_end];
    let operator_text = &inner[name_end..];
    if operator_text.is_empty() {
        return Ok(value_or_warn(name, lookup, unset));
    }
    let operator = OPERATORS
        .iter()
        .find(|op| operator_text.starts_with(**op))
        .ok_or_else(invalid)?;
    let argument = substitute(&operator_text[operator.len()..], lookup, unset)?;
    let value = lookup(name);
    let empty_counts = operator.starts_with(':');
    let present = match &value {
        Some(text) => !(empty_counts && text.is_empty()),
        None => false,
    };
    Ok(match operator.trim_start_matches(':') {
        "?" if !present => {
            return Err(TemplateError::MissingRequired {
                variable: name.to_owned(),
                reason: argument,
            })
        }
        "-" if !present => argument,
        "+" if present => argument,
        _ => value.unwrap_or_default(),
    })
}

fn value_or_warn(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> String {
    lookup(name).unwrap_or_else(|| {
        unset(name);
        String::new()
    })
}

/// The index of the `}` that closes the `{` at the start of `text`, counting nested `${`.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(index);
                }
            }
            b'{' => {
                depth += 1;
                // compose-go skips the character after a brace.
                index += 1;
            }
            _ => {}
        }
        index += 1;
    }
    None
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str) -> Result<String, TemplateError> {
        let lookup = |name: &str| match name {
            "SET" => Some("value".to_owned()),
            "EMPTY" => Some(String::new()),
            "NESTED" => Some("SET".to_owned()),
            _ => None,
        };
        substitute(template, &lookup, &mut |_| {})
    }

    #[test]
    fn every_form() {
        let cases = [
            ("$SET", "value"),
            ("${SET}", "value"),
            ("a${SET}b", "avalueb"),
            ("${UNSET}", ""),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("${UNSET:-${SET}}", "value"),
            ("${UNSET:-${UNSET2:-deep}}", "deep"),
            ("$$SET", "$SET"),
            ("$$", "$"),
            ("cost: $5", "cost: $5"),
            ("${SET:-x} and ${SET}", "value and value"),
            ("${SET:-a-b}", "value"),
            ("${UNSET:-a}}", "a}"),
        ];
        for (template, expected) in cases {
            assert_eq!(run(template).as_deref(), Ok(expected), "{template}");
        }
    }

    #[test]
    fn required_variables() {
        assert_eq!(run("${SET:?boom}").as_deref(), Ok("value"));
        assert_eq!(run("${EMPTY?boom}").as_deref(), Ok(""));
        assert_eq!(
            run("${EMPTY:?boom}").unwrap_err().to_string(),
            "required variable EMPTY is missing a value: boom"
        );
        assert_eq!(
            run("${UNSET?}").unwrap_err().to_string(),
            "required variable UNSET is missing a value"
        );
    }

    #[test]
    fn invalid_templates() {
        assert!(matches!(run("${"), Err(TemplateError::Invalid { .. })));
        assert!(matches!(run("${}"), Err(TemplateError::Invalid { .. })));
        assert!(matches!(run("${A B}"), Err(TemplateError::Invalid { .. })));
        assert!(matches!(
            run("${SET:x}"),
            Err(TemplateError::Invalid { .. })
        ));
    }

    #[test]
    fn unset_variables_are_reported() {
        let mut names = Vec::new();
        let lookup = |_: &str| None;
        substitute("${A} $B ${C:-x}", &lookup, &mut |n| {
            names.push(n.to_owned())
        })
        .unwrap();
        assert_eq!(names, ["A", "B"]);
    }
}
