"""docker-py against `wharf system service` (DOCKER_HOST): containers, logs, exec, wait,
filters, images and errors, as a Python test suite would use them. Prints each check; the
last line says all passed. Run by tests/api_service.rs."""

import io
import os
import tarfile
import tempfile

import docker
from docker.errors import ImageNotFound, NotFound, APIError

client = docker.from_env()


def check(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"
    print(f"ok: {what}")


check("ping", client.ping(), True)
check("version", client.version()["ApiVersion"], "1.44")
check("info", client.info()["OSType"], "linux")

check("run --rm output", client.containers.run("busybox", "echo hi", remove=True), b"hi\n")
try:
    client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 4"], remove=True)
    raise AssertionError("a failing container raises ContainerError")
except docker.errors.ContainerError as error:
    check("ContainerError exit status", error.exit_status, 4)

c = client.containers.run(
    "busybox",
    ["sh", "-c", "echo one; echo two >&2; exec sleep 60"],
    detach=True,
    name="pyweb",
    labels={"suite": "py"},
    environment={"GREETING": "hello"},
)
check("status after run", client.containers.get("pyweb").status, "running")
check("label filter", [x.name for x in client.containers.list(filters={"label": "suite=py"})], ["pyweb"])
check("name filter", [x.id for x in client.containers.list(filters={"name": "pyweb"})], [c.id])
check("all=False hides no running one", len(client.containers.list()), 1)

logs = b""
for _ in range(200):
    logs = c.logs()
    if b"two" in logs:
        break
check("logs, both streams", sorted(logs.split()), [b"one", b"two"])
check("logs stdout only", c.logs(stderr=False), b"one\n")

code, out = c.exec_run(["sh", "-c", "echo $GREETING; exit 3"])
check("exec_run exit code", code, 3)
check("exec_run output", out, b"hello\n")
code, out = c.exec_run("cat /etc/hostname", workdir="/")
check("exec_run in workdir", code, 0)
code, (so, se) = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
check("exec_run demux", (so, se), (b"o\n", b"e\n"))

archive = io.BytesIO()
with tarfile.open(fileobj=archive, mode="w") as tar:
    data = b"put through the API\n"
    info = tarfile.TarInfo("put.txt")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
check("put_archive", c.put_archive("/tmp", archive.getvalue()), True)
check("the file is there", c.exec_run("cat /tmp/put.txt").output, b"put through the API\n")
stream, _stat = c.get_archive("/tmp/put.txt")
with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
    check("get_archive", tar.extractfile("put.txt").read(), b"put through the API\n")
try:
    c.get_archive("/nonexistent")
    raise AssertionError("a missing path is NotFound")
except NotFound:
    print("ok: get_archive of a missing path is NotFound")
check("top", "sleep 60" in " ".join(" ".join(p) for p in c.top()["Processes"]), True)
c.stop(timeout=1)
# PID 1 ignores SIGTERM without a handler: killed after the timeout, as with Docker.
check("wait after stop", c.wait()["StatusCode"], 137)
c.reload()
check("status after stop", c.status, "exited")
check("exited filter", [x.name for x in client.containers.list(all=True, filters={"status": "exited", "label": "suite=py"})], ["pyweb"])
c.remove()
try:
    client.containers.get("pyweb")
    raise AssertionError("a removed container is NotFound")
except NotFound:
    print("ok: removed container is NotFound")

check("images list", any("busybox:latest" in i.tags for i in client.images.list()), True)
image = client.images.get("busybox")
check("image inspect", image.tags, ["busybox:latest"])
image.tag("localhost/mine", "v1")
check("tag", sorted(client.images.get("localhost/mine:v1").tags), ["busybox:latest", "localhost/mine:v1"])
client.images.remove("localhost/mine:v1")
check("untag", client.images.get("busybox").tags, ["busybox:latest"])
try:
    client.images.get("nosuch:1")
    raise AssertionError("a missing image is ImageNotFound")
except ImageNotFound:
    print("ok: missing image is ImageNotFound")
try:
    client.containers.create("busybox", "true", name="dup")
    client.containers.create("busybox", "true", name="dup")
    raise AssertionError("a second container of the same name is refused")
except APIError as error:
    check("name conflict status", error.status_code, 409)
client.containers.get("dup").remove()

net = client.networks.create("pynet", labels={"suite": "py"})
check("network list by label", [n.name for n in client.networks.list(filters={"label": "suite=py"})], ["pynet"])
check("network get", client.networks.get("pynet").id, net.id)
try:
    client.networks.create("pynet")
    raise AssertionError("a second network of the same name is refused")
except APIError as error:
    check("network name conflict status", error.status_code, 409)
vol = client.volumes.create("pyvol", labels={"suite": "py"})
check("volume list by label", [v.name for v in client.volumes.list(filters={"label": "suite=py"})], ["pyvol"])
out = client.containers.run(
    "busybox",
    ["sh", "-c", "echo kept > /data/f && cat /data/f"],
    volumes={"pyvol": {"bind": "/data", "mode": "rw"}},
    network="pynet",
    remove=True,
)
check("run on a network with a volume", out, b"kept\n")
check("volume content", client.containers.run("busybox", "cat /data/f", volumes=["pyvol:/data"], remove=True), b"kept\n")
vol.remove()
net.remove()
try:
    client.networks.get("pynet")
    raise AssertionError("a removed network is NotFound")
except NotFound:
    print("ok: removed network is NotFound")

with tempfile.TemporaryDirectory() as context:
    with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
        dockerfile.write('FROM busybox\nARG WORD=none\nRUN echo "$WORD" > /word\nCMD ["cat", "/word"]\n')
    built, log = client.images.build(path=context, tag="pybuilt:1", buildargs={"WORD": "built"})
    check("build tags", built.tags, ["pybuilt:1"])
    check("build log ends", any("Successfully built" in m.get("stream", "") for m in log), True)
    check("run the built image", client.containers.run("pybuilt:1", remove=True), b"built\n")
    with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
        dockerfile.write("FROM busybox\nRUN exit 3\n")
    try:
        client.images.build(path=context)
        raise AssertionError("a failing build raises BuildError")
    except docker.errors.BuildError as error:
        check("BuildError names the step", "exit code: 3" in str(error), True)

print("docker-py: all checks passed")
