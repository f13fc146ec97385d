"""Starting Ray: a local instance closed to the network, or an existing cluster.

A local instance (no address) is reachable from this machine only, and only with this user's token:

- **Loopback only.** Ray 2.60 binds its GCS, raylet, core-worker, object-manager and agent servers to the node's IP
  (all interfaces for the gRPC servers) and offers no bind-address option for them. It takes the node's IP to be
  127.0.0.1, and then binds every server there, when ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (its switch for
  single-machine use, read when Ray is imported). On Linux that switch does nothing else.
- **Token authentication.** Ray's own: the GCS, raylet and workers refuse a client without the token, and the
  dashboard's API answers 401. The token is a file only this user can read (Ray's ``~/.ray/auth_token``, or
  ``RAY_AUTH_TOKEN_PATH``); the dashboard asks for it once in the browser (``ray get-auth-token`` prints it).

An existing cluster is secured where it was started (``ray start``); the driver sends a token when one is where Ray
keeps tokens. Both settings are environment variables that Ray reads when it is first imported, so
:func:`prepare_ray_environment` must run before ``import ray``.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray takes 127.0.0.1 as the node's IP
AUTH_MODE = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_PATH = "~/.ray/auth_token"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
PACKAGE_FOLDER = Path(__file__).resolve().parents[1]  # rllib_metarl/, shipped to a cluster's workers


@dataclass(frozen=True)
class RaySession:
    """What the runner prints about the Ray it started or joined."""

    address: str  # the GCS address
    local: bool
    nodes: int
    cpus: float
    dashboard_url: str | None
    token_file: Path | None  # where the local instance's token is (None: in RAY_AUTH_TOKEN, or no tokens)

    def describe(self) -> str:
        where = "local Ray on 127.0.0.1 (not reachable from the network)" if self.local else "Ray cluster"
        return f"{where} at {self.address}: {self.nodes} node(s), {self.cpus:g} CPUs"


def token_file() -> Path:
    """Where Ray reads its token from: ``RAY_AUTH_TOKEN_PATH``, else ``~/.ray/auth_token``."""
    return Path(os.environ.get(TOKEN_PATH_ENV, DEFAULT_TOKEN_PATH)).expanduser()


def ensure_private_token(path: Path) -> None:
    """Create a random token at ``path`` readable by this user only, or make an existing one so.

    Ray would generate one itself, but readable by everyone (mode 0644): any local user could then use the cluster.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)
            print(f"Ray's token file {path} was readable by other users; it is now readable by you only.")
        return
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_hex(32))


def set_before_import(name: str, value: str) -> None:
    """Set an environment variable that Ray reads when it is imported; warn if that was too late."""
    if os.environ.get(name) == value:
        return
    if "ray" in sys.modules:
        warnings.warn(f"Ray was imported before {name}={value} was set: it may not apply", stacklevel=3)
    os.environ[name] = value


def prepare_ray_environment(address: str | None) -> Path | None:
    """Set the variables Ray reads at import, before its first import; return the token file of a local run.

    Local instance: loopback only, and token authentication unless the user set ``RAY_AUTH_MODE`` (kept as given:
    ``disabled`` leaves the instance open to other users of this machine, never to the network).
    Existing cluster: token mode when a token is where Ray keeps one, as ``ray start`` turns tokens on when its machine
    holds one, and a driver with no mode set sends none.
    """
    if address:
        if AUTH_MODE not in os.environ and (os.environ.get(TOKEN_ENV) or token_file().is_file()):
            set_before_import(AUTH_MODE, "token")
        return None
    set_before_import(LOOPBACK_SWITCH, "0")
    if AUTH_MODE not in os.environ:
        set_before_import(AUTH_MODE, "token")
    mode = os.environ[AUTH_MODE]
    if mode != "token" or os.environ.get(TOKEN_ENV):
        return None
    path = token_file()
    ensure_private_token(path)
    return path


# A gRPC client's first bytes (HTTP/2's connection preface and an empty SETTINGS frame): a gRPC server, as Ray's GCS
# is, answers with a SETTINGS frame of its own.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
HTTP2_SETTINGS_FRAME = 4  # the type byte of a frame header (length 3 bytes, type 1, flags 1, stream 4)


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A ConnectionError unless a gRPC server, as Ray's GCS is, answers at ``address`` (``host:port``) within
    ``timeout_s``: Ray's own ``ray.init`` waits minutes on an address where nothing, or something else, answers. Other
    forms (``auto``, ``ray://``) are left to Ray, and so is the protocol of a cluster with TLS (``RAY_USE_TLS``)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s) as connection:
            if os.environ.get("RAY_USE_TLS", "0") not in ("0", ""):
                return
            connection.sendall(HTTP2_PREFACE)
            reply = b""
            while len(reply) < 4 and (received := connection.recv(9)):
                reply += received
    except TimeoutError:
        reply = b""
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConnectionError(f"nothing answers at {address} ({reason}); is the Ray head running there?") from None
    if len(reply) < 4 or reply[3] != HTTP2_SETTINGS_FRAME:
        raise ConnectionError(f"something other than Ray answers at {address} (no gRPC reply within "
                              f"{timeout_s:.0f} s); give the Ray head's GCS address, host:6379 by default")  # fmt: skip


def local_cpus() -> int:
    """The CPUs a local Ray would have: those this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_ray(address: str | None, dashboard: bool = False, num_cpus: int | None = None) -> RaySession:
    """Start a local Ray closed to the network (no address), or join the cluster at ``address``.

    A local instance that came up on another address than loopback (Ray imported before
    :func:`prepare_ray_environment`) is shut down again: RuntimeError.
    """
    token = prepare_ray_environment(address)
    import ray

    if address:
        # Ship this package to the cluster's workers, which may not have it installed. (Its folder, not the module
        # object: inside `ray job submit` Ray deep-copies the runtime env to merge it with the job's.)
        context = ray.init(address=address, runtime_env={"py_modules": [str(PACKAGE_FOLDER)]}, log_to_driver=False)
    else:
        # address="local" always starts a fresh instance (a stale ray_current_cluster file can point at a dead one).
        context = ray.init(address="local", num_cpus=num_cpus, include_dashboard=dashboard,
                           dashboard_host="127.0.0.1", log_to_driver=False)  # fmt: skip
        if context.address_info["node_ip_address"] not in LOOPBACK_ADDRESSES:
            ray.shutdown()
            raise RuntimeError(f"the local Ray came up on {context.address_info['node_ip_address']}, not loopback: "
                               f"set {LOOPBACK_SWITCH}=0 before Ray is imported")  # fmt: skip
    url = context.dashboard_url
    nodes = [node for node in ray.nodes() if node["Alive"]]
    return RaySession(
        address=context.address_info["gcs_address"],
        local=not address,
        nodes=len(nodes),
        cpus=sum(node["Resources"].get("CPU", 0.0) for node in nodes),
        dashboard_url=f"http://{url}" if url and not url.startswith("http") else url or None,
        token_file=token,
    )
