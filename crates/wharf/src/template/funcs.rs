//! The functions of Docker's templates: Go's built-ins (`index`, `len`, `eq`, `and`,
//! `printf`...) and those the Docker CLI adds (`json`, `join`, `split`, `upper`, `lower`,
//! `title`, `pad`, `truncate`).

use std::cmp::Ordering;

use serde_json::Value;

use super::eval::{go_print, truth};

/// Every function a template may call.
pub const NAMES: [&str; 22] = [
    "and", "eq", "ge", "gt", "index", "join", "json", "le", "len", "lower", "lt", "ne", "not",
    "or", "pad", "print", "printf", "println", "split", "title", "truncate", "upper",
];

pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let arity = |n: usize| -> Result<(), String> {
        match args.len() == n {
            true => Ok(()),
            false => Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            )),
        }
    };
    let text = |i: usize| go_print(&args[i]);
    let int = |i: usize| -> Result<i64, String> {
        args[i]
            .as_i64()
            .ok_or_else(|| format!("{name}: {} is not an integer", go_print(&args[i])))
    };
    Ok(match name {
        "json" => {
            arity(1)?;
            Value::from(serde_json::to_string(&args[0]).expect("values serialize"))
        }
        "join" => {
            arity(2)?;
            let items = args[0]
                .as_array()
                .ok_or_else(|| format!("join: {} is not a list", text(0)))?;
            Value::from(
                items
                    .iter()
                    .map(go_print)
                    .collect::<Vec<_>>()
                    .join(&text(1)),
            )
        }
        "split" => {
            arity(2)?;
            Value::from(text(0).split(&text(1)).collect::<Vec<_>>())
        }
        "upper" => {
            arity(1)?;
            Value::from(text(0).to_uppercase())
        }
        "lower" => {
            arity(1)?;
            Value::from(text(0).to_lowercase())
        }
        "title" => {
            arity(1)?;
            Value::from(title(&text(0)))
        }
        "pad" => {
            arity(3)?;
            let (before, after) = (int(1)?.max(0) as usize, int(2)?.max(0) as usize);
            Value::from(format!(
                "{}{}{}",
                " ".repeat(before),
                text(0),
                " ".repeat(after)
            ))
        }
        "truncate" => {
            arity(2)?;
            Value::from(
                text(0)
                    .chars()
                    .take(int(1)?.max(0) as usize)
                    .collect::<String>(),
            )
        }
        "len" => {
            arity(1)?;
            Value::from(match &args[0] {
                Value::String(s) => s.len(),
                Value::Array(items) => items.len(),
                Value::Object(map) => map.len(),
                Value::Null => 0,
                other => return Err(format!("len of {}", go_print(other))),
            })
        }
        "index" => {
            if args.is_empty() {
                return Err("wrong number of args for index: want at least 1 got 0".into());
            }
            args[1..]
                .iter()
                .try_fold(args[0].clone(), |value, key| index(&value, key))?
        }
        "not" => {
            arity(1)?;
            Value::Bool(!truth(&args[0]))
        }
        // As Go: the first false argument (and) or true one (or), else the last.
        "and" | "or" => {
            if args.is_empty() {
                return Err(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                ));
            }
            let stop = name == "or";
            args.iter()
                .find(|a| truth(a) == stop)
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            let mut equal = false;
            for other in &args[1..] {
                equal |= compare(&args[0], other)? == Ordering::Equal;
            }
            Value::Bool(equal)
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(2)?;
            let order = compare(&args[0], &args[1])?;
            Value::Bool(match name {
                "ne" => order != Ordering::Equal,
                "lt" => order == Ordering::Less,
                "le" => order != Ordering::Greater,
                "gt" => order == Ordering::Greater,
                _ => order != Ordering::Less,
            })
        }
        "print" => Value::from(sprint(args)),
        "println" => {
            let words: Vec<String> = args.iter().map(go_print).collect();
            Value::from(format!("{}\n", words.join(" ")))
        }
        "printf" => {
            if args.is_empty() {
                return Err("wrong number of args for printf: want at least 1 got 0".into());
            }
            Value::from(printf(&text(0), &args[1..]))
        }
        _ => return Err(format!("function \"{name}\" not defined")),
    })
}

fn index(value: &Value, key: &Value) -> Result<Value, String> {
    match (value, key) {
        (Value::Array(items), Value::Number(n)) => {
            let i = n
                .as_u64()
                .filter(|i| (*i as usize) < items.len())
                .ok_or_else(|| format!("index out of range: {n}"))?;
            Ok(items[i as usize].clone())
        }
        // A missing key gives the zero value, as Go's index on a map: Docker's maps
        // (labels, options) hold strings, so an empty one.
        (Value::Object(map), Value::String(k)) => {
            Ok(map.get(k).cloned().unwrap_or_else(|| Value::from("")))
        }
        (Value::Null, _) => Err("index of untyped nil".into()),
        (value, key) => Err(format!(
            "can't index {} with {}",
            go_print(value),
            go_print(key)
        )),
    }
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal))
        }
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        (Value::Null, Value::Null) => Ok(Ordering::Equal),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            go_print(a),
            go_print(b)
        )),
    }
}

/// Go's `fmt.Sprint`: a space between two operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !args[i - 1].is_string() && !arg.is_string() {
            out.push(' ');
        }
        out.push_str(&go_print(arg));
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s`, `%v`, `%d`, `%q`, `%%`.
fn printf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb) => match (verb, args.next()) {
                ('q', Some(arg)) => out.push_str(&format!("{:?}", go_print(arg))),
                (_, Some(arg)) => out.push_str(&go_print(arg)),
                (_, None) => out.push_str(&format!("%!{verb}(MISSING)")),
            },
            None => out.push_str("%!(NOVERB)"),
        }
    }
    out
}

/// Go's `strings.Title`: each word's first letter in upper case.
fn title(text: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}
