//! One test per merge rule: a base file, an override file, and the expected merge.

use std::sync::Arc;

use super::merge;
use crate::reset::{apply_tags, take_tags};
use crate::unicity::enforce_unicity;
use crate::yaml::parse_documents;

/// Merges `over` into `base` as two `-f` files are merged, and compares with `expected`
/// (all three YAML).
fn check(base: &str, over: &str, expected: &str) {
    let parse = |text: &str, name: &str| parse_documents(text, &Arc::from(name)).unwrap().remove(0);
    let mut base = parse(base, "base.yaml");
    let mut over = parse(over, "override.yaml");
    let tags = take_tags(&mut over);
    apply_tags(&mut base, &tags);
    let mut merged = merge(base, over).unwrap();
    enforce_unicity(&mut merged).unwrap();
    let expected = parse(expected, "expected.yaml");
    assert_eq!(merged.to_json(), expected.to_json());
}

#[test]
fn maps_merge_by_key_and_scalars_are_replaced() {
    check(
        "services:\n  web:\n    image: a\n    user: root\n",
        "services:\n  web:\n    image: b\n    working_dir: /app\n",
        "services:\n  web:\n    image: b\n    user: root\n    working_dir: /app\n",
    );
}

#[test]
fn environment_merges_by_variable() {
    check(
        "services:\n  web:\n    environment:\n      A: 1\n      B: 2\n",
        "services:\n  web:\n    environment: [B=3, C=4]\n",
        "services:\n  web:\n    environment: [A=1, B=3, C=4]\n",
    );
}

#[test]
fn labels_merge_by_key() {
    check(
        "services:\n  web:\n    labels: [a=1, b=2]\n",
        "services:\n  web:\n    labels:\n      b: 3\n",
        "services:\n  web:\n    labels: [a=1, b=3]\n",
    );
}

#[test]
fn ports_are_unique_by_mapping() {
    check(
        "services:\n  web:\n    ports: ['80:80', '443:443']\n",
        "services:\n  web:\n    ports: ['80:80', '8080:8080']\n",
        "services:\n  web:\n    ports: ['80:80', '443:443', '8080:8080']\n",
    );
}

#[test]
fn volumes_are_unique_by_target() {
    check(
        "services:\n  web:\n    volumes: ['./a:/data', 'cache:/cache']\n",
        "services:\n  web:\n    volumes: ['./b:/data']\n",
        "services:\n  web:\n    volumes: ['./b:/data', 'cache:/cache']\n",
    );
}

#[test]
fn command_and_entrypoint_are_replaced() {
    check(
        "services:\n  web:\n    command: [a, b]\n    entrypoint: [x]\n",
        "services:\n  web:\n    command: [c]\n",
        "services:\n  web:\n    command: [c]\n    entrypoint: [x]\n",
    );
}

#[test]
fn dns_is_appended_without_repeats() {
    check(
        "services:\n  web:\n    dns: [1.1.1.1]\n",
        "services:\n  web:\n    dns: 8.8.8.8\n",
        "services:\n  web:\n    dns: [1.1.1.1, 8.8.8.8]\n",
    );
}

#[test]
fn depends_on_lists_become_conditions() {
    check(
        "services:\n  web:\n    depends_on: [db]\n",
        "services:\n  web:\n    depends_on:\n      cache:\n        condition: service_healthy\n",
        "services:\n  web:\n    depends_on:\n      db: {condition: service_started, required: true}\n      cache: {condition: service_healthy}\n",
    );
}

#[test]
fn networks_list_and_map_merge() {
    check(
        "services:\n  web:\n    networks: [front]\n",
        "services:\n  web:\n    networks:\n      back:\n        aliases: [api]\n",
        "services:\n  web:\n    networks:\n      front: null\n      back:\n        aliases: [api]\n",
    );
}

#[test]
fn build_string_merges_with_map() {
    check(
        "services:\n  web:\n    build: ./app\n",
        "services:\n  web:\n    build:\n      target: prod\n",
        "services:\n  web:\n    build:\n      context: ./app\n      target: prod\n",
    );
}

#[test]
fn logging_with_another_driver_is_replaced() {
    check(
        "services:\n  web:\n    logging:\n      driver: json-file\n      options: {max-size: 10m}\n",
        "services:\n  web:\n    logging:\n      driver: syslog\n",
        "services:\n  web:\n    logging:\n      driver: syslog\n",
    );
    check(
        "services:\n  web:\n    logging:\n      driver: json-file\n      options: {max-size: 10m}\n",
        "services:\n  web:\n    logging:\n      options: {max-file: '3'}\n",
        "services:\n  web:\n    logging:\n      driver: json-file\n      options: {max-size: 10m, max-file: '3'}\n",
    );
}

#[test]
fn extra_hosts_skip_repeats() {
    check(
        "services:\n  web:\n    extra_hosts: ['a=1.1.1.1']\n",
        "services:\n  web:\n    extra_hosts: ['a=1.1.1.1', 'b=2.2.2.2']\n",
        "services:\n  web:\n    extra_hosts: ['a=1.1.1.1', 'b=2.2.2.2']\n",
    );
}

#[test]
fn ulimits_replace_or_merge() {
    check(
        "services:\n  web:\n    ulimits:\n      nofile: {soft: 1, hard: 2}\n",
        "services:\n  web:\n    ulimits:\n      nofile: 5\n",
        "services:\n  web:\n    ulimits:\n      nofile: 5\n",
    );
}

#[test]
fn reset_removes_and_override_replaces() {
    check(
        "services:\n  web:\n    ports: ['80:80']\n    environment: {A: 1}\n",
        "services:\n  web:\n    ports: !reset []\n    environment: !override {B: 2}\n",
        "services:\n  web:\n    environment: {B: 2}\n",
    );
}

#[test]
fn lists_append_by_default() {
    check(
        "services:\n  web:\n    cap_add: [NET_ADMIN]\n",
        "services:\n  web:\n    cap_add: [SYS_TIME, NET_ADMIN]\n",
        "services:\n  web:\n    cap_add: [NET_ADMIN, SYS_TIME]\n",
    );
}
