#!/usr/bin/env python3
"""Write the stand-in provided.al2023 base's root filesystem as a tar, for `docker import`.

The same content as tests/verify/common.rs `al2023_base_rootfs(dir, "provided.al2023")`:
busybox (Debian's busybox-static) at /usr/bin/busybox with the AL2023 applets linked to it,
/bin -> usr/bin, the microdnf stand-in as /usr/bin/microdnf with a dnf link, the AWS
entrypoint, an aws-lambda-rie stub, an AL2023 os-release, /tmp 1777, /var/task,
/var/runtime/bootstrap and /var/lang/bin. The Env, WORKDIR and ENTRYPOINT come from
`docker import --change` (bench/build.sh, LAMBDA_BASE_CHANGES in the tests).

    python3 bench/build/rootfs.py OUT.tar
"""
import io
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

# tests/verify/common.rs AL2023_APPLETS
APPLETS = [
    "sh", "[", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dirname", "echo",
    "env", "false", "grep", "head", "id", "ln", "ls", "mkdir", "mktemp", "mv", "printf", "pwd",
    "readlink", "realpath", "rm", "rmdir", "sed", "sleep", "sort", "stat", "tail", "tee", "test",
    "touch", "tr", "true", "uname", "uniq", "wc",
]

OS_RELEASE = (
    b'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
    b'PLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023"\n'
)
RIE_STUB = b'#!/bin/sh\necho "aws-lambda-rie: not in this stand-in base image; got: $*" >&2\nexit 127\n'
BOOTSTRAP = b'#!/bin/sh\necho "runtime bootstrap (stand-in): handler $_HANDLER"\n'


def busybox():
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/bin", "/usr/bin"]:
        p = os.path.join(d, "busybox")
        if os.path.isfile(p):
            return open(p, "rb").read()
    sys.exit("rootfs.py: busybox is not installed (apt-get install busybox-static)")


def info(name, kind, mode):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, 0, 0, 0
    ti.uname = ti.gname = "root"
    return ti


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rootfs.py OUT.tar")
    with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
        def d(name, mode=0o755):
            tar.addfile(info(name, tarfile.DIRTYPE, mode))

        def f(name, mode, data):
            ti = info(name, tarfile.REGTYPE, mode)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))

        def link(name, target):
            ti = info(name, tarfile.SYMTYPE, 0o777)
            ti.linkname = target
            tar.addfile(ti)

        d("usr")
        d("usr/bin")
        link("bin", "usr/bin")
        f("usr/bin/busybox", 0o755, busybox())
        for a in APPLETS:
            link(f"usr/bin/{a}", "busybox")
        f("usr/bin/microdnf", 0o755, open(os.path.join(HERE, "..", "..", "tests", "fixtures", "standin", "microdnf.sh"), "rb").read())
        link("usr/bin/dnf", "microdnf")
        d("usr/local")
        d("usr/local/bin")
        f("usr/local/bin/aws-lambda-rie", 0o755, RIE_STUB)
        f("lambda-entrypoint.sh", 0o755, open(os.path.join(HERE, "..", "..", "tests", "fixtures", "standin", "lambda-entrypoint.sh"), "rb").read())
        d("etc")
        f("etc/os-release", 0o644, OS_RELEASE)
        d("tmp", 0o1777)
        d("var")
        d("var/cache")
        d("var/task")
        d("var/runtime")
        f("var/runtime/bootstrap", 0o755, BOOTSTRAP)
        d("var/lang")
        d("var/lang/bin")


if __name__ == "__main__":
    main()
