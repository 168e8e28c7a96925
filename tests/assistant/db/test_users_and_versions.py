"""Users with roles and passwords; immutable workflow versions with diffs."""

import pytest
from sqlalchemy.engine import Engine

from assistant.db.engine import make_engine
from assistant.db.users import (
    UserDirectory,
    UserError,
    add_user,
    check_password,
    get_user,
    list_users,
    remove_user,
)
from assistant.db.versions import diff_versions, get_version, list_workflows, save_version
from assistant.schemas import Step, WorkflowDraft


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def test_users_roles_and_passwords(engine: Engine) -> None:
    directory = UserDirectory(engine)
    assert directory.is_open()
    add_user(
        engine,
        name="carla",
        roles=["cfo", "controller"],
        password="pa55word!",
        email="Carla@Northwind.example",
    )
    add_user(engine, name="ana", roles=["manager"])
    assert not directory.is_open()
    assert (
        directory.roles_of("carla") == ["cfo", "controller"] and directory.roles_of("ghost") is None
    )
    assert directory.who_can(["cfo"]) == ["carla"]
    carla = get_user(engine, name="carla")
    assert carla is not None and carla.email == "carla@northwind.example"
    assert check_password("pa55word!", carla.password_hash) and not check_password(
        "nope", carla.password_hash
    )
    assert "pa55word" not in (carla.password_hash or "")
    with pytest.raises(UserError, match="already exists"):
        add_user(engine, name="ana", roles=["hr"])
    with pytest.raises(UserError, match="unknown role"):
        add_user(engine, name="bob", roles=["wizard"])
    remove_user(engine, name="ana")
    assert [u.name for u in list_users(engine)] == ["carla"]
    with pytest.raises(UserError, match="no user"):
        remove_user(engine, name="ana")


def test_versions_are_stored_once_and_diffable(engine: Engine) -> None:
    v1 = WorkflowDraft(
        title="Invoices",
        goal="g",
        steps=[Step(id="s1", title="Approve", kind="approval", approver_role="cfo")],
    ).sealed()
    v2 = v1.next_version(title="Invoices (EU)")
    for draft in (v1, v1, v2):
        save_version(engine, draft=draft, thread="t1", author="ana")
    assert list_workflows(engine) == [(v1.id, "Invoices (EU)", 2, "t1", "ana")]
    assert get_version(engine, workflow_id=v1.id, version=1) == v1
    assert get_version(engine, workflow_id=v1.id) == v2
    diff = diff_versions(v1, v2)
    assert '-  "title": "Invoices"' in diff and '+  "title": "Invoices (EU)"' in diff
