"""The production recipe for real: Debian's nginx with deploy/nginx/almasar.conf (the file an admin
installs, only its address, port and certificate changed) terminating TLS with a self-signed certificate in
front of the app, PUBLIC_BASE_URL=https://... and TRUSTED_PROXIES. Everything goes through the proxy:

- an agent logs in, calls, and the history updates live over the websocket (through nginx's upgrade);
- the call's recording plays, and seeks with Range;
- on the Twilio app, a webhook signed for the public https URL is accepted, one signed for the internal
  address is refused.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from call_center.testing import History, Softphone, agent_voice
from call_center.testing.pages import log_in
from call_center.testing.server import ROOT, CallCenterApp, DisposableApp, start_app
from tests.e2e.test_twilio_browser import TWILIO

SITE = ROOT / "deploy" / "nginx" / "almasar.conf"
LOCAL_HOST, TWILIO_HOST = "127.0.0.2", "127.0.0.3"  # own loopback addresses: port 443 as in production

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # scripts/bootstrap.sh system installs it (apt)


@dataclass
class Proxy:
    cert: Path
    log: Path

    def client(self, host: str) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=f"https://{host}", verify=trust, timeout=20)


def _site(host: str, app_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx/almasar.conf with this test's address, upstream and certificate: every replaced line
    must be in the file (the test serves what an admin installs, not a copy of it)."""
    text = SITE.read_text()
    for old, new in (
        ("server 127.0.0.1:3000;", f"server 127.0.0.1:{app_port};"),
        ("listen 80;\n", f"listen {host}:8080;\n"),
        ("listen [::]:80;\n", ""),
        ("listen 443 ssl http2;\n", f"listen {host}:443 ssl http2;\n"),
        ("listen [::]:443 ssl http2;\n", ""),
        ("/etc/letsencrypt/live/calls.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/calls.example.com/privkey.pem", str(key)),
        ("calls.example.com", host),
    ):
        assert old in text, f"deploy/nginx/almasar.conf no longer has {old!r}: update this test with it"
        text = text.replace(old, new)
    name = host.replace(".", "_")
    text = text.replace("upstream almasar_app", f"upstream almasar_{name}").replace(
        "http://almasar_app", f"http://almasar_{name}"
    )
    text = text.replace("shared:almasar_tls:10m", f"shared:tls_{name}:1m")
    if host != LOCAL_HOST:  # the map is defined once per nginx
        text = text[: text.index("map $http_upgrade")] + text[text.index("upstream ") :]
    return text


def _wait_port(host: str, port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {log.read_text()[-2000:] if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nginx is not listening on {host}:{port}")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DisposableApp, DisposableApp]]:
    root = tmp_path_factory.mktemp("proxy-apps")
    # as in production: only the public https address is an allowed origin, cookies are Secure
    behind = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "proxy-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    local = start_app(
        root / "local" / "data", settings={**behind, "PUBLIC_BASE_URL": f"https://{LOCAL_HOST}"}
    )
    try:
        twilio = start_app(
            root / "twilio" / "data",
            settings={**TWILIO, **behind, "PUBLIC_BASE_URL": f"https://{TWILIO_HOST}"},
        )
        try:
            yield local, twilio
        finally:
            twilio.stop()
    finally:
        local.stop()


@pytest.fixture(scope="module")
def proxy(apps, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    local, twilio = apps
    root = tmp_path_factory.mktemp("nginx")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=almasar.test",
         "-addext", f"subjectAltName=IP:{LOCAL_HOST},IP:{TWILIO_HOST}"],
        check=True, capture_output=True,
    )  # fmt: skip
    (root / "site-local.conf").write_text(_site(LOCAL_HOST, local.port, cert, key))
    (root / "site-twilio.conf").write_text(_site(TWILIO_HOST, twilio.port, cert, key))
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / temp).mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # (workers must read this test's private directory)
    (root / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  access_log {root}/access.log;\n"
        f"  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n"
        f"  fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n"
        f"  scgi_temp_path {root}/scgi;\n"
        f"  include {root}/site-*.conf;\n}}\n"
    )
    command = [NGINX, "-p", str(root), "-c", str(root / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        for host in (LOCAL_HOST, TWILIO_HOST):
            _wait_port(host, 443, process, root / "error.log")
        yield Proxy(cert, root / "access.log")
    finally:
        process.terminate()
        process.wait(10)


def test_an_agent_works_through_the_proxy_live_history_and_recordings_included(
    apps, proxy, open_browser, new_page
):
    local, _twilio = apps
    public = CallCenterApp(f"https://{LOCAL_HOST}", local.admin)
    agent = new_page(open_browser(agent_voice()), ignore_https_errors=True)
    log_in(agent, public, local.admin, "/call-center")
    watcher = agent.context.new_page()  # the same agent's history in another tab: live, never reloaded
    history = History(watcher, public).open()
    before = history.rows.count()

    softphone = Softphone(agent, public)
    softphone.dial("1000")
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01  # the media goes to the media server directly; the signaling via nginx
    time.sleep(2)
    softphone.hang_up()
    softphone.wait_for_outcome("completed")
    expect(history.rows).to_have_count(before + 1)  # pushed over the websocket, through the proxy

    with proxy.client(LOCAL_HOST) as client:
        login = client.post(
            "/api/auth/login",
            json={"email": local.admin.email, "password": local.admin.password},
            headers={"Origin": public.url},
        )
        assert login.status_code == 200
        assert "secure" in login.headers["set-cookie"].lower()  # https public address: Secure cookies
        call = client.get("/api/calls", params={"page_size": 1}).json()["data"][0]
        row = history.row(call["id"]).wait_for_status("completed").wait_for_recording()
        recording = client.get(f"/api/calls/{call['id']}").json()["recording_id"]
        whole = client.get(f"/api/recordings/{recording}.mp3")
        assert whole.status_code == 200 and whole.headers["content-type"] == "audio/mpeg"
        assert len(whole.content) > 10_000
        part = client.get(f"/api/recordings/{recording}.mp3", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206, part.status_code
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"
        assert part.content == whole.content[1000:2000]
    # ... and the page's player loads it and seeks (the browser's own Range requests, through the proxy)
    row.recording.evaluate("a => { a.preload = 'auto'; a.load(); }")
    row.recording.evaluate(
        """a => new Promise((resolve, reject) => {
            const seek = () => { a.currentTime = a.duration / 2; };
            a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
            a.addEventListener('error', () => reject(new Error('no audio')), { once: true });
            if (a.readyState >= 1) seek(); else a.addEventListener('loadedmetadata', seek, { once: true });
        })"""
    )
    # nginx logs a request when it ends: the long-lived ones (websocket, event stream) once the pages close
    agent.close()
    watcher.close()
    deadline = time.monotonic() + 10
    while "/api/devices/events" not in (log := proxy.log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert '"GET /_event/' in log and '" 101 ' in log, "the pages' websocket went through nginx"
    assert '"GET /api/devices/events' in log, "the softphone's event stream went through nginx"
    assert '"POST /api/local/calls' in log
    assert f'"GET /api/recordings/{recording}.mp3' in log and '" 206 ' in log


def test_twilio_webhooks_through_the_proxy_are_signed_for_the_public_address(apps, proxy):
    _local, twilio = apps
    validator = RequestValidator(TWILIO["TWILIO_AUTH_TOKEN"])
    params = {
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"],
        "CallSid": "CA" + "9" * 32,
        "CallStatus": "completed",
        "From": "+201001112223",
        "To": TWILIO["TWILIO_CALLER_ID"],
        "Direction": "inbound",
    }
    path = "/api/calls/webhook/status"
    with proxy.client(TWILIO_HOST) as client:
        for signed_for, expected in (
            (f"https://{TWILIO_HOST}{path}", 204),  # what Twilio signs: the public URL it was given
            (f"{twilio.url}{path}", 403),  # the app's own address is not what Twilio calls
            (f"http://{TWILIO_HOST}{path}", 403),  # nor plain http
        ):
            response = client.post(
                path,
                data=params,
                headers={"X-Twilio-Signature": validator.compute_signature(signed_for, params)},
            )
            assert response.status_code == expected, (signed_for, response.status_code, response.text)
        assert client.get("/api/health").json()["status"] == "ok"
