"""GitHub connections in the domain: one schema and one set of rules for the API, the CLI and the
standalone webhook service's connections file."""

from __future__ import annotations

import pytest
from sqlmodel import select

from scorecard_core import db
from scorecard_core.bodies import validate
from scorecard_core.connections import (
    ConnectionUpsert,
    find_connection,
    replace_hosted_connections,
    save_connection,
    wire,
)
from scorecard_core.errors import InvalidField, NotFound
from scorecard_core.models import GitHubConnection, Project


@pytest.fixture
def engine(sqlite_url):
    engine = db.make_engine(sqlite_url)
    yield engine
    engine.dispose()


def project(engine) -> int:
    with db.session_scope(engine) as session:
        row = Project(name="bot")
        session.add(row)
        session.flush()
        return row.id


def test_a_saved_connection_never_shows_its_secrets(engine):
    project_id = project(engine)
    body = validate(ConnectionUpsert, {"repo": "acme/bot", "auth": "token", "token": "ghp_secret"})
    with db.session_scope(engine) as session:
        shown = wire(save_connection(session, project_id, body))
    assert shown["repo"] == "acme/bot" and shown["hasToken"] is True
    assert "ghp_secret" not in repr(shown)
    # An edit that does not resend the token keeps it.
    with db.session_scope(engine) as session:
        save_connection(session, project_id, validate(ConnectionUpsert, {"repo": "acme/bot", "auth": "token"}))
        assert find_connection(session, project_id).token == "ghp_secret"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repo": "not a repo"}, "repo"),
        ({"repo": "acme/bot", "auth": "token"}, "token"),
        ({"repo": "acme/bot", "auth": "app", "appId": "12"}, "appId"),
        ({"repo": "acme/bot", "failUnder": "lots"}, "failUnder"),
        ({"repo": "acme/bot", "regressionMargin": "lots"}, "regressionMargin"),
        ({"repo": "acme/bot", "failUnderMode": "median"}, "failUnderMode"),
        ({"repo": "acme/bot", "onPullRequest": True}, "testsetId"),
    ],
)
def test_bad_connections_name_the_field(engine, body, field):
    project_id = project(engine)
    with pytest.raises(InvalidField) as caught, db.session_scope(engine) as session:
        save_connection(session, project_id, validate(ConnectionUpsert, body))
    assert caught.value.field == field


def test_a_connection_needs_its_project(engine):
    with pytest.raises(NotFound), db.session_scope(engine) as session:
        save_connection(session, 999, validate(ConnectionUpsert, {"repo": "acme/bot"}))


def test_hosted_connections_replace_the_stored_ones_and_keep_learned_installations(engine):
    with db.session_scope(engine) as session:
        replace_hosted_connections(session, [{"projectId": "7", "repo": "acme/bot"}, {"projectId": 8, "repo": "a/b"}])
    with db.session_scope(engine) as session:
        find_connection(session, 7).installation_id = 555  # as an installation webhook would
    with db.session_scope(engine) as session:
        replace_hosted_connections(session, [{"projectId": "7", "repo": "acme/bot", "onKickoff": False}])
    with db.session_scope(engine) as session:
        (kept,) = session.exec(select(GitHubConnection)).all()
        assert (kept.project_id, kept.on_kickoff, kept.installation_id) == (7, False, 555)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"repo": "acme/bot"}], "connection 0: `projectId` must be"),
        (["acme/bot"], "connection 0: `projectId` must be"),
        ([{"projectId": "1", "repo": "acme/bot"}, {"projectId": "2", "repo": "x"}], r"connection 1 \(x\): `repo`"),
        # The gate's text fields are checked as the API checks them, not first when a status is due.
        ([{"projectId": "1", "repo": "acme/bot", "failUnder": "eighty"}], r"connection 0 \(acme/bot\): `failUnder` "),
        (
            [{"projectId": "1", "repo": "acme/bot", "regressionMargin": "lots"}],
            r"connection 0 \(acme/bot\): `regressionMargin` has `lots`",
        ),
        ([{"projectId": "1", "repo": "acme/bot", "alpha": 0.9}], r"connection 0 \(acme/bot\): `alpha` "),
    ],
)
def test_bad_hosted_connections_say_which_entry(engine, entries, message):
    with pytest.raises(ValueError, match=message), db.session_scope(engine) as session:
        replace_hosted_connections(session, entries)
