"""The LLM client against a real local HTTP server speaking OpenAI chat completions."""

from __future__ import annotations

import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from segrec.describe import LLMConfig, LLMNamer
from segrec.diagnostics import FallbackWarning

PROFILE = {
    "segment_id": 3,
    "name": "Budget guitar regulars",
    "size": 120,
    "share": 0.2,
    "keywords": ["guitar", "beginner", "strings"],
    "rfm": {"recency_days": 20.0, "frequency": 9.0, "monetary": 310.0},
    "price_tier": "budget",
}


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list = []  # noqa: RUF012

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        type(self).seen.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "boom"}')
            return
        facts = json.loads(body["messages"][-1]["content"])
        content = (
            "not json at all"
            if self.mode == "garbage"
            else "```json\n"
            + json.dumps(
                {
                    "name": f"Starter {facts['keywords'][0]} players",
                    "description": "People who are learning.",
                }
            )
            + "\n```"
        )
        out = {
            "id": "x",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
        }
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # client gave up (timeout test)
        pass


@pytest.fixture()
def server():
    _Handler.mode = "ok"
    _Handler.seen = []
    srv = _Server(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_names_from_endpoint(server):
    namer = LLMNamer(LLMConfig(base_url=server, model="tiny", api_key="sk-test", timeout=5))
    name, desc, used = namer.describe(PROFILE)
    assert used and name == "Starter guitar players"
    assert desc == "People who are learning."
    req = _Handler.seen[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer sk-test"
    assert req["body"]["model"] == "tiny"
    assert req["body"]["messages"][0]["role"] == "system"


def test_config_from_env(server, monkeypatch):
    monkeypatch.setenv("SEGREC_LLM_BASE_URL", server + "/v1")
    monkeypatch.setenv("SEGREC_LLM_MODEL", "env-model")
    monkeypatch.delenv("SEGREC_LLM_API_KEY", raising=False)
    name, _, used = LLMNamer().describe(PROFILE)
    assert used and name.startswith("Starter")
    assert _Handler.seen[0]["body"]["model"] == "env-model"
    assert _Handler.seen[0]["auth"] is None


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_falls_back_on_failure(server, mode):
    _Handler.mode = mode
    namer = LLMNamer(LLMConfig(base_url=server, model="tiny", timeout=0.5))
    with pytest.warns(FallbackWarning, match="deterministic name"):
        name, desc, used = namer.describe(PROFILE)
    assert (name, desc, used) == ("Budget guitar regulars", None, False)


def test_unconfigured_falls_back(monkeypatch):
    for var in ("SEGREC_LLM_BASE_URL", "SEGREC_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        name, _, used = LLMNamer().describe(PROFILE)
    assert not used and name == PROFILE["name"]
    assert any(issubclass(x.category, FallbackWarning) for x in w)


def test_unreachable_endpoint_falls_back():
    namer = LLMNamer(LLMConfig(base_url="http://127.0.0.1:9", model="m", timeout=0.5))
    with pytest.warns(FallbackWarning):
        assert namer.describe(PROFILE)[2] is False
