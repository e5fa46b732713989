"""SFTP to the clearinghouse with paramiko: the server's key must match the stored one, always.

No known_hosts file and no AutoAddPolicy: the clearinghouse settings hold the one key we accept,
and it is compared before any credential leaves this machine. Messages name the host and the
failure, never the password or key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import posixpath
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import paramiko

from billing.core.errors import Failed, Invalid

TIMEOUT_SECONDS = 20.0
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


class SendFailed(Failed):
    """The file is certainly not in the inbound folder under its name (at most a `.part` file is left)."""


class UploadOutcomeUnknown(Failed):
    """The connection broke while the file was being put in place: it may or may not be there."""


class LookupFailed(Failed):
    """The server could not say whether a file is in the inbound folder."""


@dataclass(frozen=True)
class SftpSettings:
    host: str
    port: int
    username: str
    host_key: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    inbound_folder: str = "inbound"
    outbound_folder: str = "outbound"


@dataclass(frozen=True)
class RemoteStat:
    size: int | None  # None when the server does not report sizes


@dataclass(frozen=True)
class RemoteFile:
    name: str
    content: bytes


def parse_host_key(line: str) -> tuple[str, bytes]:
    """(key type, key blob) from an OpenSSH public-key or known_hosts line."""
    parts = line.split()
    for i, part in enumerate(parts[:-1]):
        if part in KEY_TYPES:
            try:
                return part, base64.b64decode(parts[i + 1], validate=True)
            except (binascii.Error, ValueError):
                break
    raise Invalid("The stored host key is not an OpenSSH public key line (e.g. 'ssh-ed25519 AAAA...').")


def load_private_key(text: str) -> paramiko.PKey:
    """The stored private key as paramiko reads it; the message never quotes the key."""
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError, IndexError, TypeError):
            continue
    raise Invalid("The stored private key could not be read (an unencrypted OpenSSH or PEM key is expected).")


@contextmanager
def connect(settings: SftpSettings) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session to a server whose key is the stored one, logged in with the stored secret."""
    expected_type, expected_blob = parse_host_key(settings.host_key)
    where = f"{settings.host}:{settings.port}"
    try:
        sock = socket.create_connection((settings.host, settings.port), timeout=TIMEOUT_SECONDS)
    except OSError as exc:
        raise SendFailed(f"Could not connect to {where}: {exc.strerror or exc}.") from None
    transport = paramiko.Transport(sock)
    try:
        try:
            transport.start_client(timeout=TIMEOUT_SECONDS)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SendFailed(f"The SSH handshake with {where} failed: {exc}.") from None
        offered = transport.get_remote_server_key()
        if offered.get_name() != expected_type or offered.asbytes() != expected_blob:
            raise SendFailed(
                f"The server at {where} presented a different host key ({offered.get_name()} "
                f"{offered.fingerprint}) than the one stored for this clearinghouse. Nothing was sent; "
                "confirm the new key with the clearinghouse before changing the settings."
            )
        _authenticate(transport, settings, where)
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise SendFailed(f"{where} refused to open an SFTP session.")
        with sftp:
            yield sftp
    finally:
        transport.close()


def _authenticate(transport: paramiko.Transport, settings: SftpSettings, where: str) -> None:
    try:
        if settings.private_key:
            transport.auth_publickey(settings.username, load_private_key(settings.private_key))
        elif settings.password:
            transport.auth_password(settings.username, settings.password)
        else:
            raise SendFailed("The clearinghouse settings have neither a password nor a private key.")
    except paramiko.AuthenticationException:
        raise SendFailed(f"{where} refused the login for user {settings.username!r}; check the credentials.") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SendFailed(f"Logging in to {where} failed: {exc}.") from None


def upload(settings: SftpSettings, file_name: str, content: bytes) -> None:
    """Write the file to the inbound folder under a temporary name, then rename it into place.

    Clearinghouses poll their inbound folders; the rename keeps them from picking up half a file.
    """
    final = posixpath.join(settings.inbound_folder, file_name)
    partial = final + ".part"
    with connect(settings) as sftp:
        try:
            sftp.putfo(io.BytesIO(content), partial, file_size=len(content), confirm=True)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            _remove_quietly(sftp, partial)
            reason = getattr(exc, "strerror", None) or str(exc) or "write failed"
            raise SendFailed(
                f"Uploading {file_name} to {settings.host} failed: {reason} (is the server's disk full, "
                f"or is the folder {settings.inbound_folder!r} missing?)."
            ) from None
        _put_in_place(sftp, settings, partial, final)


#: What a broken connection raises: the server may have done what was asked without our hearing back.
CONNECTION_LOST = (paramiko.SSHException, EOFError, ConnectionError, TimeoutError)


def _put_in_place(sftp: paramiko.SFTPClient, settings: SftpSettings, partial: str, final: str) -> None:
    """Rename the complete `.part` file to its name: the moment the clearinghouse has it."""
    name = posixpath.basename(final)
    try:
        try:
            sftp.posix_rename(partial, final)
        except CONNECTION_LOST:
            raise
        except OSError:  # the server answered no: it may not support the posix-rename extension
            sftp.rename(partial, final)
    except CONNECTION_LOST as exc:
        raise UploadOutcomeUnknown(
            f"The connection to {settings.host} broke while {name} was being put in place ({type(exc).__name__}); "
            "the file may or may not have arrived."
        ) from None
    except OSError as exc:  # the server refused both renames: only the .part file is there
        _remove_quietly(sftp, partial)
        raise SendFailed(f"{settings.host} refused to rename the uploaded {name} into place: "
                         f"{exc.strerror or exc}.") from None


def find_uploaded(settings: SftpSettings, file_name: str) -> RemoteStat | None:
    """`file_name` in the inbound folder (with its size when the server tells it), or None when it is not there.

    A retry of an interrupted send asks this first. Raises LookupFailed when the server cannot say (a
    folder the login may write but not read): then nobody knows, and nothing may be uploaded.
    """
    path = posixpath.join(settings.inbound_folder, file_name)
    with connect(settings) as sftp:
        try:
            found = sftp.stat(path)
        except FileNotFoundError:
            return None
        except (OSError, paramiko.SSHException, EOFError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise LookupFailed(f"Could not look for {file_name} in {settings.inbound_folder!r} on {settings.host}: "
                               f"{reason}.") from None
    return RemoteStat(found.st_size)


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    # The upload already failed; a leftover .part file is harmless to the clearinghouse.
    with contextlib.suppress(OSError):
        sftp.remove(path)


def download_new(settings: SftpSettings, known: set[str]) -> list[RemoteFile]:
    """Files in the outbound folder whose names are not in `known`, oldest first."""
    with connect(settings) as sftp:
        try:
            entries = sorted(sftp.listdir_attr(settings.outbound_folder), key=lambda a: (a.st_mtime or 0, a.filename))
        except OSError as exc:
            raise SendFailed(f"Cannot list {settings.outbound_folder!r} on {settings.host}: {exc}.") from None
        files = []
        for entry in entries:
            if entry.filename in known or entry.filename.endswith(".part"):
                continue
            buffer = io.BytesIO()
            sftp.getfo(posixpath.join(settings.outbound_folder, entry.filename), buffer)
            files.append(RemoteFile(entry.filename, buffer.getvalue()))
        return files


def check_connection(settings: SftpSettings) -> str:
    """Connect, check the host key, log in and look at both folders; what a person sees after "Test"."""
    with connect(settings) as sftp:
        missing = []
        for folder in (settings.inbound_folder, settings.outbound_folder):
            try:
                sftp.stat(folder)
            except OSError:
                missing.append(folder)
    if missing:
        raise SendFailed(f"Connected to {settings.host} and logged in, but these folders are missing: "
                         f"{', '.join(missing)}.")
    return (f"Connected to {settings.host}:{settings.port}: the host key matches, the login works, and the "
            f"folders {settings.inbound_folder!r} and {settings.outbound_folder!r} exist.")


def offered_host_key(host: str, port: int) -> tuple[str, str]:
    """(OpenSSH line, SHA256 fingerprint) of the key a server offers, for a person to compare, never to trust.

    Nothing is stored: an admin compares the fingerprint with the one the clearinghouse published
    and only then pastes the line into the settings.
    """
    try:
        sock = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
    except OSError as exc:
        raise SendFailed(f"Could not connect to {host}:{port}: {exc.strerror or exc}.") from None
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=TIMEOUT_SECONDS)
        key = transport.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SendFailed(f"The SSH handshake with {host}:{port} failed: {exc}.") from None
    finally:
        transport.close()
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode("ascii").rstrip("=")
    return f"{key.get_name()} {key.get_base64()}", f"SHA256:{digest}"


def fingerprint(line: str) -> str:
    """SHA256 fingerprint of a stored host key line, as `ssh-keygen -lf` prints it."""
    _type, blob = parse_host_key(line)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
