"""Configuration: file defaults and sections, one-line errors, and where the data and the database live."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargewise.config import (
    ConfigError,
    FileConfig,
    LinkConfig,
    LinkOverride,
    ServerConfig,
    data_dir,
    database_url,
    load_file,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHARGEWISE_DATA_DIR", raising=False)
    monkeypatch.delenv("CHARGEWISE_DB", raising=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- load_file
def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_file(None, tmp_path)
    assert config == FileConfig()
    assert (config.server.host, config.server.ocpp_port, config.server.http_port) == ("0.0.0.0", 9000, 8080)
    assert (config.server.unknown_chargers, config.server.heartbeat_interval, config.server.free_charging) == (
        "pending", 300, False,
    )  # fmt: skip
    assert config.link == LinkConfig(ping_interval=60.0, ping_timeout=30.0, call_timeout=30.0, max_message_size=65536)
    assert config.chargers == {}


def test_default_file_in_the_data_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path / "chargewise.toml", "[server]\nocpp_port = 9100\n")
    config = load_file(None, tmp_path)
    assert config.server.ocpp_port == 9100
    assert config.server.http_port == 8080  # unnamed keys keep their defaults


def test_every_section(tmp_path: Path) -> None:
    path = write(
        tmp_path / "site.toml",
        """
[server]
host = "127.0.0.1"
ocpp_port = 19000
http_port = 18080
unknown_chargers = "reject"
heartbeat_interval = 120
free_charging = true

[link]
ping_interval = 20
ping_timeout = 10.5
call_timeout = 15
max_message_size = 131072

[chargers."CP-1"]
ping_interval = 5

[chargers."CP-2"]
call_timeout = 60
ping_timeout = 3
""",
    )
    config = load_file(path, tmp_path / "elsewhere")
    assert config.server == ServerConfig(host="127.0.0.1", ocpp_port=19000, http_port=18080, unknown_chargers="reject",
                                         heartbeat_interval=120, free_charging=True)  # fmt: skip
    assert config.link == LinkConfig(ping_interval=20.0, ping_timeout=10.5, call_timeout=15.0, max_message_size=131072)
    assert config.chargers == {
        "CP-1": LinkOverride(ping_interval=5.0),
        "CP-2": LinkOverride(call_timeout=60.0, ping_timeout=3.0),
    }


def test_named_file_wins_over_the_data_directorys(tmp_path: Path) -> None:
    write(tmp_path / "chargewise.toml", "[server]\nocpp_port = 1\n")
    named = write(tmp_path / "named.toml", "[server]\nocpp_port = 2\n")
    assert load_file(named, tmp_path).server.ocpp_port == 2


@pytest.mark.parametrize("policy", ["accept", "pending", "reject"])
def test_each_unknown_charger_policy(tmp_path: Path, policy: str) -> None:
    path = write(tmp_path / "c.toml", f'[server]\nunknown_chargers = "{policy}"\n')
    assert load_file(path, tmp_path).server.unknown_chargers == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[server]\nunknown_chargers = "maybe"\n', "server.unknown_chargers must be accept, pending or reject"),
        ("[server]\nocpp_prot = 9000\n", "Object contains unknown field `ocpp_prot`"),
        ('[server]\nocpp_port = "9000"\n', "Expected `int`, got `str`"),
        ('[link]\nping_interval = "soon"\n', "Expected `float`, got `str`"),
        ('[chargers."CP-1"]\nmax_message_size = 1\n', "unknown field `max_message_size`"),
        ('[sever]\nhost = "x"\n', "unknown field `sever`"),
        ('[server\nhost = "x"\n', "is not valid TOML"),
        ("[server]\nocpp_port = 70000\n", "Expected `int` <= 65535 - at `$.server.ocpp_port`"),
        ("[server]\nhttp_port = -1\n", "Expected `int` >= 0 - at `$.server.http_port`"),
        ("[server]\nheartbeat_interval = 0\n", "Expected `int` >= 1 - at `$.server.heartbeat_interval`"),
        ("[server]\nreap_offline_after = -1\n", "Expected `int` >= 0 - at `$.server.reap_offline_after`"),
        ("[server]\nreap_offline_after = 500\n", "must be 0 or at least twice heartbeat_interval (300 s)"),
        ("[server]\nmax_pending = -1\n", "Expected `int` >= 0 - at `$.server.max_pending`"),
        ("[server]\npending_per_minute = 0\n", "Expected `int` >= 1 - at `$.server.pending_per_minute`"),
        ("[link]\nping_interval = -5\n", "Expected `float` >= 0.0 - at `$.link.ping_interval`"),
        ("[link]\nping_timeout = 0\n", "Expected `float` > 0.0 - at `$.link.ping_timeout`"),
        ("[link]\ncall_timeout = -1.5\n", "Expected `float` > 0.0 - at `$.link.call_timeout`"),
        ("[link]\nmax_message_size = 10\n", "Expected `int` >= 1024 - at `$.link.max_message_size`"),
        ('[chargers."CP-1"]\nping_timeout = 0\n', "Expected `float` > 0.0 - at `$.chargers[...].ping_timeout`"),
        ("host = \n", "is not valid TOML"),
        ("[doctor]\nretention_days = 0\n", "Expected `float` > 0.0 - at `$.doctor.retention_days`"),
        ("[doctor]\nkeep = 3\n", "unknown field `keep`"),
    ],
)
def test_bad_file_is_one_config_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as raised:
        load_file(path, tmp_path)
    text_of = str(raised.value)
    assert message in text_of
    assert str(path) in text_of
    assert "\n" not in text_of


def test_schema_errors_point_to_the_readme(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", "[server]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"\$\.server.*see the config section of the README"):
        load_file(path, tmp_path)


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=rf"cannot read config file {missing}: No such file or directory"):
        load_file(missing, tmp_path)


def test_directory_as_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_file(tmp_path, tmp_path)


# ---------------------------------------------------------------------------------------------- data_dir
def test_data_dir_option_over_environment_over_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data_dir(None) == Path("data")
    monkeypatch.setenv("CHARGEWISE_DATA_DIR", str(tmp_path / "env"))
    assert data_dir(None) == tmp_path / "env"
    assert data_dir(str(tmp_path / "option")) == tmp_path / "option"


def test_empty_environment_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEWISE_DATA_DIR", "")
    monkeypatch.setenv("CHARGEWISE_DB", "")
    assert data_dir(None) == Path("data")
    assert database_url(None, Path("d")).startswith("sqlite+aiosqlite:///")


# ---------------------------------------------------------------------------------------------- database_url
def test_default_database_is_sqlite_in_the_resolved_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url(None, Path("data")) == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/chargewise.db"


def test_database_option_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_url = "postgresql+asyncpg://postgres@127.0.0.1/from_env"
    option_url = "sqlite+aiosqlite:////srv/option.db"
    monkeypatch.setenv("CHARGEWISE_DB", env_url)
    assert database_url(None, tmp_path) == env_url
    assert database_url(option_url, tmp_path) == option_url


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1/db", "sqlite:///x.db", "mysql+aiomysql://u@h/db", "chargewise.db"]
)
def test_unsupported_database_url_says_what_to_use(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unsupported database URL .* use sqlite\+aiosqlite:///PATH or postgresql"):
        database_url(url, tmp_path)


def test_unsupported_database_url_from_the_environment_is_refused_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHARGEWISE_DB", "postgres://nope")
    with pytest.raises(ConfigError, match="'postgres://nope'"):
        database_url(None, tmp_path)


def test_serve_takes_the_failed_password_limits_from_the_server_section(tmp_path: Path) -> None:
    from chargewise.cli import build_parser
    from chargewise.cli_commands import settings_from
    from chargewise.services.gatekeeper import AuthLimits

    text = "[server]\nauth_failures_per_charger = 3\nauth_failures_per_address = 0\nauth_failure_window = 30\n"
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "data"), "--config",
                                      str(write(tmp_path / "site.toml", text))])  # fmt: skip
    auth = settings_from(args).auth  # type: ignore[attr-defined]
    assert auth == AuthLimits(charger_failures=3, address_failures=0, window=30.0)
    default = settings_from(build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "other")]))
    assert default.auth == AuthLimits()  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="auth_failures_per_charger"):
        load_file(write(tmp_path / "bad.toml", "[server]\nauth_failures_per_charger = -1\n"), tmp_path)


def test_serve_takes_the_server_section_into_its_policy(tmp_path: Path) -> None:
    from chargewise.cli import build_parser
    from chargewise.cli_commands import settings_from

    path = write(tmp_path / "site.toml", "[server]\nreap_offline_after = 7200\nheartbeat_interval = 120\n")
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "data"), "--config", str(path)])
    settings = settings_from(args)
    policy = settings.policy  # type: ignore[attr-defined]
    assert (policy.reap_offline_after, policy.heartbeat_interval) == (7200, 120)
    default = settings_from(build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "other")]))
    assert default.policy.reap_offline_after == 86_400  # type: ignore[attr-defined]  # a day


def test_serve_takes_the_newcomer_bounds_and_shares_the_port_only_with_workers(tmp_path: Path) -> None:
    from chargewise.cli import build_parser
    from chargewise.cli_commands import settings_from

    path = write(tmp_path / "site.toml", "[server]\nmax_pending = 5\npending_per_minute = 2\n")
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "data"), "--config", str(path)])
    settings = settings_from(args)
    assert (settings.policy.max_pending, settings.policy.pending_per_minute) == (5, 2)  # type: ignore[attr-defined]
    assert settings.share_port is False  # type: ignore[attr-defined]
    workers = build_parser().parse_args(["serve", "--data-dir", str(tmp_path / "data"), "--workers", "2"])
    assert settings_from(workers).share_port is True  # type: ignore[attr-defined]


def test_the_doctor_section_sets_the_signal_retention(tmp_path: Path) -> None:
    from chargewise.cli import build_parser
    from chargewise.cli_commands import settings_from

    write(
        tmp_path / "chargewise.toml",
        "[doctor]\nretention_days = 3\nrows_per_charger = 100\nflush_every = 60\nwatch_radio = false\n",
    )
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path)])
    retention = settings_from(args).doctor
    assert (retention.days, retention.rows_per_charger, retention.flush_every_s, retention.watch_radio) == (
        3.0, 100, 60.0, False)  # fmt: skip
