"""The real ``interchange serve gateway --config kong.yaml`` in front of a real HTTP upstream (Python's own server),
driven by a plain HTTP client: a Kong declarative file loads unchanged and requests are proxied with Kong's path
rules and forwarding headers; a bad file stops start-up naming each problem's key path and line; a changed file
and SIGHUP reload it, a bad new file keeping the old one in force, as the admin API reports.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.http_upstream import JSONHandler, serve  # noqa: E402
from support.interchange_binary import REPO_ROOT  # noqa: E402
from support.interchange_process import required_env, run_interchange  # noqa: E402


class Echo(JSONHandler):
    """Answers every GET (and POST, once it has read the body) with what reached it: the path and the headers."""

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            # As an upload endpoint does: the whole body before the answer (an answer sent earlier would race the
            # gateway's size limit, which a streaming proxy applies while the body passes).
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                self.rfile.read(size + 2)
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
        else:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        self.reply_json({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                         "traceparents": self.headers.get_all("traceparent") or []})


GIB = 1 << 30
CHUNK = 1 << 20


class Bulk(BaseHTTPRequestHandler):
    """PUT: reads the body and answers how many bytes came; GET: answers 1 GiB, a chunk at a time."""

    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:  # noqa: N802
        remaining = int(self.headers["Content-Length"])
        received = 0
        while remaining > 0:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                break
            received += len(data)
            remaining -= len(data)
        body = str(received).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(GIB))
        self.end_headers()
        chunk = b"b" * CHUNK
        for _ in range(GIB // CHUNK):
            self.wfile.write(chunk)

    def log_message(self, *args) -> None:
        pass


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set (VmHWM) from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def gateway_pid(port: int) -> int:
    """The pid of the interchange process listening on ``port`` (via /proc/net/tcp and the fds' inodes)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    raise AssertionError(f"no process listens on {port}")


def test_a_gibibyte_passes_each_way_in_constant_memory(interchange_bin: Path, tmp_path: Path) -> None:
    upstream = serve(Bulk)
    try:
        config = kong_file(tmp_path, f"http://127.0.0.1:{upstream.server_address[1]}", "/")
        log = REPO_ROOT / "test-artifacts" / "interop-gateway-bulk.log"
        # Two malloc arenas: the peak then measures the buffers alive at once rather than glibc's per-thread arenas
        # (without the cap the same run peaks some 300 MiB higher with nothing more alive).
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"]
        with run_interchange(interchange_bin, args, log, env={"MALLOC_ARENA_MAX": "2"}) as gateway:
            port = int(gateway.rsplit(":", 1)[1])
            pid = gateway_pid(port)
            assert fetch(f"{gateway}/warm-up")[0] in (200, 501)
            before = peak_rss_bytes(pid)

            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            chunk = b"a" * CHUNK
            connection.request("PUT", "/upload", body=(chunk for _ in range(GIB // CHUNK)), headers={"Content-Length": str(GIB)})
            response = connection.getresponse()
            assert response.status == 200
            assert int(response.read()) == GIB, "the upstream received every byte"

            connection.request("GET", "/download")
            response = connection.getresponse()
            assert response.status == 200
            received = 0
            while data := response.read(CHUNK):
                received += len(data)
            assert received == GIB
            connection.close()

            grown = peak_rss_bytes(pid) - before
            # Buffered whole, either body alone would add a gibibyte; streamed, the peak stays under half of one.
            # Here it grows 0–110 MiB (debug build); behind an upstream reading 50 MiB/s, 256 MiB passed with 5 MiB of
            # growth (backpressure holds the client back). One CI run saw 307 MiB: AsyncHTTPClient hands each upload
            # part to its event loop without waiting for the write, so while that loop is starved of CPU the upload
            # runs ahead by what arrives meanwhile — a figure of time and load, not of the body's size.
            assert grown < 512 * CHUNK, f"the gateway's peak memory grew by {grown // CHUNK} MiB moving 2 GiB"
    finally:
        upstream.shutdown()


def kong_file(directory: Path, url: str, path: str) -> Path:
    """A Kong declarative file with one service at ``url`` and one route on ``path``."""
    config = directory / "kong.yaml"
    config.write_text(f'_format_version: "3.0"\nservices:\n  - name: upstream\n    url: {url}\n'
                      f"    routes: [{{name: all, paths: [{path}]}}]\n")
    return config


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_kong_file_is_served_and_requests_are_proxied(interchange_bin: Path, tmp_path: Path) -> None:
    upstream = serve(Echo)
    try:
        config = kong_file(tmp_path, f"http://127.0.0.1:{upstream.server_address[1]}/v1", "/api")
        log = REPO_ROOT / "test-artifacts" / "interop-gateway.log"
        with run_interchange(interchange_bin, ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"], log) as gateway:
            traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            status, headers, body = fetch(f"{gateway}/api/orders?page=2", {"X-Forwarded-For": "203.0.113.7", "traceparent": traceparent})
            assert status == 200, body
            seen = json.loads(body)
            assert seen["traceparents"] == [traceparent], "the client's trace context passes through untouched, once"
            assert seen["path"] == "/v1/orders?page=2"
            assert seen["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
            assert seen["headers"]["x-forwarded-prefix"] == "/api"
            assert seen["headers"]["via"] == "1.1 interchange-gateway"
            assert "1.1 interchange-gateway" in headers.get("Via", "")

            status, headers, body = fetch(f"{gateway}/elsewhere")
            assert status == 404
            assert headers["Content-Type"] == "application/problem+json"
            problem = json.loads(body)
            assert problem["type"] == "https://interchange.dev/problems/no-route"
            assert problem["status"] == 404
    finally:
        upstream.shutdown()


def test_a_bad_kong_file_stops_start_up_naming_each_problem(interchange_bin: Path, tmp_path: Path) -> None:
    config = tmp_path / "kong.yaml"
    config.write_text(
        "_format_version: \"3.0\"\n"
        "services:\n"
        "  - name: echo\n"
        "    url: http://127.0.0.1:9/\n"
        "    colour: blue\n"
        "    routes:\n"
        "      - name: echo\n"
        "        paths: [orders]\n"
    )
    result = subprocess.run(
        [str(interchange_bin), "serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    # "<file>:<line>:<column>: <key path>: <reason>", every problem, not only the first.
    assert re.search(rf"{re.escape(str(config))}:5:\d+: services\[0\]\.colour: ", result.stderr), result.stderr
    assert re.search(rf"{re.escape(str(config))}:8:\d+: services\[0\]\.routes\[0\]\.paths\[0\]: ", result.stderr), result.stderr
    assert "Interchange is listening" not in result.stdout


def test_serve_gateway_without_a_file_says_what_it_needs(interchange_bin: Path) -> None:
    result = subprocess.run(
        [str(interchange_bin), "serve", "gateway", "--port", "0"],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "--config" in result.stderr and "Kong" in result.stderr, result.stderr


def admin_url(log: Path) -> str:
    """The admin API's base URL from the gateway's start-up line (printed before the listening line)."""
    match = re.search(r"Gateway admin API on (http://\S+)/_gateway/", log.read_text(encoding="utf-8"))
    assert match, f"no admin API line in {log}"
    return match.group(1)


def until(what: str, condition, timeout_s: float = 15.0):
    """Polls ``condition`` until it returns a truthy value (returned), failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def test_a_changed_file_and_sighup_reload_it_and_a_bad_file_keeps_the_old_one(interchange_bin: Path, tmp_path: Path) -> None:
    upstream = serve(Echo)
    try:
        url = f"http://127.0.0.1:{upstream.server_address[1]}"
        config = kong_file(tmp_path, url, "/v1")
        log = REPO_ROOT / "test-artifacts" / "interop-gateway-reload.log"
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"]
        with run_interchange(interchange_bin, args, log) as gateway:
            admin = admin_url(log)

            def status() -> dict:
                return json.loads(fetch(f"{admin}/_gateway/status")[2])

            assert status()["generation"] == 1
            assert fetch(f"{gateway}/v1/x")[0] == 200
            assert fetch(f"{gateway}/v2/x")[0] == 404

            # The file changes: the watcher applies it.
            kong_file(tmp_path, url, "/v2")
            until("the changed file is in force", lambda: fetch(f"{gateway}/v2/x")[0] == 200)
            assert fetch(f"{gateway}/v1/x")[0] == 404
            assert status()["generation"] == 2 and status()["lastReload"]["outcome"] == "applied"

            # A bad file: rejected with its reason; the configuration in force keeps serving.
            config.write_text(config.read_text() + "    colour: blue\n")
            rejected = until("the bad file is rejected", lambda: (s := status())["lastReload"]["outcome"] == "rejected" and s)
            assert "colour" in rejected["lastReload"]["error"], rejected
            assert rejected["generation"] == 2
            assert fetch(f"{gateway}/v2/x")[0] == 200

            # SIGHUP reloads even an unchanged file (the watcher would not): fixed, then signalled.
            kong_file(tmp_path, url, "/v2")
            until("the fixed file is in force", lambda: status()["generation"] == 3)
            os.kill(gateway_pid(int(gateway.rsplit(":", 1)[1])), signal.SIGHUP)
            until("SIGHUP reloaded the file", lambda: status()["generation"] == 4)
            assert fetch(f"{gateway}/v2/x")[0] == 200

            config_summary = json.loads(fetch(f"{admin}/_gateway/config")[2])
            assert [route["paths"] for route in config_summary["routes"]] == [["/v2"]]
    finally:
        upstream.shutdown()


def read_until_closed(sock, timeout_s: float, started: float | None = None) -> tuple[bytes, float]:
    """Reads until the peer closes (or ``timeout_s`` passes); returns what came and the seconds since ``started``
    (by default, since the call)."""
    import socket as _socket

    started = time.monotonic() if started is None else started
    received = b""
    sock.settimeout(0.05)
    while time.monotonic() - started < timeout_s:
        try:
            data = sock.recv(65536)
        except _socket.timeout:
            continue
        except OSError:
            break
        if not data:
            return received, time.monotonic() - started
        received += data
    raise AssertionError(f"the gateway kept the connection open past {timeout_s} s (received {received[:200]!r})")


def test_a_slow_loris_and_an_endless_body_are_cut_off_without_blocking_others(interchange_bin: Path, tmp_path: Path) -> None:
    import socket

    upstream = serve(Echo)
    try:
        config = kong_file(tmp_path, f"http://127.0.0.1:{upstream.server_address[1]}", "/")
        config.write_text(config.read_text() + "plugins:\n  - name: request-size-limiting\n    config: {allowed_payload_size: 64, size_unit: kilobytes}\n")
        log = REPO_ROOT / "test-artifacts" / "interop-gateway-deadlines.log"
        env = {"INTERCHANGE_GATEWAY_REQUEST_HEAD_TIMEOUT_MS": "700", "INTERCHANGE_GATEWAY_REQUEST_BODY_TIMEOUT_MS": "700"}
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"]
        with run_interchange(interchange_bin, args, log, env=env) as gateway:
            port = int(gateway.rsplit(":", 1)[1])

            # Slow loris: a header line every 200 ms, never the blank line that ends the head.
            loris = socket.create_connection(("127.0.0.1", port))
            connected = time.monotonic()
            loris.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            stop = threading.Event()

            def drip() -> None:
                n = 0
                while not stop.wait(0.2):
                    try:
                        loris.sendall(f"X-Drip-{n}: 1\r\n".encode())
                    except OSError:
                        return
                    n += 1

            threading.Thread(target=drip, daemon=True).start()
            # Others are served meanwhile.
            for _ in range(5):
                assert fetch(f"{gateway}/fast")[0] == 200
            # Timed from the connection, not from here: the fast requests may take longer than the deadline.
            answer, took = read_until_closed(loris, 5, started=connected)
            stop.set()
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert 0.5 < took < 3, took

            # A body that stops coming: the connection is closed once the gateway has waited 700 ms for more.
            stalled = socket.create_connection(("127.0.0.1", port))
            stalled.sendall(b"POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10)
            _, took = read_until_closed(stalled, 5)
            assert took < 3, took

            # An endless chunked body: cut off with 413 once it passes the size limit.
            endless = socket.create_connection(("127.0.0.1", port))
            endless.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"4000\r\n" + b"e" * 0x4000 + b"\r\n"
            answer = b""
            endless.settimeout(5)
            deadline = time.monotonic() + 10
            try:
                while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
                    endless.sendall(chunk)
                    endless.setblocking(False)
                    try:
                        answer += endless.recv(65536)
                    except BlockingIOError:
                        pass
                    endless.setblocking(True)
            except OSError:
                pass  # the gateway closed the connection after answering
            if b"\r\n\r\n" not in answer:
                answer += read_until_closed(endless, 5)[0]
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
            assert fetch(f"{gateway}/after")[0] == 200, "the gateway still serves"
    finally:
        upstream.shutdown()


def test_a_413_closes_the_connection_instead_of_reading_the_rest_of_the_body(interchange_bin: Path, tmp_path: Path) -> None:
    """request-size-limiting: once the 413 is written the connection is closed, with the gateway's default body
    deadline (60 s) — nothing more of an over-limit body is read, whether its length was declared or it is chunked
    and endless (the server would otherwise drain the rest, forever for an endless body)."""
    import socket

    upstream = serve(Echo)
    try:
        config = kong_file(tmp_path, f"http://127.0.0.1:{upstream.server_address[1]}", "/")
        config.write_text(config.read_text() + "plugins:\n  - name: request-size-limiting\n    config: {allowed_payload_size: 64, size_unit: kilobytes}\n")
        log = REPO_ROOT / "test-artifacts" / "interop-gateway-413-close.log"
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"]
        with run_interchange(interchange_bin, args, log) as gateway:
            port = int(gateway.rsplit(":", 1)[1])
            heads = {
                "declared": b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n",
                "chunked": b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            }
            for kind, head in heads.items():
                client = socket.create_connection(("127.0.0.1", port))
                client.sendall(head)
                piece = b"e" * 0x4000 if kind == "declared" else b"4000\r\n" + b"e" * 0x4000 + b"\r\n"
                answer, closed, deadline = b"", False, time.monotonic() + 5
                # Keep sending while reading: a gateway that drains the body keeps taking it and never closes.
                client.setblocking(False)
                while time.monotonic() < deadline and not closed:
                    try:
                        client.send(piece)
                    except BlockingIOError:
                        time.sleep(0.001)
                    except OSError:
                        closed = True  # reset by the gateway after its answer
                    try:
                        data = client.recv(65536)
                        answer += data
                        closed = closed or data == b""
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed = True
                client.close()
                assert answer.startswith(b"HTTP/1.1 413"), (kind, answer[:200])
                assert b"connection: close" in answer.lower(), (kind, answer[:300])
                assert closed, f"{kind}: the connection stayed open 5 s after the 413, the gateway reading the rest of the body"
            assert fetch(f"{gateway}/after")[0] == 200, "the gateway still serves"
    finally:
        upstream.shutdown()


def test_two_gateways_sharing_postgres_pass_exactly_the_limit(interchange_bin: Path, tmp_path: Path) -> None:
    """rate-limiting's cluster policy: two real gateway processes count in one PostgreSQL schema, and 64 concurrent
    clients spread over both pass exactly the limit (one more window's worth only if the hour turned meanwhile)."""
    postgres = required_env("INTERCHANGE_TEST_POSTGRES_URL", "INTERCHANGE_SKIP_POSTGRES")
    schema = "gw_" + uuid.uuid4().hex[:12]
    database = postgres + ("&" if "?" in postgres else "?") + f"search_path={schema}"
    upstream = serve(Echo)
    limit = 40
    try:
        config = kong_file(tmp_path, f"http://127.0.0.1:{upstream.server_address[1]}", "/")
        config.write_text(config.read_text() + "plugins:\n  - name: rate-limiting\n"
                          f"    config: {{hour: {limit}, limit_by: ip, policy: cluster}}\n")
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0", "--database", database]
        logs = REPO_ROOT / "test-artifacts"
        with run_interchange(interchange_bin, args, logs / "interop-gateway-cluster-1.log") as first, \
                run_interchange(interchange_bin, args, logs / "interop-gateway-cluster-2.log") as second:
            gateways = [first, second]
            started = time.time()
            with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
                answers = list(pool.map(lambda i: fetch(f"{gateways[i % 2]}/item/{i}"), range(200)))
            ended = time.time()
            statuses = [status for status, _, _ in answers]
            windows = int(ended // 3600) - int(started // 3600) + 1
            assert set(statuses) <= {200, 429}, statuses
            passed = statuses.count(200)
            assert passed == limit if windows == 1 else limit <= passed <= limit * windows, (passed, windows)
            by_gateway = [sum(1 for i, s in enumerate(statuses) if s == 200 and i % 2 == g) for g in (0, 1)]
            assert all(count > 0 for count in by_gateway), f"both gateways passed some: {by_gateway}"
            status, headers, body = next(answer for answer in answers if answer[0] == 429)
            assert headers["Content-Type"] == "application/problem+json"
            assert json.loads(body)["type"] == "https://interchange.dev/problems/rate-limited"
            assert int(headers["Retry-After"]) >= 1
            assert headers["X-RateLimit-Remaining-Hour"] == "0"
    finally:
        upstream.shutdown()
