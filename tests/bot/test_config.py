"""Settings: defaults, parsing, and one clear line per invalid variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_DATABASE_URL", "VIGIE_ADMINS", "VIGIE_TIMEZONE", "VIGIE_LLM_BASE_URL",
                 "VIGIE_LLM_API_KEY", "VIGIE_LLM_MODEL", "VIGIE_LOG_LEVEL", "VIGIE_LOG_FORMAT",
                 "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]


def test_defaults_run_in_console_mode_on_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./vigie.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.has_slack and not settings.has_llm
    assert settings.admins == [] and settings.timezone == "UTC"


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_ADMINS", " U01ABCDEF, W0123456 ;U99ZZZZZ")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("VIGIE_DATABASE_URL", "postgresql://vigie@db/vigie")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    settings = load_settings()
    assert settings.admins == ["U01ABCDEF", "W0123456", "U99ZZZZZ"]
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.database_url == "postgresql+psycopg://vigie@db/vigie"
    assert settings.has_slack and not settings.socket_mode


def test_dotenv_file_is_read(tmp_path: object) -> None:
    (tmp_path / ".env").write_text("VIGIE_TIMEZONE=Europe/Paris\n")  # type: ignore[operator]
    assert load_settings().timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VIGIE_TIMEZONE", "Mars/Olympus", "VIGIE_TIMEZONE: unknown time zone"),
        ("VIGIE_ADMINS", "bob", "VIGIE_ADMINS: 'bob' is not a Slack user id"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-1", "SLACK_APP_TOKEN: must be an app-level token"),
        ("VIGIE_DATABASE_URL", "mysql://x", "VIGIE_DATABASE_URL: must be a SQLAlchemy URL"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: must be an http(s) URL"),
        ("VIGIE_LOG_LEVEL", "LOUD", "VIGIE_LOG_LEVEL: must be one of"),
        ("VIGIE_LOG_FORMAT", "xml", "VIGIE_LOG_FORMAT:"),
        ("VIGIE_POLL_TICK_SECONDS", "soon", "VIGIE_POLL_TICK_SECONDS:"),
    ],
)
def test_invalid_values_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert len(caught.value.lines) == 1
    assert caught.value.lines[0].startswith(expected)
    assert "Traceback" not in str(caught.value)


def test_several_problems_give_several_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_TIMEZONE", "Nowhere")
    monkeypatch.setenv("VIGIE_ADMINS", "alice")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [line.split(":")[0] for line in caught.value.lines] == ["VIGIE_ADMINS", "VIGIE_TIMEZONE"]


def test_secrets_are_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fake-token-secretvalue")
    assert "secretvalue" not in repr(load_settings())


def test_admins_can_name_their_workspace() -> None:
    settings = load_settings(admins="U01ABCDEF, T01TEAMID:U02GHIJKL")
    assert settings.admins == ["U01ABCDEF", "T01TEAMID:U02GHIJKL"]
    with pytest.raises(ConfigError, match="not a Slack team id"):
        load_settings(admins="acme:U02GHIJKL")


def test_port_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().port == 3000
    monkeypatch.setenv("PORT", "8080")
    assert load_settings().port == 8080


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1", "80.5"])
def test_a_bad_port_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PORT", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.lines == [f"PORT: must be a port number (1-65535), not {value!r}"]


def test_socket_mode_web_host_is_this_machine_unless_set(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    assert load_settings().socket_mode_web_host == "127.0.0.1"
    for value, kept in (("0.0.0.0", "0.0.0.0"), ("::", "::"), (" OFF ", "off")):
        monkeypatch.setenv("VIGIE_SOCKET_MODE_WEB_HOST", value)
        assert load_settings().socket_mode_web_host == kept


@pytest.mark.parametrize("value", ["localhost", "0.0.0.0:3000", "", "example.com"])
def test_a_bad_socket_mode_web_host_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                      value: str) -> None:
    monkeypatch.setenv("VIGIE_SOCKET_MODE_WEB_HOST", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.lines == [
        "VIGIE_SOCKET_MODE_WEB_HOST: must be an IP address to listen on (127.0.0.1, 0.0.0.0, "
        f"::) or off, not {value!r}"]


def test_the_start_up_line_lists_the_oauth_redirect(monkeypatch: pytest.MonkeyPatch) -> None:
    # Installing needs both of Bolt's OAuth paths reachable; the line named only one.
    from bot.web import served_endpoints

    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "secret-of-the-app")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    served = served_endpoints(load_settings(), slack=True)
    assert "GET /slack/install, GET /slack/oauth_redirect" in served
    assert "oauth" not in served_endpoints(load_settings(), slack=False)


def test_a_postgres_url_must_name_its_database_in_its_path_or_dbname() -> None:
    # With neither, the tables went into the user's default database (often `postgres`).
    with pytest.raises(ConfigError) as refused:
        load_settings(database_url="postgresql+psycopg://vigie@db.internal:5432/")
    assert refused.value.lines[0].startswith("VIGIE_DATABASE_URL: names no database")
    for url in ("postgresql+psycopg://vigie@db.internal/vigie",
                "postgresql+psycopg://vigie@db.internal/?dbname=vigie",
                "postgresql+psycopg:///vigie?host=/var/run/postgresql"):
        assert load_settings(database_url=url).database_url == url


def test_env_example_documents_every_setting() -> None:
    # The README sends readers to .env.example for every variable.
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    documented = {line.lstrip("# ").split("=", 1)[0] for line in lines if "=" in line}
    assert sorted(str(field.validation_alias) for field in Settings.model_fields.values()
                  if str(field.validation_alias) not in documented) == []
