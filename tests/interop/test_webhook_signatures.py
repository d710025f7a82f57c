"""Interop tests: Interchange webhook signatures vs. the official PyPI libraries.

Both directions are covered for both schemes:

* Standard Webhooks (``standardwebhooks`` and ``svix``) <-> ``interchange webhooks sign|verify --scheme standard``
* Stripe (``stripe``) <-> ``interchange webhooks sign|verify --scheme stripe``

Timing is made deterministic with ``--timestamp`` (sign) and ``--now`` (verify).
The libraries' *verify* functions only look at the wall clock, so when a library
verifies an Interchange signature we sign with the current time and verify
immediately (well inside the 300 s tolerance).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Sequence

import pytest
import standardwebhooks.webhooks as stdwh
import stripe
import svix.webhooks as svixwh

# --------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------

# Stripe: the whole string (including the ``whsec_`` prefix) is the HMAC key, as UTF-8.
# CLI-style secret (`stripe listen` prints whsec_ + 64 hex chars) ...
STRIPE_SECRET_CLI = "whsec_" + hashlib.sha256(b"interchange stripe cli secret").hexdigest()
# ... and dashboard-style secret (whsec_ + 32 alphanumerics). Its tail is *valid base64*,
# which is exactly the trap: Interchange must NOT base64-decode it for the stripe scheme.
STRIPE_SECRET_DASHBOARD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STRIPE_SECRET_OTHER = "whsec_" + hashlib.sha256(b"interchange stripe rotated secret").hexdigest()
STRIPE_SECRETS = [STRIPE_SECRET_CLI, STRIPE_SECRET_DASHBOARD]
STRIPE_SECRET_PARAMS = [pytest.param(STRIPE_SECRET_CLI, id="cli-hex-secret"),
                        pytest.param(STRIPE_SECRET_DASHBOARD, id="dashboard-alnum-secret")]

# Standard Webhooks: whsec_<base64(key)>. The spec's test vector secret (24-byte key).
STD_SECRET_SPEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# A 32-byte key: base64 has one '=' of padding.
_KEY32 = hashlib.sha256(b"interchange standard webhooks key").digest()
STD_SECRET_PADDED = "whsec_" + base64.b64encode(_KEY32).decode()
# The same key without padding: accepted by standardwebhooks/svix (they append "==").
STD_SECRET_UNPADDED = STD_SECRET_PADDED.rstrip("=")
STD_SECRET_OTHER = "whsec_" + base64.b64encode(hashlib.sha256(b"interchange other key").digest()[:24]).decode()
STD_SECRET_PARAMS = [pytest.param(STD_SECRET_SPEC, id="spec-24B-key"),
                     pytest.param(STD_SECRET_PADDED, id="padded-32B-key")]
STD_SECRET_PARAMS_ALL = STD_SECRET_PARAMS + [pytest.param(STD_SECRET_UNPADDED, id="unpadded-32B-key")]

assert STD_SECRET_PADDED.endswith("=") and not STD_SECRET_UNPADDED.endswith("=")

# Deterministic clock: 2023-11-14T22:13:20Z.
FIXED_TS = 1_700_000_000
NOW = FIXED_TS + 10
TOLERANCE = 300  # default of Interchange, stripe (Webhook.DEFAULT_TOLERANCE) and standardwebhooks (5 min)

# --------------------------------------------------------------------------------------
# Bodies (raw bytes; never re-serialised between signing and verifying)
# --------------------------------------------------------------------------------------

STRIPE_EVENT_ID = "evt_1QdKq2Lkdi2ZXa8s0Hc9pT4m"
STRIPE_SESSION_ID = "cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ0123456789"
STRIPE_EVENT = {
    "id": STRIPE_EVENT_ID,
    "object": "event",
    "api_version": "2024-06-20",
    "created": FIXED_TS,
    "data": {
        "object": {
            "id": STRIPE_SESSION_ID,
            "object": "checkout.session",
            "amount_subtotal": 4200,
            "amount_total": 4998,
            "currency": "eur",
            "customer": "cus_QzX1y2Z3a4B5c6",
            "customer_details": {
                "address": {
                    "city": "Zürich",
                    "country": "CH",
                    "line1": "Bahnhofstraße 1",
                    "line2": None,
                    "postal_code": "8001",
                    "state": None,
                },
                "email": "zoe.mueller@example.com",
                "name": "Zoë Müller",
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            "livemode": False,
            "metadata": {"order_ref": "ORD-2024-0042", "note": "日本語のメモ ✓ 🚀"},
            "mode": "payment",
            "payment_intent": "pi_3QdKq1Lkdi2ZXa8s1AbCdEfG",
            "payment_status": "paid",
            "status": "complete",
            "success_url": "https://shop.example.com/success?session_id={CHECKOUT_SESSION_ID}",
            "total_details": {"amount_discount": 0, "amount_shipping": 500, "amount_tax": 298},
        }
    },
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": None, "idempotency_key": "9f2c1a7e-0b1d-4c55-9a43-2f8e6c1d3b70"},
    "type": "checkout.session.completed",
}

STD_EVENT = {
    "type": "order.created",
    "timestamp": "2023-11-14T22:13:20.000Z",
    "data": {
        "order_id": "ord_8Kd02nXq",
        "customer": {"name": "Séverine Ødegård", "city": "Tromsø"},
        "items": [
            {"sku": "TEA-緑茶-100G", "qty": 2, "price": "12.50"},
            {"sku": "MUG-☕", "qty": 1, "price": "9.00"},
        ],
        "note": "emoji 🎉 and quotes \"ok\" and backslash \\",
        "total": "34.00",
        "currency": "EUR",
    },
}


def _bodies(event: dict) -> Dict[str, bytes]:
    compact = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return {
        # Stripe sends pretty-printed JSON with real UTF-8 (not \u escapes).
        "pretty-utf8": json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8"),
        "compact-utf8": compact,
        # Same document, different bytes: proves nobody re-serialises/normalises JSON.
        "compact-ascii-escaped": json.dumps(event, separators=(",", ":"), ensure_ascii=True).encode("ascii"),
        # Trailing newline + whitespace must be covered by the signature (raw bytes).
        "trailing-whitespace": compact + b"\n \t\r\n\n",
        "crlf-pretty": json.dumps(event, indent=4, ensure_ascii=False).replace("\n", "\r\n").encode("utf-8") + b"\r\n",
    }


STRIPE_BODIES = _bodies(STRIPE_EVENT)
STD_BODIES = _bodies(STD_EVENT)

for _b in (*STRIPE_BODIES.values(), *STD_BODIES.values()):
    _b.decode("utf-8")  # all valid UTF-8: the Python libraries decode the body before hashing it
assert any(byte > 0x7F for byte in STD_BODIES["compact-utf8"])

STRIPE_BODY = STRIPE_BODIES["pretty-utf8"]
STD_BODY = STD_BODIES["compact-utf8"]
MSG_ID = "msg_2Xk4nP9qLm0Rz7TtVbW1cYd3eF"

# Keywords that a rejection reason on stderr must contain (case-insensitive, any of).
SIGNATURE_WORDS = ("signature",)
TOLERANCE_WORDS = ("tolerance", "timestamp", "too old", "too new", "expired")
MISSING_HEADER_WORDS = ("header", "missing")
MALFORMED_HEADER_WORDS = ("header", "malformed", "invalid", "signature", "timestamp")

HEADER_LINE = re.compile(r"^([A-Za-z0-9-]+): (\S(?:.*\S)?)$")


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _describe(proc) -> str:
    return (
        f"\n  argv: {proc.args!r}\n  exit: {proc.returncode}"
        f"\n  stdout: {proc.stdout.decode('utf-8', 'replace')!r}"
        f"\n  stderr: {proc.stderr.decode('utf-8', 'replace')!r}"
    )


def parse_header_lines(stdout: bytes) -> List[tuple]:
    """Parse `Name: value` lines; every stdout line must be one (nothing else allowed)."""
    text = stdout.decode("utf-8")
    lines = text.splitlines()
    assert lines, f"no output from sign: {text!r}"
    parsed = []
    for line in lines:
        m = HEADER_LINE.match(line)
        assert m, f"stdout line is not a `Name: value` header: {line!r} (full stdout: {text!r})"
        parsed.append((m.group(1), m.group(2)))
    return parsed


def cli_sign(
    run_cli,
    scheme: str,
    secret: str,
    body: bytes,
    *,
    msg_id: Optional[str] = None,
    timestamp: Optional[int] = None,
) -> Dict[str, str]:
    args = ["webhooks", "sign", "--scheme", scheme, "--secret", secret]
    if msg_id is not None:
        args += ["--id", msg_id]
    if timestamp is not None:
        args += ["--timestamp", str(timestamp)]
    proc = run_cli(args, body)
    assert proc.returncode == 0, "interchange webhooks sign failed" + _describe(proc)
    parsed = parse_header_lines(proc.stdout)
    headers = dict(parsed)
    assert len(headers) == len(parsed), f"duplicate header names: {parsed}"
    return headers


def cli_verify(
    run_cli,
    scheme: str,
    secrets: Iterable[str],
    headers: Iterable[str],
    body: bytes,
    *,
    now: Optional[int] = NOW,
    tolerance: Optional[int] = None,
):
    args = ["webhooks", "verify", "--scheme", scheme]
    for s in secrets:
        args += ["--secret", s]
    for h in headers:
        args += ["--header", h]
    if tolerance is not None:
        args += ["--tolerance", str(tolerance)]
    if now is not None:
        args += ["--now", str(now)]
    return run_cli(args, body)


def header_args(headers: Dict[str, str]) -> List[str]:
    return [f"{k}: {v}" for k, v in headers.items()]


def assert_valid(proc) -> None:
    assert proc.returncode == 0, "expected Interchange to accept the signature" + _describe(proc)
    assert len(proc.stdout.strip().splitlines()) <= 1, "verify should print nothing or a short OK" + _describe(proc)


def assert_rejected(proc, keywords: Sequence[str]) -> None:
    assert proc.returncode != 0, "expected Interchange to reject, but it exited 0" + _describe(proc)
    reason = proc.stderr.decode("utf-8", "replace").strip()
    assert reason, "rejection must give a reason on stderr" + _describe(proc)
    assert any(k in reason.lower() for k in keywords), (
        f"stderr reason should mention one of {list(keywords)}" + _describe(proc)
    )


def std_library_headers(secret: str, body: bytes, ts: int, msg_id: str = MSG_ID, lib=stdwh) -> Dict[str, str]:
    """Headers exactly as a Standard Webhooks sender using the official library emits them."""
    signature = lib.Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, tz=timezone.utc), body.decode("utf-8"))
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def stripe_library_header(secret: str, body: bytes, ts: int) -> str:
    """A Stripe-Signature header made the way the stripe library makes it.

    stripe-python has a public signing helper, ``WebhookSignature.generate_signature_header(
    payload: str, secret: str, timestamp=None)`` ("Useful for signing payloads in unit tests");
    it computes ``t=<ts>,v1=<hex(HMAC-SHA256(secret.encode('utf-8'), f"{ts}.{payload}".encode('utf-8')))>``.
    On older releases without it we fall back to exactly what stripe-python's own test-suite
    ``generate_header`` helper does: ``WebhookSignature._compute_signature(f"{ts}.{payload}", secret)``.
    """
    payload = body.decode("utf-8")
    gen = getattr(stripe.WebhookSignature, "generate_signature_header", None)
    if gen is not None:
        return gen(payload, secret, timestamp=ts)
    return f"t={ts},v1={stripe.WebhookSignature._compute_signature(f'{ts}.{payload}', secret)}"


def flip_last_byte(body: bytes) -> bytes:
    """Tamper with a body without changing its length (last non-whitespace byte altered)."""
    stripped = body.rstrip()
    i = len(stripped) - 1
    return body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]


def tamper_b64(sig_b64: str) -> str:
    raw = bytearray(base64.b64decode(sig_b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def tamper_hex(sig_hex: str) -> str:
    return ("0" if sig_hex[0] != "0" else "1") + sig_hex[1:]


# ======================================================================================
# Standard Webhooks
# ======================================================================================


class TestStandardSignOutput:
    def test_spec_test_vector(self, run_cli):
        """Known-answer test from the Standard Webhooks spec, cross-checked with the library."""
        body = b'{"test": 2432232314}'
        headers = cli_sign(run_cli, "standard", STD_SECRET_SPEC, body,
                           msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330)
        expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        assert stdwh.Webhook(STD_SECRET_SPEC).sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, tz=timezone.utc), body.decode()
        ) == expected
        assert headers == {
            "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "webhook-timestamp": "1614265330",
            "webhook-signature": expected,
        }

    def test_exact_output_format(self, run_cli):
        proc = run_cli(["webhooks", "sign", "--scheme", "standard", "--secret", STD_SECRET_PADDED,
                        "--id", MSG_ID, "--timestamp", str(FIXED_TS)], STD_BODY)
        assert proc.returncode == 0, _describe(proc)
        parsed = parse_header_lines(proc.stdout)
        assert [name for name, _ in parsed] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
        values = dict(parsed)
        assert values["webhook-id"] == MSG_ID
        assert values["webhook-timestamp"] == str(FIXED_TS)
        assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", values["webhook-signature"]), values

    @pytest.mark.parametrize("body_name", list(STD_BODIES))
    @pytest.mark.parametrize("secret", STD_SECRET_PARAMS_ALL)
    def test_signature_matches_library_byte_for_byte(self, run_cli, body_name, secret):
        body = STD_BODIES[body_name]
        headers = cli_sign(run_cli, "standard", secret, body, msg_id=MSG_ID, timestamp=FIXED_TS)
        assert headers == std_library_headers(secret, body, FIXED_TS)
        assert headers == std_library_headers(secret, body, FIXED_TS, lib=svixwh)

    def test_defaults_generate_msg_id_and_current_timestamp(self, run_cli):
        before = int(time.time())
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY)
        after = int(time.time())
        assert re.fullmatch(r"msg_[A-Za-z0-9_-]+", headers["webhook-id"]), headers
        assert re.fullmatch(r"\d+", headers["webhook-timestamp"]), headers
        assert before - 5 <= int(headers["webhook-timestamp"]) <= after + 5
        # Defaults are usable as-is by the official library (which checks the wall clock).
        assert stdwh.Webhook(STD_SECRET_PADDED).verify(STD_BODY, headers) == STD_EVENT
        # Generated ids are unique per message.
        again = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY)
        assert again["webhook-id"] != headers["webhook-id"]


class TestStandardLibraryToInterchange:
    """Signed by standardwebhooks / svix -> verified by `interchange webhooks verify`."""

    @pytest.mark.parametrize("body_name", list(STD_BODIES))
    @pytest.mark.parametrize("secret", STD_SECRET_PARAMS)
    def test_standardwebhooks_signature_verifies(self, run_cli, body_name, secret):
        body = STD_BODIES[body_name]
        headers = std_library_headers(secret, body, FIXED_TS)
        assert_valid(cli_verify(run_cli, "standard", [secret], header_args(headers), body))

    @pytest.mark.parametrize("body_name", list(STD_BODIES))
    def test_svix_signature_verifies(self, run_cli, body_name):
        body = STD_BODIES[body_name]
        headers = std_library_headers(STD_SECRET_SPEC, body, FIXED_TS, msg_id="msg_svix_" + body_name, lib=svixwh)
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_SPEC], header_args(headers), body))

    def test_empty_body(self, run_cli):
        headers = std_library_headers(STD_SECRET_PADDED, b"", FIXED_TS)
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), b""))

    def test_unpadded_secret_is_accepted(self, run_cli):
        """standardwebhooks/svix accept whsec_ secrets without base64 padding; so must Interchange."""
        headers = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_UNPADDED], header_args(headers), STD_BODY))

    def test_header_names_are_case_insensitive(self, run_cli):
        headers = std_library_headers(STD_SECRET_SPEC, STD_BODY, FIXED_TS)
        mixed = {"Webhook-Id": headers["webhook-id"], "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"],
                 "Webhook-Signature": headers["webhook-signature"]}
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_SPEC], header_args(mixed), STD_BODY))

    def test_timestamp_at_tolerance_edge(self, run_cli):
        """Same boundary as standardwebhooks: exactly 300 s old/new is accepted, 301 s is not."""
        headers = std_library_headers(STD_SECRET_SPEC, STD_BODY, FIXED_TS)
        args = header_args(headers)
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_SPEC], args, STD_BODY, now=FIXED_TS + TOLERANCE))
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_SPEC], args, STD_BODY, now=FIXED_TS - TOLERANCE))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_SPEC], args, STD_BODY,
                                   now=FIXED_TS + TOLERANCE + 1), TOLERANCE_WORDS)

    # ---- rotation ----------------------------------------------------------------

    @pytest.mark.parametrize("signing_secret", STD_SECRET_PARAMS)
    def test_rotation_any_configured_secret_verifies(self, run_cli, signing_secret):
        headers = std_library_headers(signing_secret, STD_BODY, FIXED_TS)
        proc = cli_verify(run_cli, "standard", [STD_SECRET_SPEC, STD_SECRET_PADDED], header_args(headers), STD_BODY)
        assert_valid(proc)

    def test_rotation_unknown_secret_still_rejected(self, run_cli):
        headers = std_library_headers(STD_SECRET_OTHER, STD_BODY, FIXED_TS)
        proc = cli_verify(run_cli, "standard", [STD_SECRET_SPEC, STD_SECRET_PADDED], header_args(headers), STD_BODY)
        assert_rejected(proc, SIGNATURE_WORDS)

    def test_multiple_signatures_in_header_one_valid(self, run_cli):
        """Spec: webhook-signature is a space-delimited list; any v1 match is enough, other versions ignored."""
        good = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        wrong = std_library_headers(STD_SECRET_OTHER, STD_BODY, FIXED_TS)["webhook-signature"]
        good_sig = good["webhook-signature"]
        for sig_list in (f"{wrong} {good_sig}", f"{good_sig} {wrong}", f"v1a,{good_sig[3:]} {good_sig}",
                         f"v2,{good_sig[3:]} {wrong} {good_sig}"):
            headers = dict(good, **{"webhook-signature": sig_list})
            assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), STD_BODY))

    # ---- negatives (Interchange must reject, with a reason) ------------------------

    @pytest.mark.parametrize("body_name", ["compact-utf8", "trailing-whitespace"])
    def test_tampered_body_rejected(self, run_cli, body_name):
        body = STD_BODIES[body_name]
        headers = header_args(std_library_headers(STD_SECRET_PADDED, body, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, flip_last_byte(body)),
                        SIGNATURE_WORDS)

    def test_whitespace_is_significant(self, run_cli):
        """Signature is over raw bytes: adding or stripping trailing whitespace breaks it."""
        body = STD_BODIES["trailing-whitespace"]
        headers = header_args(std_library_headers(STD_SECRET_PADDED, body, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, body.rstrip()), SIGNATURE_WORDS)
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY + b"\n"),
                        SIGNATURE_WORDS)

    def test_reserialised_json_rejected(self, run_cli):
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODIES["compact-utf8"], FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers,
                                   STD_BODIES["compact-ascii-escaped"]), SIGNATURE_WORDS)

    def test_wrong_secret_rejected(self, run_cli):
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_OTHER], headers, STD_BODY), SIGNATURE_WORDS)

    def test_tampered_msg_id_rejected(self, run_cli):
        """webhook-id is part of the signed content."""
        headers = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        headers["webhook-id"] = headers["webhook-id"] + "x"
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), STD_BODY),
                        SIGNATURE_WORDS)

    def test_tampered_timestamp_header_rejected(self, run_cli):
        """webhook-timestamp is part of the signed content (shifted but still within tolerance)."""
        headers = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        headers["webhook-timestamp"] = str(FIXED_TS + 1)
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), STD_BODY),
                        SIGNATURE_WORDS)

    @pytest.mark.parametrize("age", [TOLERANCE + 1, 3600, 86400 * 30])
    def test_timestamp_too_old_rejected(self, run_cli, age):
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY, now=FIXED_TS + age),
                        TOLERANCE_WORDS)

    @pytest.mark.parametrize("ahead", [TOLERANCE + 1, 3600])
    def test_timestamp_too_new_rejected(self, run_cli, ahead):
        """The Standard Webhooks spec (and the library) reject timestamps too far in the future too."""
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY,
                                   now=FIXED_TS - ahead), TOLERANCE_WORDS)

    def test_custom_tolerance(self, run_cli):
        headers = header_args(std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS))
        now = FIXED_TS + 500
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY, now=now),
                        TOLERANCE_WORDS)
        assert_valid(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY, now=now, tolerance=600))
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], headers, STD_BODY,
                                   now=FIXED_TS + 20, tolerance=10), TOLERANCE_WORDS)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_header_rejected(self, run_cli, missing):
        headers = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        del headers[missing]
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), STD_BODY),
                        MISSING_HEADER_WORDS + (missing,))

    def test_no_headers_at_all_rejected(self, run_cli):
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], [], STD_BODY), MISSING_HEADER_WORDS)

    @pytest.mark.parametrize(
        "name,value",
        [
            ("webhook-signature", "garbage"),
            ("webhook-signature", "v1,not base64 at all!!!"),
            ("webhook-signature", "v1,"),
            ("webhook-signature", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
            ("webhook-timestamp", "yesterday"),
            ("webhook-timestamp", "2023-11-14T22:13:20Z"),
        ],
    )
    def test_garbage_header_rejected(self, run_cli, name, value):
        headers = std_library_headers(STD_SECRET_PADDED, STD_BODY, FIXED_TS)
        headers[name] = value
        assert_rejected(cli_verify(run_cli, "standard", [STD_SECRET_PADDED], header_args(headers), STD_BODY),
                        MALFORMED_HEADER_WORDS)


class TestInterchangeToStandardLibrary:
    """Signed by `interchange webhooks sign --scheme standard` -> verified by standardwebhooks / svix."""

    @pytest.mark.parametrize("body_name", list(STD_BODIES))
    @pytest.mark.parametrize("secret", STD_SECRET_PARAMS_ALL)
    def test_standardwebhooks_verifies(self, run_cli, body_name, secret):
        body = STD_BODIES[body_name]
        # The library only checks against the wall clock: sign "now", verify immediately.
        headers = cli_sign(run_cli, "standard", secret, body, msg_id=MSG_ID, timestamp=int(time.time()))
        assert stdwh.Webhook(secret).verify(body, headers) == STD_EVENT

    @pytest.mark.parametrize("body_name", list(STD_BODIES))
    def test_svix_verifies(self, run_cli, body_name):
        body = STD_BODIES[body_name]
        headers = cli_sign(run_cli, "standard", STD_SECRET_SPEC, body, timestamp=int(time.time()))
        svixwh.Webhook(STD_SECRET_SPEC).verify(body, headers)  # raises on failure
        # svix also accepts its own header names carrying the same values.
        svix_headers = {k.replace("webhook-", "svix-"): v for k, v in headers.items()}
        svixwh.Webhook(STD_SECRET_SPEC).verify(body, svix_headers)

    def test_empty_body(self, run_cli):
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, b"", timestamp=int(time.time()))
        assert stdwh.Webhook(STD_SECRET_PADDED).verify(b"", headers, json_parse=False) is None
        svixwh.Webhook(STD_SECRET_PADDED).verify(b"", headers)

    def test_tampered_body_rejected_by_libraries(self, run_cli):
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY, timestamp=int(time.time()))
        for tampered in (flip_last_byte(STD_BODY), STD_BODY + b"\n", STD_BODIES["compact-ascii-escaped"]):
            with pytest.raises(stdwh.WebhookVerificationError, match="No matching signature"):
                stdwh.Webhook(STD_SECRET_PADDED).verify(tampered, headers)
            with pytest.raises(svixwh.WebhookVerificationError):
                svixwh.Webhook(STD_SECRET_PADDED).verify(tampered, headers)

    def test_tampered_signature_rejected_by_libraries(self, run_cli):
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY, timestamp=int(time.time()))
        version, sig = headers["webhook-signature"].split(",", 1)
        headers["webhook-signature"] = f"{version},{tamper_b64(sig)}"
        with pytest.raises(stdwh.WebhookVerificationError, match="No matching signature"):
            stdwh.Webhook(STD_SECRET_PADDED).verify(STD_BODY, headers)
        with pytest.raises(svixwh.WebhookVerificationError):
            svixwh.Webhook(STD_SECRET_PADDED).verify(STD_BODY, headers)

    def test_wrong_secret_rejected_by_libraries(self, run_cli):
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY, timestamp=int(time.time()))
        with pytest.raises(stdwh.WebhookVerificationError, match="No matching signature"):
            stdwh.Webhook(STD_SECRET_OTHER).verify(STD_BODY, headers)
        with pytest.raises(svixwh.WebhookVerificationError):
            svixwh.Webhook(STD_SECRET_OTHER).verify(STD_BODY, headers)

    @pytest.mark.parametrize("offset,message", [(-3600, "too old"), (+3600, "too new")])
    def test_out_of_tolerance_timestamp_rejected_by_libraries(self, run_cli, offset, message):
        headers = cli_sign(run_cli, "standard", STD_SECRET_PADDED, STD_BODY, timestamp=int(time.time()) + offset)
        with pytest.raises(stdwh.WebhookVerificationError, match=message):
            stdwh.Webhook(STD_SECRET_PADDED).verify(STD_BODY, headers)
        with pytest.raises(svixwh.WebhookVerificationError, match=message):
            svixwh.Webhook(STD_SECRET_PADDED).verify(STD_BODY, headers)


# ======================================================================================
# Stripe
# ======================================================================================

STRIPE_HEADER_LINE = re.compile(r"Stripe-Signature: t=(\d+),v1=([0-9a-f]{64})")


class TestStripeSignOutput:
    def test_exact_output_format(self, run_cli):
        proc = run_cli(["webhooks", "sign", "--scheme", "stripe", "--secret", STRIPE_SECRET_CLI,
                        "--timestamp", str(FIXED_TS)], STRIPE_BODY)
        assert proc.returncode == 0, _describe(proc)
        lines = proc.stdout.decode("utf-8").splitlines()
        assert len(lines) == 1, _describe(proc)
        m = STRIPE_HEADER_LINE.fullmatch(lines[0])
        assert m, _describe(proc)
        assert int(m.group(1)) == FIXED_TS

    @pytest.mark.parametrize("body_name", list(STRIPE_BODIES))
    @pytest.mark.parametrize("secret", STRIPE_SECRET_PARAMS)
    def test_signature_matches_library_byte_for_byte(self, run_cli, body_name, secret):
        """Secret is used as raw UTF-8 key bytes, whsec_ prefix included, never base64-decoded."""
        body = STRIPE_BODIES[body_name]
        headers = cli_sign(run_cli, "stripe", secret, body, timestamp=FIXED_TS)
        assert headers == {"Stripe-Signature": stripe_library_header(secret, body, FIXED_TS)}
        # Independent recomputation, documenting the algorithm.
        mac = hmac.new(secret.encode("utf-8"), str(FIXED_TS).encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["Stripe-Signature"] == f"t={FIXED_TS},v1={mac}"

    def test_default_timestamp_is_now(self, run_cli):
        before = int(time.time())
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY)["Stripe-Signature"]
        after = int(time.time())
        m = STRIPE_HEADER_LINE.fullmatch("Stripe-Signature: " + header)
        assert m, header
        assert before - 5 <= int(m.group(1)) <= after + 5
        event = stripe.Webhook.construct_event(STRIPE_BODY, header, STRIPE_SECRET_CLI)
        assert event.id == STRIPE_EVENT_ID


class TestStripeLibraryToInterchange:
    """Header made the stripe way -> verified by `interchange webhooks verify --scheme stripe`."""

    @pytest.mark.parametrize("body_name", list(STRIPE_BODIES))
    @pytest.mark.parametrize("secret", STRIPE_SECRET_PARAMS)
    def test_stripe_header_verifies(self, run_cli, body_name, secret):
        body = STRIPE_BODIES[body_name]
        header = stripe_library_header(secret, body, FIXED_TS)
        assert_valid(cli_verify(run_cli, "stripe", [secret], [f"Stripe-Signature: {header}"], body))

    def test_empty_body(self, run_cli):
        header = stripe_library_header(STRIPE_SECRET_CLI, b"", FIXED_TS)
        assert stripe.WebhookSignature.verify_header(b"", header, STRIPE_SECRET_CLI, None) is True
        assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [f"Stripe-Signature: {header}"], b""))

    def test_header_name_case_insensitive(self, run_cli):
        header = stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)
        for name in ("stripe-signature", "STRIPE-SIGNATURE"):
            assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [f"{name}: {header}"], STRIPE_BODY))

    def test_unrelated_headers_are_ignored(self, run_cli):
        header = stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)
        args = ["Content-Type: application/json; charset=utf-8", f"Stripe-Signature: {header}",
                "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)"]
        assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY))

    # Note: stripe-python only rejects timestamps that are too OLD (it never rejects future ones), so
    # future-dated stripe headers are deliberately not asserted on here: that is Interchange's choice.

    def test_timestamp_at_tolerance_edge(self, run_cli):
        """Same boundary as stripe-python (`timestamp < now - tolerance` fails): 300 s ok, 301 s not."""
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY, now=FIXED_TS + TOLERANCE))
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY,
                                   now=FIXED_TS + TOLERANCE + 1), TOLERANCE_WORDS)

    # ---- rotation ----------------------------------------------------------------

    @pytest.mark.parametrize("signing_secret", STRIPE_SECRET_PARAMS)
    def test_rotation_any_configured_secret_verifies(self, run_cli, signing_secret):
        header = stripe_library_header(signing_secret, STRIPE_BODY, FIXED_TS)
        assert_valid(cli_verify(run_cli, "stripe", STRIPE_SECRETS, [f"Stripe-Signature: {header}"], STRIPE_BODY))

    def test_rotation_unknown_secret_still_rejected(self, run_cli):
        header = stripe_library_header(STRIPE_SECRET_OTHER, STRIPE_BODY, FIXED_TS)
        assert_rejected(cli_verify(run_cli, "stripe", STRIPE_SECRETS, [f"Stripe-Signature: {header}"], STRIPE_BODY),
                        SIGNATURE_WORDS)

    def test_two_v1_signatures_one_wrong(self, run_cli):
        """During a secret roll Stripe sends one v1 per active secret; any match is enough.
        v0 (legacy test-mode scheme) entries must be ignored."""
        good = stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS).split(",")[1]
        wrong = stripe_library_header(STRIPE_SECRET_OTHER, STRIPE_BODY, FIXED_TS).split(",")[1]
        v0 = "v0=" + "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        for header in (f"t={FIXED_TS},{wrong},{good}", f"t={FIXED_TS},{good},{wrong}",
                       f"t={FIXED_TS},{wrong},{good},{v0}", f"{wrong},t={FIXED_TS},{good}"):
            # stripe-python itself accepts each of these ...
            stripe.WebhookSignature.verify_header(STRIPE_BODY, header, STRIPE_SECRET_CLI, None)
            # ... and so must Interchange.
            assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [f"Stripe-Signature: {header}"],
                                    STRIPE_BODY))

    # ---- negatives ---------------------------------------------------------------

    @pytest.mark.parametrize("body_name", ["pretty-utf8", "trailing-whitespace"])
    def test_tampered_body_rejected(self, run_cli, body_name):
        body = STRIPE_BODIES[body_name]
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, body, FIXED_TS)}"]
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, flip_last_byte(body)),
                        SIGNATURE_WORDS)

    def test_whitespace_is_significant(self, run_cli):
        body = STRIPE_BODIES["trailing-whitespace"]
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, body, FIXED_TS)}"]
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, body.rstrip()), SIGNATURE_WORDS)
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY + b"\n"),
                        SIGNATURE_WORDS)

    def test_wrong_secret_rejected(self, run_cli):
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_OTHER], args, STRIPE_BODY), SIGNATURE_WORDS)

    def test_secret_without_prefix_is_a_different_key(self, run_cli):
        """Stripe keys the HMAC with the full `whsec_...` string; dropping the prefix must not verify."""
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        bare = STRIPE_SECRET_CLI[len("whsec_"):]
        assert_rejected(cli_verify(run_cli, "stripe", [bare], args, STRIPE_BODY), SIGNATURE_WORDS)

    def test_tampered_timestamp_rejected(self, run_cli):
        """t= is part of the signed payload."""
        header = stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)
        header = header.replace(f"t={FIXED_TS}", f"t={FIXED_TS + 1}")
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [f"Stripe-Signature: {header}"],
                                   STRIPE_BODY), SIGNATURE_WORDS)

    @pytest.mark.parametrize("age", [TOLERANCE + 1, 3600, 86400 * 30])
    def test_timestamp_too_old_rejected(self, run_cli, age):
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY, now=FIXED_TS + age),
                        TOLERANCE_WORDS)

    def test_custom_tolerance(self, run_cli):
        args = [f"Stripe-Signature: {stripe_library_header(STRIPE_SECRET_CLI, STRIPE_BODY, FIXED_TS)}"]
        now = FIXED_TS + 500
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY, now=now),
                        TOLERANCE_WORDS)
        assert_valid(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY, now=now, tolerance=600))
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], args, STRIPE_BODY,
                                   now=FIXED_TS + 20, tolerance=10), TOLERANCE_WORDS)

    def test_missing_header_rejected(self, run_cli):
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [], STRIPE_BODY),
                        MISSING_HEADER_WORDS + ("stripe-signature",))
        # Only unrelated headers present.
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], ["Content-Type: application/json"],
                                   STRIPE_BODY), MISSING_HEADER_WORDS + ("stripe-signature",))

    @pytest.mark.parametrize(
        "value",
        [
            "garbage",
            "t=notanumber,v1=" + "0" * 64,
            f"t={FIXED_TS}",  # no v1 entry
            "v1=" + "0" * 64,  # no t entry
            f"t={FIXED_TS},v0=" + "0" * 64,  # only a non-v1 scheme
            f"t={FIXED_TS},v1=zz-not-hex",
        ],
    )
    def test_garbage_header_rejected(self, run_cli, value):
        assert_rejected(cli_verify(run_cli, "stripe", [STRIPE_SECRET_CLI], [f"Stripe-Signature: {value}"],
                                   STRIPE_BODY), MALFORMED_HEADER_WORDS)


class TestInterchangeToStripeLibrary:
    """Signed by `interchange webhooks sign --scheme stripe` -> stripe.Webhook.construct_event."""

    @pytest.mark.parametrize("body_name", list(STRIPE_BODIES))
    @pytest.mark.parametrize("secret", STRIPE_SECRET_PARAMS)
    def test_construct_event_accepts(self, run_cli, body_name, secret):
        body = STRIPE_BODIES[body_name]
        header = cli_sign(run_cli, "stripe", secret, body, timestamp=int(time.time()))["Stripe-Signature"]
        event = stripe.Webhook.construct_event(body, header, secret)
        assert isinstance(event, stripe.Event)
        assert event.id == STRIPE_EVENT_ID
        assert event.type == "checkout.session.completed"
        session = event["data"]["object"]
        assert session["id"] == STRIPE_SESSION_ID
        assert session["customer_details"]["name"] == "Zoë Müller"
        assert session["metadata"]["note"] == "日本語のメモ ✓ 🚀"
        # The lower-level check, with an explicit tolerance, agrees.
        assert stripe.WebhookSignature.verify_header(body, header, secret, tolerance=TOLERANCE) is True

    def test_tampered_body_rejected_by_stripe(self, run_cli):
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY, timestamp=int(time.time()))[
            "Stripe-Signature"]
        for tampered in (flip_last_byte(STRIPE_BODY), STRIPE_BODY + b"\n", STRIPE_BODIES["compact-utf8"]):
            with pytest.raises(stripe.SignatureVerificationError, match="No signatures found matching"):
                stripe.Webhook.construct_event(tampered, header, STRIPE_SECRET_CLI)

    def test_tampered_signature_rejected_by_stripe(self, run_cli):
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY, timestamp=int(time.time()))[
            "Stripe-Signature"]
        t_part, v1_part = header.split(",")
        tampered = f"{t_part},v1={tamper_hex(v1_part[len('v1='):])}"
        with pytest.raises(stripe.SignatureVerificationError, match="No signatures found matching"):
            stripe.Webhook.construct_event(STRIPE_BODY, tampered, STRIPE_SECRET_CLI)

    def test_wrong_secret_rejected_by_stripe(self, run_cli):
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY, timestamp=int(time.time()))[
            "Stripe-Signature"]
        with pytest.raises(stripe.SignatureVerificationError, match="No signatures found matching"):
            stripe.Webhook.construct_event(STRIPE_BODY, header, STRIPE_SECRET_OTHER)

    def test_old_timestamp_rejected_by_stripe(self, run_cli):
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY, timestamp=int(time.time()) - 3600)[
            "Stripe-Signature"]
        with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
            stripe.Webhook.construct_event(STRIPE_BODY, header, STRIPE_SECRET_CLI)
        # Verified with a big enough tolerance it is genuine.
        assert stripe.Webhook.construct_event(STRIPE_BODY, header, STRIPE_SECRET_CLI, tolerance=7200).id == \
            STRIPE_EVENT_ID

    def test_fixed_timestamp_header_is_genuine(self, run_cli):
        """A deterministic (--timestamp) header: valid signature; only the age check differs."""
        header = cli_sign(run_cli, "stripe", STRIPE_SECRET_CLI, STRIPE_BODY, timestamp=FIXED_TS)["Stripe-Signature"]
        # tolerance=None/0 disables stripe's age check, leaving the pure signature check.
        assert stripe.WebhookSignature.verify_header(STRIPE_BODY, header, STRIPE_SECRET_CLI, tolerance=None) is True
        with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
            stripe.WebhookSignature.verify_header(STRIPE_BODY, header, STRIPE_SECRET_CLI, tolerance=TOLERANCE)
