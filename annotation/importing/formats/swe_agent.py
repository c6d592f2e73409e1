"""SWE-agent trajectories (``.traj``): one run per record, ``{trajectory, history, info, ...}``.

``trajectory`` is the run as SWE-agent executed it: each entry (``thought``, ``action``, ``observation``, and
``response``, ``state``; since 1.0 also ``execution_time``, ``query``, ``extra_info``) is one step, none
dropped, even an empty one, with ``Step.messages = [k]`` so a label given per entry lands on its step. A
step's parts, in order: the ``thought`` as thinking (when it says something), the ``action`` as a tool call,
and the ``observation`` as that call's result (no result when it is null, nor when it is empty and there was
no call). ``response`` (the raw reply, thought and action again), ``state``, ``query`` (every message sent
for the step) and ``extra_info`` are not kept.

``history`` is the conversation with the model. It gives the trace its context (the first ``system``
message) and its problem (the first ``user`` message that is not a demonstration, ``is_demo``; text or a
list of ``text`` / ``image_url`` parts), and, in function-calling runs (SWE-agent 1.x), each step's call:
the ``tool_calls`` of the assistant message that made the step's action (name, id and the arguments as the
text they were, valid JSON or not), and the call id the ``tool`` message after it answers
(``tool_call_ids``, a list, or ``tool_call_id``). Without tool calls (0.x, or a 1.x run parsing actions
from text) the call is named by the action's first word (``edit``, ``open``, ``find_file``, ``python``)
and its arguments are ``{"command": <the action as written>}``.

Matching an entry to its assistant message: the assistant messages that are not demonstrations, in order,
each entry taking the first one after the previous match whose ``action`` equals its own. SWE-agent writes
exactly one such message per step, with the step's ``action``, so this is the k-th for the k-th entry; but
matching by the action text rather than by position keeps every later step right when the history holds a
message the trajectory does not (a retried or hand-edited turn), and leaves a step whose action no message
made with the call named from its text (and a warning) instead of another step's call. A message without
an ``action`` field is matched by position. Thoughts are not compared: the action already decides, and a
thought may be empty.

``info.submission`` (the patch) is the answer. The model is the generator when ``info.model_stats``,
``info``, ``replay_config`` (a JSON text in 1.x) or ``config`` name one. The record id is the instance's:
``info.instance_id``, ``replay_config.problem_statement.id``, ``instance_id``, else the file name when it is
``<instance>.traj`` (as SWE-agent names them), else ``environment`` unless it is one of the names SWE-agent
gives every environment (``main``, ``swe_main``). The metadata holds ``info``'s fields (``exit_status``,
``model_stats``, ...; the submission only when it is not text, since the answer holds it) and the record's
other fields, except ``trajectory`` and ``history`` (in the steps already) and ``attempts`` (a retry run's
every attempt, each a whole run again). A field of ``info`` named like one of the record's is kept as
``info.<name>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from annotation.core.model import InvalidValue, Trace
from annotation.core.parts import Part, Step, set_steps
from annotation.importing.formats import conversation as conv
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord
from annotation.importing.formats.openai_messages import tool_call_part
from annotation.importing.formats.reading import RawRecord

STEP_TEXTS = ("thought", "action", "observation")
# Names SWE-agent gives the environment of every run: not an instance's id.
GENERIC_ENVIRONMENTS = frozenset({"main", "swe_main"})
# Fields that hold the run again, whole: kept out of the metadata.
BULKY_FIELDS = frozenset({"trajectory", "history", "attempts"})
# Where a record without a user message may state its issue (top level, info, replay_config, environment).
PROBLEM_FIELDS = ("problem_statement", "problem", "issue", "task", "question")
TRAJ_SUFFIX = ".traj"

Warn = Callable[[str], None]


def looks_like_swe_agent(record: dict[str, Any]) -> bool:
    """A ``trajectory`` list of steps, most of them objects with an ``action`` or ``observation``: one that is
    not is the adapter's to refuse, by name, rather than a reason to call the record unknown."""
    steps = record.get("trajectory")
    if not isinstance(steps, list) or not steps:
        return False
    head = steps[:50]
    return sum(isinstance(s, dict) and ("action" in s or "observation" in s) for s in head) * 2 > len(head)


@dataclass(slots=True)
class _Turn:
    """An assistant message of the history (not a demonstration): the action it made, its calls, and the
    ids the message after it answers."""

    index: int
    action: str | None
    has_action: bool
    calls: list[Part]
    answer_index: int | None = None
    answer_ids: list[str] = field(default_factory=list)


class SWEAgent(Adapter):
    name = "swe-agent"
    title = "SWE-agent trajectories"
    description = (
        "a .traj file per run (one JSON object: trajectory, history, info): one step per trajectory entry, "
        "its thought, its action as a tool call and the observation as the result"
    )
    file_fields = {"steps": "trajectory"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return bool(sample) and all(looks_like_swe_agent(r) for r in sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        data = raw.data

        def warn(message: str) -> None:
            ctx.warn(raw, message)

        entries = _entries(data)
        history = _history(data)
        info = _object(data, "info")
        replay = _replay_config(data.get("replay_config"))
        turns = _turns(history)
        matched = _match(entries, turns)
        answered = {t.answer_index for t in matched if t is not None and t.answer_index is not None}
        _check_answers(history, turns, answered, warn)
        steps = []
        for k, (entry, turn) in enumerate(zip(entries, matched, strict=True)):
            if turn is None and turns and (entry.get("action") or "").strip():
                warn(
                    f"trajectory[{k}]: no assistant message in the history makes this action; its call is named "
                    "from the action's text"
                )
            steps.append(_step(k, entry, turn, warn))

        images: list[str] = []
        problem = _problem(history, data, info, replay, ctx, images)
        submission = info.get("submission")
        answer = submission if isinstance(submission, str) and submission.strip() else None
        trace = Trace(
            problem=problem,
            steps=[],
            answer=answer,
            generator=_generator(data, info, replay),
            record_id=_record_id(data, info, replay, ctx.file),
            source_file=ctx.file,
            metadata=_metadata(data, info, keep_submission=answer is None),
            images=images,
        )
        set_steps(trace, steps)
        system = _system(history)
        if system:
            trace.context = {"system": system}
        return ImportedRecord(trace, [], raw.number, raw.line)


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "trajectory" not in data:
        raise InvalidValue("trajectory", "missing: a SWE-agent run keeps its steps in 'trajectory'")
    value = data["trajectory"]
    if not isinstance(value, list):
        raise InvalidValue("trajectory", f"expected a list of steps, got {type(value).__name__}")
    if not value:
        raise InvalidValue("trajectory", "the trajectory is empty: the run took no step to judge")
    for k, entry in enumerate(value):
        where = f"trajectory[{k}]"
        if not isinstance(entry, dict):
            raise InvalidValue(where, f"a step is an object, got {type(entry).__name__}")
        for key in STEP_TEXTS:
            text = entry.get(key)
            if text is not None and not isinstance(text, str):
                raise InvalidValue(f"{where}.{key}", f"expected text or null, got {type(text).__name__}")
    return value


def _history(data: dict[str, Any]) -> list[dict[str, Any]]:
    value = data.get("history")
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValue("history", f"expected a list of messages, got {type(value).__name__}")
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidValue(f"history[{i}]", f"a message is an object, got {type(message).__name__}")
        conv.role_of(message, f"history[{i}]")
    return value


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidValue(key, f"expected an object, got {type(value).__name__}")
    return value


def _replay_config(value: Any) -> dict[str, Any]:
    """The run's configuration, read only for the model, the instance id and the issue: 1.x writes it as JSON
    text, and one that does not parse is kept in the metadata as it is rather than refused."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _turns(history: list[dict[str, Any]]) -> list[_Turn]:
    turns = []
    for i, message in enumerate(history):
        if message["role"] != "assistant" or message.get("is_demo"):
            continue
        where = f"history[{i}]"
        action = message.get("action")
        if action is not None and not isinstance(action, str):
            raise InvalidValue(f"{where}.action", f"expected text or null, got {type(action).__name__}")
        raw_calls = message.get("tool_calls")
        if raw_calls is not None and not isinstance(raw_calls, list):
            raise InvalidValue(f"{where}.tool_calls", f"expected a list, got {type(raw_calls).__name__}")
        calls = [tool_call_part(c, f"{where}.tool_calls[{n}]") for n, c in enumerate(raw_calls or [])]
        turn = _Turn(i, action, action is not None, calls)
        after = history[i + 1] if i + 1 < len(history) else None
        if after is not None and after["role"] in ("tool", "user") and not after.get("is_demo"):
            turn.answer_index = i + 1
            turn.answer_ids = _answer_ids(after, f"history[{i + 1}]")
        turns.append(turn)
    return turns


def _answer_ids(message: dict[str, Any], where: str) -> list[str]:
    ids = message.get("tool_call_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise InvalidValue(f"{where}.tool_call_ids", "expected a list of call ids (text)")
    out = list(ids or [])
    single = conv.optional_text(message, "tool_call_id", where)
    if single and single not in out:
        out.append(single)
    return out


def _match(entries: list[dict[str, Any]], turns: list[_Turn]) -> list[_Turn | None]:
    """Each entry's assistant message, in order (see the module's docstring)."""
    out: list[_Turn | None] = []
    j = 0
    for entry in entries:
        action = entry.get("action")
        found = next((n for n in range(j, len(turns)) if turns[n].has_action and turns[n].action == action), None)
        if found is None and j < len(turns) and not turns[j].has_action:
            found = j
        out.append(None if found is None else turns[found])
        if found is not None:
            j = found + 1
    return out


def _check_answers(history: list[dict[str, Any]], turns: list[_Turn], used: set[int], warn: Warn) -> None:
    """A tool message answering a call no message makes is kept (its step's observation is the trajectory's)
    and said; the ones that answer a step are checked against that step's call in ``_step``."""
    made = {c.call_id for t in turns for c in t.calls if c.call_id}
    for i, message in enumerate(history):
        if message["role"] != "tool" or i in used or message.get("is_demo"):
            continue
        for call_id in _answer_ids(message, f"history[{i}]"):
            if call_id not in made:
                warn(f"history[{i}]: the tool result answers call {call_id!r}, which no message makes; kept")


def _step(k: int, entry: dict[str, Any], turn: _Turn | None, warn: Warn) -> Step:
    parts: list[Part] = []
    thought = entry.get("thought")
    if thought and thought.strip():
        parts.append(Part("thinking", text=thought))
    action = entry.get("action")
    calls = list(turn.calls) if turn is not None else []
    if not calls and action and action.strip():
        name = action.split(maxsplit=1)[0]
        calls = [Part("tool_call", name=name, arguments=json.dumps({"command": action}, ensure_ascii=False))]
    parts.extend(calls)
    observation = entry.get("observation")
    if observation is not None and (observation or calls):
        parts.append(_result(k, observation, calls, turn, warn))
    return Step(parts, role="assistant", messages=[k])


def _result(k: int, observation: str, calls: list[Part], turn: _Turn | None, warn: Warn) -> Part:
    """The observation as the result of the step's call: the id the tool message answers, else the call's."""
    ids = turn.answer_ids if turn is not None else []
    made = {c.call_id: c for c in calls if c.call_id}
    for call_id in ids:
        if call_id not in made:
            warn(
                f"trajectory[{k}]: its result (history[{turn.answer_index}]) answers call {call_id!r}, which the "
                "step's assistant message does not make; kept"
            )
    call_id = ids[0] if len(ids) == 1 else (calls[0].call_id if len(calls) == 1 else None)
    call = made.get(call_id) if call_id else None
    if call is None and len(calls) == 1:
        call = calls[0]
    return Part("tool_result", name=call.name if call else None, content=observation, call_id=call_id)


def _content_text(content: Any, where: str, ctx: ConvertContext | None, images: list[str] | None) -> str:
    """A history message's text: a string, or its ``text`` parts joined (``image_url`` parts go to
    ``images`` where the message may hold images)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidValue(where, f"expected text or a list of parts, got {type(content).__name__}")
    texts = []
    for k, part in enumerate(content):
        at = f"{where}[{k}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise InvalidValue(at, f"a content part is an object, got {type(part).__name__}")
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidValue(f"{at}.text", "missing: a text part holds text")
            texts.append(text)
        elif kind == "image_url" and images is not None and ctx is not None:
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            images.append(ctx.image(url, f"{at}.image_url"))
        else:
            readable = "text, image_url" if images is not None else "text"
            raise InvalidValue(f"{at}.type", f"{kind!r} is not a content part Redline reads here ({readable})")
    return "\n\n".join(t for t in texts if t)


def _first(history: list[dict[str, Any]], role: str) -> int | None:
    return next((i for i, m in enumerate(history) if m["role"] == role and not m.get("is_demo")), None)


def _system(history: list[dict[str, Any]]) -> str | None:
    i = _first(history, "system")
    if i is None:
        return None
    return _content_text(history[i].get("content"), f"history[{i}].content", None, None) or None


def _problem(
    history: list[dict[str, Any]],
    data: dict[str, Any],
    info: dict[str, Any],
    replay: dict[str, Any],
    ctx: ConvertContext,
    images: list[str],
) -> str:
    i = _first(history, "user")
    if i is not None:
        found: list[str] = []
        text = _content_text(history[i].get("content"), f"history[{i}].content", ctx, found)
        if text.strip():
            images.extend(found)
            return text
    environment = data.get("environment")
    for holder in (data, info, replay, environment if isinstance(environment, dict) else {}):
        for key in PROBLEM_FIELDS:
            value = holder.get(key)
            if isinstance(value, dict):  # replay_config's problem_statement: {"text", "id", "type"}
                value = value.get("text")
            if isinstance(value, str) and value.strip():
                return value
    raise InvalidValue(
        "history",
        "no user message in the history states the issue, and no field holds it (problem_statement at the top, "
        "in info or in replay_config)",
    )


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _generator(data: dict[str, Any], info: dict[str, Any], replay: dict[str, Any]) -> str | None:
    config = data.get("config")
    for value in (
        _dig(info, "model_stats", "model_name"),
        _dig(info, "model_stats", "model"),
        info.get("model_name"),
        info.get("model"),
        _dig(replay, "agent", "model", "name"),
        _dig(replay, "agent", "model", "model_name"),
        _dig(config, "agent", "model", "name"),
        _dig(config, "agent", "model", "model_name"),
        _dig(config, "model", "name"),
        _dig(config, "model", "model_name"),
    ):
        if isinstance(value, str) and value.strip():
            return value
    return None


def _record_id(data: dict[str, Any], info: dict[str, Any], replay: dict[str, Any], file: str) -> str | None:
    for value in (info.get("instance_id"), _dig(replay, "problem_statement", "id"), data.get("instance_id")):
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    name = PurePath(file).name
    if name.endswith(TRAJ_SUFFIX) and len(name) > len(TRAJ_SUFFIX):
        return name[: -len(TRAJ_SUFFIX)]
    environment = data.get("environment")
    if isinstance(environment, str) and environment.strip() and environment not in GENERIC_ENVIRONMENTS:
        return environment
    return None


def _metadata(data: dict[str, Any], info: dict[str, Any], *, keep_submission: bool) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in BULKY_FIELDS and k != "info"}
    for key, value in info.items():
        if key == "submission" and not keep_submission:
            continue
        out[f"info.{key}" if key in out else key] = value
    return out
