//! Instruction flags (`--from=build`, `--link`, `--mount=...`), checked like BuildKit's
//! `BFlags`: unknown and repeated flags are errors, booleans take `true`/`false` or nothing.

use crate::error::ErrorKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagKind {
    /// `--link`, `--link=true`, `--link=false`.
    Bool,
    /// `--from=value`, at most once.
    Text,
    /// `--mount=value`, any number of times.
    List,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FlagValue {
    Bool(bool),
    Text(String),
    List(Vec<String>),
}

/// The flags of one instruction after checking.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: Vec<(&'static str, FlagValue)>,
}

impl Flags {
    /// Checks `given` against the flags `instruction` accepts.
    pub(crate) fn parse(
        instruction: &'static str,
        given: &[String],
        accepted: &[(&'static str, FlagKind)],
    ) -> Result<Self, ErrorKind> {
        let mut flags = Self::default();
        for flag in given {
            let flag = flag.strip_prefix("--").unwrap_or(flag);
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            };
            let Some(&(name, kind)) = accepted.iter().find(|(known, _)| *known == name) else {
                return Err(ErrorKind::UnknownFlag {
                    instruction,
                    flag: name.to_owned(),
                    accepted: accepted.iter().map(|&(known, _)| known).collect(),
                });
            };
            let existing = flags.values.iter_mut().find(|(known, _)| *known == name);
            match (kind, existing) {
                (FlagKind::List, Some((_, FlagValue::List(values)))) => {
                    values.push(needs_value(name, value)?.to_owned());
                }
                (_, Some(_)) => {
                    return Err(ErrorKind::DuplicateFlag {
                        flag: name.to_owned(),
                    })
                }
                (FlagKind::Bool, None) => {
                    let enabled = match value.map(str::to_ascii_lowercase).as_deref() {
                        None => true,
                        Some("") => {
                            return Err(ErrorKind::FlagNeedsValue {
                                flag: name.to_owned(),
                            })
                        }
                        Some("true") => true,
                        Some("false") => false,
                        Some(_) => {
                            return Err(ErrorKind::FlagNotBoolean {
                                flag: name.to_owned(),
                                value: value.unwrap_or_default().to_owned(),
                            })
                        }
                    };
                    flags.values.push((name, FlagValue::Bool(enabled)));
                }
                (FlagKind::Text, None) => {
                    let value = needs_value(name, value)?.to_owned();
                    flags.values.push((name, FlagValue::Text(value)));
                }
                (FlagKind::List, None) => {
                    let value = needs_value(name, value)?.to_owned();
                    flags.values.push((name, FlagValue::List(vec![value])));
                }
            }
        }
        Ok(flags)
    }

    fn get(&self, name: &str) -> Option<&FlagValue> {
        self.values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value)
    }

    /// A text flag's value; an empty value counts as not given, as in BuildKit.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(FlagValue::Text(value)) if !value.is_empty() => Some(value.clone()),
            _ => None,
        }
    }

    pub(crate) fn enabled(&self, name: &str) -> bool {
        matches!(self.get(name), Some(FlagValue::Bool(true)))
    }

    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(FlagValue::List(values)) => values.clone(),
            _ => Vec::new(),
        }
    }

    /// Whether the flag was given at all (HEALTHCHECK NONE rejects any).
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

fn needs_value<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, ErrorKind> {
    value.ok_or_else(|| ErrorKind::FlagNeedsValue {
        flag: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPY_FLAGS: &[(&str, FlagKind)] = &[
        ("from", FlagKind::Text),
        ("link", FlagKind::Bool),
        ("exclude", FlagKind::List),
    ];

    fn parse(given: &[&str]) -> Result<Flags, ErrorKind> {
        let given: Vec<String> = given.iter().map(|flag| flag.to_string()).collect();
        Flags::parse("COPY", &given, COPY_FLAGS)
    }

    #[test]
    fn values_of_each_kind() {
        let flags = parse(&["--from=build", "--link", "--exclude=a", "--exclude=b"]).unwrap();
        assert_eq!(flags.text("from").as_deref(), Some("build"));
        assert!(flags.enabled("link"));
        assert_eq!(flags.list("exclude"), ["a", "b"]);
        assert!(!parse(&["--link=FALSE"]).unwrap().enabled("link"));
        assert_eq!(parse(&["--from="]).unwrap().text("from"), None);
    }

    #[test]
    fn errors() {
        let message = |given: &[&str]| parse(given).unwrap_err().to_string();
        assert_eq!(message(&["--form=x"]), "unknown flag `--form` for COPY");
        assert_eq!(
            message(&["--from=a", "--from=b"]),
            "flag `--from` is given more than once"
        );
        assert_eq!(message(&["--from"]), "flag `--from` needs a value");
        assert_eq!(message(&["--link="]), "flag `--link` needs a value");
        assert_eq!(
            message(&["--link=yes"]),
            "flag `--link` takes true or false, not `yes`"
        );
        let ErrorKind::UnknownFlag { accepted, .. } = parse(&["--x"]).unwrap_err() else {
            panic!("unknown flag expected");
        };
        assert_eq!(accepted, ["from", "link", "exclude"]);
    }
}
