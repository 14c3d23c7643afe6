from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from call_center.models import AgentSession, Role
from call_center.models.base import utcnow
from call_center.services import agents
from call_center.services.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unauthorized
from tests.conftest import make_agent


@pytest.fixture
def db(sqlite_db):
    from sqlmodel import Session

    from call_center.core.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def test_create_agent_validates(db):
    agent = make_agent(db, email="Sara@Example.com", name="Sara")
    assert agent.email == "sara@example.com" and agent.role == Role.AGENT
    with pytest.raises(Conflict):
        make_agent(db, email="sara@example.com")
    db.rollback()
    with pytest.raises(InvalidInput):
        agents.create_agent(db, email="not-an-email", name="X", password="long-enough-1")
    with pytest.raises(InvalidInput):
        agents.create_agent(db, email="x@example.com", name="X", password="short")
    with pytest.raises(InvalidInput):
        agents.create_agent(db, email="x@example.com", name="  ", password="long-enough-1")


def test_last_admin_cannot_be_demoted_or_disabled(db):
    admin = make_agent(db, email="boss@example.com", role=Role.ADMIN)
    other = make_agent(db, email="agent@example.com")
    with pytest.raises(Conflict):
        agents.update_agent(db, admin.id, actor_id=other.id, role=Role.AGENT)
    with pytest.raises(Conflict):
        agents.update_agent(db, admin.id, actor_id=other.id, is_active=False)
    agents.update_agent(db, other.id, actor_id=admin.id, role=Role.ADMIN)
    agents.update_agent(db, admin.id, actor_id=other.id, role=Role.AGENT)  # another admin exists now
    db.commit()


def test_nobody_disables_themselves(db):
    make_agent(db, email="boss@example.com", role=Role.ADMIN)
    admin2 = make_agent(db, email="boss2@example.com", role=Role.ADMIN)
    with pytest.raises(Forbidden):
        agents.update_agent(db, admin2.id, actor_id=admin2.id, is_active=False)


def test_login_session_roundtrip_and_logout(db):
    agent = make_agent(db, email="a@example.com", password="correct-horse-1")
    found = agents.authenticate(db, email=" A@example.com ", password="correct-horse-1", ip="1.2.3.4")
    assert found.id == agent.id
    token = agents.create_session(db, found, ip="1.2.3.4")
    db.commit()
    assert agents.agent_for_token(db, token).id == agent.id
    assert agents.agent_for_token(db, token + "x") is None
    agents.revoke_session(db, token)
    db.commit()
    assert agents.agent_for_token(db, token) is None


def test_wrong_password_and_unknown_email_look_the_same(db):
    make_agent(db, email="a@example.com")
    for email in ("a@example.com", "nobody@example.com"):
        with pytest.raises(Unauthorized) as caught:
            agents.authenticate(db, email=email, password="wrong-password")
        assert caught.value.code == "login.error.invalid"


def test_failed_logins_are_rate_limited(db, login_clock):
    make_agent(db, email="a@example.com", password="correct-horse-1")
    for _ in range(5):
        with pytest.raises(Unauthorized):
            agents.authenticate(db, email="a@example.com", password="wrong-password", ip="9.9.9.9")
        login_clock.step(30)
    # even the right password is refused while the lock lasts
    with pytest.raises(RateLimited):
        agents.authenticate(db, email="a@example.com", password="correct-horse-1", ip="9.9.9.9")


def test_expired_sessions_and_disabled_agents_are_refused(db):
    admin = make_agent(db, email="boss@example.com", role=Role.ADMIN)
    agent = make_agent(db, email="a@example.com")
    token = agents.create_session(db, agent)
    db.commit()
    row = db.exec(select(AgentSession).where(AgentSession.agent_id == agent.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert agents.agent_for_token(db, token) is None

    token = agents.create_session(db, agent)
    db.commit()
    agents.update_agent(db, agent.id, actor_id=admin.id, is_active=False)
    db.commit()
    assert agents.agent_for_token(db, token) is None  # disabling ends every session
    with pytest.raises(Forbidden):
        agents.authenticate(db, email="a@example.com", password="correct-horse-1")


def test_ensure_admin_generates_a_password_once(db):
    created, generated = agents.ensure_admin(db, email="root@example.com", name="Root", password=None)
    assert created is not None and generated and len(generated) >= 12
    db.commit()
    assert agents.authenticate(db, email="root@example.com", password=generated).role == Role.ADMIN
    again, _ = agents.ensure_admin(db, email="root@example.com", name="Root", password=None)
    assert again is None


def test_changing_my_password_needs_the_old_one_and_ends_my_other_sessions(db):
    agent = make_agent(db, email="a@example.com", password="correct-horse-1")
    here = agents.create_session(db, agent)
    elsewhere = agents.create_session(db, agent)
    db.commit()
    with pytest.raises(Forbidden) as wrong:
        agents.change_own_password(db, agent.id, old="nope", new="a-new-password-2", current_token=here)
    assert wrong.value.code == "account.error.old_password"
    with pytest.raises(InvalidInput):
        agents.change_own_password(db, agent.id, old="correct-horse-1", new="short", current_token=here)
    agents.change_own_password(
        db, agent.id, old="correct-horse-1", new="a-new-password-2", current_token=here
    )
    db.commit()
    assert agents.agent_for_token(db, here) is not None  # this browser stays signed in
    assert agents.agent_for_token(db, elsewhere) is None  # every other one is signed out
    assert agents.authenticate(db, email="a@example.com", password="a-new-password-2").id == agent.id


def test_an_admin_resetting_a_password_ends_that_agents_sessions(db):
    admin = make_agent(db, email="boss@example.com", role=Role.ADMIN)
    agent = make_agent(db, email="a@example.com")
    token = agents.create_session(db, agent)
    db.commit()
    agents.update_agent(db, agent.id, actor_id=admin.id, password="reset-by-admin-1")
    db.commit()
    assert agents.agent_for_token(db, token) is None
