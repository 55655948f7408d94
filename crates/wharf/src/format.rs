//! Docker-style output: `--format` values (`json`, or a Go template, see
//! [`crate::template`], with the `table` prefix and `\t`), aligned tables, human sizes
//! and durations as Docker's go-units prints them.

use crate::template::Template;

/// A parsed `--format` value.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// No `--format`: the command's default table.
    Table,
    /// `--format json`: one JSON object per line.
    Json,
    Template {
        table: bool,
        template: Template,
    },
}

impl Format {
    pub fn parse(text: Option<&str>) -> Result<Self, String> {
        let Some(text) = text else {
            return Ok(Self::Table);
        };
        match text.trim() {
            "" | "table" => return Ok(Self::Table),
            "json" => return Ok(Self::Json),
            _ => {}
        }
        let (table, body) = match text.strip_prefix("table") {
            Some(rest) if rest.starts_with(char::is_whitespace) => (true, rest.trim_start()),
            _ => (false, text),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let template = Template::parse(&body).map_err(|e| format!("template `{text}`: {e}"))?;
        Ok(Self::Template { table, template })
    }
}

/// Aligns rows into columns like Docker's tabwriter (min width 10, padding 3).
pub fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let width = (widths[c] + 3).max(10);
                    line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
                }
            }
            line
        })
        .collect()
}

/// Sizes as Docker prints them: decimal units, three significant digits (`151MB`, `2.1MB`).
pub fn human_size(bytes: u64) -> String {
    scaled_size(bytes, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"], 3)
}

/// Memory sizes as Docker's `stats`: binary units, four significant digits (`1.953MiB`).
pub fn human_binary_size(bytes: u64) -> String {
    scaled_size(
        bytes,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        4,
    )
}

fn scaled_size(bytes: u64, base: f64, units: &[&str], digits: usize) -> String {
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= base && unit < units.len() - 1 {
        size /= base;
        unit += 1;
    }
    let whole_digits = if size >= 1.0 {
        size.log10().floor() as usize + 1
    } else {
        1
    };
    let decimals = digits.saturating_sub(whole_digits);
    let mut text = format!("{size:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", units[unit])
}

/// Durations as Docker's `HumanDuration` (`About an hour`, `3 days`).
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let minutes = s / 60;
    let hours = s / 3600;
    match s {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// `N units ago` for an RFC 3339 time, as Docker's CREATED column.
pub fn since(rfc3339: Option<&str>) -> String {
    let Some(created) = rfc3339.and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    }) else {
        return "N/A".into();
    };
    let elapsed = time::OffsetDateTime::now_utc() - created;
    format!("{} ago", human_duration(elapsed.whole_seconds()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_render_fields_json_and_tables() {
        let value = json!({"Id": "sha256:abc", "Config": {"Cmd": ["python3", "-V"], "Env": null}});
        let Format::Template { table, template } = Format::parse(Some(
            "{{.Id}}\\t{{.Config.Cmd}} {{json .Config.Cmd}} {{.Config.Env}}",
        ))
        .unwrap() else {
            panic!("a template")
        };
        assert!(!table);
        assert_eq!(
            template.render(&value).unwrap(),
            "sha256:abc\t[python3 -V] [\"python3\",\"-V\"] <nil>"
        );
        assert!(template.render(&json!({})).is_err());
        assert_eq!(Format::parse(Some("json")).unwrap(), Format::Json);
        assert!(matches!(
            Format::parse(Some("table {{.ID}}")).unwrap(),
            Format::Template { table: true, .. }
        ));
        assert!(Format::parse(Some("{{.ID")).is_err());
        assert!(Format::parse(Some("{{range .}}")).is_err());
        assert!(Format::parse(Some("{{frob .ID}}"))
            .unwrap_err()
            .contains("function \"frob\" not defined"));
    }

    #[test]
    fn sizes_and_durations_read_like_dockers() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(2_100_000), "2.1MB");
        assert_eq!(human_size(151_272_960), "151MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_binary_size(0), "0B");
        assert_eq!(human_binary_size(64 << 20), "64MiB");
        assert_eq!(human_binary_size(2_048_000), "1.953MiB");
        assert_eq!(human_binary_size(1536), "1.5KiB");
        assert_eq!(human_duration(30), "30 seconds");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(7200), "2 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
    }

    #[test]
    fn tables_align_columns() {
        let lines = table(&[
            vec!["A".into(), "B".into()],
            vec!["longer-than-ten".into(), "x".into()],
        ]);
        assert_eq!(lines, ["A                 B", "longer-than-ten   x"]);
    }
}
