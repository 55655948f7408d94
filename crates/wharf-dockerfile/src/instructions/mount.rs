//! `RUN --mount=type=cache,target=/root/.cache,...`, read like BuildKit's `parseMount`: the
//! value is one CSV record of `key=value` fields (and bare `ro`, `rw`, `required`).
//!
//! Values are taken literally. String options may hold `$VAR` references for the build to
//! expand; numeric options (`mode`, `uid`, `gid`, `size`) must be literal numbers.

use crate::go_compat;

/// The kind of a RUN mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    /// A read-only view of the build context or of another stage (the default).
    Bind,
    /// A persistent cache directory.
    Cache,
    /// An empty in-memory filesystem.
    Tmpfs,
    /// A build secret, as a file or an environment variable.
    Secret,
    /// The SSH agent socket.
    Ssh,
}

impl MountType {
    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "bind" => Some(Self::Bind),
            "cache" => Some(Self::Cache),
            "tmpfs" => Some(Self::Tmpfs),
            "secret" => Some(Self::Secret),
            "ssh" => Some(Self::Ssh),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Cache => "cache",
            Self::Tmpfs => "tmpfs",
            Self::Secret => "secret",
            Self::Ssh => "ssh",
        }
    }

    fn carries_secrets(self) -> bool {
        matches!(self, Self::Secret | Self::Ssh)
    }
}

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

impl CacheSharing {
    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "shared" => Some(Self::Shared),
            "private" => Some(Self::Private),
            "locked" => Some(Self::Locked),
            _ => None,
        }
    }
}

/// One `--mount` of a RUN instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountType,
    /// Where the mount appears in the container.
    pub target: Option<String>,
    /// The path inside `from` (or the context), or the secret's source.
    pub source: Option<String>,
    /// The stage or image to mount from.
    pub from: Option<String>,
    /// Read-only unless given otherwise; caches and tmpfs default to read-write.
    pub read_only: bool,
    /// For secrets and SSH: fail when it is not provided.
    pub required: bool,
    /// For tmpfs: the size limit in bytes.
    pub size_limit: Option<i64>,
    /// The cache or secret id.
    pub id: Option<String>,
    /// For caches.
    pub sharing: Option<CacheSharing>,
    /// File mode (octal), for caches, secrets and SSH.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// For secrets: the environment variable to expose it as.
    pub env: Option<String>,
}

/// Why a `--mount` value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error("cannot read `{spec}` as comma-separated fields: {reason}")]
    Csv { spec: String, reason: &'static str },
    #[error("unsupported mount type `{0}`")]
    UnknownType(String),
    #[error("invalid field `{0}`: it must be a key=value pair")]
    NotKeyValue(String),
    #[error("unexpected key `{key}` in `{field}`")]
    UnknownKey { key: String, field: String },
    #[error("unexpected key `{key}` for mount type `{kind}`")]
    KeyNotForType { key: String, kind: &'static str },
    #[error("invalid value `{value}` for `{key}`")]
    InvalidValue { key: String, value: String },
    #[error("`from` doesn't support variable expansion, define alias stage instead")]
    FromVariable,
    #[error("unsupported sharing value `{0}`")]
    UnknownSharing(String),
    #[error("{option} not allowed for `{kind}` mounts")]
    FileInfoNotAllowed {
        option: &'static str,
        kind: &'static str,
    },
    #[error("secret mount should not have a from")]
    SecretFrom,
    #[error("secret mount should not define sharing")]
    SecretSharing,
    #[error("invalid secret mount: one of source, target, id or env is required")]
    SecretWithoutTarget,
    #[error("both source and id can't be set on a secret mount")]
    SecretSourceAndId,
    #[error("invalid cache sharing set for `{0}` mount")]
    SharingNotCache(&'static str),
}

impl MountError {
    pub(crate) fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::UnknownType(_) => "mount types are bind, cache, tmpfs, secret and ssh",
            Self::UnknownKey { .. } => {
                "mount keys are type, from, source, target, readonly, id, sharing, required, mode, uid, gid, size and env"
            }
            Self::UnknownSharing(_) => "use shared, private or locked",
            Self::FromVariable => "add a stage `FROM ${VAR} AS alias` and mount `from=alias`",
            _ => return None,
        };
        Some(hint.to_owned())
    }
}

impl Mount {
    /// Parses a `--mount` value.
    pub fn parse(spec: &str) -> Result<Self, MountError> {
        let mut mount = Mount {
            kind: MountType::Bind,
            target: None,
            source: None,
            from: None,
            read_only: false,
            required: false,
            size_limit: None,
            id: None,
            sharing: None,
            mode: None,
            uid: None,
            gid: None,
            env: None,
        };
        let mut read_only_given = false;
        for field in csv_fields(spec)? {
            let Some((key, value)) = field.split_once('=') else {
                match field.to_ascii_lowercase().as_str() {
                    "readonly" | "ro" => {
                        mount.read_only = true;
                        read_only_given = true;
                    }
                    "readwrite" | "rw" => {
                        mount.read_only = false;
                        read_only_given = true;
                    }
                    "required" if mount.kind.carries_secrets() => mount.required = true,
                    "required" => return Err(mount.key_not_for_type("required")),
                    _ => return Err(MountError::NotKeyValue(field)),
                }
                continue;
            };
            let key = key.to_ascii_lowercase();
            let invalid = || MountError::InvalidValue {
                key: key.clone(),
                value: value.to_owned(),
            };
            match key.as_str() {
                "type" => {
                    mount.kind = MountType::parse(value)
                        .ok_or_else(|| MountError::UnknownType(value.to_owned()))?;
                }
                "from" => {
                    // BuildKit's `\$.`: a `$` followed by anything.
                    if value.find('$').is_some_and(|at| at + 1 < value.len()) {
                        return Err(MountError::FromVariable);
                    }
                    mount.from = Some(value.to_owned());
                }
                "source" | "src" => mount.source = Some(value.to_owned()),
                "target" | "dst" | "destination" => mount.target = Some(value.to_owned()),
                "readonly" | "ro" => {
                    mount.read_only = go_compat::parse_bool(value).ok_or_else(invalid)?;
                    read_only_given = true;
                }
                "readwrite" | "rw" => {
                    mount.read_only = !go_compat::parse_bool(value).ok_or_else(invalid)?;
                    read_only_given = true;
                }
                "required" if mount.kind.carries_secrets() => {
                    mount.required = go_compat::parse_bool(value).ok_or_else(invalid)?;
                }
                "size" if mount.kind == MountType::Tmpfs => {
                    mount.size_limit = Some(go_compat::ram_in_bytes(value).ok_or_else(invalid)?);
                }
                "env" if mount.kind == MountType::Secret => mount.env = Some(value.to_owned()),
                "required" | "size" | "env" => return Err(mount.key_not_for_type(&key)),
                "id" => mount.id = Some(value.to_owned()),
                "sharing" => {
                    mount.sharing = Some(
                        CacheSharing::parse(value)
                            .ok_or_else(|| MountError::UnknownSharing(value.to_owned()))?,
                    );
                }
                "mode" => mount.mode = Some(u32::from_str_radix(value, 8).map_err(|_| invalid())?),
                "uid" => mount.uid = Some(value.parse().map_err(|_| invalid())?),
                "gid" => mount.gid = Some(value.parse().map_err(|_| invalid())?),
                _ => {
                    return Err(MountError::UnknownKey {
                        key,
                        field: field.clone(),
                    })
                }
            }
        }
        if !read_only_given {
            mount.read_only = !matches!(mount.kind, MountType::Cache | MountType::Tmpfs);
        }
        mount.validate()?;
        Ok(mount)
    }

    fn key_not_for_type(&self, key: &str) -> MountError {
        MountError::KeyNotForType {
            key: key.to_owned(),
            kind: self.kind.as_str(),
        }
    }

    fn validate(&self) -> Result<(), MountError> {
        let kind = self.kind.as_str();
        if !matches!(
            self.kind,
            MountType::Secret | MountType::Ssh | MountType::Cache
        ) {
            for (option, given) in [
                ("mode", self.mode.is_some()),
                ("uid", self.uid.is_some()),
                ("gid", self.gid.is_some()),
            ] {
                if given {
                    return Err(MountError::FileInfoNotAllowed { option, kind });
                }
            }
        }
        if self.kind == MountType::Secret {
            if self.from.is_some() {
                return Err(MountError::SecretFrom);
            }
            if self.sharing.is_some() {
                return Err(MountError::SecretSharing);
            }
            if self.source.is_none()
                && self.target.is_none()
                && self.id.is_none()
                && self.env.is_none()
            {
                return Err(MountError::SecretWithoutTarget);
            }
            if self.source.is_some() && self.id.is_some() {
                return Err(MountError::SecretSourceAndId);
            }
        }
        if self.sharing.is_some() && self.kind != MountType::Cache {
            return Err(MountError::SharingNotCache(kind));
        }
        Ok(())
    }
}

/// The fields of one CSV record, as Go's `encoding/csv` reads them: `"` quotes a whole field
/// and `""` inside it is one quote; a quote inside an unquoted field is an error.
fn csv_fields(spec: &str) -> Result<Vec<String>, MountError> {
    let error = |reason| MountError::Csv {
        spec: spec.to_owned(),
        reason,
    };
    if spec.is_empty() {
        return Err(error("the value is empty"));
    }
    let mut fields = Vec::new();
    let mut chars = spec.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(error("a quoted field is not closed")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => field.push(ch),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err(error("text follows the closing quote of a field"));
            }
        } else {
            while let Some(&ch) = chars.peek() {
                match ch {
                    ',' => break,
                    '"' => return Err(error("a quote appears inside an unquoted field")),
                    _ => field.push(ch),
                }
                chars.next();
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_mount() {
        let mount =
            Mount::parse("type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1000")
                .unwrap();
        assert_eq!(mount.kind, MountType::Cache);
        assert_eq!(mount.target.as_deref(), Some("/root/.cache"));
        assert_eq!(mount.id.as_deref(), Some("pip"));
        assert_eq!(mount.sharing, Some(CacheSharing::Locked));
        assert_eq!(mount.mode, Some(0o755));
        assert_eq!(mount.uid, Some(1000));
        assert!(!mount.read_only);
    }

    #[test]
    fn bind_mount_defaults_to_read_only() {
        let mount = Mount::parse("target=/src,from=build,source=/out").unwrap();
        assert_eq!(mount.kind, MountType::Bind);
        assert_eq!(mount.from.as_deref(), Some("build"));
        assert!(mount.read_only);
        assert!(!Mount::parse("type=bind,target=/src,rw").unwrap().read_only);
        assert!(
            !Mount::parse("type=bind,target=/src,readwrite=true")
                .unwrap()
                .read_only
        );
    }

    #[test]
    fn secret_tmpfs_and_ssh() {
        let secret = Mount::parse("type=secret,id=token,env=TOKEN,required").unwrap();
        assert_eq!(secret.env.as_deref(), Some("TOKEN"));
        assert!(secret.required);
        assert!(secret.read_only);
        let tmpfs = Mount::parse("type=tmpfs,target=/tmp,size=64m").unwrap();
        assert_eq!(tmpfs.size_limit, Some(64 << 20));
        assert!(!tmpfs.read_only);
        let ssh = Mount::parse("type=ssh,required=true").unwrap();
        assert!(ssh.required);
    }

    #[test]
    fn quoted_csv_fields() {
        let mount = Mount::parse(r#"type=bind,"target=/a,b","source=say ""hi""""#).unwrap();
        assert_eq!(mount.target.as_deref(), Some("/a,b"));
        assert_eq!(mount.source.as_deref(), Some(r#"say "hi""#));
    }

    #[test]
    fn errors() {
        let message = |spec: &str| Mount::parse(spec).unwrap_err().to_string();
        assert_eq!(message("type=volume"), "unsupported mount type `volume`");
        assert_eq!(
            message("type=cache,target"),
            "invalid field `target`: it must be a key=value pair"
        );
        assert_eq!(
            message("type=cache,targte=/x"),
            "unexpected key `targte` in `targte=/x`"
        );
        assert_eq!(
            message("required,type=secret,id=a"),
            "unexpected key `required` for mount type `bind`"
        );
        assert_eq!(
            message("type=cache,size=1m"),
            "unexpected key `size` for mount type `cache`"
        );
        assert_eq!(message("type=cache,mode=9"), "invalid value `9` for `mode`");
        assert_eq!(
            message("type=bind,uid=1"),
            "uid not allowed for `bind` mounts"
        );
        assert_eq!(
            message("type=cache,sharing=all"),
            "unsupported sharing value `all`"
        );
        assert_eq!(
            message("type=tmpfs,sharing=shared"),
            "invalid cache sharing set for `tmpfs` mount"
        );
        assert_eq!(
            message("type=secret"),
            "invalid secret mount: one of source, target, id or env is required"
        );
        assert_eq!(
            message("type=secret,id=a,from=b"),
            "secret mount should not have a from"
        );
        assert_eq!(
            message("type=secret,id=a,source=b"),
            "both source and id can't be set on a secret mount"
        );
        assert_eq!(
            message("from=$STAGE"),
            "`from` doesn't support variable expansion, define alias stage instead"
        );
        assert_eq!(
            message(""),
            "cannot read `` as comma-separated fields: the value is empty"
        );
        assert_eq!(message("a\"b"), "cannot read `a\"b` as comma-separated fields: a quote appears inside an unquoted field");
    }
}
