//! `wharf compose bridge convert`: a compose project (parts `path\ncontent` after NUL bytes:
//! the first is compose.yaml, the others files it may name, such as secrets, configs and
//! env files) loaded as the command loads it, converted with options from the first byte,
//! and written in each format. Every file written must read back as YAML to the object it
//! came from and be named inside the output folder; the stream must read back through
//! `kube play`'s reader; errors must say something; two conversions give the same text.
//! The compose linter runs over the same project.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wharf_compose::{load, LoadOptions};
use wharf_fuzz::yaml::{documents, same};
use wharf_fuzz::{files, Sandbox};
use wharf_kube::{
    convert, env_file_variables, files_to_read, output, Conversion, ConvertOptions, Format,
    PublishType, Sources,
};

fn options(flags: u8) -> ConvertOptions {
    ConvertOptions {
        registry: (flags & 1 == 1).then(|| "registry.example:5000/team".to_owned()),
        publish: if flags & 2 == 2 {
            PublishType::NodePort
        } else {
            PublishType::LoadBalancer
        },
        host_path: flags & 4 == 4,
        skip_unsupported: flags & 8 == 8,
        ..ConvertOptions::default()
    }
}

fn text(conversion: &Conversion) -> String {
    output::stream(&conversion.objects)
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, rest)) = bytes.split_first() else {
        return;
    };
    let mut parts = files::parts(rest);
    parts[0].0 = "compose.yaml".into();
    let sandbox = Sandbox::new();
    let dir = sandbox.root();
    files::write(&dir, &parts);
    let mut load_options = LoadOptions::new(dir.clone(), BTreeMap::new());
    load_options.project_name = Some("fuzz".into());
    let Ok(loaded) = load(&load_options) else {
        sandbox.assert_untouched();
        return;
    };
    load_options.resolve_env_files = false;
    let Ok(unresolved) = load(&load_options) else {
        sandbox.assert_untouched();
        return;
    };
    let project = loaded.project;
    // Only the sandbox's own files: a path may name anything on the host.
    let read = files_to_read(&project)
        .into_iter()
        .filter(|path| path.starts_with(&dir) && path.is_file())
        .filter_map(|path| std::fs::read(&path).ok().map(|content| (path, content)))
        .collect();
    let image_ports = project
        .services
        .keys()
        .filter(|_| flags & 16 == 16)
        .map(|name| {
            (
                name.clone(),
                vec!["8000/tcp".to_owned(), "53/udp".to_owned()],
            )
        })
        .collect();
    let sources = Sources {
        files: read,
        from_env_files: env_file_variables(&unresolved.project, &project),
        image_ports,
    };
    let options = options(flags);
    let compose = String::from_utf8_lossy(&parts[0].1).into_owned();
    assert_eq!(
        wharf_lint::lint_compose(&project, &compose, flags & 32 == 32),
        wharf_lint::lint_compose(&project, &compose, flags & 32 == 32),
        "two lints of one project differ"
    );
    let conversion = match (
        convert(&project, &sources, &options),
        convert(&project, &sources, &options),
    ) {
        (Ok(first), Ok(second)) => {
            assert_eq!(text(&first), text(&second), "two conversions differ");
            first
        }
        (Err(first), Err(second)) => {
            let message = first.to_string();
            assert!(!message.trim().is_empty(), "an empty error: {first:?}");
            assert_eq!(
                message,
                second.to_string(),
                "two conversions fail differently"
            );
            sandbox.assert_untouched();
            return;
        }
        (first, second) => panic!("one conversion fails: {first:?} / {second:?}"),
    };
    for format in [Format::Kubernetes, Format::Kustomize, Format::Helm] {
        let written = output::files(&conversion.objects, format, &project.name);
        // A chart's templates read back once rendered with its own values.
        let values = written
            .iter()
            .find(|(name, _)| name == "values.yaml")
            .map(|(_, text)| {
                documents(text)
                    .unwrap_or_else(|e| panic!("values.yaml: {e}\n{text}"))
                    .into_iter()
                    .next()
                    .unwrap_or_default()
            });
        let mut names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            written.len(),
            "two objects in one file: {names:?}"
        );
        for (name, written) in written {
            let file = name.strip_prefix("templates/").unwrap_or(&name);
            assert!(
                !file.is_empty() && !file.contains('/') && file != "." && file != "..",
                "a file named {name:?} is not in the output folder"
            );
            let written = match (&values, name.starts_with("templates/")) {
                (Some(values), true) => wharf_kube::helm::render(&written, values)
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{written}")),
                _ => written,
            };
            let read = documents(&written).unwrap_or_else(|e| panic!("{name}: {e}\n{written}"));
            assert_eq!(read.len(), 1, "{name}: one document:\n{written}");
            if let Some(object) = conversion
                .objects
                .iter()
                .find(|o| output::file_name(o) == file)
            {
                assert!(
                    same(&object.body, &read[0]),
                    "{name} reads back otherwise:\n{written}"
                );
            }
        }
    }
    let stream = text(&conversion);
    let manifests = wharf_kube::play::parse("stream", &stream)
        .unwrap_or_else(|e| panic!("kube play cannot read the stream: {e}\n{stream}"));
    assert_eq!(manifests.len(), conversion.objects.len(), "{stream}");
    sandbox.assert_untouched();
});
