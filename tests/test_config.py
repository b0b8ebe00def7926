from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.config import ConfigError, Settings, load_settings, settings_from

FIELDS = msgspec.inspect.type_info(Settings).fields


def test_defaults_suit_make_run() -> None:
    settings = load_settings(environ={}, dotenv=None)
    assert settings == Settings()
    assert settings.database_url == "sqlite:///var/retail_pulse.db"
    assert settings.storage_url == "file://var/blobs"
    assert (settings.host, settings.port) == ("127.0.0.1", 8001)
    assert settings.dialect == "sqlite"


def test_serve_runs_one_process_per_usable_cpu_unless_told() -> None:
    import os

    assert load_settings(environ={}, dotenv=None).web_concurrency == len(os.sched_getaffinity(0))
    assert load_settings(environ={"WEB_CONCURRENCY": "1"}, dotenv=None).web_concurrency == 1


def test_job_concurrency_is_shared_out_across_the_processes() -> None:
    from service.supervisor import share

    settings = load_settings(environ={"JOB_CONCURRENCY": "10"}, dotenv=None)
    assert [share(settings, 4, index).job_concurrency for index in range(4)] == [3, 3, 2, 2]
    assert {share(settings, 16, index).job_concurrency for index in range(16)} == {1}


def test_values_are_parsed_into_types() -> None:
    settings = load_settings(
        environ={
            "PORT": "9000",
            "PROCESSING_DELAY": "0",
            "ALLOW_PRIVATE_IMAGE_URLS": "yes",
            "DATABASE_URL": "singlestoredb://root:pw@db:3306/retail",
            "LOG_FORMAT": "JSON",
        },
        dotenv=None,
    )
    assert settings.port == 9000
    assert settings.processing_delay == (0.0, 0.0)
    assert settings.allow_private_image_urls is True
    assert settings.dialect == "singlestore"
    assert settings.log_format == "json"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("DATABASE_URL", "postgres://x/y"),
        ("STORAGE_URL", "ftp://x"),
        ("LOG_LEVEL", "chatty"),
        ("PROCESSING_DELAY", "0.4-0.1"),
        ("JOB_CONCURRENCY", "0"),
        ("WEB_CONCURRENCY", "0"),
        ("WEB_CONCURRENCY", "many"),
        ("ALLOW_PRIVATE_IMAGE_URLS", "maybe"),
        ("QA_CONSENSUS", "crowdlab"),
        ("QA_CONFIDENCE", "0.5"),
        ("QA_CONFIDENCE", "1"),
        ("QA_VOTES", "2"),
        ("QA_TRUST_LEAD", "sometimes"),
        ("QA_PRIORITY", "loudest"),
        ("PROCESSING_DELAY", "0-70"),
        ("PROCESSING_DELAY", "soon"),
        ("EMBED_JOB_IMAGES", "1.5"),
        ("HOST", "  "),
        ("PUBLIC_URL", "ftp://example.com"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value}, dotenv=None)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_a_lease_too_short_for_a_download_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"LEASE_SECONDS": "10", "DOWNLOAD_TIMEOUT": "10"}, dotenv=None)
    assert caught.value.variable == "LEASE_SECONDS"
    load_settings(environ={"LEASE_SECONDS": "20", "DOWNLOAD_TIMEOUT": "10"}, dotenv=None)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# local\nPORT=8100\nHOST='0.0.0.0'\nexport LOG_LEVEL=debug\n")
    settings = load_settings(environ={"PORT": "8200"}, dotenv=dotenv)
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 8200, "debug")


def _numbers(info: Any) -> list[Any]:
    """The int and float types inside a field's type (a tuple's items included)."""
    if isinstance(info, msgspec.inspect.Metadata):
        return _numbers(info.type)
    if isinstance(info, msgspec.inspect.TupleType):
        return [kind for item in info.item_types for kind in _numbers(item)]
    numeric = (msgspec.inspect.IntType, msgspec.inspect.FloatType)
    return [info] if isinstance(info, numeric) else []


def _bounds(name: str) -> tuple[float, float]:
    [kind] = [_numbers(field.type) for field in FIELDS if field.name == name][0]
    return kind.ge, kind.le


NUMBERS = [f.name for f in FIELDS if _numbers(f.type) and f.name != "processing_delay"]


def test_every_number_has_both_bounds() -> None:
    unbounded = [
        field.name
        for field in FIELDS
        for kind in _numbers(field.type)
        if kind.ge is None or kind.le is None
    ]
    assert NUMBERS and unbounded == []


def test_every_text_is_checked() -> None:
    """A str field is one of a few names, has a length or pattern, or a parser that checks it."""

    def checked(info: Any) -> bool:
        if isinstance(info, msgspec.inspect.LiteralType):
            return True
        if isinstance(info, msgspec.inspect.StrType):
            return bool(info.min_length or info.pattern)
        return isinstance(info, msgspec.inspect.Metadata) and (
            bool((info.extra or {}).get("parse")) or checked(info.type)
        )

    def text(info: Any) -> bool:
        if isinstance(info, msgspec.inspect.Metadata):
            return text(info.type)
        return isinstance(info, (msgspec.inspect.StrType, msgspec.inspect.LiteralType))

    texts = [field for field in FIELDS if text(field.type)]
    assert len(texts) >= 10 and [f.name for f in texts if not checked(f.type)] == []


@pytest.mark.parametrize("name", NUMBERS)
def test_a_number_outside_its_bounds_names_the_variable(name: str) -> None:
    low, high = _bounds(name)
    step = 1 if isinstance(low, int) and isinstance(high, int) else max(abs(high) / 100, 1e-3)
    for value in (low - step, high + step):
        with pytest.raises(ConfigError) as caught:
            load_settings(environ={name.upper(): str(value)}, dotenv=None)
        assert caught.value.variable == name.upper()
        assert str(caught.value).startswith(f"{name.upper()}: must be ")
        assert str(caught.value).endswith(f"between {low} and {high} (got {str(value)!r})")


def test_an_error_keeps_its_wording() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"JOB_CONCURRENCY": "0"}, dotenv=None)
    assert str(caught.value) == "JOB_CONCURRENCY: must be between 1 and 10000 (got '0')"


def test_a_secret_is_never_repeated() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"DATABASE_URL": "postgres://u:hunter2@db/x"}, dotenv=None)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        settings_from({"api_keys": [["hunter2-but-long-enough", "root"]]})
    assert caught.value.variable == "API_KEYS" and "hunter2" not in str(caught.value)


def test_settings_built_in_code_are_checked_only_on_request() -> None:
    # Tests build short leases and the like on purpose; settings_from checks like the env does.
    built = Settings(job_concurrency=0)
    with pytest.raises(ConfigError, match="^JOB_CONCURRENCY: must be between 1 and 10000"):
        settings_from(msgspec.structs.asdict(built))
    with pytest.raises(ConfigError, match="^LEASE_SECONDS: must exceed"):
        settings_from(msgspec.structs.asdict(Settings(lease_seconds=2.0)))
    assert settings_from({}) == Settings()


def test_shares_and_delays_read_their_words() -> None:
    settings = load_settings(
        environ={"EMBED_JOB_IMAGES": "None", "PROCESSING_DELAY": " 0.25 ", "PORT": " 80 "},
        dotenv=None,
    )
    assert (settings.embed_job_images, settings.processing_delay) == (0.0, (0.25, 0.25))
    assert settings.port == 80
    assert load_settings(environ={"EMBED_JOB_IMAGES": "all"}, dotenv=None).embed_job_images == 1


def test_qa_consensus_settings() -> None:
    settings = load_settings(
        environ={"QA_CONSENSUS": "Assisted", "QA_CONFIDENCE": "0.995"}, dotenv=None
    )
    assert (settings.qa_consensus, settings.qa_confidence) == ("assisted", 0.995)
    assert (Settings().qa_consensus, Settings().qa_confidence) == ("majority", 0.99)


def test_qa_trust_lead_is_off_unless_set() -> None:
    assert Settings().qa_trust_lead is False
    for raw, expected in (("true", True), ("ON", True), ("0", False), ("no", False)):
        settings = load_settings(environ={"QA_TRUST_LEAD": raw}, dotenv=None)
        assert settings.qa_trust_lead is expected, raw
