"""The graphql-http audit suite (npm package graphql-http, `auditServer`) against a running /graphql.

Every MUST audit has to pass. SHOULD and MAY audits are printed (and listed in the report of the
test run) but do not fail the test: they are recommendations the transport may decline.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e

JS_DIR = Path(__file__).resolve().parents[1] / "js"
AUDIT_TIMEOUT = 120.0


def _run_audit(url: str, token: str) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the graphql-http audit (scripts/test installs it)")
    if not (JS_DIR / "node_modules" / "graphql-http").is_dir():
        pytest.fail(f"run `npm ci --prefix {JS_DIR}` first (scripts/test does)")
    completed = subprocess.run(
        [node, str(JS_DIR / "audit.mjs"), url, token],
        capture_output=True,
        text=True,
        timeout=AUDIT_TIMEOUT,
        check=False,
        cwd=JS_DIR,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def test_graphql_http_audit_passes_every_must(start_registry: Callable[..., RegistryServer]) -> None:
    # The audits query `__type`, so introspection is on (as for the playground).
    server = start_registry(env={"EDITION": "pro", "GRAPHQL_INTROSPECTION": "true"})
    results = _run_audit(server.url + "/graphql", server.admin_token)
    assert len(results) > 40, results  # the whole suite ran

    musts = [r for r in results if r["name"].startswith("MUST")]
    failed_musts = [f"{r['id']} {r['name']}: {r['reason']}" for r in musts if r["status"] != "ok"]
    others = [r for r in results if not r["name"].startswith("MUST")]
    declined = [f"{r['id']} {r['name']}: {r['reason']}" for r in others if r["status"] != "ok"]
    print(
        f"graphql-http audit: {len(musts)} MUST, {len(others)} SHOULD/MAY, {len(declined)} of those not met"
    )
    for line in declined:
        print("  not met:", line)
    assert musts and not failed_musts, "\n".join(failed_musts)
