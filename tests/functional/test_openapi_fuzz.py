"""Schemathesis drives every operation of our own OpenAPI document against the running app.

Checked: no 5xx, status codes / content types / headers / bodies conform to the document. Not
checked: `positive_data_acceptance`, because the server's rules are stricter than JSON Schema can
say (Composer version constraints, package names, emails), and those refusals are documented 400s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from cargoman.app import CargomanApp, create_app
from cargoman.config import Settings

ADMIN = "fuzz-root-token"
EXAMPLES_PER_OPERATION = 8
SENT = {"requests": 0}


def _app(base: Path) -> CargomanApp:
    base.mkdir(parents=True, exist_ok=True)
    return create_app(
        Settings(
            database_url=f"sqlite:///{base / 'fuzz.db'}",
            data_dir=base,
            storage_path=base / "packages",
            admin_token=ADMIN,
            edition="enterprise",  # every gated route is reachable
            task_enabled=False,  # no background syncs of generated repository URLs
            allow_local_repositories=False,
        )
    )


_FUZZ_DIR = Path(__import__("tempfile").mkdtemp(prefix="cargoman-fuzz-"))
APP = _app(_FUZZ_DIR)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP.api)


@pytest.fixture(scope="module", autouse=True)
def _report_requests() -> Iterator[None]:
    yield
    print(f"\nschemathesis sent {SENT['requests']} requests")
    APP.runtime.dispose()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases on every run: CI results are reproducible
)
def test_operation_conforms_to_the_openapi_document(case: schemathesis.Case) -> None:
    SENT["requests"] += 1
    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=[positive_data_acceptance]
    )
