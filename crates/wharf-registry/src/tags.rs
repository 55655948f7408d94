//! `GET /v2/<name>/tags/list`, following the `Link: <...>; rel="next"` header page by page.

use ureq::http::Method;
use wharf_oci::Reference;

use crate::auth::repository_scope;
use crate::client::{Client, Target};
use crate::error::{RegistryError, Result};
use crate::transport::{transport_error, Request};

/// Tags asked for per page; registries may send fewer and link to the next page.
pub const TAGS_PAGE_SIZE: usize = 1000;
/// A page of tags is small JSON; anything bigger is not a tag list.
const MAX_PAGE_SIZE: u64 = 4 * 1024 * 1024;

impl Client {
    /// Every tag of `repository` (its domain and path), in the registry's order.
    pub fn list_tags(&self, repository: &Reference) -> Result<Vec<String>> {
        self.list_tags_in_pages(repository, TAGS_PAGE_SIZE)
    }

    /// [`Self::list_tags`] asking for `page_size` tags per request.
    pub fn list_tags_in_pages(
        &self,
        repository: &Reference,
        page_size: usize,
    ) -> Result<Vec<String>> {
        self.on_pull_endpoints(repository.domain(), |endpoint| {
            let target = Target {
                endpoint,
                repository: repository.path(),
            };
            let scopes = [repository_scope(repository.path(), "pull")];
            let mut url = target.url(&format!("tags/list?n={page_size}"));
            let mut tags = Vec::new();
            loop {
                let response = self.send(&target, &scopes, &Request::new(Method::GET, url))?;
                if !response.status().is_success() {
                    return Err(target.error_from(response, "list tags", None));
                }
                let next = response
                    .headers()
                    .get("Link")
                    .and_then(|v| v.to_str().ok())
                    .and_then(next_link)
                    .map(|link| absolute(&endpoint.base, link));
                #[derive(serde::Deserialize)]
                struct Page {
                    #[serde(default)]
                    tags: Option<Vec<String>>,
                }
                let bytes = response
                    .into_body()
                    .with_config()
                    .limit(MAX_PAGE_SIZE)
                    .read_to_vec()
                    .map_err(|e| transport_error(&endpoint.host.authority, e))?;
                let page: Page =
                    serde_json::from_slice(&bytes).map_err(|e| RegistryError::BadTagList {
                        registry: target.registry(),
                        repository: repository.path().to_string(),
                        message: e.to_string(),
                    })?;
                tags.extend(page.tags.unwrap_or_default());
                match next {
                    Some(link) => url = link,
                    None => return Ok(tags),
                }
            }
        })
    }
}

/// The target of the `rel="next"` link in a `Link` header value.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), r#"rel="next""# | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then_some(target)
    })
}

/// Links are usually relative to the registry (`/v2/...`).
fn absolute(base: &str, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        link.to_string()
    } else {
        format!("{base}/{}", link.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        assert_eq!(
            next_link(r#"</v2/app/tags/list?last=b&n=2>; rel="next""#),
            Some("/v2/app/tags/list?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/a>; rel="prev", <https://x/b>; rel="next""#),
            Some("https://x/b")
        );
        assert_eq!(next_link(r#"</v2/app/tags/list>; rel="prev""#), None);
        assert_eq!(
            absolute("http://127.0.0.1:5000", "/v2/a/tags/list?n=2"),
            "http://127.0.0.1:5000/v2/a/tags/list?n=2"
        );
    }
}
