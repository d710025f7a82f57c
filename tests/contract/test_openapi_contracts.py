"""Every OpenAPI document Interchange serves, checked against the running server by schemathesis.

For each document: the served bytes are the file the server is generated from (one source), and
``schemathesis run`` loads it from the served URL and runs every check (``--checks all``) in every phase —
examples, coverage (boundary values, missing and malformed parameters, undeclared methods), fuzzing, and
stateful sequences built from the document's links — with valid and invalid data (``--mode all``).
Zero failures, so zero 5xx too (``not_a_server_error`` is one of the checks).

The run is bounded (``--max-examples`` per operation, a 10 s ``--request-timeout``, and a process timeout of
``RUN_TIMEOUT_S``) so it ends in about two minutes on 2 cores. ``CONTRACT_SEED`` replays a run; the seed used is printed in the output.
Reports (JUnit, NDJSON events) go to ``test-artifacts/contract/<document>/``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import ARTIFACTS, REPO_ROOT, RunningServer

# Per operation; CONTRACT_MAX_EXAMPLES overrides both. Sized so the whole suite takes about two minutes on 2 cores.
MAX_EXAMPLES_OVERRIDE = os.environ.get("CONTRACT_MAX_EXAMPLES")
RUN_TIMEOUT_S = 600
CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass(frozen=True)
class Document:
    """One served OpenAPI document: which component serves it, where, and from which file it is generated."""

    name: str
    component: str
    path: str
    source: str
    max_examples: int
    env: dict[str, str] = field(default_factory=dict)
    needs_admin_token: bool = False
    # Components it calls, each served alone first; their base URLs go into the named environment variables.
    upstreams: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    # The document is served on the second port a process prints ("<name> on <url>/..."), not its main one.
    base_url_line: str | None = None


DOCUMENTS = [
    Document(
        name="weather-dashboard",
        component="weather",
        path="/api/openapi.yaml",
        source="openapi/weather-dashboard.yaml",
        max_examples=150,  # three read-only operations: cheap, so more inputs each
    ),
    Document(
        name="webhooks-admin",
        component="webhooks",
        path="/admin/webhooks/openapi.yaml",
        source="openapi/webhooks-admin.yaml",
        max_examples=40,
        # Endpoints the fuzzer registers point anywhere, loopback included; the private-target refusal is a
        # deployment policy (documented as a 422 in the contract) and is covered by the Swift tests.
        env={"INTERCHANGE_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"},
        needs_admin_token=True,
    ),
    Document(
        name="shop",
        component="shop",
        path="/shop/api/openapi.yaml",
        source="openapi/shop.yaml",
        max_examples=60,
        # The shop brings its Stripe simulator (`serve shop` without STRIPE_SECRET_KEY); this secret lets the hooks
        # sign the webhook cases schemathesis calls schema-valid (contract_hooks.py), as Stripe would.
        env={"STRIPE_WEBHOOK_SECRET": "whsec_contract_suite_secret"},
    ),
    Document(
        name="fulfillment-users",
        component="users",
        path="/users/api/openapi.yaml",
        source="openapi/fulfillment-users.yaml",
        max_examples=40,
    ),
    Document(
        name="fulfillment-inventory",
        component="inventory",
        path="/inventory/api/openapi.yaml",
        source="openapi/fulfillment-inventory.yaml",
        max_examples=40,
    ),
    Document(
        name="fulfillment-payments",
        component="payments",
        path="/payments/api/openapi.yaml",
        source="openapi/fulfillment-payments.yaml",
        max_examples=40,
    ),
    Document(
        name="fulfillment-orders",
        component="orders",
        path="/orders/api/openapi.yaml",
        source="openapi/fulfillment-orders.yaml",
        max_examples=40,
        # Orders validates every order against the users and inventory services over HTTP: the real ones, served
        # alone. (Their events go to their own stores, so sagas do not advance here: the flows are the Swift tests'.)
        upstreams={"users": "INTERCHANGE_ORDERS_USERS_BASE_URL", "inventory": "INTERCHANGE_ORDERS_INVENTORY_BASE_URL"},
    ),
    Document(
        name="gateway-admin",
        component="gateway",
        path="/_gateway/openapi.yaml",
        source="openapi/gateway-admin.yaml",
        max_examples=40,
        # A Kong file with one service (nothing listens at its target) and a credential the API must not show.
        args=("--config", str(Path(__file__).with_name("gateway-kong.yaml")), "--admin-port", "0"),
        base_url_line=r"Gateway admin API on (http://\S+)/_gateway/",
    ),
]


def _server(serve: Callable[..., RunningServer], document: Document) -> RunningServer:
    env = dict(document.env)
    for component, variable in document.upstreams.items():
        env[variable] = serve(component).base_url
    server = serve(document.component, env, document.args)
    if document.base_url_line:
        match = re.search(document.base_url_line, server.log_path.read_text(encoding="utf-8"))
        assert match, f"no line matching {document.base_url_line!r} in {server.log_path}"
        server = dataclasses.replace(server, base_url=match.group(1))
    return server


def test_every_document_in_the_repository_is_checked() -> None:
    """A new openapi/*.yaml must be added to DOCUMENTS (and served) to pass."""
    in_repository = {str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "openapi").glob("*.yaml")}
    assert in_repository == {document.source for document in DOCUMENTS}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.name)
def test_served_document_is_the_file_the_server_is_generated_from(serve, document: Document) -> None:
    server = _server(serve, document)
    with urllib.request.urlopen(server.base_url + document.path, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/yaml"
        served = response.read()
    assert served == (REPO_ROOT / document.source).read_bytes()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.name)
def test_schemathesis_finds_no_failures(serve, document: Document) -> None:
    server = _server(serve, document)
    report_dir = ARTIFACTS / "contract" / document.name
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "--config-file", str(CONFIG),
        "run", server.base_url + document.path,
        "--checks", "all",
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", MAX_EXAMPLES_OVERRIDE or str(document.max_examples),
        "--request-timeout", "10",
        # One worker: CPython 3.11's parser is not thread-safe under hypothesis's lambda introspection
        # ("SystemError: AST constructor recursion depth mismatch" with two).
        "--workers", "1",
        "--report", "junit,ndjson",
        "--report-dir", str(report_dir),
        "--continue-on-failure",
        "--no-color",
    ]
    if os.environ.get("CONTRACT_SEED"):
        command += ["--seed", os.environ["CONTRACT_SEED"]]
    if document.needs_admin_token:
        token = (server.data_dir / "admin-token").read_text(encoding="utf-8").strip()
        command += ["--header", f"Authorization: Bearer {token}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "contract_hooks", "PYTHONPATH": str(Path(__file__).parent)}
    # Run from the report directory, so schemathesis's example database (.schemathesis/, for `st replay`) stays there.
    result = subprocess.run(
        command, cwd=report_dir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    (report_dir / "output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, (
        f"schemathesis found problems in {document.source} as served at {document.path} "
        f"(exit {result.returncode}; full output in {report_dir / 'output.txt'}, server log {server.log_path}):\n"
        + result.stdout[-20000:] + result.stderr[-4000:]
    )
