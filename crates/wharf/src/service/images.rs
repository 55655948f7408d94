//! Image calls of the API over the engine: list, pull and push (with Docker's progress),
//! remove, save, load.

use std::sync::Mutex;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wharf_api::types::{Commit, ImageDeleted, ImageSummary, PullProgress};
use wharf_api::ApiError;
use wharf_engine::{BlobPushed, CommitOptions, Engine, LayerEvent, LayerProgress};
use wharf_oci::{Digest, Reference};

use super::api_error;

/// Docker's history rows: the top one has the image's id and tags, the others `<missing>`.
pub fn history(engine: &Engine, name: &str) -> Result<Vec<serde_json::Value>, ApiError> {
    let rows = engine.image_history(name).map_err(api_error)?;
    let tags: Vec<String> = engine
        .list_images()
        .map_err(api_error)?
        .into_iter()
        .find(|image| rows.first().and_then(|r| r.id.as_ref()) == Some(&image.id))
        .map(|image| image.tags.iter().map(Reference::familiar).collect())
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|row| {
            let top = row.id.is_some();
            serde_json::json!({
                "Id": row.id.map_or_else(|| "<missing>".to_string(), |id| id.to_string()),
                "Created": row
                    .created
                    .as_deref()
                    .and_then(|c| OffsetDateTime::parse(c, &Rfc3339).ok())
                    .map_or(0, OffsetDateTime::unix_timestamp),
                "CreatedBy": row.created_by,
                "Tags": if top { Some(&tags) } else { None },
                "Size": row.size,
                "Comment": row.comment,
            })
        })
        .collect())
}

/// `POST /commit`: the body's config read as Docker's `Config`.
pub fn commit(engine: &Engine, commit: Commit) -> Result<String, ApiError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| ApiError::BadRequest(format!("{what}: {e}"));
    let options = CommitOptions {
        reference: commit
            .reference
            .as_deref()
            .map(Reference::parse_normalized)
            .transpose()
            .map_err(|e| bad("invalid reference format", &e))?,
        changes: commit.changes,
        message: commit.comment,
        author: commit.author,
        pause: commit.pause,
        config: commit
            .config
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| bad("invalid config", &e))?,
    };
    let id = engine
        .commit_container(&commit.container, &options)
        .map_err(api_error)?;
    Ok(id.to_string())
}

pub fn list(engine: &Engine) -> Result<Vec<ImageSummary>, ApiError> {
    let images = engine.list_images().map_err(api_error)?;
    Ok(images
        .into_iter()
        .map(|image| ImageSummary {
            id: image.id.to_string(),
            parent_id: String::new(),
            repo_tags: image.tags.iter().map(Reference::familiar).collect(),
            repo_digests: image.repo_digests.iter().map(Reference::familiar).collect(),
            created: image
                .created
                .as_deref()
                .and_then(|c| OffsetDateTime::parse(c, &Rfc3339).ok())
                .map_or(0, OffsetDateTime::unix_timestamp),
            size: image.size,
            virtual_size: image.size,
            shared_size: -1,
            labels: Default::default(),
            containers: -1,
        })
        .collect())
}

/// Layer events come from the pull's threads; the API's callback is not `Sync`, so they
/// pass through a lock. The first event follows Docker's `Pulling from` line (sent then,
/// once the registry has answered, so that a missing image is a plain 404).
struct Relay<'a> {
    progress: Mutex<(Sink<'a>, Option<String>)>,
    /// Layers go up, not down: Docker's push words.
    pushing: bool,
}

type Sink<'a> = &'a mut (dyn FnMut(PullProgress) + Send);

impl LayerProgress for Relay<'_> {
    fn layer(&self, layer: &Digest, event: LayerEvent) {
        let id = layer.short().to_string();
        let (status, current, total) = match event {
            LayerEvent::AlreadyExists => ("Already exists", None, None),
            LayerEvent::Waiting => ("Waiting", None, None),
            LayerEvent::Moving { done, total } if self.pushing => {
                ("Pushing", Some(done), Some(total))
            }
            // A pushed layer's line comes from the report, which says how it went up.
            LayerEvent::Done if self.pushing => return,
            LayerEvent::Moving { done, total } => ("Downloading", Some(done), Some(total)),
            LayerEvent::Verifying => ("Verifying Checksum", None, None),
            LayerEvent::Downloaded => ("Download complete", None, None),
            LayerEvent::Extracting => ("Extracting", None, None),
            LayerEvent::Done => ("Pull complete", None, None),
        };
        let mut guard = self.progress.lock().expect("progress lock");
        let (progress, pulling_from) = &mut *guard;
        if let Some(line) = pulling_from.take() {
            progress(PullProgress::Status(line));
        }
        progress(PullProgress::Layer {
            id,
            status: status.into(),
            current,
            total,
        });
    }
}

pub fn pull(
    engine: &Engine,
    reference: &str,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<(), ApiError> {
    let parsed =
        Reference::parse_normalized(reference).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let wanted = parsed
        .tag()
        .map(str::to_string)
        .or_else(|| parsed.digest().map(ToString::to_string))
        .unwrap_or_else(|| "latest".into());
    let pulling_from = format!("{wanted}: Pulling from {}", parsed.path());
    let relay = Relay {
        progress: Mutex::new((progress, Some(pulling_from))),
        pushing: false,
    };
    let report = engine
        .pull(reference, None, &relay)
        .map_err(|error| match error {
            // Docker's words for an image the registry does not have.
            wharf_engine::EngineError::Registry(_) if error.to_string().contains("not found") => {
                ApiError::NoSuchImage(reference.to_string())
            }
            other => api_error(other),
        })?;
    let (progress, pulling_from) = relay.progress.into_inner().expect("progress lock");
    if let Some(line) = pulling_from {
        progress(PullProgress::Status(line));
    }
    progress(PullProgress::Status(format!("Digest: {}", report.digest)));
    let status = if report.up_to_date {
        "Image is up to date for"
    } else {
        "Downloaded newer image for"
    };
    progress(PullProgress::Status(format!(
        "Status: {status} {}",
        report.reference.familiar()
    )));
    Ok(())
}

pub fn remove(engine: &Engine, name: &str, force: bool) -> Result<Vec<ImageDeleted>, ApiError> {
    let removed = engine.remove_image(name, force).map_err(api_error)?;
    Ok(deleted(&removed.untagged, &removed.deleted))
}

/// Docker's lines of a removal: the tags that went, then the images and layers.
pub fn deleted(untagged: &[Reference], deleted: &[Digest]) -> Vec<ImageDeleted> {
    untagged
        .iter()
        .map(|tag| ImageDeleted::Untagged(tag.familiar()))
        .chain(
            deleted
                .iter()
                .map(|id| ImageDeleted::Deleted(id.to_string())),
        )
        .collect()
}

/// `docker push`'s lines: the repository, each layer as it went up, the digest.
pub fn push(
    engine: &Engine,
    reference: &str,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<(), ApiError> {
    let parsed =
        Reference::parse_normalized(reference).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let refers = format!("The push refers to repository [{}]", parsed.repository());
    let relay = Relay {
        progress: Mutex::new((progress, Some(refers))),
        pushing: true,
    };
    let report = engine.push(reference, &relay).map_err(api_error)?;
    let (progress, refers) = relay.progress.into_inner().expect("progress lock");
    if let Some(line) = refers {
        progress(PullProgress::Status(line));
    }
    for layer in &report.layers {
        let status = match layer.how {
            BlobPushed::Existed => "Layer already exists".to_string(),
            BlobPushed::Mounted => match &layer.mounted_from {
                Some(from) => format!("Mounted from {}", from.path()),
                None => "Mounted from another repository".to_string(),
            },
            BlobPushed::Uploaded => "Pushed".to_string(),
        };
        progress(PullProgress::Layer {
            id: layer.digest.short().to_string(),
            status,
            current: None,
            total: None,
        });
    }
    progress(PullProgress::Status(format!(
        "{}: digest: {}",
        report.reference.tag().unwrap_or("latest"),
        report.digest
    )));
    Ok(())
}

/// What `docker load` prints per image: its tags, or its id when it has none.
pub fn load(engine: &Engine, archive: &[u8]) -> Result<Vec<String>, ApiError> {
    let report = engine
        .load(archive, "the request body")
        .map_err(api_error)?;
    Ok(report
        .images
        .iter()
        .flat_map(|image| match image.tags.is_empty() {
            true => vec![format!("Loaded image ID: {}", image.id)],
            false => image
                .tags
                .iter()
                .map(|tag| format!("Loaded image: {}", tag.familiar()))
                .collect(),
        })
        .collect())
}
