"""docker-py's commit and attach against `wharf system service` (DOCKER_HOST). Prints each
check; the last line says all passed. Run by tests/api_commit_attach.rs."""

import faulthandler
import sys

import docker

# A hang fails with where it hung rather than at the test's timeout.
faulthandler.dump_traceback_later(60, exit=True)

client = docker.from_env()


def check(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"
    print(f"ok: {what}")


def commit():
    c = client.containers.run("busybox", ["sleep", "60"], detach=True, name="pyc")
    check("exec writes a file", c.exec_run(["sh", "-c", "echo py > /made"]).exit_code, 0)
    image = c.commit(
        repository="pycommit",
        tag="v1",
        message="from py",
        author="py <py@example.com>",
        changes=["ENV B=2", 'CMD ["cat", "/made"]'],
        conf={"Labels": {"via": "conf"}},
    )
    config = image.attrs["Config"]
    check("commit tag", image.tags, ["pycommit:v1"])
    check("commit env", "B=2" in config["Env"], True)
    check("commit labels from conf", config["Labels"], {"via": "conf"})
    check("commit author", image.attrs["Author"], "py <py@example.com>")
    check("commit comment", image.attrs["Comment"], "from py")
    check("still running", client.containers.get("pyc").status, "running")
    check("the image runs", client.containers.run("pycommit:v1", remove=True), b"py\n")
    c.remove(force=True)


def attach_socket():
    c = client.containers.create("busybox", ["cat"], stdin_open=True, name="pyattach")
    c.start()
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    raw = sock._sock
    raw.sendall(b"hello over the socket\n")
    got = b""
    while b"hello over the socket\n" not in got:
        chunk = raw.recv(4096)
        assert chunk, f"the stream ended after {got!r}"
        got += chunk
    # Multiplexed: stdout's frame header (1, 0, 0, 0, size).
    check("attach_socket echo", got[:4], b"\x01\x00\x00\x00")
    check("attach_socket payload", got[8:], b"hello over the socket\n")
    raw.close()
    c.remove(force=True)


for step in sys.argv[1:]:
    globals()[step]()
print("docker-py: all checks passed")
