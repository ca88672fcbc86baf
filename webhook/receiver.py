"""``POST /webhooks/github``: GitHub's deliveries, verified, recorded once, answered at once.

Order of checks: a secret must be configured; the body must fit (25 MB, GitHub's own cap); its
signature must match one of the secrets; it must be a JSON object. Only then is anything stored.
``ping`` answers 200; events no handler acts on are acknowledged as ignored; the rest are
recorded and handed to the background jobs, and GitHub gets 202 within milliseconds."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from scorecard_core.storable import load_json, storable_text

from .deliveries import DeliveryLog
from .events import Event, router
from .events.rechecks import follow_up
from .events.routing import Handler, describe
from .service import current_service
from .signatures import is_genuine

log = logging.getLogger(__name__)

bp = Blueprint("webhook", __name__)

# GitHub caps payloads at 25 MB; the API's global body limit is lower.
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024


def answer(status: int, message: str, **extra: Any):
    return jsonify({"message": message, **extra}), status


@bp.post("/webhooks/github")
def receive():
    service = current_service()
    secrets = service.settings.github_webhook_secrets
    if not secrets:
        return answer(
            401,
            "No webhook secret is configured, so no delivery can be verified: set "
            "SCORECARD_GITHUB_WEBHOOK_SECRET to the secret of the repository's or App's webhook",
        )
    request.max_content_length = MAX_WEBHOOK_BYTES
    try:
        body = request.get_data(cache=False)
        if request.content_length is None and len(body) >= MAX_WEBHOOK_BYTES:
            raise RequestEntityTooLarge()  # Werkzeug cuts a chunked body at the limit instead
    except RequestEntityTooLarge:
        return answer(413, f"The payload is larger than {MAX_WEBHOOK_BYTES // (1024 * 1024)} MB, GitHub's own limit")
    if not is_genuine(body, request.headers.get("X-Hub-Signature-256"), secrets):
        return answer(
            401,
            "The X-Hub-Signature-256 header is missing or does not match the body: check that the "
            "webhook's secret equals SCORECARD_GITHUB_WEBHOOK_SECRET",
        )

    event = storable_text(request.headers.get("X-GitHub-Event", "").strip())
    delivery_id = storable_text(request.headers.get("X-GitHub-Delivery", "").strip())
    if not event or not delivery_id:
        return answer(400, "The X-GitHub-Event and X-GitHub-Delivery headers are required, as GitHub sends them")
    payload, problem = parse_payload(body)
    if payload is None:
        return answer(400, problem)
    if event == "ping":
        return answer(200, "pong", zen=payload.get("zen"))

    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    deliveries = DeliveryLog(current_app.extensions["scorecard.engine"])
    handler = router.handler(event, action)
    if handler is None:
        deliveries.record_ignored(delivery_id, event, action)
        return answer(202, "ignored", event=event, action=action)
    if not deliveries.claim(delivery_id, event, action):
        return answer(202, "already processed", delivery=delivery_id)
    work = Event(event, action, payload, delivery_id, service, deliveries.engine)
    try:
        if service.deliver_elsewhere is not None:
            service.deliver_elsewhere(work)
        else:
            service.jobs.submit(process, handler, work)
    except RuntimeError:  # shutting down, or the queue is unreachable: let GitHub's redelivery find it failed
        deliveries.fail(delivery_id, "the service could not take it (shutting down, or its queue is down); redeliver")
        return answer(503, "The service cannot take deliveries just now; redeliver this delivery shortly")
    return answer(202, "accepted", delivery=delivery_id)


def parse_payload(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The payload, or None and why it is unusable. Its text is made storable: a title or comment
    with a NUL in it must not fail the rows it lands in."""
    if request.mimetype == "application/x-www-form-urlencoded":
        return None, "The payload is form-encoded: set the webhook's content type to application/json"
    try:
        payload = load_json(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "The payload is not UTF-8 JSON: set the webhook's content type to application/json"
    except (ValueError, RecursionError) as exc:
        return None, f"The payload is not valid JSON ({exc}): set the webhook's content type to application/json"
    if not isinstance(payload, dict):
        return None, "The payload must be a JSON object, as GitHub sends"
    return payload, ""


def process(handler: Handler, event: Event) -> None:
    """Run on a background job: the delivery ends processed, or failed with the reason, once the
    handler and any re-checks it left for later have ended."""
    DeliveryLog(event.engine).start(event.delivery_id)
    try:
        later = handler(event)
    except Exception as exc:
        end(event, exc)
        return
    if later is None:
        end(event, None)
    else:
        follow_up(later, event.service.jobs, partial(end, event))


def end(event: Event, error: Exception | None) -> None:
    deliveries = DeliveryLog(event.engine)
    if error is None:
        deliveries.finish(event.delivery_id)
        return
    log.error("webhook delivery %s (%s %s) failed", event.delivery_id, event.name, event.action, exc_info=error)
    deliveries.fail(event.delivery_id, describe(error))
