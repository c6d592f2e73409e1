"""A tiny OpenAI-compatible chat server on 127.0.0.1 for tests and the critic benchmark; never reaches out.

POST /v1/chat/completions answers with ``answer`` (a string, or a function of the request body, such as
``by_problem``'s answers planned per problem) after ``delay_s`` seconds. Requests listed in ``fail`` (1-based
request numbers) get that HTTP status instead, and ``fail_when(body) -> status | None`` fails requests by
content. It counts requests.

    python -m tests.utils.openai_stub --delay 1 --answer '\\boxed{-1}'   # prints the port, serves until killed
    python -m tests.utils.openai_stub --delay 1 --plan plan.json          # {problem: answer}, else --answer
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STUB_MODEL = "openai/stub-model"
STUB_KEY = "sk-stub-not-a-real-key"
Answer = str | Callable[[dict[str, Any]], str]


_PROBLEM = re.compile(r"\[Problem\]\n(.*?)\n\n\[Solution\]", re.DOTALL)


def prompt_text(body: dict[str, Any]) -> str:
    """The text of a request's last message (its text parts joined)."""
    content = (body.get("messages") or [{}])[-1].get("content", "")
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def by_problem(plan: Mapping[str, Answer], default: Answer = "") -> Callable[[dict[str, Any]], str]:
    """Answers planned per problem: the answer of the problem the request names (its ``[Problem]`` block, as
    revisers are sent it; else the longest planned problem found in the prompt), else ``default``. A planned
    answer may itself be a function of the request (to answer by what the critique says)."""

    def answer(body: dict[str, Any]) -> str:
        text = prompt_text(body)
        block = _PROBLEM.search(text)
        chosen = plan.get(block.group(1)) if block else None
        if chosen is None:
            found = [p for p in plan if p in text]
            chosen = plan[max(found, key=len)] if found else default
        return chosen(body) if callable(chosen) else chosen

    return answer


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 would refuse a burst of 64 concurrent clients.
    request_queue_size = 256
    daemon_threads = True


class OpenAIStub:
    def __init__(
        self,
        answer: Answer = "\\boxed{-1}",
        *,
        delay_s: float = 0.0,
        fail: dict[int, int] | None = None,
        fail_when: Callable[[dict[str, Any]], int | None] | None = None,
    ) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.fail = dict(fail or {})
        self.fail_when = fail_when
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self.authorizations: set[str] = set()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAIStub:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            number = self.requests
            self.bodies.append(body)
        if self.delay_s:
            time.sleep(self.delay_s)
        status = self.fail.get(number) or (self.fail_when(body) if self.fail_when else None)
        if status:
            return status, {"error": {"message": f"stub failure {status}", "type": "stub", "code": status}}
        text = self.answer(body) if callable(self.answer) else self.answer
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion_tokens = len(text.split())
        return 200, {
            "id": f"chatcmpl-stub-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.authorizations.add(self.headers.get("Authorization", ""))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    status, payload = 404, {"error": {"message": "not found"}}
                else:
                    status, payload = stub._respond(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Serve an OpenAI-compatible stub on 127.0.0.1.")
    p.add_argument("--delay", type=float, default=1.0)
    p.add_argument("--answer", default="\\boxed{-1}")
    p.add_argument("--plan", default=None, help="a JSON file of {problem: answer}: answers planned per problem")
    args = p.parse_args(argv)
    answer: Answer = args.answer
    if args.plan:
        with open(args.plan, encoding="utf-8") as f:
            answer = by_problem(json.load(f), default=args.answer)
    stub = OpenAIStub(answer, delay_s=args.delay)
    print(stub.port, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stub._server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
