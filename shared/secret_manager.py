"""Secret stores (Google Secret Manager, environment, owner-only JSON file) behind one protocol.

Config files hold secret NAMES only; the values come from a `SecretStore`. No value read or
written here ever appears in a log line or an exception message: errors name the secret and
the store, never the content.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests
from filelock import FileLock, Timeout

from shared import paths
from shared.logger_service import kv
from shared.private_file import write_private_json

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

logger = logging.getLogger(__name__)


ENV_PREFIX = "CALYPSO_SECRET_"
PROJECT_ENV_VARS: tuple[str, ...] = ("GCP_PROJECT", "GOOGLE_CLOUD_PROJECT")
METADATA_PROJECT_URL = "http://metadata.google.internal/computeMetadata/v1/project/project-id"
SECRETS_FILE_NAME = "secrets.json"


class SecretStoreError(RuntimeError):
    """A store could not be read or written. The message never contains a secret value."""


class ReadOnlySecretStoreError(SecretStoreError):
    """`put` on a store that cannot be written (the environment); a chain skips such stores."""


class SecretStore(Protocol):
    """Where secret values live, looked up by name."""

    def get(self, name: str) -> str | None:
        """The current value of secret `name`, or None when it does not exist."""
        ...

    def put(self, name: str, value: str) -> None:
        """Store a new value (a new version where the store keeps versions).

        Raises SecretStoreError on failure.
        """
        ...


# --- GCP detection --------------------------------------------------------------------------

_UNPROBED = object()
_metadata_project: object | str | None = _UNPROBED


def _project_from_env() -> str | None:
    for var in PROJECT_ENV_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return None


def metadata_project_id(*, timeout_s: float = 0.3) -> str | None:
    """The project id from the GCE metadata server, or None when it does not answer in time.

    The first probe's answer (including "no answer") is cached for the life of the process.
    """
    global _metadata_project
    if _metadata_project is _UNPROBED:
        _metadata_project = _probe_metadata(timeout_s)
    return _metadata_project if isinstance(_metadata_project, str) else None


def _probe_metadata(timeout_s: float) -> str | None:
    try:
        response = requests.get(
            METADATA_PROJECT_URL, headers={"Metadata-Flavor": "Google"}, timeout=timeout_s
        )
    except requests.RequestException as exc:
        logger.debug(kv("gcp_metadata_probe", result="unreachable", error=type(exc).__name__))
        return None
    project = response.text.strip()
    if response.status_code != 200 or response.headers.get("Metadata-Flavor") != "Google":
        logger.debug(kv("gcp_metadata_probe", result="not_gcp", status=response.status_code))
        return None
    if not project:
        return None
    logger.info(kv("gcp_metadata_probe", result="gcp", project=project))
    return project


def clear_gcp_detection_cache() -> None:
    """Forget the cached metadata-server answer (tests; a process normally never needs it)."""
    global _metadata_project
    _metadata_project = _UNPROBED


def running_on_gcp(*, timeout_s: float = 0.3) -> bool:
    """True when GCP_PROJECT / GOOGLE_CLOUD_PROJECT is set or the metadata server answers.

    The metadata probe waits at most `timeout_s` seconds and is made once per process.
    """
    return _project_from_env() is not None or metadata_project_id(timeout_s=timeout_s) is not None


# --- Google Secret Manager ------------------------------------------------------------------


class GoogleSecretStore:
    """Google Secret Manager over its REST transport; reads `versions/latest`, writes versions.

    The client is created on first use, never at import or construction, because building it
    without credentials probes the metadata server for seconds. A secret that does not exist
    reads as None; `put` creates it (automatic replication) when it is missing.
    """

    def __init__(
        self,
        project_id: str | None = None,
        *,
        credentials: Credentials | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._project_id = project_id
        self._credentials = credentials
        self._timeout_s = timeout_s
        self._client_obj: Any = None

    @property
    def project_id(self) -> str:
        """The GCP project: as given, else from the environment, else from the metadata server."""
        if self._project_id is None:
            project = _project_from_env() or metadata_project_id()
            if project is None:
                raise SecretStoreError(
                    "Google Secret Manager: no GCP project id "
                    f"(set {' or '.join(PROJECT_ENV_VARS)}, or run on GCP)"
                )
            self._project_id = project
        return self._project_id

    def _client(self) -> Any:
        if self._client_obj is None:
            from google.auth.exceptions import GoogleAuthError
            from google.cloud import secretmanager

            try:
                self._client_obj = secretmanager.SecretManagerServiceClient(
                    transport="rest", credentials=self._credentials
                )
            except GoogleAuthError as exc:
                raise SecretStoreError(
                    f"Google Secret Manager: no usable credentials ({type(exc).__name__})"
                ) from None
        return self._client_obj

    def get(self, name: str) -> str | None:
        from google.api_core import exceptions as gexc

        path = f"projects/{self.project_id}/secrets/{name}/versions/latest"
        try:
            response = self._client().access_secret_version(name=path, timeout=self._timeout_s)
        except gexc.NotFound:
            logger.info(kv("secret_not_found", store="gcp", secret=name))
            return None
        except gexc.GoogleAPIError as exc:
            raise SecretStoreError(_gcp_failure("read", name, exc)) from None
        try:
            value: str = response.payload.data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretStoreError(
                f"Google Secret Manager: secret {name!r} is not UTF-8 text"
            ) from None
        return value

    def put(self, name: str, value: str) -> None:
        from google.api_core import exceptions as gexc

        parent = f"projects/{self.project_id}/secrets/{name}"
        payload = {"data": value.encode("utf-8")}
        client = self._client()
        try:
            try:
                client.add_secret_version(parent=parent, payload=payload, timeout=self._timeout_s)
            except gexc.NotFound:
                logger.info(kv("secret_create", store="gcp", secret=name))
                client.create_secret(
                    parent=f"projects/{self.project_id}",
                    secret_id=name,
                    secret={"replication": {"automatic": {}}},
                    timeout=self._timeout_s,
                )
                client.add_secret_version(parent=parent, payload=payload, timeout=self._timeout_s)
        except gexc.GoogleAPIError as exc:
            raise SecretStoreError(_gcp_failure("write", name, exc)) from None
        logger.info(kv("secret_version_added", store="gcp", secret=name))


def _gcp_failure(action: str, name: str, exc: Exception) -> str:
    # Only the error class and HTTP code: the server's text is not ours to vouch for.
    code = getattr(exc, "code", None)
    return f"Google Secret Manager: cannot {action} secret {name!r} ({type(exc).__name__} {code})"


# --- environment ----------------------------------------------------------------------------


def env_var_name(name: str) -> str:
    """`calypso-saxo-credentials` -> `CALYPSO_SECRET_CALYPSO_SAXO_CREDENTIALS`."""
    return ENV_PREFIX + name.upper().replace("-", "_")


class EnvSecretStore:
    """Secrets from environment variables `CALYPSO_SECRET_<NAME>` (dashes -> underscores).

    Read-only: `put` raises ReadOnlySecretStoreError. An empty variable counts as absent.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(env_var_name(name))
        return value if value else None

    def put(self, name: str, value: str) -> None:
        raise ReadOnlySecretStoreError(
            f"environment secret store is read-only (cannot write {env_var_name(name)})"
        )


# --- owner-only JSON file -------------------------------------------------------------------


class FileSecretStore:
    """A JSON object `{name: value}` in a file that only its owner may read (mode 0600).

    A missing file holds no secrets. A file readable by group or others is refused with
    SecretStoreError. A value may be a string or a JSON object/array (returned as JSON text).
    `put` rewrites the file atomically (temp file, fsync, os.replace) at mode 0600, under a
    file lock so concurrent writers lose no update.
    """

    def __init__(self, path: Path, *, lock_timeout_s: float = 10.0) -> None:
        self.path = path
        self._lock_timeout_s = lock_timeout_s

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def put(self, name: str, value: str) -> None:
        lock = FileLock(str(self.path) + ".lock", timeout=self._lock_timeout_s)
        try:
            with lock:
                data = self._read()
                data[name] = value
                self._write(data)
        except Timeout:
            raise SecretStoreError(f"secrets file {self.path}: lock busy, not written") from None
        logger.info(kv("secret_written", store="file", path=self.path, secret=name))

    def _read(self) -> dict[str, str]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretStoreError(f"secrets file {self.path}: {exc.strerror}") from None
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise SecretStoreError(
                f"secrets file {self.path} has mode {mode:04o}; it must be readable by its "
                f"owner only (chmod 600 {self.path})"
            )
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretStoreError(f"secrets file {self.path}: cannot read ({exc})") from None
        return _parse_secrets_json(self.path, text)

    def _write(self, data: Mapping[str, str]) -> None:
        try:
            write_private_json(self.path, data)
        except OSError as exc:
            raise SecretStoreError(f"secrets file {self.path}: cannot write ({exc})") from None


def _parse_secrets_json(path: Path, text: str) -> dict[str, str]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        # Position only: the decoder's excerpt of the document could contain a value.
        raise SecretStoreError(
            f"secrets file {path}: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(raw, dict):
        raise SecretStoreError(f"secrets file {path}: top level must be a JSON object")
    result: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            result[name] = value
        elif isinstance(value, dict | list):
            result[name] = json.dumps(value)
        else:
            raise SecretStoreError(
                f"secrets file {path}: secret {name!r} must be a string or a JSON object"
            )
    return result


# --- chain and default ----------------------------------------------------------------------


class ChainSecretStore:
    """Several stores in order: the first that has a name wins; `put` goes to the first store
    that accepts writes (read-only stores are skipped; any other failure is raised)."""

    def __init__(self, stores: Sequence[SecretStore]) -> None:
        if not stores:
            raise ValueError("ChainSecretStore needs at least one store")
        self.stores: tuple[SecretStore, ...] = tuple(stores)

    def get(self, name: str) -> str | None:
        for store in self.stores:
            value = store.get(name)
            if value is not None:
                return value
        return None

    def put(self, name: str, value: str) -> None:
        for store in self.stores:
            try:
                store.put(name, value)
            except ReadOnlySecretStoreError:
                continue
            return
        raise ReadOnlySecretStoreError(f"no writable secret store for secret {name!r}")


def default_secret_store(home: Path | None = None) -> SecretStore:
    """Google Secret Manager when on GCP, then the environment, then CALYPSO_HOME/secrets.json.

    The file store is always last in the chain: a missing file reads as empty, and `put`
    creates it at mode 0600 when no earlier store is writable (off GCP).
    """
    stores: list[SecretStore] = []
    if running_on_gcp():
        stores.append(GoogleSecretStore())
    stores.append(EnvSecretStore())
    stores.append(FileSecretStore((home or paths.calypso_home()) / SECRETS_FILE_NAME))
    logger.info(kv("secret_store_chain", stores=",".join(type(store).__name__ for store in stores)))
    return ChainSecretStore(stores)
