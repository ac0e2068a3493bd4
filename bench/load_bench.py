"""Autosave under load: 500 evaluators at a realistic pace, then 50 back to back against a bare Flask endpoint.

    .venv/bin/python bench/load_bench.py                 # paced 60 s, then 60 s app and 60 s bare
    .venv/bin/python bench/load_bench.py --seconds 15 --paced-seconds 15    # a shorter run

Paced (the realistic case): --paced-evaluators (default 500) signed-in evaluators each save an
answer every --pace seconds (default 2; each starts at a random point of its first interval) for
--paced-seconds (default 60). Goal: p95 < 100 ms, no lost answer, no 5xx.

Saturation:
Starts the app under gunicorn (gthread workers, on a free 127.0.0.1 port) on its own PostgreSQL
database (default postgresql://postgres@127.0.0.1:5432/bench_load, created if missing and
rebuilt by the migrations on every run), creates 50 evaluators with one visit in progress each
(the starter checklist), signs each in over HTTP (session cookie and CSRF token as a browser
has them), then each evaluator autosaves answers back to back for the given time over one
keep-alive connection: POST /visits/<id>/answers with the JSON the form sends. The same client
drives a bare Flask endpoint (bench/bare_app.py) served by gunicorn with the same settings, in
alternating slices (app, bare, app, bare, ...; --slices, default 6) so that a machine whose speed
drifts during the run weighs on both figures alike; each slice's rates are printed as it ends.

Prints answers/s, p50/p95/p99 latency, errors (non-2xx, 5xx), the throughput ratio app/bare, and
checks that every acknowledged answer is in the database (the last one per question, exactly).
Goal: no 5xx, no lost answer, ratio >= 0.30 (one request pipeline: Flask's sessions, CSRF, access
rules and the edge commit on every answer). Loopback only; bounded in time.
Also prints the CPU time per answer of the gunicorn workers and of the client. Extra gunicorn
options (e.g. a config file with profiling hooks) can be given in BENCH_GUNICORN_EXTRA.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import ensure_database  # noqa: E402  (bench/ is on sys.path for a script run from it)

PASSWORD = "bench-password-123"
EXTRA = os.environ.get("BENCH_GUNICORN_EXTRA", "").split()
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/bench_load"))
    p.add_argument("--seconds", type=float, default=60.0, help="time each target is driven (default 60)")
    p.add_argument("--slices", type=int, default=6,
                   help="the time is cut into this many slices, alternating app and bare (default 6)")
    p.add_argument("--evaluators", type=int, default=50, help="concurrent evaluators (default 50)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2, one per core)")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    p.add_argument("--skip-bare", action="store_true", help="do not drive the bare endpoint")
    p.add_argument("--paced-evaluators", type=int, default=500, help="evaluators of the paced run (default 500)")
    p.add_argument("--pace", type=float, default=2.0, help="seconds between one evaluator's answers (default 2)")
    p.add_argument("--paced-seconds", type=float, default=60.0, help="length of the paced run (default 60; 0 skips it)")
    args = p.parse_args()
    args.seconds = min(max(args.seconds, 1.0), 600.0)  # bounded
    args.paced_seconds = min(max(args.paced_seconds, 0.0), 600.0)
    args.pace = min(max(args.pace, 0.05), 60.0)
    args.paced_evaluators = min(max(args.paced_evaluators, 1), 2000)
    args.slices = min(max(args.slices, 1), 60)
    return args


# --- the database and the people in it -------------------------------------------------------------


@dataclass
class QuestionPlan:
    id: int
    values: list


@dataclass
class Evaluator:
    email: str
    visit_id: int
    cookies: dict = field(default_factory=dict)
    csrf: str = ""


def answer_values(question) -> list:
    """A few answers that fit ``question`` (the server validates them as it would any other)."""
    c = question.config or {}
    if question.kind == "yes_no":
        return [True, False]
    if question.kind == "scale":
        return list(range(int(c.get("min", 1)), int(c.get("max", 5)) + 1))
    if question.kind == "choice":
        return [o["key"] for o in c.get("options", [])]
    if question.kind == "number":
        return [0, 1, 2, 3.5, 5, 8, 13]
    if question.kind == "text":
        return ["Friendly and quick.", "The queue was long.", "Kiitos, hyvää palvelua.", ""]
    if question.kind == "multi":
        return [[o["key"]] for o in c.get("options", [])]
    if question.kind == "date":
        return ["2026-11-30", "2026-12-01"]
    if question.kind == "time":
        return ["09:30", "14:05"]
    return []


def build_world(app, n: int) -> tuple[list[Evaluator], list[QuestionPlan]]:
    from sqlalchemy import text

    from audit_app.accounts import operations as accounts
    from audit_app.checklists import operations as checklists
    from audit_app.extensions import db
    from audit_app.submissions import operations as submissions
    from audit_app.visits import operations as visits
    from audit_app.visits import registers

    starter = json.loads((ROOT / "audit_app/checklists/starter/customer_experience.json").read_text("utf-8"))
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
        client = accounts.create_client("Bench Load Oy")
        version = checklists.build_version(starter)
        checklists.publish(version)
        channel = max(("in_person", "phone", "chat", "email", "social", "web"),
                      key=lambda ch: sum(q.applies_to(ch) for q in version.questions()))
        plan = [QuestionPlan(q.id, values) for q in version.questions()
                if q.applies_to(channel) and (values := answer_values(q))]
        location = registers.create_location(client, name="Bench branch", city="Helsinki") \
            if channel == "in_person" else None
        people = []
        today = date.today()
        for i in range(n):
            user = accounts.create_user(email=f"eva{i:03d}@bench.example", name=f"Evaluator {i}", role="evaluator",
                                        password=PASSWORD, must_change_password=False)
            visit = visits.create_visit(client=client, channel=channel, version=version, evaluator=user,
                                        due_from=today, due_to=today + timedelta(days=7), location=location,
                                        scenario="Ask about moving a payment date.")
            submissions.start_visit(visit, user)
            people.append(Evaluator(email=user.email, visit_id=visit.id))
        db.session.commit()
    return people, plan


# --- HTTP ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, chdir: Path, port: int, args, env: dict) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "--worker-class", "gthread", "--workers", str(args.workers),
           "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir),
           "--log-level", "warning", "--keep-alive", "30", *EXTRA, target]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn {target} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            conn.getresponse().read()
            conn.close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn {target} did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds used so far by the gunicorn workers of ``proc`` (Linux /proc; 0 elsewhere)."""
    total = 0.0
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        tick = os.sysconf("SC_CLK_TCK")
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return 0.0
    return total


def _cookies(response, jar: dict) -> None:
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()


def _cookie_header(jar: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port: int, person: Evaluator) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        html = response.read().decode()
        _cookies(response, person.cookies)
        found = CSRF_INPUT.search(html)
        token = found.group(1) or found.group(2)
        body = urllib.parse.urlencode({"csrf_token": token, "email": person.email, "password": PASSWORD})
        conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                               "Cookie": _cookie_header(person.cookies)})
        response = conn.getresponse()
        response.read()
        _cookies(response, person.cookies)
        if response.status != 302:
            raise SystemExit(f"sign-in of {person.email} failed: {response.status}")
        conn.request("GET", f"/visits/{person.visit_id}/form", headers={"Cookie": _cookie_header(person.cookies)})
        response = conn.getresponse()
        html = response.read().decode()
        _cookies(response, person.cookies)
        found = CSRF_META.search(html)
        if response.status != 200 or not found:
            raise SystemExit(f"the form of visit {person.visit_id} did not load: {response.status}")
        person.csrf = found.group(1)
    finally:
        conn.close()


@dataclass
class Result:
    latencies: list = field(default_factory=list)
    ok: int = 0
    errors: int = 0  # non-2xx and broken connections
    server_errors: int = 0  # 5xx
    stale: int = 0
    acked: dict = field(default_factory=dict)  # (visit_id, question_id) -> (answered_at, value, comment)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds of the gunicorn workers during the run
    client_cpu: float = 0.0


def drive(proc, port: int, people: list[Evaluator], plan: list[QuestionPlan], seconds: float,
          pace: float | None = None) -> Result:
    """Each person answers back to back, or every ``pace`` seconds (from a random start in the
    first interval) when it is given."""
    result = Result()
    lock = threading.Lock()
    barrier = threading.Barrier(len(people) + 1)
    window: dict = {}

    def evaluator(person: Evaluator, seed: int) -> None:
        rng = random.Random(seed)
        path = f"/visits/{person.visit_id}/answers"
        latencies, acked = [], {}
        ok = errors = server_errors = stale = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        last = datetime.now(UTC)
        barrier.wait()
        end = window["end"]
        due = window["start"] + (rng.uniform(0, pace) if pace else 0.0)
        while time.monotonic() < end:
            if pace:
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                    if time.monotonic() >= end:
                        break
                due += pace
            q = rng.choice(plan)
            now = datetime.now(UTC)
            if now <= last:
                now = last + timedelta(microseconds=1)
            last = now
            answered_at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            value = rng.choice(q.values)
            comment = f"note {rng.randrange(1000)}" if rng.random() < 0.3 else ""
            body = json.dumps({"question_id": q.id, "value": value, "na": False, "comment": comment,
                               "answered_at": answered_at, "client_id": secrets.token_hex(8)})
            headers = {"Content-Type": "application/json", "Accept": "application/json",
                       "X-CSRFToken": person.csrf, "Cookie": _cookie_header(person.cookies)}
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies.append(time.perf_counter() - t0)
            _cookies(response, person.cookies)
            if 200 <= response.status < 300:
                ok += 1
                reply = json.loads(data or b"{}")
                if reply.get("stale"):
                    stale += 1
                else:
                    acked[(person.visit_id, q.id)] = (now.replace(tzinfo=None), value, comment)
            else:
                errors += 1
                if response.status >= 500:
                    server_errors += 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.ok += ok
            result.errors += errors
            result.server_errors += server_errors
            result.stale += stale
            result.acked.update(acked)

    threads = [threading.Thread(target=evaluator, args=(p, i), daemon=True) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    cpu0, client0 = server_cpu(proc), time.process_time()
    start = time.monotonic()
    window["start"], window["end"] = start, start + seconds
    barrier.wait()
    for t in threads:
        t.join(seconds + 60)
    result.elapsed = time.monotonic() - start
    result.server_cpu, result.client_cpu = server_cpu(proc) - cpu0, time.process_time() - client0
    return result


def merge(total: Result, part: Result) -> None:
    """Add the figures of one slice to the run's (later slices' answers are the later writes)."""
    total.latencies.extend(part.latencies)
    total.ok += part.ok
    total.errors += part.errors
    total.server_errors += part.server_errors
    total.stale += part.stale
    total.acked.update(part.acked)
    total.elapsed += part.elapsed
    total.server_cpu += part.server_cpu
    total.client_cpu += part.client_cpu


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, r: Result) -> float:
    rate = r.ok / r.elapsed if r.elapsed else 0.0
    ms = [x * 1000 for x in r.latencies]
    print(f"{name}: {r.ok} answers in {r.elapsed:.1f} s = {rate:.1f} answers/s; "
          f"latency p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms; "
          f"errors {r.errors} (5xx {r.server_errors})" + (f"; stale {r.stale}" if r.stale else ""))
    if r.ok:
        print(f"      CPU per answer: server {1000 * r.server_cpu / r.ok:.2f} ms, "
              f"client {1000 * r.client_cpu / r.ok:.2f} ms")
    return rate


def lost_answers(app, acked: dict) -> int:
    """Acknowledged answers that are not in the database as the last write of their question."""
    from sqlalchemy import select

    from audit_app.extensions import db
    from audit_app.submissions.models import Answer

    with app.app_context():
        stored = {(a.visit_id, a.question_id): a for a in db.session.scalars(select(Answer))}
        lost = 0
        for key, (answered_at, value, comment) in acked.items():
            row = stored.get(key)
            if row is None or row.answered_at != answered_at or row.value != value or row.comment != comment:
                lost += 1
        db.session.remove()
    return lost


def main() -> int:
    args = parse()
    if "127.0.0.1" not in args.database_url and "localhost" not in args.database_url:
        raise SystemExit("the bench runs on loopback only")
    ensure_database(args.database_url)
    instance = tempfile.mkdtemp(prefix="load-bench-")
    env = dict(os.environ, DATABASE_URL=args.database_url, AUDIT_INSTANCE_PATH=instance,
               SECRET_KEY=secrets.token_hex(32), STORAGE_BACKEND="local")
    env.pop("REDIS_URL", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "AUDIT_INSTANCE_PATH", "SECRET_KEY", "STORAGE_BACKEND")})
    os.environ.pop("REDIS_URL", None)
    from audit_app import create_app

    app = create_app()
    everyone = max(args.evaluators, args.paced_evaluators if args.paced_seconds else 0)
    print(f"setting up {everyone} evaluators on {args.database_url} ...", flush=True)
    people, plan = build_world(app, everyone)
    print(f"{len(plan)} questions per visit; gunicorn gthread {args.workers} workers x {args.threads} threads; "
          f"{args.seconds:.0f} s per target in {args.slices} alternating slices", flush=True)

    # both servers run side by side; the load alternates between them in slices (app, bare, app, ...)
    # so that a machine whose speed drifts during the run (a shared host) weighs on both alike
    app_port = free_port()
    app_proc = start_gunicorn("wsgi:app", ROOT, app_port, args, env)
    bare_port = bare_proc = None
    app_result, bare_result, paced = Result(), Result(), Result()
    per_slice = args.seconds / args.slices
    try:
        if not args.skip_bare:
            bare_port = free_port()
            bare_proc = start_gunicorn("bare_app:app", ROOT / "bench", bare_port, args, env)
        for person in people:
            sign_in(app_port, person)
        if args.paced_seconds:
            print(f"paced: {args.paced_evaluators} evaluators, one answer every {args.pace:g} s each, "
                  f"{args.paced_seconds:.0f} s", flush=True)
            paced = drive(app_proc, app_port, people[:args.paced_evaluators], plan, args.paced_seconds, args.pace)
            report("paced", paced)
        print(f"saturation: {args.evaluators} evaluators back to back", flush=True)
        people = people[:args.evaluators]
        bare_people = [Evaluator(email=p.email, visit_id=p.visit_id, csrf="x") for p in people]
        for n in range(1, args.slices + 1):
            one = drive(app_proc, app_port, people, plan, per_slice)
            merge(app_result, one)
            line = f"  slice {n}/{args.slices}: app {one.ok / one.elapsed:.0f} answers/s"
            if bare_proc is not None:
                other = drive(bare_proc, bare_port, bare_people, plan, per_slice)
                merge(bare_result, other)
                line += f", bare {other.ok / other.elapsed:.0f}/s"
            print(line, flush=True)
    finally:
        stop(app_proc)
        if bare_proc is not None:
            stop(bare_proc)
    app_rate = report("app ", app_result)
    acked = {**paced.acked, **app_result.acked}  # the saturation run's writes are the later ones
    lost = lost_answers(app, acked)
    print(f"acknowledged answers checked: {len(acked)} (last write per question); lost answers: {lost}")
    bare_rate = None
    if bare_proc is not None:
        bare_rate = report("bare", bare_result)
        print(f"ratio app/bare throughput: {app_rate / bare_rate:.2f}" if bare_rate else "ratio: bare endpoint failed")

    goals = {
        "no 5xx": app_result.server_errors == 0 and paced.server_errors == 0,
        "no lost answer": lost == 0,
        "ratio >= 0.30": bare_rate is None or (bare_rate and app_rate / bare_rate >= 0.30),
    }
    if args.paced_seconds:
        goals["paced p95 < 100 ms"] = percentile([x * 1000 for x in paced.latencies], 95) < 100
    print("goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in goals.items()))
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
