"""schemathesis against the service's own OpenAPI schema, over HTTP on a live server: for
generated requests to every operation (valid and invalid bodies, paths and queries), no
answer is a 5xx and every answer the schema documents matches it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from servekit import Service, live_server  # noqa: E402

#: examples per operation (``SEGREC_SCHEMA_EXAMPLES=200`` for a deep run)
EXAMPLES = int(os.environ.get("SEGREC_SCHEMA_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'segrec.db'}"
    yield from live_server(model_dir, url)


@pytest.fixture(scope="module")
def api_schema(server: tuple[str, Service]) -> Any:
    base, _ = server
    return schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_no_5xx_and_responses_match_the_schema(server: tuple[str, Service]) -> None:
    from hypothesis import given

    base, svc = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"X-API-Key": svc.keys["admin"]}
    tested, failures = [], []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=EXAMPLES <= 12,  # the suite's run is reproducible; a deep one explores
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{op.label}: {str(exc)[:400]}")
        tested.append(op.label)
    assert len(tested) >= 12, tested
    assert not failures, "\n".join(failures)
