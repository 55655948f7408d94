//! The client against a real distribution server on loopback: push, pull, resume,
//! tampering, auth (htpasswd, bearer tokens), TLS with a private CA, mirrors.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};

use support::{client, no_progress, push, Auth, Registry, TestImage, TokenServer};
use wharf_oci::{media_type, Digest, Reference};
use wharf_registry::{
    AuthConfig, BlobDownload, BlobPushed, Client, DockerConfigFile, Platform, RegistryError,
    RegistrySettings,
};

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Pulls `reference` and checks every byte against `image`.
fn pull_and_compare(client: &Client, reference: &Reference, image: &TestImage) {
    let resolved = client.fetch_image(reference, &Platform::host()).unwrap();
    assert!(resolved.index.is_none());
    assert_eq!(resolved.manifest.bytes, image.manifest);
    assert_eq!(resolved.manifest.digest, image.manifest_digest());
    assert_eq!(resolved.manifest.media_type, media_type::OCI_MANIFEST);
    assert_eq!(resolved.repo_digest(), &image.manifest_digest());
    assert_eq!(resolved.image.layers().len(), image.layers.len());
    let out = tempfile::tempdir().unwrap();
    let downloads = image.downloads(out.path());
    client
        .download_blobs(reference, &downloads, &no_progress)
        .unwrap();
    for (download, blob) in downloads.iter().zip(image.blobs()) {
        assert_eq!(read(&download.path), read(&blob.path), "{}", blob.digest);
    }
}

#[test]
fn push_then_pull_by_tag_and_by_digest() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(1, &[3000, 70_000]);
    let tagged = registry.reference("wharf/app:1.0");
    push(&client, &tagged, &image);

    pull_and_compare(&client, &tagged, &image);
    let pinned = Reference::parse_normalized(&format!(
        "{}/wharf/app@{}",
        registry.host,
        image.manifest_digest()
    ))
    .unwrap();
    pull_and_compare(&client, &pinned, &image);
    let raw = client.fetch_manifest(&pinned).unwrap();
    assert_eq!(raw.bytes, image.manifest);

    // Everything is there now: a second push moves no blob.
    let again = client
        .push_blobs(&tagged, &image.blobs(), None, &no_progress)
        .unwrap();
    assert_eq!(again, [BlobPushed::Existed; 3]);
}

#[test]
fn unknown_image_names_registry_repository_and_tag() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let missing = registry.reference("wharf/nothing:v9");
    let error = client()
        .fetch_image(&missing, &Platform::host())
        .unwrap_err();
    let RegistryError::ManifestUnknown {
        registry: host,
        repository,
        reference,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(
        (host.as_str(), repository.as_str(), reference.as_str()),
        (registry.host.as_str(), "wharf/nothing", "v9")
    );
    assert!(error.to_string().starts_with("no such image: "), "{error}");
    assert!(error.hint().unwrap().contains("wharf login"));

    let digest = Digest::of(b"absent");
    let error = client()
        .download_blob(
            &missing,
            &BlobDownload {
                digest: digest.clone(),
                size: None,
                path: tempfile::tempdir().unwrap().path().join("blob"),
            },
            &no_progress,
        )
        .unwrap_err();
    assert!(
        matches!(&error, RegistryError::BlobUnknown { digest: d, .. } if *d == digest),
        "{error:?}"
    );
}

#[test]
fn index_resolves_to_the_requested_platform() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let amd = TestImage::new(2, &[100]);
    let arm = TestImage::new(3, &[200]);
    let repository = registry.reference("wharf/multi:latest");
    for image in [&amd, &arm] {
        let by_digest = Reference::parse_normalized(&format!(
            "{}/wharf/multi@{}",
            registry.host,
            image.manifest_digest()
        ))
        .unwrap();
        push(&client, &by_digest, image);
    }
    let entry = |image: &TestImage, arch: &str, variant: Option<&str>| {
        serde_json::json!({
            "mediaType": media_type::OCI_MANIFEST,
            "digest": image.manifest_digest().to_string(),
            "size": image.manifest.len(),
            "platform": { "os": "linux", "architecture": arch, "variant": variant },
        })
    };
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [entry(&amd, "amd64", None), entry(&arm, "arm64", Some("v8"))],
    }))
    .unwrap();
    client
        .push_manifest(&repository, media_type::OCI_INDEX, &index)
        .unwrap();

    let arm64 = client
        .fetch_image(&repository, &"linux/arm64".parse().unwrap())
        .unwrap();
    assert_eq!(arm64.manifest.digest, arm.manifest_digest());
    assert_eq!(arm64.repo_digest(), &Digest::of(&index));
    assert_eq!(arm64.index.unwrap().bytes, index);
    let amd64 = client
        .fetch_image(&repository, &"linux/amd64".parse().unwrap())
        .unwrap();
    assert_eq!(amd64.manifest.digest, amd.manifest_digest());

    let error = client
        .fetch_image(&repository, &"linux/s390x".parse().unwrap())
        .unwrap_err();
    assert!(
        matches!(&error, RegistryError::NoMatchingPlatform { available, .. }
            if available == &["linux/amd64", "linux/arm64"]),
        "{error:?}"
    );
}

#[test]
fn tags_are_listed_across_pages() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(5, &[100]);
    for tag in ["a", "b", "c", "d", "e"] {
        push(
            &client,
            &registry.reference(&format!("paged/app:{tag}")),
            &image,
        );
    }
    let repository =
        Reference::parse_normalized_name(&format!("{}/paged/app", registry.host)).unwrap();
    let mut paged = client.list_tags_in_pages(&repository, 2).unwrap();
    paged.sort();
    assert_eq!(paged, ["a", "b", "c", "d", "e"], "three pages of at most 2");
    let mut whole = client.list_tags(&repository).unwrap();
    whole.sort();
    assert_eq!(whole, paged);
    let missing =
        Reference::parse_normalized_name(&format!("{}/paged/none", registry.host)).unwrap();
    assert!(client.list_tags(&missing).is_err());
}

#[test]
fn cross_repository_mount_moves_no_bytes() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(4, &[5000, 6000]);
    let source = registry.reference("team/base:1");
    push(&client, &source, &image);

    let target = registry.reference("team/derived:1");
    let pushed = client
        .push_blobs(&target, &image.blobs(), Some(&source), &no_progress)
        .unwrap();
    assert_eq!(pushed, [BlobPushed::Mounted; 3]);
    client
        .push_manifest(&target, media_type::OCI_MANIFEST, &image.manifest)
        .unwrap();
    pull_and_compare(&client, &target, &image);
}

#[test]
fn large_blob_goes_up_in_chunks_and_comes_back_whole() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let size = wharf_registry::CHUNK_SIZE as usize + 3 * 1024 * 1024;
    let image = TestImage::new(5, &[size]);
    let reference = registry.reference("wharf/big:1");
    let highest = AtomicU64::new(0);
    let progress = |_: &Digest, done: u64| {
        highest.fetch_max(done, Ordering::Relaxed);
    };
    let pushed = client
        .push_blob(&reference, &image.layers[0], None, &progress)
        .unwrap();
    assert_eq!(pushed, BlobPushed::Uploaded);
    assert_eq!(highest.load(Ordering::Relaxed), size as u64);
    push(&client, &reference, &image);
    pull_and_compare(&client, &reference, &image);
}

#[test]
fn interrupted_download_resumes_and_ends_verified() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(6, &[3_000_000]);
    let reference = registry.reference("wharf/resume:1");
    push(&client, &reference, &image);
    let layer = &image.layers[0];
    let whole = read(&layer.path);
    let out = tempfile::tempdir().unwrap();
    let download = BlobDownload {
        digest: layer.digest.clone(),
        size: Some(layer.size),
        path: out.path().join("layer"),
    };

    // What an earlier, interrupted run left behind.
    std::fs::write(&download.path, &whole[..2_000_000]).unwrap();
    let first_report = AtomicU64::new(u64::MAX);
    let progress = |_: &Digest, done: u64| {
        let _ = first_report.compare_exchange(u64::MAX, done, Ordering::Relaxed, Ordering::Relaxed);
    };
    client
        .download_blob(&reference, &download, &progress)
        .unwrap();
    assert_eq!(read(&download.path), whole);
    // Reads are at most 256 KiB: a restart from zero would first report less.
    assert!(
        first_report.load(Ordering::Relaxed) > 2_000_000,
        "the download restarted from zero"
    );

    // A complete file is only verified.
    client
        .download_blob(&reference, &download, &no_progress)
        .unwrap();
    assert_eq!(read(&download.path), whole);

    // A partial file that is not the blob's start is dropped and fetched afresh.
    std::fs::write(&download.path, vec![0xAA; 500_000]).unwrap();
    client
        .download_blob(&reference, &download, &no_progress)
        .unwrap();
    assert_eq!(read(&download.path), whole);
}

#[test]
fn tampered_blob_is_rejected_and_leaves_no_file() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(7, &[40_000]);
    let reference = registry.reference("wharf/tampered:1");
    push(&client, &reference, &image);
    let layer = &image.layers[0];
    let mut bytes = read(&registry.blob_data(&layer.digest));
    bytes[1000] ^= 0xFF;
    std::fs::write(registry.blob_data(&layer.digest), &bytes).unwrap();

    let out = tempfile::tempdir().unwrap();
    let download = BlobDownload {
        digest: layer.digest.clone(),
        size: Some(layer.size),
        path: out.path().join("layer"),
    };
    let error = client
        .download_blob(&reference, &download, &no_progress)
        .unwrap_err();
    let RegistryError::DigestMismatch {
        expected, actual, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(expected, &layer.digest);
    assert_eq!(actual, &Digest::of(&bytes));
    assert!(error.to_string().contains("wharf/tampered"), "{error}");
    assert!(!download.path.exists());
}

#[test]
fn htpasswd_registry_wants_the_right_password() {
    let (user, password) = ("alice", "correct horse");
    let Some(registry) = Registry::start(
        Auth::Htpasswd {
            user: user.into(),
            password: password.into(),
        },
        None,
    ) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let config = DockerConfigFile::at(home.path().join(".docker/config.json"));
    let image = TestImage::new(8, &[1000]);
    let reference = registry.reference("private/app:1");

    let anonymous = Client::new(RegistrySettings::default(), Some(config.clone())).unwrap();
    let error = anonymous
        .push_blobs(&reference, &image.blobs(), None, &no_progress)
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error:?}"
    );

    let error = anonymous
        .login(&registry.host, AuthConfig::basic(user, "wrong"))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.hint().unwrap(),
        format!("log in with `wharf login {}`", registry.host)
    );
    assert!(!error.to_string().contains("wrong"), "{error}");

    let good = AuthConfig::basic(user, password);
    anonymous.login(&registry.host, good.clone()).unwrap();
    config.store(&registry.host, &good).unwrap();

    // A new client finds the stored credentials.
    let client = Client::new(RegistrySettings::default(), Some(config.clone())).unwrap();
    push(&client, &reference, &image);
    pull_and_compare(&client, &reference, &image);

    config
        .store(&registry.host, &AuthConfig::basic(user, "stale"))
        .unwrap();
    let client = Client::new(RegistrySettings::default(), Some(config)).unwrap();
    let error = client
        .fetch_image(&reference, &Platform::host())
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error:?}"
    );
}

#[test]
fn bearer_tokens_come_from_the_realm_anonymously_or_with_credentials() {
    let certs = tempfile::tempdir().unwrap();
    if !support::make_certs(certs.path()) {
        return;
    }
    let tokens = TokenServer::start(certs.path());
    let Some(registry) = Registry::start(
        Auth::Token {
            realm: tokens.realm.clone(),
            cert: certs.path().join("ca.pem"),
        },
        None,
    ) else {
        return;
    };
    let client = client();
    let image = TestImage::new(9, &[2000, 3000]);
    let reference = registry.reference("library/tokened:1");
    push(&client, &reference, &image);
    pull_and_compare(&client, &reference, &image);

    let requests = tokens.requests.lock().unwrap().clone();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.authorization.is_none()));
    assert!(requests.iter().all(|r| r.service == "wharf-test"));
    let scopes: Vec<&str> = requests
        .iter()
        .flat_map(|r| r.scopes.iter().map(String::as_str))
        .collect();
    assert!(
        scopes.contains(&"repository:library/tokened:pull,push"),
        "{scopes:?}"
    );
    assert!(
        scopes.contains(&"repository:library/tokened:pull"),
        "{scopes:?}"
    );
    // One token per scope, cached for the rest: not one per request.
    assert!(requests.len() <= 6, "{requests:?}");

    // With stored credentials, the token request carries them.
    let home = tempfile::tempdir().unwrap();
    let config = DockerConfigFile::at(home.path().join("config.json"));
    config
        .store(&registry.host, &AuthConfig::basic("frank", "pw"))
        .unwrap();
    let known = Client::new(RegistrySettings::default(), Some(config)).unwrap();
    tokens.requests.lock().unwrap().clear();
    pull_and_compare(&known, &reference, &image);
    let requests = tokens.requests.lock().unwrap().clone();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Basic ZnJhbms6cHc=")),
        "{requests:?}"
    );
}

#[test]
fn tls_registry_is_trusted_through_its_ca_file() {
    let certs = tempfile::tempdir().unwrap();
    if !support::make_certs(certs.path()) {
        return;
    }
    let cert = certs.path().join("cert.pem");
    let Some(registry) = Registry::start(Auth::None, Some((&cert, &certs.path().join("key.pem"))))
    else {
        return;
    };
    let image = TestImage::new(10, &[1234, 4321]);
    let reference = registry.reference("secure/app:1");
    let certs_d = tempfile::tempdir().unwrap();
    // Loopback would be insecure by default (unverified TLS): make it a verified host.
    let verified = |certs_dirs| RegistrySettings {
        insecure: Vec::new(),
        certs_dirs,
        ..RegistrySettings::default()
    };

    let untrusting = Client::new(verified(vec![certs_d.path().to_path_buf()]), None).unwrap();
    let error = untrusting
        .fetch_image(&reference, &Platform::host())
        .unwrap_err();
    assert!(
        matches!(&error, RegistryError::Tls { host, .. } if *host == registry.host),
        "{error:?}"
    );
    assert!(error
        .hint()
        .unwrap()
        .contains(&format!("/etc/docker/certs.d/{}/ca.crt", registry.host)));

    std::fs::create_dir(certs_d.path().join(&registry.host)).unwrap();
    std::fs::copy(
        certs.path().join("ca.pem"),
        certs_d.path().join(&registry.host).join("ca.crt"),
    )
    .unwrap();
    let client = Client::new(verified(vec![certs_d.path().to_path_buf()]), None).unwrap();
    push(&client, &reference, &image);
    pull_and_compare(&client, &reference, &image);

    // An insecure host speaks TLS without verification when it offers TLS.
    pull_and_compare(&support::client(), &reference, &image);
}

#[test]
fn docker_hub_references_are_pulled_from_a_mirror() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let image = TestImage::new(11, &[777, 888]);
    push(
        &client(),
        &registry.reference("library/busybox:1.36"),
        &image,
    );

    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let settings = RegistrySettings {
        mirrors: vec![closed, format!("http://{}/", registry.host)],
        ..RegistrySettings::default()
    };
    let client = Client::new(settings, None).unwrap();
    let hub = Reference::parse_normalized("busybox:1.36").unwrap();
    assert_eq!(hub.domain(), "docker.io");
    pull_and_compare(&client, &hub, &image);
}

#[test]
fn login_logout_round_trip_in_docker_config() {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    std::env::remove_var("DOCKER_CONFIG");
    let config = DockerConfigFile::from_env().unwrap();
    assert_eq!(config.path(), home.path().join(".docker/config.json"));
    std::fs::create_dir(home.path().join(".docker")).unwrap();
    std::fs::write(
        config.path(),
        r#"{"auths": {"other.example": {"auth": "b3RoZXI6c2VjcmV0"}}, "HttpHeaders": {"X-Team": "ops"}, "detachKeys": "ctrl-q"}"#,
    )
    .unwrap();

    assert_eq!(config.get("docker.io").unwrap(), None);
    config
        .store("docker.io", &AuthConfig::basic("bob", "pa:ss"))
        .unwrap();
    config
        .store("localhost:5000", &AuthConfig::basic("carol", "pw"))
        .unwrap();
    let text = std::fs::read_to_string(config.path()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["auths"]["https://index.docker.io/v1/"]["auth"],
        "Ym9iOnBhOnNz"
    );
    assert_eq!(json["HttpHeaders"]["X-Team"], "ops");
    assert_eq!(json["detachKeys"], "ctrl-q");
    assert_eq!(json["auths"]["other.example"]["auth"], "b3RoZXI6c2VjcmV0");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(config.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    assert_eq!(
        config.get("docker.io").unwrap(),
        Some(AuthConfig::basic("bob", "pa:ss"))
    );
    assert_eq!(
        config.get("other.example").unwrap(),
        Some(AuthConfig::basic("other", "secret"))
    );

    assert!(config.erase("docker.io").unwrap());
    assert!(!config.erase("docker.io").unwrap());
    assert_eq!(config.get("docker.io").unwrap(), None);
    assert_eq!(
        config.get("localhost:5000").unwrap(),
        Some(AuthConfig::basic("carol", "pw"))
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config.path()).unwrap()).unwrap();
    assert_eq!(json["HttpHeaders"]["X-Team"], "ops");
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join(".docker"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["config.json"]);
}

#[test]
fn a_symlinked_config_stays_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles-config.json");
    std::fs::write(&real, r#"{"psFormat": "table {{.ID}}"}"#).unwrap();
    let link = dir.path().join("config.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let config = DockerConfigFile::at(&link);
    config
        .store("ghcr.io", &AuthConfig::basic("erin", "pw"))
        .unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(json["psFormat"], "table {{.ID}}");
    assert_eq!(
        config.get("ghcr.io").unwrap(),
        Some(AuthConfig::basic("erin", "pw"))
    );
}

#[test]
fn credential_helpers_hold_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    // A helper that keeps each server's JSON in a file named by the server's hex.
    let helper = dir.path().join("docker-credential-wharftest");
    std::fs::write(
        &helper,
        format!(
            r#"#!/bin/sh
read -r input
case "$1" in
  store) key=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/' | od -An -tx1 | tr -d ' \n')
         printf '%s' "$input" > "{store}/$key" ;;
  get)   key=$(printf '%s' "$input" | od -An -tx1 | tr -d ' \n')
         [ -f "{store}/$key" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
         cat "{store}/$key" ;;
  erase) key=$(printf '%s' "$input" | od -An -tx1 | tr -d ' \n')
         [ -f "{store}/$key" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
         rm "{store}/$key" ;;
esac
"#,
            store = store.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", dir.path().display()));

    let config = DockerConfigFile::at(dir.path().join("config.json"));
    std::fs::write(config.path(), r#"{"credsStore": "wharftest"}"#).unwrap();
    config
        .store("ghcr.io", &AuthConfig::basic("dave", "s3cret"))
        .unwrap();
    let text = std::fs::read_to_string(config.path()).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(
        config.get("ghcr.io").unwrap(),
        Some(AuthConfig::basic("dave", "s3cret"))
    );
    assert_eq!(config.get("quay.io").unwrap(), None);
    assert!(config.erase("ghcr.io").unwrap());
    assert_eq!(config.get("ghcr.io").unwrap(), None);

    std::fs::write(
        config.path(),
        r#"{"credHelpers": {"gcr.io": "missing-helper"}}"#,
    )
    .unwrap();
    let error = config.get("gcr.io").unwrap_err();
    assert!(
        matches!(&error, RegistryError::CredentialHelper { helper, .. } if helper == "missing-helper"),
        "{error:?}"
    );
}

/// `cargo nextest run -p wharf-registry --run-ignored only pull_timing`: pushes a 150 MB
/// layer and times its pull.
#[test]
#[ignore = "a measurement, not a check"]
#[allow(clippy::print_stderr)] // the measurement is the output
fn pull_timing() {
    let Some(registry) = Registry::start(Auth::None, None) else {
        return;
    };
    let client = client();
    let image = TestImage::new(12, &[150 * 1000 * 1000]);
    let reference = registry.reference("wharf/timing:1");
    let started = std::time::Instant::now();
    push(&client, &reference, &image);
    eprintln!("push of 150 MB: {:.2?}", started.elapsed());
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let resolved = client.fetch_image(&reference, &Platform::host()).unwrap();
    client
        .download_blobs(&reference, &image.downloads(out.path()), &no_progress)
        .unwrap();
    eprintln!("pull of 150 MB: {:.2?}", started.elapsed());
    assert_eq!(resolved.manifest.bytes, image.manifest);
}
