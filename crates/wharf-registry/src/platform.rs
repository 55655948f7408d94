//! `os/arch[/variant]` platforms and picking one manifest out of an index, with the
//! normalization containerd applies (`x86_64` is `amd64`, `arm64/v8` is `arm64`).

use std::fmt;
use std::str::FromStr;

use crate::error::RegistryError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// This host: linux on the architecture wharf was built for.
    pub fn host() -> Self {
        Self::new("linux", wharf_oci::config::host_architecture(), None)
    }

    /// A normalized platform.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let os = os.to_ascii_lowercase();
        let architecture = architecture.to_ascii_lowercase();
        let variant = variant.map(str::to_ascii_lowercase);
        let (architecture, variant) = match (architecture.as_str(), variant.as_deref()) {
            ("x86_64" | "x86-64", _) => ("amd64", None),
            ("aarch64" | "arm64", Some("v8") | None) => ("arm64", None),
            ("aarch64", Some(v)) => ("arm64", Some(v)),
            ("armhf", _) => ("arm", Some("v7")),
            ("armel", _) => ("arm", Some("v6")),
            ("i386" | "i686", _) => ("386", None),
            (arch, v) => (arch, v),
        };
        Self {
            os,
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// True when an index entry for `candidate` can run here: same os and architecture, and
    /// the same variant when one was asked for.
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.architecture == candidate.architecture
            && (self.variant.is_none() || self.variant == candidate.variant)
    }
}

impl FromStr for Platform {
    type Err = RegistryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(RegistryError::InvalidPlatform(text.to_string()));
        }
        match parts[..] {
            [os, arch] => Ok(Self::new(os, arch, None)),
            [os, arch, variant] => Ok(Self::new(os, arch, Some(variant))),
            _ => Err(RegistryError::InvalidPlatform(text.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl From<&wharf_oci::spec::Platform> for Platform {
    fn from(p: &wharf_oci::spec::Platform) -> Self {
        Self::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        )
    }
}

/// The first entry of `index` that runs on `wanted`. Entries without a platform are not
/// images (attestations, signatures) and never match.
pub(crate) fn select<'a>(
    index: &'a wharf_oci::spec::ImageIndex,
    wanted: &Platform,
) -> Result<&'a wharf_oci::spec::Descriptor, Vec<String>> {
    index
        .manifests()
        .iter()
        .find(|entry| {
            entry
                .platform()
                .as_ref()
                .is_some_and(|p| wanted.matches(&p.into()))
        })
        .ok_or_else(|| {
            index
                .manifests()
                .iter()
                .filter_map(|entry| entry.platform().as_ref())
                .map(|p| Platform::from(p).to_string())
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes() {
        let p: Platform = "linux/x86_64".parse().unwrap();
        assert_eq!(p, Platform::new("linux", "amd64", None));
        assert_eq!(p.to_string(), "linux/amd64");
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        let p: Platform = "Linux/ARM/v7".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        for bad in ["linux", "linux/", "/amd64", "linux/arm/v7/x", ""] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    fn index() -> wharf_oci::spec::ImageIndex {
        let entry = |digit: char, platform: serde_json::Value| {
            serde_json::json!({
                "mediaType": wharf_oci::media_type::OCI_MANIFEST,
                "digest": format!("sha256:{}", digit.to_string().repeat(64)),
                "size": 100,
                "platform": platform,
            })
        };
        serde_json::from_value(serde_json::json!({
            "schemaVersion": 2,
            "mediaType": wharf_oci::media_type::OCI_INDEX,
            "manifests": [
                entry('1', serde_json::json!({"os": "linux", "architecture": "amd64"})),
                entry('2', serde_json::json!({"os": "linux", "architecture": "arm", "variant": "v6"})),
                entry('3', serde_json::json!({"os": "linux", "architecture": "arm", "variant": "v7"})),
                entry('4', serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"})),
                entry('5', serde_json::json!({"os": "unknown", "architecture": "unknown"})),
            ],
        }))
        .unwrap()
    }

    fn picked(wanted: &str) -> Result<char, Vec<String>> {
        let index = index();
        select(&index, &wanted.parse().unwrap())
            .map(|d| d.digest().to_string().chars().last().unwrap())
    }

    #[test]
    fn picks_by_os_arch_and_variant() {
        assert_eq!(picked("linux/amd64"), Ok('1'));
        assert_eq!(picked("linux/arm/v7"), Ok('3'));
        assert_eq!(picked("linux/arm"), Ok('2'));
        assert_eq!(picked("linux/arm64"), Ok('4'));
        assert_eq!(picked("linux/aarch64/v8"), Ok('4'));
        assert_eq!(
            picked("linux/s390x").unwrap_err(),
            [
                "linux/amd64",
                "linux/arm/v6",
                "linux/arm/v7",
                "linux/arm64",
                "unknown/unknown"
            ]
        );
    }

    #[test]
    fn host_platform_is_linux() {
        assert_eq!(Platform::host().os, "linux");
        assert!(Platform::host().matches(&Platform::host()));
    }
}
