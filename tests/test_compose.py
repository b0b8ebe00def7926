"""compose.yaml, checked without a Docker engine.

The file is validated by Debian's `docker-compose` (1.29, `config -q`), which checks it
against the Compose Specification without talking to an engine. The app service is then
checked against what the service itself reads: its variables, its port, its command, and
the two services it talks to.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from scripts.system_deps import SEARCH_PATH
from service.config import ROOT, Settings, env_names, load_settings
from service.db.sqltext import split_statements, strip_comments
from service.storage import S3BlobStore, create_blob_store
from tests.system_deps import require

COMPOSE = ROOT / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    text = COMPOSE.read_text()
    # No interpolation is used, so the values below are exactly what the containers get.
    assert "$" not in text, "compose.yaml uses ${...} interpolation; this test reads literals"
    return yaml.safe_load(text)


def docker_compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q`: the Compose Specification check, no engine needed."""
    require("docker-compose")
    binary = shutil.which("docker-compose", path=SEARCH_PATH)
    assert binary is not None  # require() checked it
    return subprocess.run(
        [binary, "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=60,
    )


def _ports(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host_ip, published, target) for each short-syntax `[IP:]HOST:CONTAINER` mapping."""
    mappings = []
    for entry in service.get("ports", []):
        parts = str(entry).partition("/")[0].split(":")
        assert len(parts) in (2, 3), f"publish ports as [IP:]HOST:CONTAINER, got {entry!r}"
        ip = parts[0] if len(parts) == 3 else ""
        mappings.append((ip, int(parts[-2]), int(parts[-1])))
    return mappings


def _app_env(compose: dict[str, Any]) -> dict[str, str]:
    env = compose["services"]["app"]["environment"]
    assert isinstance(env, dict), "write the app's environment as a mapping"
    return {name: str(value) for name, value in env.items()}


def test_compose_file_matches_the_specification() -> None:
    result = docker_compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "mutate",
    [
        lambda doc: doc["services"]["app"].update(dependson=["minio"]),
        lambda doc: doc["services"]["app"]["depends_on"]["minio"].update(condition="ready"),
        lambda doc: doc["services"]["minio"].update(ports="9002:9000"),
        lambda doc: doc["services"]["singlestore"]["healthcheck"].update(test={"cmd": "x"}),
    ],
)
def test_the_check_rejects_broken_files(
    compose: dict[str, Any], mutate: Any, tmp_path: Path
) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    for support in ("Dockerfile", "docker"):
        (tmp_path / support).symlink_to(ROOT / support)
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert docker_compose_config(path).returncode != 0


def test_app_environment_is_what_the_service_reads(compose: dict[str, Any]) -> None:
    env = _app_env(compose)
    assert set(env) <= set(env_names()), set(env) - set(env_names())
    settings = load_settings(environ=env, dotenv=None)
    assert settings.dialect == "singlestore"
    assert settings.host == "0.0.0.0"  # reachable from outside the container
    store = create_blob_store(settings.storage_url)  # no network: buckets are checked lazily
    assert isinstance(store, S3BlobStore)
    store.close()


def test_app_port_and_command(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    settings = load_settings(environ=_app_env(compose), dotenv=None)
    assert [target for _, _, target in _ports(app)] == [settings.port]
    command = " ".join(app["command"]) if isinstance(app["command"], list) else app["command"]
    steps = re.findall(r"python -m service (\w+)", command)
    assert steps == ["migrate", "seed", "serve"]
    assert "&&" in command  # serve only after migrate and seed succeeded
    assert (ROOT / app["build"]["dockerfile"]).is_file()
    dockerfile = (ROOT / app["build"]["dockerfile"]).read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert re.search(r"^COPY sql ", dockerfile, re.M)  # migrations are read from sql/


def test_app_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    depends = services["app"]["depends_on"]
    assert set(depends) == {"singlestore", "minio"}
    for name, dependency in depends.items():
        assert dependency["condition"] == "service_healthy"
        assert services[name]["healthcheck"]["test"]
    assert services["singlestore"]["healthcheck"]["test"] == ["CMD", "/scripts/healthcheck.sh"]
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert services["minio"]["command"] == ["server", "/data", "--console-address", ":9001"]


def test_database_url_points_at_the_singlestore_service(compose: dict[str, Any]) -> None:
    singlestore = compose["services"]["singlestore"]
    url = urlsplit(_app_env(compose)["DATABASE_URL"])
    assert url.hostname == "singlestore"
    assert url.port == 3306
    assert url.password == singlestore["environment"]["ROOT_PASSWORD"]
    # The database the URL names is the one the init SQL creates.
    mounts = dict(reversed(v.split(":")[:2]) for v in singlestore["volumes"])
    init_sql = (ROOT / mounts["/init.sql"]).read_text()
    database = url.path.strip("/")
    assert re.search(rf"CREATE DATABASE IF NOT EXISTS {database};", init_sql)


def test_storage_url_points_at_the_minio_service(compose: dict[str, Any]) -> None:
    minio = compose["services"]["minio"]
    url = urlsplit(_app_env(compose)["STORAGE_URL"])
    assert url.scheme == "s3"
    assert url.hostname == "minio"
    assert (url.username, url.password) == (
        minio["environment"]["MINIO_ROOT_USER"],
        minio["environment"]["MINIO_ROOT_PASSWORD"],
    )
    published = {target: port for _, port, target in _ports(minio)}
    assert url.port == 9000 and 9000 in published  # MinIO's S3 API port inside the network
    # Browsers get URLs signed for the published port.
    public = parse_qs(url.query)["public_endpoint"][0]
    assert public == f"localhost:{published[9000]}"


def test_published_ports_do_not_collide(compose: dict[str, Any]) -> None:
    published = [
        (ip, port) for service in compose["services"].values() for ip, port, _ in _ports(service)
    ]
    assert len(published) == len(set(published)), published
    # SingleStore's Data API owns 9000, so MinIO's S3 API must be published elsewhere.
    assert ("127.0.0.1", 9000) in _ports_of(compose, "singlestore")
    assert ("127.0.0.1", 9000) not in _ports_of(compose, "minio")


def _ports_of(compose: dict[str, Any], name: str) -> list[tuple[str, int]]:
    return [(ip, port) for ip, port, _ in _ports(compose["services"][name])]


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    images = {name: s["image"] for name, s in compose["services"].items() if "image" in s}
    assert images["singlestore"].startswith("ghcr.io/singlestore-labs/singlestoredb-dev:")
    assert images["minio"].startswith("quay.io/minio/minio:RELEASE.")
    for image in images.values():
        tag = image.rpartition(":")[2]
        assert tag and tag != "latest" and "/" not in tag, image


def test_init_sql_sets_the_globals_before_the_database_exists(compose: dict[str, Any]) -> None:
    mounts = dict(reversed(v.split(":")[:2]) for v in compose["services"]["singlestore"]["volumes"])
    statements = [
        " ".join(strip_comments(s).split())
        for s in split_statements((ROOT / mounts["/init.sql"]).read_text())
    ]
    seconds = Settings().db_lock_wait_timeout
    assert statements == [
        "SET GLOBAL character_set_server = 'utf8mb4'",
        f"SET GLOBAL lock_wait_timeout = {seconds}",  # what the app asks for by default
        "FLUSH CONNECTION POOLS",  # after the global changes, so the leaves take them
        "CREATE DATABASE IF NOT EXISTS retail_pulse",
    ]


def test_the_readme_minio_example_is_the_compose_minio(compose: dict[str, Any]) -> None:
    """The README's STORAGE_URL for running the app on the host against `docker compose up`'s
    MinIO: its keys and published S3 port."""
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"^STORAGE_URL='?(s3://[^'\s]+)", readme, re.MULTILINE)
    assert examples
    minio = compose["services"]["minio"]
    published = {target: port for _, port, target in _ports(minio)}
    for example in examples:
        url = urlsplit(example)
        assert (url.username, url.password) == (
            minio["environment"]["MINIO_ROOT_USER"],
            minio["environment"]["MINIO_ROOT_PASSWORD"],
        )
        assert (url.hostname, url.port) == ("127.0.0.1", published[9000])
