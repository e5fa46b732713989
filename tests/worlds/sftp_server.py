"""A real SFTP server on 127.0.0.1 for tests: paramiko's ServerInterface + SFTPServer over a temp folder."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK


@dataclass
class ServerState:
    root: Path
    username: str = "claimdesk"
    password: str = "s3cret-password"
    disk_full: bool = False
    logins: list[str] = field(default_factory=list)


class _Auth(paramiko.ServerInterface):
    def __init__(self, state: ServerState) -> None:
        self.state = state

    def check_auth_password(self, username: str, password: str) -> int:
        self.state.logins.append(username)
        ok = username == self.state.username and password == self.state.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def __init__(self, state: ServerState, flags: int = 0) -> None:
        super().__init__(flags)
        self.state = state

    def write(self, offset: int, data: bytes) -> int:
        if self.state.disk_full:
            return SFTP_FAILURE
        return super().write(offset, data)

    def stat(self) -> Any:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


class _Folder(paramiko.SFTPServerInterface):
    """Paths are resolved inside the state's root folder."""

    def __init__(self, server: Any, state: ServerState, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.state = state

    def _path(self, path: str) -> Path:
        return self.state.root / path.lstrip("/")

    def list_folder(self, path: str) -> Any:
        folder = self._path(path)
        if not folder.is_dir():
            return SFTP_NO_SUCH_FILE
        out = []
        for child in sorted(folder.iterdir()):
            attrs = paramiko.SFTPAttributes.from_stat(child.stat())
            attrs.filename = child.name
            out.append(attrs)
        return out

    def stat(self, path: str) -> Any:
        target = self._path(path)
        return paramiko.SFTPAttributes.from_stat(target.stat()) if target.exists() else SFTP_NO_SUCH_FILE

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        target = self._path(path)
        if not target.parent.is_dir():
            return SFTP_NO_SUCH_FILE
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        mode = "wb" if writing else "rb"
        if not writing and not target.exists():
            return SFTP_NO_SUCH_FILE
        handle = _Handle(self.state, flags)
        file = open(target, mode)  # noqa: SIM115 - the handle owns and closes it
        handle.readfile = file
        if writing:
            handle.writefile = file
        return handle

    def remove(self, path: str) -> int:
        self._path(path).unlink(missing_ok=True)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        self._path(oldpath).rename(self._path(newpath))
        return SFTP_OK

    posix_rename = rename

    def chattr(self, path: str, attr: Any) -> int:
        return SFTP_OK


@dataclass
class RunningServer:
    host: str
    port: int
    host_key_line: str
    state: ServerState


@contextmanager
def sftp_server(root: Path, **state_fields: Any) -> Iterator[RunningServer]:
    """Serve `root` by SFTP on a free loopback port until the block ends."""
    for folder in ("inbound", "outbound"):
        (root / folder).mkdir(exist_ok=True)
    state = ServerState(root=root, **state_fields)
    host_key = _new_host_key()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    stop = threading.Event()
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder, state)
            transports.append(transport)
            try:
                transport.start_server(server=_Auth(state))
            except (paramiko.SSHException, EOFError, OSError):
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield RunningServer("127.0.0.1", listener.getsockname()[1], f"{host_key.get_name()} {host_key.get_base64()}",
                            state)  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=5)
        for transport in transports:
            transport.close()
        listener.close()


def _new_host_key() -> paramiko.PKey:
    """An Ed25519 host key made for this server only (paramiko cannot generate Ed25519 keys itself)."""
    import io

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


def other_host_key_line() -> str:
    key = _new_host_key()
    return f"{key.get_name()} {key.get_base64()}"
