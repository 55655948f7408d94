//! Values with units, parsed and printed as compose-go does: byte sizes (`512m` →
//! `"536870912"`), Go durations (`90s` → `1m30s`), CPU counts (`"0.5"` → `0.5`) and file
//! modes (`0440` → `"0440"`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A size in bytes. Written as a number or with a binary unit (`k`, `m`, `g`, `t`, `p`,
/// optionally followed by `i` and `b`); printed as a quoted number, as compose-go does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitBytes(pub i64);

impl UnitBytes {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Docker's `RAMInBytes` (go-units): `1.5g`, `512m`, `100`, `64 MiB`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid size: '{text}'");
        let digits_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits_end);
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return Err(invalid());
        }
        let size: f64 = number.parse().map_err(|_| invalid())?;
        let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
        let mut rest = unit.as_str();
        let multiplier: f64 = match rest.chars().next() {
            Some(prefix @ ('k' | 'm' | 'g' | 't' | 'p')) => {
                rest = &rest[1..];
                let power = "kmgtp".find(prefix).unwrap_or(0) as i32 + 1;
                1024f64.powi(power)
            }
            _ => 1.0,
        };
        rest = rest.strip_prefix('i').unwrap_or(rest);
        rest = rest.strip_prefix('b').unwrap_or(rest);
        if !rest.is_empty() {
            return Err(invalid());
        }
        Ok(UnitBytes((size * multiplier) as i64))
    }
}

impl Serialize for UnitBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for UnitBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => number
                .as_i64()
                .map(UnitBytes)
                .ok_or_else(|| de::Error::custom(format!("invalid size: {number}"))),
            Value::String(text) => UnitBytes::parse(&text).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!("invalid size: {other}"))),
        }
    }
}

/// A Go `time.Duration`: parsed like compose-go (`1h30m`, `1.5s`, `2d`, `1w`) and printed
/// like Go (`1m30s`, `1h0m0s`, `500ms`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Parses a duration as `str2duration` does (Go's units plus `d` and `w`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid duration: '{text}'");
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        if unsigned == "0" {
            return Ok(Duration::default());
        }
        if unsigned.is_empty() || unsigned.starts_with('-') {
            return Err(invalid());
        }
        let mut nanos: f64 = 0.0;
        let mut rest = unsigned;
        while !rest.is_empty() {
            let number_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(invalid)?;
            let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
            rest = &rest[number_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_end] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                "d" => 86400e9,
                "w" => 7.0 * 86400e9,
                _ => return Err(invalid()),
            };
            nanos += number * scale;
            rest = &rest[unit_end..];
        }
        Ok(Duration(std::time::Duration::from_nanos(
            nanos.round() as u64
        )))
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < 1_000_000_000 {
            let (unit, scale) = match nanos {
                n if n < 1_000 => ("ns", 1),
                n if n < 1_000_000 => ("µs", 1_000),
                _ => ("ms", 1_000_000),
            };
            return write!(f, "{}{unit}", decimal(nanos, scale));
        }
        let hours = nanos / 3_600_000_000_000;
        let minutes = (nanos / 60_000_000_000) % 60;
        let seconds = decimal(nanos % 60_000_000_000, 1_000_000_000);
        if hours > 0 {
            write!(f, "{hours}h{minutes}m{seconds}s")
        } else if minutes > 0 {
            write!(f, "{minutes}m{seconds}s")
        } else {
            write!(f, "{seconds}s")
        }
    }
}

/// `value / scale` with the fraction's trailing zeros dropped, as Go prints durations.
fn decimal(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(deserializer)? {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            other => return Err(de::Error::custom(format!("invalid duration: {other}"))),
        };
        Duration::parse(&text).map_err(de::Error::custom)
    }
}

/// A number of CPUs (`cpus: 0.5`), a Go `float32`: printed with the fewest digits that
/// give the same `float32` back, as Go does.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct NanoCpus(pub f32);

impl NanoCpus {
    pub fn is_zero(&self) -> bool {
        self.0 == 0.0
    }
}

impl Serialize for NanoCpus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Through the shortest float32 text, so that 0.1 stays 0.1 and not 0.100000001.
        let shortest: f64 = self.0.to_string().parse().unwrap_or(f64::from(self.0));
        if shortest.fract() == 0.0 && shortest.abs() < 1e15 {
            serializer.serialize_i64(shortest as i64)
        } else {
            serializer.serialize_f64(shortest)
        }
    }
}

impl<'de> Deserialize<'de> for NanoCpus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => Ok(NanoCpus(number.as_f64().unwrap_or_default() as f32)),
            Value::String(text) => text
                .trim()
                .parse::<f64>()
                .map(|value| NanoCpus(value as f32))
                .map_err(|_| de::Error::custom(format!("invalid cpus: '{text}'"))),
            other => Err(de::Error::custom(format!("invalid cpus: {other}"))),
        }
    }
}

/// A file mode, written in octal (`"0440"`) or as a number; printed as `"0440"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0{:o}", self.0))
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => number
                .as_u64()
                .and_then(|mode| u32::try_from(mode).ok())
                .map(FileMode)
                .ok_or_else(|| de::Error::custom(format!("invalid mode: {number}"))),
            Value::String(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
                .map(FileMode)
                .map_err(|_| de::Error::custom(format!("invalid mode: '{text}'"))),
            other => Err(de::Error::custom(format!("invalid mode: {other}"))),
        }
    }
}

/// `extra_hosts`: a map of host name → addresses, printed as the sorted list
/// `["host=addr", ...]` (compose-go's `HostsList`).
pub(crate) mod hosts_list {
    use super::*;

    pub fn serialize<S: Serializer>(
        hosts: &BTreeMap<String, Vec<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut list: Vec<String> = hosts
            .iter()
            .flat_map(|(host, addresses)| addresses.iter().map(move |a| format!("{host}={a}")))
            .collect();
        list.sort();
        list.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
        let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match Value::deserialize(deserializer)? {
            Value::Array(entries) => {
                for entry in entries {
                    let text = entry.as_str().map(str::to_owned).unwrap_or_default();
                    let (host, address) = split_host_entry(&text).ok_or_else(|| {
                        de::Error::custom(format!("invalid additional host, missing IP: {text}"))
                    })?;
                    hosts.entry(host).or_default().push(address);
                }
            }
            Value::Object(map) => {
                for (host, addresses) in map {
                    let addresses = match addresses {
                        Value::Array(list) => list.iter().map(scalar_text).collect(),
                        other => vec![scalar_text(&other)],
                    };
                    hosts.entry(host).or_default().extend(addresses);
                }
            }
            other => return Err(de::Error::custom(format!("invalid extra_hosts: {other}"))),
        }
        Ok(hosts)
    }

    fn scalar_text(value: &Value) -> String {
        match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// `host=addr` or `host:addr` (an IPv6 address may hold more colons; brackets are
    /// dropped).
    fn split_host_entry(text: &str) -> Option<(String, String)> {
        let (host, address) = text.split_once('=').or_else(|| text.split_once(':'))?;
        let address = address
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(address);
        Some((host.to_owned(), address.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(UnitBytes::parse("512m"), Ok(UnitBytes(536_870_912)));
        assert_eq!(UnitBytes::parse("1g"), Ok(UnitBytes(1 << 30)));
        assert_eq!(UnitBytes::parse("1.5G"), Ok(UnitBytes(1_610_612_736)));
        assert_eq!(UnitBytes::parse("64MiB"), Ok(UnitBytes(64 << 20)));
        assert_eq!(UnitBytes::parse("100"), Ok(UnitBytes(100)));
        assert!(UnitBytes::parse("12x").is_err());
        assert!(UnitBytes::parse("m").is_err());
    }

    #[test]
    fn durations_print_like_go() {
        let cases = [
            ("90s", "1m30s"),
            ("1h", "1h0m0s"),
            ("500ms", "500ms"),
            ("1.5s", "1.5s"),
            ("0", "0s"),
            ("1m30s", "1m30s"),
            ("2d", "48h0m0s"),
            ("10us", "10µs"),
        ];
        for (text, printed) in cases {
            assert_eq!(
                Duration::parse(text).unwrap().to_string(),
                printed,
                "{text}"
            );
        }
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("5 minutes").is_err());
    }

    #[test]
    fn cpus_print_the_shortest_float32() {
        let json = |cpus: f32| serde_json::to_string(&NanoCpus(cpus)).unwrap();
        assert_eq!(json(0.1), "0.1");
        assert_eq!(json(0.5), "0.5");
        assert_eq!(json(2.0), "2");
    }
}
