from pathlib import Path

import pytest

from decroche.config import ConfigError, load_config


def test_defaults_need_no_file() -> None:
    config = load_config(None, environ={})
    assert config.database_url() == "sqlite:///data/decroche.db"
    assert config.ari.app == "decroche"


def test_environment_overrides_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("ari:\n  url: http://pbx:8088/ari\n", encoding="utf-8")
    config = load_config(path, environ={"DECROCHE_ARI__PASSWORD": "s3cret"})
    assert config.ari.url == "http://pbx:8088/ari"
    assert config.ari.password.get_secret_value() == "s3cret"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("ari:\n  urll: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: ari\.urll"):
        load_config(path, environ={})
