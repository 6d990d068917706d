"""Each provider's proof of origin: a known-good vector verifies, one changed byte is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from cargoman.webhooks.signatures import (
    SignatureError,
    Verifier,
    verify_bitbucket,
    verify_github,
    verify_gitlab,
    verify_stripe,
)

# GitHub's documented example ("Validating webhook deliveries").
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

# Computed independently: printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac whsec_test_secret
STRIPE_SECRET = "whsec_test_secret"
STRIPE_BODY = b'{"id":"evt_test_webhook","type":"invoice.paid"}'
STRIPE_TIMESTAMP = 1_700_000_000
STRIPE_V1 = "a62579281442433183db288ad8f042a71ee2921e9b93e89cd77d49ecd0db680b"

GITLAB_SECRET = "gitlab-shared-token-5f2c"
TOLERANCE = 300


@dataclass(frozen=True)
class Vector:
    """A delivery the provider really sends: secret, body, and the header carrying the proof."""

    verify: Verifier
    secret: str
    body: bytes
    header: str
    proof: str
    signs_body: bool = True

    def headers(self, proof: str | None = None) -> dict[str, str]:
        return {self.header: self.proof if proof is None else proof}

    def check(self, headers: Mapping[str, str], body: bytes | None = None) -> None:
        self.verify(
            self.secret,
            headers,
            self.body if body is None else body,
            now=STRIPE_TIMESTAMP + 5,
            tolerance=TOLERANCE,
        )


VECTORS = {
    "github": Vector(verify_github, GITHUB_SECRET, GITHUB_BODY, "x-hub-signature-256", GITHUB_SIGNATURE),
    # The GitHub App's deliveries are signed exactly like repository webhooks, with the app's secret.
    "github-app": Vector(verify_github, GITHUB_SECRET, GITHUB_BODY, "x-hub-signature-256", GITHUB_SIGNATURE),
    # Bitbucket Cloud: the same sha256=<hex> HMAC of the body, in X-Hub-Signature.
    "bitbucket": Vector(verify_bitbucket, GITHUB_SECRET, GITHUB_BODY, "x-hub-signature", GITHUB_SIGNATURE),
    # GitLab echoes the secret token; it does not sign the body.
    "gitlab": Vector(
        verify_gitlab, GITLAB_SECRET, b'{"object_kind":"push"}', "x-gitlab-token", GITLAB_SECRET, False
    ),
    "stripe": Vector(
        verify_stripe, STRIPE_SECRET, STRIPE_BODY, "stripe-signature", f"t={STRIPE_TIMESTAMP},v1={STRIPE_V1}"
    ),
}


def _flip_last_hex_digit(proof: str) -> str:
    last = proof[-1]
    return proof[:-1] + ("0" if last != "0" else "1")


def _flip_one_byte(body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 0x01])


@pytest.mark.parametrize("provider", sorted(VECTORS))
def test_the_known_good_delivery_verifies(provider: str) -> None:
    vector = VECTORS[provider]
    vector.check(vector.headers())


@pytest.mark.parametrize("provider", sorted(VECTORS))
def test_one_changed_byte_in_the_body_is_refused(provider: str) -> None:
    vector = VECTORS[provider]
    if not vector.signs_body:
        # Nothing binds GitLab's token to the body; the changed body passes on the token alone.
        vector.check(vector.headers(), _flip_one_byte(vector.body))
        return
    with pytest.raises(SignatureError, match="does not match"):
        vector.check(vector.headers(), _flip_one_byte(vector.body))


@pytest.mark.parametrize("provider", sorted(VECTORS))
def test_one_changed_byte_in_the_signature_is_refused(provider: str) -> None:
    vector = VECTORS[provider]
    with pytest.raises(SignatureError, match="does not match"):
        vector.check(vector.headers(_flip_last_hex_digit(vector.proof)))


@pytest.mark.parametrize("provider", sorted(VECTORS))
def test_a_missing_header_is_refused_with_its_name(provider: str) -> None:
    vector = VECTORS[provider]
    with pytest.raises(SignatureError, match="missing"):
        vector.check({})


@pytest.mark.parametrize(
    "header", ["sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "sha256="]
)
def test_hub_signatures_must_be_sha256(header: str) -> None:
    with pytest.raises(SignatureError, match="sha256=<hex digest>"):
        verify_github(GITHUB_SECRET, {"x-hub-signature-256": header}, GITHUB_BODY, now=0, tolerance=0)


def test_hub_signature_hex_is_case_insensitive() -> None:
    verify_github(
        GITHUB_SECRET,
        {"x-hub-signature-256": GITHUB_SIGNATURE.upper().replace("SHA256", "sha256")},
        GITHUB_BODY,
        now=0,
        tolerance=0,
    )


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify_github(
            "another secret", {"x-hub-signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, now=0, tolerance=0
        )


def _stripe(header: str, now: float) -> None:
    verify_stripe(STRIPE_SECRET, {"stripe-signature": header}, STRIPE_BODY, now=now, tolerance=TOLERANCE)


def test_stripe_accepts_any_matching_v1_among_several() -> None:
    rolled = f"t={STRIPE_TIMESTAMP},v1={'0' * 64},v1={STRIPE_V1},v0=ignored"
    _stripe(rolled, STRIPE_TIMESTAMP)


def test_stripe_refuses_a_timestamp_older_than_the_tolerance() -> None:
    header = f"t={STRIPE_TIMESTAMP},v1={STRIPE_V1}"
    _stripe(header, STRIPE_TIMESTAMP + TOLERANCE)  # at the edge: still fine
    with pytest.raises(SignatureError, match="300 seconds"):
        _stripe(header, STRIPE_TIMESTAMP + TOLERANCE + 1)


def test_stripe_refuses_a_timestamp_far_in_the_future() -> None:
    with pytest.raises(SignatureError, match="300 seconds"):
        _stripe(f"t={STRIPE_TIMESTAMP},v1={STRIPE_V1}", STRIPE_TIMESTAMP - TOLERANCE - 1)


def test_stripe_signature_binds_the_timestamp() -> None:
    """Moving t (to pass the tolerance check) breaks the signature."""
    with pytest.raises(SignatureError, match="does not match"):
        _stripe(f"t={STRIPE_TIMESTAMP + 1},v1={STRIPE_V1}", STRIPE_TIMESTAMP)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"v1={STRIPE_V1}", "timestamp"),
        (f"t=soon,v1={STRIPE_V1}", "timestamp"),
        ("t=\u00b2,v1=ab", "timestamp"),  # a superscript two: str.isdigit() says yes
        (f"t=\u0661\u0667\u0660\u0660,v1={STRIPE_V1}", "timestamp"),  # Arabic-Indic digits
        (f"t={'9' * 40},v1={STRIPE_V1}", "timestamp"),
        (f"t={STRIPE_TIMESTAMP}", "no v1"),
        (f"t={STRIPE_TIMESTAMP},v0={STRIPE_V1}", "no v1"),
    ],
)
def test_stripe_refuses_malformed_headers(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        _stripe(header, STRIPE_TIMESTAMP)
