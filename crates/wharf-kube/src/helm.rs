//! The Helm chart of `compose bridge convert --format helm`: `Chart.yaml`, a `values.yaml`
//! with what teams change between clusters (per service: image, replicas, resources), and
//! the manifests as templates that read those values. Templates use one form only,
//! `{{ index .Values "<service>" "<key>" ... }}` (service names may hold `-`, which
//! `.Values.<name>` cannot), so a chart renders the same with `helm template` as with a
//! plain substitution of that form. A `{{` in the objects' own text (a ConfigMap's file)
//! is written `{{ "{{" }}`, Go templates' way of keeping it.

use serde_json::{json, Map, Value};

use crate::convert::Object;
use crate::output::{document, file_name};

/// Chart.yaml, values.yaml and templates/, as (relative path, text).
pub fn chart(objects: &[Object], project: &str) -> Vec<(String, String)> {
    let chart = json!({
        "apiVersion": "v2",
        "name": crate::names::dns_label(project),
        "description": format!("The compose project {project}, converted by wharf"),
        "type": "application",
        "version": "0.1.0",
    });
    let mut values = Map::new();
    let mut templates = Vec::new();
    for object in objects {
        let mut body = object.body.clone();
        if matches!(object.kind, "Deployment" | "Job") {
            let service = values
                .entry(object.name.clone())
                .or_insert_with(|| json!({}));
            parameterize(&object.name, &mut body, service);
        }
        // A `{{` of the objects' own text (a config file's) stays text for Helm.
        let text = document(&body).replace("{{", "{{ \"{{\" }}");
        templates.push((format!("templates/{}", file_name(object)), actions(&text)));
    }
    let mut files = vec![
        ("Chart.yaml".to_owned(), document(&chart)),
        ("values.yaml".to_owned(), document(&Value::Object(values))),
    ];
    files.extend(templates);
    files
}

/// Moves a workload's image, replicas and resources into `values`, leaving placeholders.
fn parameterize(service: &str, body: &mut Value, values: &mut Value) {
    if let Some(replicas) = body["spec"].get_mut("replicas") {
        values["replicas"] = replicas.take();
        *replicas = placeholder(service, &["replicas"]);
    }
    let container = &mut body["spec"]["template"]["spec"]["containers"][0];
    if let Some(image) = container.get_mut("image") {
        values["image"] = image.take();
        *image = placeholder(service, &["image"]);
    }
    for kind in ["limits", "requests"] {
        for resource in ["cpu", "memory"] {
            let Some(value) = container
                .get_mut("resources")
                .and_then(|r| r.get_mut(kind))
                .and_then(|k| k.get_mut(resource))
            else {
                continue;
            };
            values["resources"][kind][resource] = value.take();
            *value = placeholder(service, &["resources", kind, resource]);
        }
    }
}

const OPEN: &str = "@@values:";
const CLOSE: &str = "@@";

fn placeholder(service: &str, keys: &[&str]) -> Value {
    json!(format!("{OPEN}{service}/{}{CLOSE}", keys.join("/")))
}

/// The placeholders of a YAML text (quoted or not) as template actions; images are quoted
/// (`| quote`), numbers and quantities left for YAML to type.
fn actions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let Some(length) = rest[start + OPEN.len()..].find(CLOSE) else {
            break;
        };
        let close = start + OPEN.len() + length;
        let quoted = start > 0 && matches!(rest.as_bytes()[start - 1], b'"' | b'\'');
        out.push_str(&rest[..start - usize::from(quoted)]);
        let path: Vec<&str> = rest[start + OPEN.len()..close].split('/').collect();
        let keys: Vec<String> = path.iter().map(|k| format!("{k:?}")).collect();
        let pipe = if path.last() == Some(&"image") {
            " | quote"
        } else {
            ""
        };
        out.push_str(&format!("{{{{ index .Values {}{pipe} }}}}", keys.join(" ")));
        rest = &rest[close + CLOSE.len() + usize::from(quoted)..];
    }
    out.push_str(rest);
    out
}

/// A template of the chart rendered with `values` as `helm template` renders it: the chart
/// uses only `{{ index .Values "<service>" "<key>"... }}` (with `| quote` for strings) and
/// `{{ "{{" }}`. For checking a chart where Helm is not at hand; an action of another form
/// or a value missing is an error.
pub fn render(template: &str, values: &Value) -> Result<String, String> {
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        text.push_str(&rest[..start]);
        let end = start
            + rest[start..]
                .find("}}")
                .ok_or_else(|| "an action does not end".to_owned())?
            + 2;
        let action = rest[start + 2..end - 2].trim();
        rest = &rest[end..];
        if action == "\"{{\"" {
            text.push_str("{{");
            continue;
        }
        let (expression, quote) = match action.strip_suffix("| quote") {
            Some(expression) => (expression.trim(), true),
            None => (action, false),
        };
        let keys = expression
            .strip_prefix("index .Values ")
            .ok_or_else(|| format!("`{action}` is not of the chart's one form"))?;
        let mut value = values;
        for key in keys.split(' ') {
            value = &value[key.trim_matches('"')];
        }
        text.push_str(&match value {
            // Helm's `quote` writes Go's `%q`; a JSON string reads back the same in YAML.
            Value::String(s) if quote => Value::String(s.clone()).to_string(),
            Value::String(s) => s.clone(),
            Value::Null => return Err(format!("no value for `{action}`")),
            other => other.to_string(),
        });
    }
    text.push_str(rest);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_read_back_in_yaml() {
        let text = "a\"b\\c\n\u{1a}\u{85}é";
        let values = json!({"s": {"image": text}});
        let rendered = render("v: {{ index .Values \"s\" \"image\" | quote }}", &values).unwrap();
        let read = yaml_rust2::YamlLoader::load_from_str(&rendered).unwrap();
        assert_eq!(read[0]["v"].as_str(), Some(text));
    }

    #[test]
    fn braces_of_the_objects_stay_text() {
        let objects = [Object {
            kind: "ConfigMap",
            name: "site".into(),
            body: json!({ "data": { "page.html": "<p>{{ name }}</p>" } }),
        }];
        let files = chart(&objects, "demo");
        assert_eq!(files[2].0, "templates/site-configmap.yaml");
        assert!(
            files[2].1.contains("<p>{{ \"{{\" }} name }}</p>"),
            "{}",
            files[2].1
        );
    }

    #[test]
    fn placeholders_become_index_actions() {
        let text = "image: \"@@values:my-web/image@@\"\nreplicas: '@@values:my-web/replicas@@'\ncpu: @@values:my-web/resources/limits/cpu@@\n";
        assert_eq!(
            actions(text),
            "image: {{ index .Values \"my-web\" \"image\" | quote }}\nreplicas: {{ index .Values \"my-web\" \"replicas\" }}\ncpu: {{ index .Values \"my-web\" \"resources\" \"limits\" \"cpu\" }}\n"
        );
    }
}
