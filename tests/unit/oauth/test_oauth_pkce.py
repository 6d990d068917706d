"""PKCE verifiers and their S256 challenges (RFC 7636)."""

from __future__ import annotations

import re

from cargoman.oauth.pkce import new_code_verifier, s256_challenge


def test_the_challenge_matches_the_rfc_7636_example() -> None:
    # RFC 7636, Appendix B.
    assert (
        s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_verifiers_are_long_unreserved_and_fresh() -> None:
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)
