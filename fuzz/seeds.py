#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target into OUT/<target>/, from the project's test
fixtures and the BuildKit conformance files (read where they lie, never copied into the
repo) plus small valid documents written here. Usage: seeds.py OUT REPO CONFORMANCE"""

import gzip
import hashlib
import io
import json
import re
import pathlib
import sys
import tarfile

out, repo, conformance = (pathlib.Path(a) for a in sys.argv[1:4])


def seed(target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / name).write_bytes(data)


# Dockerfiles: BuildKit's parser test files and the lint corpus.
for path in sorted(conformance.glob("testfiles*/*/Dockerfile")):
    seed("dockerfile", f"{path.parent.parent.name}-{path.parent.name}", path.read_bytes())
for path in sorted((repo / "crates/wharf-lint/tests/corpus").rglob("*.Dockerfile")):
    seed("dockerfile", f"lint-{path.parent.name}-{path.name}", path.read_bytes())

# Shell words: the word column of BuildKit's expansion tests; the first byte picks options.
for test in ("envVarTest", "wordsTest"):
    for number, line in enumerate((conformance / test).read_text().splitlines()):
        if "|" not in line or line.startswith("#"):
            continue
        word = line.split("|")[1 if test == "envVarTest" else 0].strip()
        seed("shell_words", f"{test}-{number}", b"\x00" + word.encode())

# .dockerignore: paths on the first line, patterns after.
for number, text in enumerate([
    "a/b|node_modules/x|.git/HEAD\n*.pyc\n!keep.pyc\n**/__pycache__\n.git\n",
    "x/y.txt|docs/a.md\n# comment\n/docs\n**/*.md\n!README.md\n[a-c]?/**\n",
    "a\\b|c\n\\!literal\n../up\n./here\n**\n!**/keep\n",
]):
    seed("dockerignore", f"ignore-{number}", text)

# Image references, as users type them and as FROM lines name them.
digest = "sha256:" + "a" * 64
references = ["busybox", "library/alpine:3.19", "docker.io/library/python:3.11-slim",
              f"ghcr.io/org/app@{digest}", f"localhost:5000/a/b/c:tag@{digest}",
              "[::1]:5000/x", "registry.example.com:443/ns/img:v1.2-rc_1", "a" * 64, digest]
for path in sorted(conformance.glob("testfiles/*/Dockerfile")):
    for line in path.read_text(errors="replace").splitlines():
        if line.upper().startswith("FROM "):
            references.append(line.split()[1])
for number, reference in enumerate(references):
    seed("reference", f"ref-{number}", reference)


def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# A tiny image: one layer with a file, its config, manifests and an index.
layer_buffer = io.BytesIO()
with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    for name, body in [("etc/hostname", b"fuzz\n"), ("bin/sh", b"#!/bin/true\n")]:
        info = tarfile.TarInfo(name)
        info.size = len(body)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(body))
layer = layer_buffer.getvalue()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/", "User": "0:0",
               "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "b"}},
    "rootfs": {"type": "layers", "diff_ids": [blob(layer)]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "fuzz"}],
}).encode()
oci_manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": blob(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": blob(layer), "size": len(layer)}],
}).encode()
docker_manifest = oci_manifest.replace(
    b"application/vnd.oci.image.manifest.v1+json",
    b"application/vnd.docker.distribution.manifest.v2+json")
index = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": blob(oci_manifest), "size": len(oci_manifest),
                   "platform": {"architecture": "amd64", "os": "linux"},
                   "annotations": {"org.opencontainers.image.ref.name": "fuzz:1",
                                   "io.containerd.image.name": "docker.io/library/fuzz:1"}}],
}).encode()
for name, data in [("config", config), ("oci-manifest", oci_manifest),
                   ("docker-manifest", docker_manifest), ("index", index)]:
    seed("oci_json", name, data)


def archive(files, compress=False):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            if data is None:
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    return gzip.compress(data, mtime=0) if compress else data


def blob_path(data):
    return "blobs/sha256/" + hashlib.sha256(data).hexdigest()


oci_layout = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
              (blob_path(oci_manifest), oci_manifest), (blob_path(config), config),
              (blob_path(layer), layer)]
layer_dir = hashlib.sha256(layer).hexdigest()
config_name = hashlib.sha256(config).hexdigest() + ".json"
docker_save = [
    ("manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["fuzz:1"],
                                   "Layers": [f"{layer_dir}/layer.tar"]}]).encode()),
    ("repositories", json.dumps({"fuzz": {"1": layer_dir}}).encode()),
    (config_name, config), (f"{layer_dir}/", None), (f"{layer_dir}/layer.tar", layer),
]
seed("load_archive", "oci-layout.tar", archive(oci_layout))
seed("load_archive", "oci-layout.tar.gz", archive(oci_layout, compress=True))
seed("load_archive", "docker-save.tar", archive(docker_save))

# Compose files of the integration tests, each alone.
for path in sorted((repo / "crates/wharf/tests/data/compose").rglob("*.y*ml")):
    rel = path.relative_to(repo / "crates/wharf/tests/data/compose")
    seed("compose_load", str(rel).replace("/", "-"), path.read_bytes())
seed("compose_load", "with-env",
     "services:\n  web:\n    image: ${IMAGE:-busybox}:${TAG:?tag}\n"
     "    environment:\n      - A=$${B}\n    ports: ['${PORT-8080}:80']\n\0"
     "IMAGE=alpine\nPORT=9000 # c\nQ=\"a\\nb\"\n")

# Engine API requests as docker-py and the docker CLI send them.
create = json.dumps({"Image": "busybox", "Cmd": ["true"], "Env": ["A=1"],
                     "HostConfig": {"Binds": ["/a:/b:ro"], "PortBindings":
                                    {"80/tcp": [{"HostPort": "8080"}]},
                                    "RestartPolicy": {"Name": "always"}, "Memory": 1 << 20},
                     "NetworkingConfig": {"EndpointsConfig": {"net": {"Aliases": ["a"]}}}})
requests = [
    "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n",
    "GET /v1.44/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D HTTP/1.1"
    "\r\nHost: docker\r\n\r\nGET /version HTTP/1.1\r\nConnection: close\r\n\r\n",
    f"POST /v1.44/containers/create?name=web HTTP/1.1\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(create)}\r\n\r\n{create}",
    "POST /v1.44/exec/abc/start HTTP/1.1\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
    "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"Detach\":false}\r\n0\r\n\r\n",
    "POST /networks/create HTTP/1.1\r\nContent-Length: 49\r\n\r\n"
    "{\"Name\":\"n\",\"IPAM\":{\"Config\":[{\"Subnet\":\"x\"}]}}",
]
for number, request in enumerate(requests):
    seed("api_request", f"request-{number}", request)

# Registry challenges and token replies.
for number, text in enumerate([
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
    'scope="repository:library/busybox:pull"',
    'Basic realm="x", Bearer realm="https://h/t?a=b",error="invalid_token"',
    'bearer realm="a\\"b\\\\c", service=svc',
    '{"token":"abc","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}',
    '{"access_token":"x","expires_in":60}',
    '{"token":"t","expires_in":18446744073709551615}',
]):
    seed("registry_auth", f"auth-{number}", text)

# --format templates: the first 16 bytes are a size and a duration.
for number, text in enumerate([
    "table {{.ID}}\\t{{.Names}}\\t{{json .Labels}}", "{{.State.Running}} {{.Nil}}",
    "{{json .}}", "json", "table", "{{ .Labels.a }}\\n{{.Size}}",
]):
    seed("format_template", f"format-{number}", bytes(16) + text.encode())


# Rust string literals of the test sources: "..." (with escapes), r"..." and r#"..."#.
LITERAL = re.compile(r'r(#*)"(.*?)"\1|"((?:[^"\\]|\\.)*)"', re.S)


def literals(text):
    for match in LITERAL.finditer(text):
        if match.group(2) is not None:
            yield match.group(2)
        else:
            # Line continuations (a backslash, the newline and the indent) first.
            body = re.sub(r"\\\n\s*", "", match.group(3))
            yield body.encode("latin-1", "backslashreplace").decode("unicode_escape",
                                                                    "replace")


# kube play: the manifests of wharf-kube's tests and of the kube play integration tests;
# the first byte is the options (1: --publish).
manifests = [lit for source in [repo / "crates/wharf-kube/src/play/tests.rs",
                                repo / "crates/wharf/tests/kube_play.rs"]
             for lit in literals(source.read_text(errors="replace")) if "kind:" in lit]
for number, manifest in enumerate(manifests):
    seed("kube_play", f"manifest-{number}", b"\x00" + manifest.encode())
    seed("kube_play", f"manifest-{number}-publish", b"\x01" + manifest.encode())

# compose bridge convert: each test project's compose file with the files beside it
# (`path\ncontent` parts after NUL bytes); the first byte is the options.
project_folders = sorted((repo / "crates/wharf/tests/data/compose").iterdir())
project_folders.append(repo / "crates/wharf/tests/data/kube/web-redis")
for number, folder in enumerate(project_folders):
    compose_files = sorted(folder.glob("*compose*.y*ml"))
    if not compose_files:
        continue
    parts = [compose_files[0].read_bytes()]
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path != compose_files[0] and path.stat().st_size < 4096:
            parts.append(str(path.relative_to(folder)).encode() + b"\n" + path.read_bytes())
    seed("kube_convert", f"{folder.name}", bytes([number % 64]) + b"\0".join(parts))

# lint: the lint corpus, each Dockerfile with its .hadolint.yaml (before a NUL) if it has one.
corpus = repo / "crates/wharf-lint/tests/corpus"
for path in sorted(corpus.rglob("*.Dockerfile")):
    config = corpus / "configs" / f"{path.name}.yaml"
    data = path.read_bytes()
    if config.is_file():
        data = config.read_bytes() + b"\0" + data
    seed("lint", f"{path.parent.name}-{path.name}", data)
for path in sorted(conformance.glob("testfiles/*/Dockerfile"))[:40]:
    seed("lint", f"buildkit-{path.parent.name}", path.read_bytes())

# init: the projects of wharf-init's tests, as `path\ncontent` parts.
source = (repo / "crates/wharf-init/tests/projects.rs").read_text()
for number, block in enumerate(re.findall(r"project\(&\[(.*?)\]\);", source, re.S)):
    values = list(literals(block))
    parts = [f"{name}\n{content}" for name, content in zip(values[0::2], values[1::2])]
    seed("init", f"project-{number}", "\0".join(parts))
seed("init", "overrides", "@python\n3.12\0@port\n5000\0@cmd\ngunicorn 'app:create()' -b :$PORT\0"
     "requirements.txt\n-r requirements/base.txt\nflask\0requirements/base.txt\npsycopg2\0"
     "app.py\nfrom flask import Flask\napp = Flask(__name__)\n")

# events: filters (tab-separated), --since, --until, then the events file.
event = {"time": "2026-01-02T03:04:05.123456789Z", "type": "container", "action": "start",
         "id": "0123456789ab" * 5 + "cdef",
         "attributes": {"name": "web", "image": "busybox:1", "com.docker.compose.project": "p"}}
lines = []
for action in ["create", "start", "health_status: healthy", "kill", "die", "destroy"]:
    lines.append(json.dumps(dict(event, action=action)))
old = json.dumps(dict(event, time="2025-12-31T23:59:59Z", action="stop"))
for number, (filters, since, until, tail) in enumerate([
    ("container=web\tevent=start", "0", "2026-01-02T15:04:05Z", ""),
    ("label=com.docker.compose.project=p\ttype=container", "10m", "", '{"time": "2026'),
    ("image=busybox\tscope=local", "2026-01-01", "1767366245.5", "\xff\xfe\n"),
    ("colour=red", "1767366245", "99999h", ""),
]):
    text = f"{filters}\n{since}\n{until}\n".encode()
    seed("events", f"events-{number}", text + old.encode() + b"\n\0"
         + "\n".join(lines).encode() + b"\n" + tail.encode("latin-1"))

# watch and api_hijack take structured input (arbitrary): their seeds are the compose
# files with develop.watch rules and the API request seeds, read as bytes.
for path in sorted((repo / "crates/wharf/tests/data/compose").rglob("*.y*ml")):
    if b"develop" in path.read_bytes():
        seed("watch", path.parent.name + "-" + path.name, path.read_bytes())
for number, request in enumerate(requests):
    seed("api_hijack", f"request-{number}", request)
