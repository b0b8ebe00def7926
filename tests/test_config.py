from pathlib import Path

import pytest

from service.config import ConfigError, Settings, env_names, load_settings


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


def test_every_setting_has_a_variable() -> None:
    assert sorted(env_names()) == sorted(f.upper() for f in Settings.__struct_fields__)


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
