"""Schema migrations: new databases start at the latest revision, older ones are upgraded."""

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, create_engine

from assistant.db.engine import make_engine
from assistant.db.migrations import HEAD, HERE, MODELS_DIGEST, current_revision, models_digest


def test_a_new_database_has_every_table_and_starts_at_the_latest_revision(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD


def test_a_database_from_before_migrations_is_stamped_and_upgraded(database_url: str) -> None:
    make_engine(database_url)
    raw = create_engine(database_url)
    with raw.begin() as conn:  # as a release without migrations left it
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DROP TABLE apitoken"))
    with raw.begin() as conn:
        conn.execute(text("CREATE TABLE apitoken (id INTEGER PRIMARY KEY, name VARCHAR)"))
    raw.dispose()

    engine = make_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("apitoken")}
    assert "owner" in columns
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD


def test_the_migrations_describe_the_models() -> None:
    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head == HEAD, f"the newest migration is {head}: set HEAD to it"
    assert models_digest() == MODELS_DIGEST, (
        "the models changed: write a migration in assistant/db/migrations/versions, then set "
        f"HEAD to its revision and MODELS_DIGEST to {models_digest()!r}"
    )


def config() -> Config:
    """Return an Alembic config over the shipped migrations."""
    settings = Config()
    settings.set_main_option("script_location", str(HERE))
    return settings
