"""SWE-agent runs written from the tool's public description: the same six-step fix in both shapes of ``.traj``.

0.x (``old_record``): ``trajectory`` entries ``{action, observation, response, state, thought}`` with the
commands of SWE-agent's own interface (``find_file``, ``open``, ``edit N:M ... end_of_edit``, ``submit``)
and the state as JSON text; ``history`` of ``system`` / ``user`` / ``assistant`` messages of agent
``primary`` with a demonstration (``is_demo``) before the issue; ``info`` with ``exit_status``,
``submission`` (the patch) and ``model_stats``; ``environment`` ``swe_main``.

1.x (``new_record``): function calling. Entries add ``execution_time``, ``query`` (the messages sent for the
step) and ``extra_info``; assistant messages carry ``tool_calls`` (``function.arguments`` as JSON text) and
``message_type: "action"``; observations are ``role: "tool"`` messages with ``tool_call_ids`` (a list); the
issue is a list of text parts; demonstrations are put in the history message by message (``is_demo``);
``replay_config`` is the run's configuration as JSON text; ``environment`` is ``main``.

The run (a made-up repository, ``acme/pyslug``): find the function, read it, write and run a reproduction,
fix the pattern, submit without running the reproduction again.
"""

from __future__ import annotations

import copy
import json
from typing import Any

INSTANCE = "acme__pyslug-212"
MODEL = "claude-3-5-sonnet-20241022"

ISSUE = """slugify() keeps runs of separators instead of collapsing them

**Describe the bug**
`slugify` turns every space and every hyphen into its own separator, so a title with spaced dashes becomes a \
slug full of hyphens.

**To Reproduce**
```python
from pyslug import slugify

print(slugify("Hello  --  World"))
```

**Expected behavior**
`hello-world`

**Actual behavior**
`hello------world`

**Environment**
pyslug 2.3.0, Python 3.11"""

CORE_LINES = [
    '"""Turn titles into URL slugs."""',
    "",
    "import re",
    "import unicodedata",
    "",
    '__all__ = ["slugify"]',
    "",
    "",
    'def slugify(text: str, separator: str = "-") -> str:',
    '    """Lower-case ASCII words joined by ``separator``."""',
    '    text = unicodedata.normalize("NFKD", text)',
    '    text = text.encode("ascii", "ignore").decode("ascii")',
    '    text = re.sub(r"[^\\w\\s-]", "", text).strip().lower()',
    '    return re.sub(r"[\\s-]", separator, text)',
]
FIXED_LINE = '    return re.sub(r"[\\s-]+", separator, text)'

PATCH = """diff --git a/src/pyslug/core.py b/src/pyslug/core.py
index 3f2a1c9..8be04d2 100644
--- a/src/pyslug/core.py
+++ b/src/pyslug/core.py
@@ -11,4 +11,4 @@ def slugify(text: str, separator: str = "-") -> str:
     text = unicodedata.normalize("NFKD", text)
     text = text.encode("ascii", "ignore").decode("ascii")
     text = re.sub(r"[^\\w\\s-]", "", text).strip().lower()
-    return re.sub(r"[\\s-]", separator, text)
+    return re.sub(r"[\\s-]+", separator, text)
"""

REPRODUCE = 'from pyslug import slugify; print(slugify("Hello  --  World"))'


def _listing(root: str, lines: list[str]) -> str:
    body = "\n".join(f"{n}:{line}" for n, line in enumerate(lines, start=1))
    return f"[File: {root}/src/pyslug/core.py ({len(lines)} lines total)]\n{body}"


def _steps(root: str) -> list[dict[str, Any]]:
    """Each step: its thought, then the 0.x command and the 1.x tool call for the same action, and the output."""
    core = f"{root}/src/pyslug/core.py"
    fixed = [*CORE_LINES[:-1], FIXED_LINE]
    return [
        {
            "thought": "Let's start by finding where `slugify` is defined. It is most likely in a module called "
            "`core.py` inside the package.",
            "command": 'find_file "core.py" src',
            "call": ("find_file", {"file_name": "core.py", "dir": "src"}),
            "action": "find_file core.py src",
            "observation": f'Found 1 matches for "core.py" in {root}/src:\n{core}',
            "open_file": "n/a",
        },
        {
            "thought": "The function should be in `src/pyslug/core.py`. Let's open it.",
            "command": "open src/pyslug/core.py",
            "call": ("open", {"path": "src/pyslug/core.py"}),
            "action": 'open "src/pyslug/core.py"',
            "observation": _listing(root, CORE_LINES),
            "open_file": core,
        },
        {
            "thought": "Before changing anything, let's put the example from the issue into a script so that we "
            "can reproduce the bug.",
            "command": f"echo '{REPRODUCE}' > reproduce.py",
            "call": ("bash", {"command": f"echo '{REPRODUCE}' > reproduce.py"}),
            "action": f"echo '{REPRODUCE}' > reproduce.py",
            "observation": "",
            "open_file": core,
        },
        {
            "thought": "Now let's run the script.",
            "command": "python reproduce.py",
            "call": ("bash", {"command": "python reproduce.py"}),
            "action": "python reproduce.py",
            "observation": "hello------world",
            "open_file": core,
        },
        {
            "thought": "The bug is reproduced: every space and every hyphen becomes its own separator, because the "
            "pattern on line 14 matches one character at a time. Adding `+` collapses a run of them into one.",
            "command": f"edit 14:14\n{FIXED_LINE}\nend_of_edit",
            "call": ("edit", {"search": CORE_LINES[-1].strip(), "replace": FIXED_LINE.strip()}),
            "action": f"edit '{CORE_LINES[-1].strip()}' '{FIXED_LINE.strip()}'",
            "observation": _listing(root, fixed) + "\nFile updated. Please review the changes and make sure they are "
            "correct (correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
            "open_file": core,
        },
        {
            "thought": "The pattern now collapses runs of separators, which fixes the issue. Let's submit.",
            "command": "submit",
            "call": ("submit", {}),
            "action": "submit",
            "observation": PATCH,
            "open_file": core,
        },
    ]


#: The tool call ids of the 1.x run, one per step.
CALL_IDS = [
    "call_Xk3mP9qLr2VtN8wYb4HsJd1e",
    "call_Q7nV2cTz9LmR4xWp6KfBa0yG",
    "call_H5sD8jNq1VbE3rYt7ZuCm2Lk",
    "call_W9pL4vXa6TnC2mQe8RdFs3Jh",
    "call_B2kF7yMs5QwZ9tLe1XnVc8Pr",
    "call_submit",
]


def _prompt_state(open_file: str, root: str) -> str:
    return f"\n(Open file: {open_file})\n(Current directory: {root})\nbash-$"


def _system(commands: str) -> str:
    return (
        "SETTING: You are an autonomous programmer, and you're working directly in the command line with a special "
        "interface.\n\nThe special interface consists of a file editor that shows you 100 lines of a file at a "
        "time. In addition to typical bash commands, you can also use the following commands to help you navigate "
        f"and edit files.\n\nCOMMANDS:\n{commands}\n\nPlease note that THE EDIT COMMAND REQUIRES PROPER "
        "INDENTATION.\n\nRESPONSE FORMAT:\nYour shell prompt is formatted as follows:\n(Open file: <path>) <cwd> "
        "$\n\nFirst, you should _always_ include a general thought about what you're going to do next. Then, for "
        "every response, you must include exactly _ONE_ command to execute. The environment does NOT support "
        "interactive session commands (e.g. python, vim), but you can write scripts and run them."
    )


def _instance(root: str) -> str:
    return (
        "We're currently solving the following issue within our repository. Here's the issue text:\nISSUE:\n"
        f"{ISSUE}\n\nINSTRUCTIONS:\nNow, you're going to solve this issue on your own. Your terminal session has "
        "started and you're in the repository's root directory. Edit all the files you need to and run any checks "
        "or tests that you want. Remember, YOU CAN ONLY ENTER ONE COMMAND AT A TIME. When you're satisfied with all "
        "of the changes you've made, you can submit your changes to the code base by simply running the submit "
        "command." + _prompt_state("n/a", root)
    )


def old_record() -> dict[str, Any]:
    """SWE-agent 0.x: commands in the model's text, no tool calls."""
    root = "/acme__pyslug"
    commands = (
        "open <path> [<line_number>] - opens the file at the given path in the editor\n"
        "find_file <file_name> [<dir>] - finds all files with the given name in dir\n"
        "edit <start_line>:<end_line>\n<replacement_text>\nend_of_edit - replaces lines start_line through "
        "end_line (inclusive) with the given text\n"
        "create <filename> - creates and opens a new file with the given name\n"
        "submit - submits your current code and terminates the session"
    )
    history: list[dict[str, Any]] = [
        {"role": "system", "content": _system(commands), "agent": "primary"},
        {
            "role": "user",
            "content": "Here is a demonstration of how to correctly accomplish this task.\n--- DEMONSTRATION ---\n"
            "We're currently solving the following issue within our repository...\n--- END OF DEMONSTRATION ---\n",
            "agent": "primary",
            "is_demo": True,
        },
        {"role": "user", "content": _instance(root), "agent": "primary"},
    ]
    trajectory = []
    open_file = "n/a"
    for step in _steps(root):
        action = step["command"] + "\n"
        thought = step["thought"] + "\n\n"
        response = f"{thought}```\n{action}```"
        history.append(
            {"role": "assistant", "content": response, "thought": thought, "action": action, "agent": "primary"}
        )
        output = step["observation"] or "Your command ran successfully and did not produce any output."
        history.append({"role": "user", "content": output + _prompt_state(step["open_file"], root), "agent": "primary"})
        trajectory.append(
            {
                "action": action,
                "observation": step["observation"] + ("\n" if step["observation"] else ""),
                "response": response,
                "state": json.dumps({"open_file": open_file, "working_dir": root}) + "\n",
                "thought": thought,
            }
        )
        open_file = step["open_file"]
    return {
        "environment": "swe_main",
        "trajectory": trajectory,
        "history": history,
        "info": {
            "exit_status": "submitted",
            "submission": PATCH,
            "model_stats": {
                "total_cost": 4.81,
                "instance_cost": 0.19,
                "tokens_sent": 17652,
                "tokens_received": 612,
                "api_calls": 6,
            },
        },
    }


def new_record() -> dict[str, Any]:
    """SWE-agent 1.x with function calling (the windowed-editor tools)."""
    root = "/testbed"
    commands = (
        "open: opens the file at the given path in the editor\n"
        "find_file: finds all files with the given name or pattern in dir\n"
        "edit: replaces the first occurrence of search with replace in the open file\n"
        "bash: runs the given command in a bash shell\n"
        "submit: submits the current file changes"
    )
    demo_call = {
        "id": "call_demo_create",
        "type": "function",
        "function": {"name": "create", "arguments": '{"filename": "reproduce.py"}'},
    }
    history: list[dict[str, Any]] = [
        {"role": "system", "content": _system(commands), "agent": "main", "message_type": "system_prompt"},
        {
            "role": "assistant",
            "content": "Let's first reproduce the issue.",
            "thought": "Let's first reproduce the issue.",
            "action": "create reproduce.py",
            "agent": "main",
            "tool_calls": [demo_call],
            "message_type": "action",
            "is_demo": True,
        },
        {
            "role": "tool",
            "content": "[File: reproduce.py (1 lines total)]\n1:",
            "agent": "main",
            "message_type": "observation",
            "tool_call_ids": ["call_demo_create"],
            "is_demo": True,
        },
        {
            "role": "user",
            "content": [{"type": "text", "text": _instance(root)}],
            "agent": "main",
            "message_type": "observation",
        },
    ]
    trajectory = []
    open_file = "n/a"
    for step, call_id in zip(_steps(root), CALL_IDS, strict=True):
        query = copy.deepcopy([{k: v for k, v in m.items() if k != "is_demo"} for m in history])
        name, arguments = step["call"]
        history.append(
            {
                "role": "assistant",
                "content": step["thought"],
                "thought": step["thought"],
                "action": step["action"],
                "agent": "main",
                "tool_calls": [
                    {
                        "function": {"arguments": json.dumps(arguments), "name": name},
                        "id": call_id,
                        "type": "function",
                    }
                ],
                "message_type": "action",
            }
        )
        output = step["observation"] or "Your command ran successfully and did not produce any output."
        history.append(
            {
                "role": "tool",
                "content": output + _prompt_state(step["open_file"], root),
                "agent": "main",
                "message_type": "observation",
                "tool_call_ids": [call_id],
            }
        )
        trajectory.append(
            {
                "action": step["action"],
                "observation": step["observation"],
                "response": step["thought"],
                "thought": step["thought"],
                "execution_time": 0.21 + 0.07 * len(trajectory),
                "state": {"open_file": open_file, "working_dir": root},
                "query": query,
                "extra_info": {},
            }
        )
        open_file = step["open_file"]
    replay_config = {
        "env": {
            "deployment": {"image": "python:3.11", "type": "docker"},
            "repo": {"github_url": "https://github.com/acme/pyslug", "type": "github"},
        },
        "agent": {
            "name": "main",
            "model": {"name": MODEL, "per_instance_cost_limit": 3.0, "temperature": 0.0},
            "tools": {"parse_function": {"type": "function_calling"}},
        },
        "problem_statement": {"text": ISSUE, "type": "text", "id": INSTANCE, "extra_fields": {}},
        "output_dir": f"trajectories/dev/function_calling__{MODEL}__t-0.00__p-1.00__c-3.00___{INSTANCE}",
    }
    return {
        "trajectory": trajectory,
        "history": history,
        "info": {
            "swe_agent_hash": "5e6d7c1b0f1e4f0c8a7e9d2b3c4a5f6e7d8c9b0a",
            "swe_agent_version": "1.0.1",
            "swe_rex_version": "1.2.1",
            "swe_rex_hash": "unavailable",
            "submission": PATCH,
            "exit_status": "submitted",
            "edited_files30": "[File: src/pyslug/core.py]\n     1: " + "\n".join(CORE_LINES[:-1]),
            "model_stats": {"instance_cost": 0.07, "tokens_sent": 21934, "tokens_received": 688, "api_calls": 6},
        },
        "replay_config": json.dumps(replay_config),
        "environment": "main",
    }


def assistant_indices(record: dict[str, Any]) -> list[int]:
    """Where the run's own assistant messages (not the demonstration's) sit in its history."""
    return [i for i, m in enumerate(record["history"]) if m["role"] == "assistant" and not m.get("is_demo")]
