//! Finds the line of a key path (`services.web.ports`) in compose YAML text by its
//! indentation, enough for block-style files; flow-style keys fall back to their parent.

/// The compose file's text, for lines.
pub struct Locator<'a> {
    lines: Vec<&'a str>,
    /// Meant for production: not an override or development file.
    pub production: bool,
}

impl<'a> Locator<'a> {
    pub fn new(source: &'a str, production: bool) -> Self {
        Self {
            lines: source.lines().collect(),
            production,
        }
    }

    /// The line (from 1) of the deepest key of `path` that is found, or 1.
    pub fn line(&self, path: &[&str]) -> usize {
        self.walk(path).1.map_or(1, |(line, _)| line + 1)
    }

    /// How many keys of `path` were found, and the index and text of the deepest one's line.
    fn walk(&self, path: &[&str]) -> (usize, Option<(usize, &'a str)>) {
        let mut start = 0;
        let mut parent_indent: Option<usize> = None;
        let mut found = None;
        for (depth, key) in path.iter().enumerate() {
            let mut hit = None;
            for index in start..self.lines.len() {
                let line = self.lines[index];
                let text = line.trim_start();
                if text.is_empty() || text.starts_with('#') {
                    continue;
                }
                let indent = line.len() - text.len();
                if parent_indent.is_some_and(|parent| indent <= parent) {
                    break;
                }
                let unquoted = text.trim_start_matches(['"', '\'']);
                if unquoted.starts_with(key)
                    && unquoted[key.len()..]
                        .trim_start_matches(['"', '\''])
                        .starts_with(':')
                {
                    hit = Some((index, indent));
                    break;
                }
            }
            let Some((index, indent)) = hit else {
                return (depth, found);
            };
            found = Some((index, self.lines[index]));
            parent_indent = Some(indent);
            start = index + 1;
        }
        (path.len(), found)
    }

    /// The raw text of the block under `path` (its lines after the key line, while they
    /// are indented deeper), for checks on values as written before interpolation.
    pub fn block(&self, path: &[&str]) -> Vec<(usize, &'a str)> {
        let (depth, Some((index, key_line))) = self.walk(path) else {
            return Vec::new();
        };
        if depth < path.len() {
            return Vec::new();
        }
        let indent = key_line.len() - key_line.trim_start().len();
        let mut block = vec![(index + 1, key_line)];
        for (offset, line) in self.lines[index + 1..].iter().enumerate() {
            let text = line.trim_start();
            if !text.is_empty() && line.len() - text.len() <= indent && !text.starts_with('#') {
                break;
            }
            block.push((index + offset + 2, *line));
        }
        block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys() {
        let yaml = "services:\n  db:\n    image: postgres\n  web:\n    image: app\n    ports:\n      - 80:80\n";
        let locator = Locator::new(yaml, true);
        assert_eq!(locator.line(&["services", "web", "ports"]), 6);
        assert_eq!(locator.line(&["services", "db", "image"]), 3);
        assert_eq!(locator.line(&["services", "web", "restart"]), 4);
        assert_eq!(locator.block(&["services", "web", "ports"]).len(), 2);
    }
}
