//! What a request can fail with, and the HTTP status Docker answers each with.

/// An error answered as Docker's `{"message": ...}` with [`ApiError::status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// docker-py and the docker CLI pull when they read this (status 404 with this wording).
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    #[error("{0}")]
    NotFound(String),
    #[error("page not found")]
    UnknownEndpoint,
    #[error("{0}")]
    BadRequest(String),
    /// Malformed or mistyped JSON; names the body and serde's position.
    #[error("invalid JSON in the request body: {0}")]
    BadJson(String),
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The container is in a state that forbids the call (running for rm, not running for exec).
    #[error("{0}")]
    Conflict(String),
    /// The registry refused the credentials (`POST /auth`).
    #[error("{0}")]
    Unauthorized(String),
    /// A pre-defined network cannot be removed (Docker's 403).
    #[error("{0}")]
    Forbidden(String),
    /// Start of a running container, stop of a stopped one: Docker's 304, no body.
    #[error("not modified")]
    NotModified,
    #[error("{0} is not supported by wharf")]
    NotImplemented(String),
    /// Swarm endpoints, as a Docker engine that is not a swarm node answers them.
    #[error("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.")]
    NoSwarm,
    #[error("{0}")]
    Engine(String),
}

impl ApiError {
    /// The one place statuses are chosen.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoSuchImage(_)
            | Self::NoSuchContainer(_)
            | Self::NoSuchExec(_)
            | Self::NotFound(_)
            | Self::UnknownEndpoint => 404,
            Self::BadRequest(_) | Self::BadJson(_) => 400,
            Self::BodyTooLarge { .. } => 413,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::Conflict(_) => 409,
            Self::NotModified => 304,
            Self::NotImplemented(_) => 501,
            Self::NoSwarm => 503,
            Self::Engine(_) => 500,
        }
    }

    /// The reply body, `{"message": "..."}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "message": self.to_string() })
    }
}
