"""Secret stores: Google Secret Manager over REST (HTTP faked by `responses`), env, file, chain."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from google.auth.credentials import AnonymousCredentials

from shared import secret_manager
from shared.secret_manager import (
    METADATA_PROJECT_URL,
    ChainSecretStore,
    EnvSecretStore,
    FileSecretStore,
    GoogleSecretStore,
    ReadOnlySecretStoreError,
    SecretStoreError,
    default_secret_store,
    running_on_gcp,
)

GSM = "https://secretmanager.googleapis.com/v1/projects/proj-1/secrets"
VALUE = "s3cr3t-VALUE-9f2c"  # must never show up in a message or a log record


@pytest.fixture(autouse=True)
def _no_gcp_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    secret_manager.clear_gcp_detection_cache()
    yield
    secret_manager.clear_gcp_detection_cache()


def _gcp_store() -> GoogleSecretStore:
    return GoogleSecretStore("proj-1", credentials=AnonymousCredentials())


def _owner_only_file(path: Path, content: dict[str, object]) -> Path:
    path.write_text(json.dumps(content))
    path.chmod(0o600)
    return path


# --- Google Secret Manager ------------------------------------------------------------------


@responses.activate
def test_gcp_get_returns_latest_version_text() -> None:
    responses.get(
        f"{GSM}/calypso-saxo-credentials/versions/latest:access",
        json={"payload": {"data": base64.b64encode(VALUE.encode()).decode()}},
    )
    assert _gcp_store().get("calypso-saxo-credentials") == VALUE


@responses.activate
def test_gcp_missing_secret_reads_as_none() -> None:
    responses.get(
        f"{GSM}/nope/versions/latest:access",
        status=404,
        json={"error": {"code": 404, "message": "Secret not found", "status": "NOT_FOUND"}},
    )
    assert _gcp_store().get("nope") is None


@responses.activate
def test_gcp_put_adds_a_version_with_the_value() -> None:
    responses.post(f"{GSM}/calypso-saxo-credentials:addVersion", json={"name": "v/2"})
    _gcp_store().put("calypso-saxo-credentials", VALUE)
    body = json.loads(responses.calls[0].request.body)
    assert base64.b64decode(body["payload"]["data"]).decode() == VALUE


@responses.activate
def test_gcp_put_creates_a_missing_secret_then_adds_the_version() -> None:
    not_found = {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}
    add_url = f"{GSM}/new-secret:addVersion"
    responses.post(add_url, status=404, json=not_found)
    responses.post(GSM, json={"name": "projects/proj-1/secrets/new-secret"})
    responses.post(add_url, json={"name": "v/1"})
    _gcp_store().put("new-secret", VALUE)
    create = responses.calls[1].request
    assert "secretId=new-secret" in create.url
    assert json.loads(create.body)["replication"] == {"automatic": {}}
    assert len(responses.calls) == 3


@responses.activate
def test_gcp_permission_error_raises_without_the_value() -> None:
    responses.post(
        f"{GSM}/calypso-saxo-credentials:addVersion",
        status=403,
        json={"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}},
    )
    with pytest.raises(SecretStoreError) as info:
        _gcp_store().put("calypso-saxo-credentials", VALUE)
    assert "calypso-saxo-credentials" in str(info.value)
    assert VALUE not in str(info.value)


def test_gcp_project_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    assert GoogleSecretStore(credentials=AnonymousCredentials()).project_id == "from-env"


@responses.activate
def test_gcp_without_any_project_id_says_how_to_set_one() -> None:
    responses.get(METADATA_PROJECT_URL, body=requests.ConnectionError("no metadata server"))
    with pytest.raises(SecretStoreError, match="GCP_PROJECT"):
        GoogleSecretStore(credentials=AnonymousCredentials()).get("x")


# --- GCP detection --------------------------------------------------------------------------


@responses.activate
def test_project_env_var_means_gcp_without_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCP_PROJECT", "p")
    assert running_on_gcp() is True
    assert len(responses.calls) == 0


@responses.activate
def test_metadata_server_answer_means_gcp() -> None:
    responses.get(METADATA_PROJECT_URL, body="proj-meta", headers={"Metadata-Flavor": "Google"})
    assert running_on_gcp() is True
    assert responses.calls[0].request.headers["Metadata-Flavor"] == "Google"
    assert secret_manager.metadata_project_id() == "proj-meta"


@responses.activate
def test_metadata_timeout_means_not_gcp() -> None:
    responses.get(METADATA_PROJECT_URL, body=requests.exceptions.ConnectTimeout("timed out"))
    assert running_on_gcp(timeout_s=0.01) is False


@responses.activate
def test_answer_without_metadata_flavor_header_is_not_gcp() -> None:
    # e.g. a captive portal answering every host name
    responses.get(METADATA_PROJECT_URL, body="<html>login</html>")
    assert running_on_gcp() is False


@responses.activate
def test_metadata_probe_is_made_once_per_process() -> None:
    responses.get(METADATA_PROJECT_URL, body=requests.exceptions.ConnectTimeout("timed out"))
    running_on_gcp()
    running_on_gcp()
    assert len(responses.calls) == 1


# --- environment ----------------------------------------------------------------------------


def test_env_store_maps_name_to_variable() -> None:
    store = EnvSecretStore({"CALYPSO_SECRET_CALYPSO_SAXO_CREDENTIALS": VALUE})
    assert store.get("calypso-saxo-credentials") == VALUE
    assert store.get("calypso-account-config") is None


def test_env_store_is_read_only() -> None:
    with pytest.raises(ReadOnlySecretStoreError):
        EnvSecretStore({}).put("x", VALUE)


# --- file -----------------------------------------------------------------------------------


def test_file_store_reads_an_owner_only_file(tmp_path: Path) -> None:
    store = FileSecretStore(_owner_only_file(tmp_path / "secrets.json", {"a": VALUE}))
    assert store.get("a") == VALUE
    assert store.get("b") is None


def test_file_store_returns_an_object_value_as_json(tmp_path: Path) -> None:
    path = _owner_only_file(tmp_path / "secrets.json", {"creds": {"app_key": "k"}})
    assert json.loads(FileSecretStore(path).get("creds") or "") == {"app_key": "k"}


def test_file_store_refuses_a_group_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"a": VALUE}))
    path.chmod(0o640)
    with pytest.raises(SecretStoreError, match="0640") as info:
        FileSecretStore(path).get("a")
    assert "chmod 600" in str(info.value)
    assert VALUE not in str(info.value)


def test_missing_file_holds_no_secrets(tmp_path: Path) -> None:
    assert FileSecretStore(tmp_path / "absent.json").get("a") is None


def test_invalid_json_error_gives_position_not_content(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text('{"a": "' + VALUE + '",\n oops}')
    path.chmod(0o600)
    with pytest.raises(SecretStoreError, match="line 2 column 2") as info:
        FileSecretStore(path).get("a")
    assert VALUE not in str(info.value)


def test_file_put_creates_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secrets.json"
    FileSecretStore(path).put("a", VALUE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileSecretStore(path).get("a") == VALUE


def test_file_put_keeps_other_secrets_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = _owner_only_file(tmp_path / "secrets.json", {"keep": "old"})
    FileSecretStore(path).put("new", VALUE)
    assert json.loads(path.read_text()) == {"keep": "old", "new": VALUE}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.json", "secrets.json.lock"]


def test_file_put_refuses_to_rewrite_a_world_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{}")
    path.chmod(0o644)
    with pytest.raises(SecretStoreError):
        FileSecretStore(path).put("a", VALUE)
    assert path.read_text() == "{}"


# --- chain and default ----------------------------------------------------------------------


def test_chain_returns_the_first_store_that_has_the_name(tmp_path: Path) -> None:
    file_store = FileSecretStore(_owner_only_file(tmp_path / "s.json", {"a": "file", "b": "f"}))
    chain = ChainSecretStore([EnvSecretStore({"CALYPSO_SECRET_A": "env"}), file_store])
    assert chain.get("a") == "env"
    assert chain.get("b") == "f"
    assert chain.get("c") is None


def test_chain_put_skips_read_only_stores(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    ChainSecretStore([EnvSecretStore({}), FileSecretStore(path)]).put("a", VALUE)
    assert FileSecretStore(path).get("a") == VALUE


def test_chain_put_with_only_read_only_stores_fails() -> None:
    with pytest.raises(ReadOnlySecretStoreError, match="no writable"):
        ChainSecretStore([EnvSecretStore({})]).put("a", VALUE)


@responses.activate
def test_default_store_off_gcp_is_env_then_home_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.get(METADATA_PROJECT_URL, body=requests.ConnectionError("not on GCP"))
    monkeypatch.setenv("CALYPSO_SECRET_FROM_ENV", "e")
    _owner_only_file(tmp_path / "secrets.json", {"from-file": "f"})
    store = default_secret_store(tmp_path)
    assert isinstance(store, ChainSecretStore)
    assert [type(s) for s in store.stores] == [EnvSecretStore, FileSecretStore]
    assert (store.get("from-env"), store.get("from-file")) == ("e", "f")


@responses.activate
def test_default_store_on_gcp_asks_secret_manager_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCP_PROJECT", "p")
    store = default_secret_store(tmp_path)
    assert isinstance(store, ChainSecretStore)
    assert isinstance(store.stores[0], GoogleSecretStore)


@responses.activate
def test_secret_values_never_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses.get(
        f"{GSM}/s/versions/latest:access",
        json={"payload": {"data": base64.b64encode(VALUE.encode()).decode()}},
    )
    responses.post(f"{GSM}/s:addVersion", json={"name": "v/2"})
    gcp = _gcp_store()
    gcp.put("s", VALUE)
    gcp.get("s")
    file_store = FileSecretStore(tmp_path / "secrets.json")
    file_store.put("s", VALUE)
    file_store.get("s")
    assert caplog.records, "the stores log their writes"
    assert VALUE not in caplog.text


def test_file_store_written_file_is_never_group_readable_even_with_lax_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0o000)
    try:
        FileSecretStore(tmp_path / "secrets.json").put("a", VALUE)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
