"""X-Hub-Signature-256 verification, against GitHub's documented example."""

from __future__ import annotations

from webhook.signatures import is_genuine, sign

# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_documented_vector_verifies():
    assert sign(GITHUB_SECRET, GITHUB_PAYLOAD) == GITHUB_SIGNATURE
    assert is_genuine(GITHUB_PAYLOAD, GITHUB_SIGNATURE, [GITHUB_SECRET])


def test_wrong_secret_missing_header_and_tampered_body_are_refused():
    assert not is_genuine(GITHUB_PAYLOAD, GITHUB_SIGNATURE, ["another secret"])
    assert not is_genuine(GITHUB_PAYLOAD, None, [GITHUB_SECRET])
    assert not is_genuine(GITHUB_PAYLOAD, "", [GITHUB_SECRET])
    assert not is_genuine(b"Hello, World?", GITHUB_SIGNATURE, [GITHUB_SECRET])
    assert not is_genuine(GITHUB_PAYLOAD, GITHUB_SIGNATURE, [])


def test_malformed_headers_are_refused_not_crashed_on():
    digest = GITHUB_SIGNATURE.removeprefix("sha256=")
    assert not is_genuine(GITHUB_PAYLOAD, digest, [GITHUB_SECRET])  # no algorithm prefix
    assert not is_genuine(GITHUB_PAYLOAD, "sha1=" + digest, [GITHUB_SECRET])
    assert not is_genuine(GITHUB_PAYLOAD, GITHUB_SIGNATURE.upper(), [GITHUB_SECRET])
    assert not is_genuine(GITHUB_PAYLOAD, "sha256=" + "é" * 64, [GITHUB_SECRET])  # non-ASCII


def test_either_secret_verifies_during_rotation():
    old, new = "old secret", "new secret"
    for secret in (old, new):
        assert is_genuine(GITHUB_PAYLOAD, sign(secret, GITHUB_PAYLOAD), [old, new])
    assert not is_genuine(GITHUB_PAYLOAD, sign("retired secret", GITHUB_PAYLOAD), [old, new])
