"""The browser's side of the judging surface, played in AppTest: read what the page gave it, send it messages.

AppTest runs no JavaScript, so this stands in for pages/judging/judge.js: it reads the component's data from
the element the page drew and sends a message as the component's ``send`` trigger, exactly as the browser does.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest


class Surface:
    def __init__(self, at: AppTest, key: str = "annotate_judge") -> None:
        self.at = at
        self.key = key
        self.seq = 0

    def proto(self) -> Any:
        found = [e.proto for e in self.at.get("bidi_component") if self.key in e.proto.id]
        assert found, f"no judging surface with key {self.key!r} on the page"
        return found[0]

    def data(self) -> dict[str, Any]:
        proto = self.proto()
        raw = proto.json or proto.mixed.json
        return json.loads(raw)

    @property
    def trace_id(self) -> int:
        return self.data()["trace"]["id"]

    def work(self) -> dict[str, Any]:
        return copy.deepcopy(self.data()["work"])

    def send(self, kind: str, work: dict[str, Any] | None = None, **fields: Any) -> AppTest:
        """Send a message (the browser's next sequence number unless given) and run the page."""
        data = self.data()
        self.seq += 1
        message = {"kind": kind, "seq": self.seq, "trace_id": data["trace"]["id"], "user": data["user"]}
        if kind not in ("skip", "back", "load_newer") or work is not None:
            message["work"] = work if work is not None else data["work"]
        message |= fields
        states = self.at._tree.get_widget_states()
        trigger = states.widgets.add()
        trigger.id = _make_trigger_id(self.proto().id, "events")
        trigger.json_trigger_value = json.dumps([{"event": "send", "value": message}])
        return self.at._run(states)

    def judge(self, verdicts: list[int | None], **changes: Any) -> dict[str, Any]:
        """The working copy with these step verdicts (and other fields changed), as the browser would hold it."""
        work = self.work()
        for step, verdict in zip(work["steps"], verdicts, strict=False):
            step["verdict"] = verdict
        return work | changes


def notice(at: AppTest, key: str = "annotate_judge") -> str:
    data = Surface(at, key).data()
    return (data.get("notice") or {}).get("text", "")


__all__ = ["Surface", "WidgetStates", "notice"]
