from pathlib import Path

import pytest

from store.config import default_database_url, load_config
from store.errors import ConfigError


def test_defaults_work_offline_with_the_embedded_database():
    config = load_config(env={})
    assert config.email.transport == "outbox"
    assert config.sms.transport == "outbox"
    assert config.push.transport == "outbox"
    assert config.database_url == default_database_url()
    assert config.database_url.startswith("sqlite:///")
    assert config.dedup.campaign_window == "7d"


def test_file_then_environment_then_db_option(tmp_path: Path):
    file = tmp_path / "c.toml"
    file.write_text(
        '[database]\nurl = "sqlite:///from-file.db"\n'
        '[email]\ntransport = "smtp"\nport = 2525\nstarttls = true\n'
        '[contacts]\ndefault_region = "CH"\n'
    )
    config = load_config(str(file), env={"CAMPAIGNS_EMAIL_PORT": "2626", "CAMPAIGNS_EMAIL_STARTTLS": "no"})
    assert config.email.transport == "smtp"
    assert config.email.port == 2626
    assert config.email.starttls is False
    assert config.contacts.default_region == "CH"
    assert config.database_url == "sqlite:///from-file.db"
    assert load_config(str(file), env={"CAMPAIGNS_DB": "sqlite:///env.db"}).database_url == "sqlite:///env.db"
    assert (
        load_config(str(file), "sqlite:///opt.db", env={"CAMPAIGNS_DB": "x"}).database_url
        == "sqlite:///opt.db"
    )


def test_config_file_is_found_in_the_working_directory_or_by_variable(tmp_path: Path):
    (tmp_path / "campaigns.toml").write_text('[sms]\ntoken = "here"\n')
    assert load_config(env={}).sms.token == "here"
    other = tmp_path / "other.toml"
    other.write_text('[sms]\ntoken = "there"\n')
    assert load_config(env={"CAMPAIGNS_CONFIG": str(other)}).sms.token == "there"


@pytest.mark.parametrize(
    ("content", "env", "says"),
    [
        ("[emial]\nport = 1\n", {}, "unknown section [emial]"),
        ("[email]\nprot = 1\n", {}, "unknown key 'prot'"),
        ("[email]\nport = 'many'\n", {}, "email.port must be a whole number"),
        ("[email]\ntransport = 'pigeon'\n", {}, "transport must be 'smtp' or 'outbox'"),
        ("", {"CAMPAIGNS_EMAIL_LANGUAGE": "fr"}, "[email] language must be 'en' or 'it', not 'fr'"),
        ("", {"CAMPAIGNS_SMS_CONNECTIONS": "lots"}, "CAMPAIGNS_SMS_CONNECTIONS must be a whole number"),
        ("[email\n", {}, "cannot read config file"),
    ],
)
def test_a_bad_configuration_is_one_clear_line(tmp_path: Path, content, env, says):
    file = tmp_path / "bad.toml"
    file.write_text(content)
    with pytest.raises(ConfigError, match=None) as caught:
        load_config(str(file), env=env)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_language_the_config_takes_has_its_words():
    from senders.wording import WORDINGS
    from store.config import LANGUAGES

    assert set(WORDINGS) == set(LANGUAGES)


def test_a_missing_config_file_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"), env={})
