"""GitHub App installation IDs from webhooks are 64-bit like every key: the largest is stored
exactly, on SQLite and PostgreSQL; one no key column can hold fails its delivery with a reason
naming the field, and leaves the stored connection as it was."""

from __future__ import annotations

from scorecard_core.ids import MAX_ID
from tests.webhook.conftest import REPO, example
from tests.webhook.test_events import connect


def installation(installation_id) -> dict:
    payload = example("installation", "created")
    payload["installation"]["id"] = installation_id
    payload["repositories"] = [{"full_name": REPO}]
    return payload


def test_installation_ids_up_to_2_to_the_63_are_stored_and_others_fail_the_delivery(sender, client, project):
    connect(client, project)

    def stored_id() -> int | None:
        return client.get(f"/projects/{project['id']}/github")["installationId"]

    for good in (2**31, MAX_ID):
        assert sender.deliver("installation", installation(good)).status == "processed"
        assert stored_id() == good
    for bad in (2**63, 10**30, -1, "abc", 1.5, None):
        delivery = sender.deliver("installation", installation(bad))
        assert delivery.status == "failed", bad
        assert "`installation.id` must be a numeric ID" in delivery.error, delivery.error
        assert stored_id() == MAX_ID
