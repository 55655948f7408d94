//! Kubernetes object names from compose names: RFC 1123 labels (lowercase letters, digits
//! and `-`, at most 63 characters), since Services become DNS names.

/// `name` as a DNS label, or `None` when it is one already.
pub fn renamed(name: &str) -> Option<String> {
    let label = dns_label(name);
    (label != name).then_some(label)
}

/// `name` as a DNS label: lowercase, `_` and `.` become `-`, other characters go.
pub fn dns_label(name: &str) -> String {
    let mapped: String = name
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '_' | '.' => Some('-'),
            _ => None,
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    let cut = &trimmed[..trimmed.len().min(63)];
    cut.trim_end_matches('-').to_owned()
}

/// A label for a mount path (`/etc/nginx/conf.d/x.conf` → `etc-nginx-conf-d-x-conf`).
pub fn path_label(path: &str) -> String {
    dns_label(&path.replace('/', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_names_become_dns_labels() {
        assert_eq!(renamed("web"), None);
        assert_eq!(renamed("my_db").as_deref(), Some("my-db"));
        assert_eq!(dns_label("Web.Front_1"), "web-front-1");
        assert_eq!(
            path_label("/etc/nginx/conf.d/default.conf"),
            "etc-nginx-conf-d-default-conf"
        );
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
    }
}
