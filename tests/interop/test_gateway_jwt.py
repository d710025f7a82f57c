"""The gateway's jwt plugin against tokens and keys made by PyJWT (the `pyjwt` package, with `cryptography`): the
real ``interchange serve gateway`` verifies RS256 tokens whose key it fetches from a JWK Set that PyJWT wrote, picks
the key by the token's ``kid`` (an unknown kid and a wrong key are refused), refuses a token signed HS256 with the
published public key as HMAC secret (algorithm confusion), and verifies EdDSA tokens against a PEM key in the Kong
file. (Key rotation and the refetch limits need a clock: tests/GatewayProxyTests/JWKSTests.swift.)
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import RSAAlgorithm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.http_upstream import JSONHandler, serve  # noqa: E402
from support.interchange_binary import REPO_ROOT  # noqa: E402
from support.interchange_process import run_interchange  # noqa: E402


class Echo(JSONHandler):
    """Answers with the consumer the gateway identified."""

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        self.reply_json({"consumer": self.headers.get("X-Consumer-Username")})


class Issuer(JSONHandler):
    """Serves the JWK Set in ``Issuer.keys``."""

    keys: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802
        self.reply_json({"keys": Issuer.keys}, content_type="application/jwk-set+json")


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


def call(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_pyjwt_tokens_verify_through_a_jwks_url_and_an_eddsa_key(interchange_bin: Path, tmp_path: Path) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    Issuer.keys = [public_jwk(first, "k1")]
    upstream, issuer = serve(Echo), serve(Issuer)
    try:
        jwks_url = f"http://127.0.0.1:{issuer.server_address[1]}/.well-known/jwks.json"
        indented = "\n".join("          " + line for line in ed_pem.strip().splitlines())
        config = tmp_path / "kong.yaml"
        config.write_text(
            '_format_version: "3.0"\n'
            "services:\n"
            f"  - name: api\n    url: http://127.0.0.1:{upstream.server_address[1]}\n"
            "    routes: [{name: api, paths: [/]}]\n"
            "consumers:\n"
            "  - username: federated\n"
            f"    jwt_secrets: [{{key: https://idp.example, algorithm: RS256, jwks_url: \"{jwks_url}\"}}]\n"
            "  - username: edwards\n"
            "    jwt_secrets:\n"
            "      - key: ed-issuer\n"
            "        algorithm: EdDSA\n"
            "        rsa_public_key: |\n"
            f"{indented}\n"
            "plugins:\n  - name: jwt\n"
        )
        log = REPO_ROOT / "test-artifacts" / "interop-gateway-jwt.log"
        with run_interchange(interchange_bin, ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"], log) as gateway:
            claims = {"iss": "https://idp.example", "sub": "user-1"}
            token = jwt.encode(claims, first, algorithm="RS256", headers={"kid": "k1"})
            assert call(gateway + "/", token) == (200, {"consumer": "federated"})

            # Another key under a kid the set lacks: refused; signed with the right kid but the wrong key: refused.
            status, problem = call(gateway + "/", jwt.encode(claims, second, algorithm="RS256", headers={"kid": "k2"}))
            assert status == 401 and problem["detail"] == "Unknown 'kid'"
            assert call(gateway + "/", jwt.encode(claims, second, algorithm="RS256", headers={"kid": "k1"}))[0] == 401

            # Algorithm confusion: HS256 with the published public key as the HMAC secret (PyJWT refuses to do this
            # with a PEM key, so the token is signed by hand with its HMAC primitive).
            pem = first.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            hmac = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
            header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
            payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
            signature = jwt.utils.base64url_encode(hmac.sign(header + b"." + payload, pem))
            status, problem = call(gateway + "/", (header + b"." + payload + b"." + signature).decode())
            assert status == 401 and problem["detail"] == "Invalid algorithm"

            ed_token = jwt.encode({"iss": "ed-issuer"}, ed, algorithm="EdDSA")
            assert call(gateway + "/", ed_token) == (200, {"consumer": "edwards"})
            tampered = jwt.encode({"iss": "ed-issuer", "admin": True}, ed, algorithm="EdDSA").split(".")
            forged = ".".join(tampered[:2] + [ed_token.split(".")[2]])
            assert call(gateway + "/", forged)[0] == 401
    finally:
        upstream.shutdown()
        issuer.shutdown()
