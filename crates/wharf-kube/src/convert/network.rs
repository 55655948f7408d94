//! Ports and networks. A service with `ports` or `expose` gets a ClusterIP Service named
//! after it, so that other services still reach it by its compose name. One without any
//! gets a headless Service without ports (`clusterIP: None`): compose lets any service
//! reach another by name on any port, and a headless Service's name resolves to its ready
//! pods' addresses, on any port, as kompose does too. Its published
//! ports get a second Service, `<service>-published`, of type LoadBalancer (or NodePort
//! with `--publish-type nodeport`: the cluster then picks the node port, 30000-32767,
//! since compose's host ports rarely fall in that range).
//!
//! Each compose network is a NetworkPolicy: pods carry `wharf.network/<network>: "true"`
//! for each network of their service, and a network's members take traffic from each
//! other (policies add up, so a pod on two networks hears both). An `internal` network's
//! members also send only to each other, plus DNS. Published ports take traffic from
//! anywhere, as Docker's do.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use wharf_compose::{Project, Service};

use super::context::Context;
use super::{metadata, Out, PublishType, Sources, NETWORK_LABEL_PREFIX, SERVICE_LABEL};
use crate::names::dns_label;

/// A container port and, when published, the host port compose gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ContainerPort {
    pub target: u32,
    pub protocol: String,
    pub published: Option<u32>,
}

/// `ports`, then `expose`, then the image's exposed ports, one entry per container port
/// and protocol.
pub(crate) fn service_ports(service: &Service, sources: &Sources) -> Vec<ContainerPort> {
    let mut ports: Vec<ContainerPort> = Vec::new();
    let mut push = |target: u32, protocol: &str, published: Option<u32>| {
        let protocol = if protocol.is_empty() {
            "TCP".to_owned()
        } else {
            protocol.to_ascii_uppercase()
        };
        let port = ContainerPort {
            target,
            protocol,
            published,
        };
        if let Some(known) = ports
            .iter_mut()
            .find(|p| p.target == port.target && p.protocol == port.protocol)
        {
            known.published = known.published.or(port.published);
        } else {
            ports.push(port);
        }
    };
    for port in &service.ports {
        // A host port range or an ephemeral one keeps the container's port.
        let published = port.published.parse().ok().or(Some(port.target));
        push(port.target, &port.protocol, published);
    }
    let image_ports = sources.image_ports.get(&service.name).into_iter().flatten();
    for expose in service.expose.iter().chain(image_ports) {
        let (range, protocol) = expose.split_once('/').unwrap_or((expose, ""));
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        if let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) {
            for target in first..=last.min(first + 1000) {
                push(target, protocol, None);
            }
        }
    }
    ports
}

fn port_name(port: u32, protocol: &str) -> String {
    format!("{}-{port}", protocol.to_ascii_lowercase())
}

/// The Services of one long-running compose service, and the policy that opens its
/// published ports.
pub(crate) fn services(context: &Context, out: &mut Out) {
    let ports = service_ports(context.service, context.sources);
    // Nothing connects to a one-shot job.
    if super::context::is_job(context) {
        return;
    }
    let name = context.name();
    let selector = json!({ SERVICE_LABEL: name });
    if ports.is_empty() {
        out.add(
            "Service",
            &name,
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": metadata(context.project, &name, Some(&context.service.name)),
                "spec": { "clusterIP": "None", "selector": selector },
            }),
        );
        return;
    }
    let cluster: Vec<Value> = ports
        .iter()
        .map(|p| json!({ "name": port_name(p.target, &p.protocol), "port": p.target, "targetPort": p.target, "protocol": p.protocol }))
        .collect();
    out.add(
        "Service",
        &name,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(context.project, &name, Some(&context.service.name)),
            "spec": { "selector": selector, "ports": cluster },
        }),
    );
    let published: Vec<&ContainerPort> = ports.iter().filter(|p| p.published.is_some()).collect();
    if published.is_empty() {
        return;
    }
    let public = format!("{name}-published");
    let kind = match context.options.publish {
        PublishType::LoadBalancer => "LoadBalancer",
        PublishType::NodePort => "NodePort",
    };
    let public_ports: Vec<Value> = published
        .iter()
        .map(|p| json!({ "name": port_name(p.published.unwrap_or(p.target), &p.protocol), "port": p.published, "targetPort": p.target, "protocol": p.protocol }))
        .collect();
    out.add(
        "Service",
        &public,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(context.project, &public, Some(&context.service.name)),
            "spec": { "type": kind, "selector": selector, "ports": public_ports },
        }),
    );
    let open: Vec<Value> = published
        .iter()
        .map(|p| json!({ "port": p.target, "protocol": p.protocol }))
        .collect();
    out.add(
        "NetworkPolicy",
        &public,
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(context.project, &public, Some(&context.service.name)),
            "spec": {
                "podSelector": { "matchLabels": selector },
                "policyTypes": ["Ingress"],
                "ingress": [{ "ports": open }],
            },
        }),
    );
}

/// The compose networks `service` is on.
pub(crate) fn service_networks(service: &Service) -> Vec<String> {
    service.networks.keys().cloned().collect()
}

/// The pod label of membership in `network`.
pub(crate) fn label(network: &str) -> String {
    format!("{NETWORK_LABEL_PREFIX}{}", dns_label(network))
}

/// One NetworkPolicy per network that a service is on.
pub(crate) fn policies(project: &Project, out: &mut Out) {
    let used: BTreeSet<String> = project
        .services
        .values()
        .flat_map(service_networks)
        .collect();
    for key in &used {
        let internal = project.networks.get(key).is_some_and(|n| n.internal);
        let members = json!({ "matchLabels": { label(key): "true" } });
        let name = format!("network-{}", dns_label(key));
        let mut spec = json!({
            "podSelector": members,
            "policyTypes": ["Ingress"],
            "ingress": [{ "from": [{ "podSelector": members }] }],
        });
        if internal {
            spec["policyTypes"] = json!(["Ingress", "Egress"]);
            spec["egress"] = json!([
                { "to": [{ "podSelector": members }] },
                { "ports": [{ "port": 53, "protocol": "UDP" }, { "port": 53, "protocol": "TCP" }] },
            ]);
        }
        out.add(
            "NetworkPolicy",
            &name,
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": metadata(project, &name, None),
                "spec": spec,
            }),
        );
    }
}
