"""Settings read the environment, default to embedded storage and fail fast on bad values."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.settings import Settings


def test_defaults_keep_everything_inside_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "data")
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'flowdraft.db'}"
    assert settings.chroma_url == ""
    assert settings.model == "offline"
    assert settings.checkpoint_path.parent == tmp_path / "data"


def test_home_is_created_on_first_use(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "new")
    assert not (tmp_path / "new").exists()
    settings.ensure_home()
    assert (tmp_path / "new").is_dir()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDRAFT_MODEL", "openai:gpt-4.1-mini")
    monkeypatch.setenv("FLOWDRAFT_DATABASE_URL", "postgresql+psycopg://u@localhost/fd")
    settings = Settings()
    assert settings.model == "openai:gpt-4.1-mini"
    assert settings.database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "gpt4", "provider:model"),
        ("embeddings", "bert", "not supported"),
        ("chroma_url", "localhost:8000", "http"),
    ],
)
def test_bad_values_fail_with_the_variable_named(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})
