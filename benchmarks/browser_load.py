"""Many people judging at once through the real servers: annotators as Chromium contexts, keyboard only.

`python -m benchmarks.browser_load [--annotators 16] [--per-person 20] [--check]`

Four runs: one `streamlit run` on SQLite, and two app servers behind nginx (Debian's package; sticky by
Streamlit's XSRF cookie, so a browser keeps its server) on PostgreSQL, each with 1 and 2 judgments per trace.
Every annotator signs in, opens Annotate and judges traces with the keyboard (3 or A, then Ctrl+Enter) until
it has submitted ``per-person`` or nothing is left. Reported: submissions made (Ctrl+Enter on a complete
trace), confirmed by the server, refused with a reason, stored (read back from the database), lost (made,
neither refused nor stored: must be 0), errors shown, traces judged more than k times (must be 0), and the
key-press figures under that load. docs/operations.md shows the nginx configuration this runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks import OUT, finish, in_workdir
from benchmarks.chromium import CHROMIUM, CHROMIUM_ARGS, PROBE_JS, TIMEOUT_MS, free_port, served
from tests.utils.processes import stop_group

NAME = "browser_load"
PROJECT = "load-benchmark"
PASSWORD = "load-password-1"
STEPS = 4
NGINX_CONF = """worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream redline {{
    # Sticky: a browser's requests and its websocket go to one server, chosen by Streamlit's XSRF cookie.
    hash $cookie__streamlit_xsrf consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://redline;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
    }}
  }}
}}
"""


def build(url: str, traces: int, annotators: int, k: int) -> None:
    from annotation.accounts.users import create_user, set_members
    from annotation.ops.startup import prepare
    from storage import queries
    from storage.db import session
    from storage.tables import utcnow

    engine = prepare(url)
    now = utcnow()
    with session(engine) as s:
        project = queries.create_project(s, name=PROJECT, judgments_per_trace=k)
        queries.insert_traces(
            s,
            rows=[
                {
                    "project_id": project.id,
                    "position": i,
                    "content_key": f"{i:064x}",
                    "record_id": f"load-{i}",
                    "source_file": "synthetic",
                    "problem": f"Problem {i}: add {i} and {i + 1}.",
                    "steps": [f"Trace {i}, step {n + 1}: $x_{n} = {n} + {i}$." for n in range(STEPS)],
                    "n_steps": STEPS,
                    "answer": str(2 * i + 1),
                    "generator": "synthetic",
                    "meta": {},
                    "qc": False,
                    "priority": 0.0,
                    "complete": False,
                    "created_at": now,
                }
                for i in range(traces)
            ],
        )
        s.commit()
    names = [f"ann{n:02d}" for n in range(annotators)]
    for name in names:
        create_user(engine, username=name, password=PASSWORD, role="annotator")
    set_members(engine, project=PROJECT, usernames=names)
    engine.dispose()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the machine's PostgreSQL (REDLINE_TEST_POSTGRES_URL), dropped afterwards."""
    from sqlalchemy import create_engine, text

    base = os.environ.get("REDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def behind_nginx(upstreams: list[str], workdir: Path) -> Iterator[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    servers = "\n".join(f"    server {u.removeprefix('http://')};" for u in upstreams)
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, servers=servers, port=port), encoding="utf-8")
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"], start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not serve: {(workdir / 'nginx-error.log').read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        stop_group(process)


async def annotator(browser: Any, url: str, name: str, per_person: int, seed: int) -> dict[str, Any]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    await context.add_init_script(PROBE_JS)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    out: dict[str, Any] = {"made": 0, "refused": 0, "errors": [], "verdict_ms": [], "submit_ms": []}
    await page.goto(url)
    await page.get_by_role("textbox", name="Username").fill(name)
    await page.get_by_role("textbox", name="Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.get_by_text(f"Signed in as {name}").wait_for()
    await page.get_by_role("link", name="Annotate", exact=True).click()
    try:
        await page.locator(".rl-step").first.wait_for(timeout=TIMEOUT_MS)
    except Exception:  # nothing left for this person at all
        await context.close()
        return out
    await page.locator(".rl-title").click()
    for n in range(per_person):
        if await page.get_by_text("Nothing left for you").count():
            break
        title = await page.inner_text(".rl-title")
        key = "3" if (n + seed) % 2 else "a"
        effect = (
            "document.querySelector('.rl-summary').textContent.startsWith('"
            + ("First error" if key == "3" else "Every step")
            + "')"
        )
        await page.evaluate("(source) => window.__arm(source)", effect)
        await page.keyboard.press(key)
        out["verdict_ms"].append(float(await page.evaluate("window.__took")))
        moved = (
            f"(() => {{ const t = document.querySelector('.rl-title'); "
            f"return !t || t.textContent !== {title!r} || !!document.querySelector('.rl-notice.warning'); }})()"
        )
        await page.evaluate("(source) => window.__arm(source)", moved)
        await page.keyboard.press("Control+Enter")
        out["made"] += 1
        out.setdefault("submitted", []).append(int(title.removeprefix("Trace #")) - 1)
        out["submit_ms"].append(float(await page.evaluate("window.__took")))
        # The server's answer: the next trace confirmed, or the old one back with the reason.
        await page.wait_for_function(
            "() => { const s = document.querySelector('.rl-status'); return !s || s.textContent === 'Saved'"
            " || !!document.querySelector('.rl-notice.warning, .rl-notice.error'); }",
            timeout=TIMEOUT_MS,
        )
        notice = page.locator(".rl-notice.warning, .rl-notice.error")
        if await notice.count() and await notice.first.is_visible():
            text = await notice.first.inner_text()
            if text.startswith("Not submitted"):
                out["refused"] += 1
                out["errors"].append(text)
                await page.keyboard.press("x")  # this one was taken by others meanwhile: move on
                await page.wait_for_timeout(300)
        if await page.locator('[data-testid="stException"]').count():
            out["errors"].append(await page.locator('[data-testid="stException"]').first.inner_text())
            break
    await context.close()
    return out


async def drive(url: str, annotators: int, per_person: int) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            tasks = [annotator(browser, url, f"ann{n:02d}", per_person, n) for n in range(annotators)]
            return await asyncio.gather(*tasks)
        finally:
            await browser.close()


def stored(url: str, k: int) -> dict[str, Any]:
    from annotation.ops.startup import prepare
    from annotation.projects.traces import load_traces

    engine = prepare(url)
    traces = load_traces(engine, PROJECT)
    engine.dispose()
    per_trace = Counter()
    per_person = Counter()
    pairs = set()
    for t in traces:
        for source, j in t.judgments.items():
            if source.startswith("human:") and j.status == "submitted":
                per_trace[t.id] += 1
                per_person[source.removeprefix("human:")] += 1
                pairs.add((source.removeprefix("human:"), t.position))
    over = sum(1 for n in per_trace.values() if n > k)
    return {"stored": sum(per_person.values()), "over_judged": over, "pairs": pairs}


def run(kind: str, k: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    folder = workdir / f"{kind}-k{k}"
    folder.mkdir(parents=True, exist_ok=True)
    traces = args.annotators * args.per_person // k + 10
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'redline.db'}"
            build(url, traces, args.annotators, k)
            entry = stack.enter_context(served(url, folder / "server.log"))
        else:
            url = stack.enter_context(postgres_schema())
            build(url, traces, args.annotators, k)
            os.environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", uuid.uuid4().hex)  # one secret for both
            upstreams = [stack.enter_context(served(url, folder / f"server{n}.log")) for n in range(2)]
            entry = stack.enter_context(behind_nginx(upstreams, folder))
        start = time.perf_counter()
        results = asyncio.run(drive(entry, args.annotators, args.per_person))
        took = time.perf_counter() - start
        counts = stored(url, k)
    made = sum(r["made"] for r in results)
    pressed = {(f"ann{n:02d}", p) for n, r in enumerate(results) for p in r.get("submitted", [])}
    twice = sum(len(r.get("submitted", [])) - len(set(r.get("submitted", []))) for r in results)
    refused = sum(r["refused"] for r in results)
    verdicts = [t for r in results for t in r["verdict_ms"]]
    submits = [t for r in results for t in r["submit_ms"]]
    return {
        "setup": "one server, SQLite" if kind == "sqlite" else "two servers behind nginx, PostgreSQL",
        "k": k,
        "annotators": args.annotators,
        "seconds": round(took, 1),
        "made": made,
        "refused": refused,
        "stored": counts["stored"],
        "lost": made - refused - counts["stored"],
        "over_judged": counts["over_judged"],
        "errors": [e for r in results for e in r["errors"] if not e.startswith("Not submitted")],
        # Which submissions the database does not hold (person, trace position), and traces submitted twice
        # by one person (a revision, stored once): what "lost" is made of.
        "missing": sorted(pressed - counts["pairs"]),
        "submitted_twice": twice,
        "verdict_ms": _stats(verdicts),
        "submit_ms": _stats(submits),
    }


def _stats(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"median": 0.0, "p90": 0.0}
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered), 1), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser_load", description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--per-person", type=int, default=20)
    parser.add_argument("--setups", default="sqlite,proxy")
    parser.add_argument("--ks", default="1,2")
    parser.add_argument("--check", action="store_true", help="exit 1 when something was lost or over-judged")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT / f"{NAME}.json")
    args, _ = parser.parse_known_args(argv)
    print(f"{NAME}: {args.annotators} annotators in Chromium, {args.per_person} traces each")
    print(
        f"  {'setup':<38} {'k':>2} {'made':>5} {'stored':>6} {'refused':>7} {'lost':>4} {'over k':>6} "
        f"{'errors':>6}  verdict ms (median/p90)  submit ms"
    )

    def every_run(folder: Path) -> list[dict[str, Any]]:
        results = []
        for kind in args.setups.split(","):
            for k in (int(x) for x in args.ks.split(",")):
                r = run(kind, k, args, folder)
                results.append(r)
                print(
                    f"  {r['setup']:<38} {r['k']:>2} {r['made']:>5} {r['stored']:>6} {r['refused']:>7} {r['lost']:>4} "
                    f"{r['over_judged']:>6} {len(r['errors']):>6}  {r['verdict_ms']['median']:>6} / "
                    f"{r['verdict_ms']['p90']:<6}           {r['submit_ms']['median']} / {r['submit_ms']['p90']}",
                    flush=True,
                )
        return results

    results = in_workdir(args.workdir, "redline-browser-load-", every_run)
    problems = [
        f"{r['setup']}, k={r['k']}: {what}"
        for r in results
        for what, bad in (
            (f"{r['lost']} lost", r["lost"] != 0),
            (f"{r['over_judged']} traces judged more than k times", r["over_judged"] != 0),
            (f"{len(r['errors'])} errors shown: {r['errors'][:2]}", bool(r["errors"])),
        )
        if bad
    ]
    lines = [f"  problem: {p}" for p in problems] or ["  nothing lost, nothing over-judged, no error shown"]
    return finish(
        {"results": results, "problems": problems, "passed": not problems}, "\n".join(lines), args.out, check=args.check
    )


if __name__ == "__main__":
    sys.exit(main())
