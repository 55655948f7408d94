//! One request being answered: its route's values, its query read as Docker reads it, its
//! body decoded into Docker's types, and the connection for streamed replies.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backend::Backend;
use crate::error::ApiError;
use crate::http::{Connection, Request};

pub struct Call<'a> {
    pub backend: &'a dyn Backend,
    pub request: &'a mut Request,
    /// The values of the route's placeholders, in order.
    pub params: Vec<String>,
    pub connection: &'a mut Connection,
}

/// How a handler answered.
pub enum Reply {
    Json(u16, Value),
    /// 204 No Content (or 304 and others without a body).
    Empty(u16),
    Text(u16, &'static str),
    /// The handler wrote the whole reply itself (a stream).
    Written,
}

impl Call<'_> {
    pub fn param(&self, index: usize) -> &str {
        &self.params[index]
    }

    /// Whether the client speaks API `version` or newer: the version in the path, or this
    /// server's own without one.
    pub fn version_at_least(&self, version: (u32, u32)) -> bool {
        let asked = self
            .request
            .path
            .strip_prefix("/v")
            .and_then(|rest| rest.split('/').next())
            .and_then(crate::routes::parse_version);
        asked.is_none_or(|asked| asked >= version)
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        self.request
            .query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable key (`t=a&t=b`).
    pub fn query_all(&self, key: &str) -> Vec<&str> {
        self.request
            .query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A JSON object of strings (`buildargs`, `labels`); absent or empty is empty.
    pub fn json_map(&self, key: &str) -> Result<BTreeMap<String, String>, ApiError> {
        match self.query(key).filter(|t| !t.is_empty()) {
            None => Ok(BTreeMap::new()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| ApiError::BadRequest(format!("invalid {key} {text:?}: {e}"))),
        }
    }

    /// A boolean as Docker's `httputils.BoolValue` reads it: absent, empty, `0`, `no`,
    /// `false` and `none` are false; anything else is true.
    pub fn flag(&self, key: &str) -> bool {
        self.query(key).is_some_and(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "no" | "false" | "none"
            )
        })
    }

    /// As [`Call::flag`], with a default when the key is absent.
    pub fn flag_or(&self, key: &str, default: bool) -> bool {
        match self.query(key) {
            None => default,
            Some(_) => self.flag(key),
        }
    }

    /// An integer; an empty value is absent.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, ApiError> {
        match self.query(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::BadRequest(format!("invalid value for {key}: {text:?} is not a number"))
            }),
        }
    }

    /// The body as `T`; an empty body is refused.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.request.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadJson("the body is empty".into()));
        }
        serde_json::from_slice(&self.request.body).map_err(|e| ApiError::BadJson(e.to_string()))
    }

    /// `filters=`, in either of Docker's encodings: `{"label":["a=b"]}` or
    /// `{"label":{"a=b":true}}`.
    pub fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
        let Some(text) = self.query("filters").filter(|t| !t.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        let bad = |why: String| ApiError::BadRequest(format!("invalid filters {text:?}: {why}"));
        let parsed: BTreeMap<String, Value> =
            serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        parsed
            .into_iter()
            .map(|(key, values)| {
                let values = match values {
                    Value::Array(list) => list
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s),
                            other => Err(bad(format!("{key}: {other} is not a string"))),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    Value::Object(map) => map
                        .into_iter()
                        .filter(|(_, on)| on.as_bool().unwrap_or(false))
                        .map(|(k, _)| k)
                        .collect(),
                    other => return Err(bad(format!("{key}: {other} is not a list"))),
                };
                Ok((key, values))
            })
            .collect()
    }
}
