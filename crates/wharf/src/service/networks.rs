//! Network calls of the API over the engine.

use serde_json::Value;
use wharf_api::types::{NetworkConnect, NetworkCreate};
use wharf_api::ApiError;
use wharf_engine::{ConnectOptions, Engine, EngineError, NetworkCreateOptions};

use super::api_error;

pub fn create_network(engine: &Engine, body: NetworkCreate) -> Result<String, ApiError> {
    if body.enable_ipv6.unwrap_or(false) {
        return Err(ApiError::BadRequest(
            "EnableIPv6: IPv6 networks are not supported yet".into(),
        ));
    }
    let pools = body.ipam.and_then(|i| i.config).unwrap_or_default();
    if pools.len() > 1 {
        return Err(ApiError::BadRequest(
            "IPAM.Config: one IPv4 pool at most is supported".into(),
        ));
    }
    let pool = pools.into_iter().next().unwrap_or_default();
    engine
        .create_network(&NetworkCreateOptions {
            name: body.name.unwrap_or_default(),
            driver: body.driver.filter(|d| !d.is_empty()),
            subnet: pool.subnet.filter(|s| !s.is_empty()),
            gateway: pool.gateway.filter(|g| !g.is_empty()),
            internal: body.internal.unwrap_or(false),
            labels: body.labels.unwrap_or_default(),
        })
        .map_err(network_error)
}

/// Docker's statuses for what the network layer refuses.
pub fn network_error(error: EngineError) -> ApiError {
    match &error {
        EngineError::Network(net) => match **net {
            wharf_net::NetError::NotFound(_) => {
                ApiError::NotFound(wharf_engine::error_chain(&error))
            }
            wharf_net::NetError::NameExists(_) => {
                ApiError::Conflict(wharf_engine::error_chain(&error))
            }
            _ => ApiError::BadRequest(wharf_engine::error_chain(&error)),
        },
        EngineError::PredefinedNetwork(_) => ApiError::Forbidden(wharf_engine::error_chain(&error)),
        _ => api_error(error),
    }
}

pub fn list_networks(engine: &Engine) -> Result<Vec<Value>, ApiError> {
    let networks = engine.list_networks().map_err(network_error)?;
    networks
        .iter()
        .map(|n| engine.inspect_network(&n.id).map_err(network_error))
        .collect()
}

pub fn connect(engine: &Engine, network: &str, body: NetworkConnect) -> Result<(), ApiError> {
    let endpoint = body.endpoint_config.unwrap_or_default();
    let options = ConnectOptions {
        aliases: endpoint.aliases.unwrap_or_default(),
        ip: endpoint
            .ipam_config
            .and_then(|i| i.ipv4_address)
            .filter(|ip| !ip.is_empty()),
    };
    engine
        .connect_network(network, &body.container.unwrap_or_default(), &options)
        .map_err(network_error)
}
