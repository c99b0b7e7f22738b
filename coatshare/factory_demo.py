"""The main job end to end, on embedded defaults, in one command (``coatshare demo``).

1. **Edge and cloud come up**: the edge gateway's HTTP API (uvicorn on a free local port,
   SQLite ``edge.db``), the embedded MQTT broker (amqtt), the cloud's intake (SQLite
   ``cloud.db``).
2. **Firms book**: the operator registers three firms; each asks for a quote over HTTP
   (price term by term, a promised date proved by the scheduler) and accepts it: three
   jobs in the durable queue.
3. **Recipes are planned, approved and sent to the site**: each booking of a part and
   finish without a recipe asks the cloud through the outbox; the cloud plans a candidate
   (planner and prediction) for its approval queue; an approver approves it (the cloud
   signs it); it is published over MQTT and held by the edge once its signature verifies.
4. **The scheduler plans the queue** (CP-SAT with local search): cells, sequence, colour
   changes; a Gantt chart.
5. **A cell paints**: the first door job's first parts go through the default spray
   pipeline on the demo world's cell 1 with the recipe the edge holds (simulated camera,
   vision, fit, prediction, the cell controller's logic, which verifies the signature
   again, driving the simulated robot, the film, QC); every part is recorded in the edge
   database with its job, and the job's progress is reported.
6. **Results reach the cloud**: the edge's outbox goes over MQTT until the cloud has
   acknowledged every record.
7. **A report**: ``report.md`` with the quotes, the recipes, the plan, the parts, heat maps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: what the firms book: (firm id, name, part, quantity, finish, due in hours)
RECT = "rect:width_mm=560,height_mm=380"
BOOKINGS = (
    ("alder-joinery", "Alder Joinery", "door", 40, "white-gloss", 30),
    ("birch-kitchens", "Birch Kitchens", "door", 24, "clear-satin", 20),
    ("cedar-cabinets", "Cedar Cabinets", RECT, 60, "black-matt", 48),
    ("dogwood-doors", "Dogwood Doors", "door", 30, "white-gloss", 26),
    ("elm-studio", "Elm Studio", RECT, 50, "black-matt", 40),
    ("fir-furniture", "Fir Furniture", "door", 16, "clear-satin", 12),
)
WORLD = Path(__file__).resolve().parents[1] / "sim" / "worlds" / "demo_cell.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class _Http:
    base: str

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        req = urllib.request.Request(self.base + path, method=method)
        data = None
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data=data, timeout=300) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{method} {path}: {err.code} {err.read().decode()}") from None


class EmbeddedBroker:
    """The embedded MQTT broker (amqtt) on its own event loop thread."""

    def __init__(self) -> None:
        from amqtt.broker import Broker

        self.port = _free_port()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        self.loop = asyncio.new_event_loop()
        self.broker = Broker(config, loop=self.loop)
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.broker.start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, name="mqtt-broker", daemon=True)
        self.thread.start()
        if not ready.wait(15):
            raise RuntimeError("the embedded MQTT broker did not start")

    def close(self) -> None:
        # amqtt logs its own task cancellation at shutdown as an error: nothing is wrong
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)
        asyncio.run_coroutine_threadsafe(self.broker.shutdown(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(15)


class _Server:
    """The edge API served by uvicorn on a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, name="edge-api", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the edge API did not start")
            time.sleep(0.05)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class DemoResult:
    out: Path
    quotes: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    plan_rows: list[dict] = field(default_factory=list)
    parts: list[dict] = field(default_factory=list)
    recipes: list[dict] = field(default_factory=list)
    cloud_records: int = 0
    edge_records: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def run_factory_demo(
    out: Path, *, parts: int = 4, say: Callable[[str], None] = print
) -> DemoResult:
    """Run the demo into ``out`` (emptied first); ``say`` reports each step."""
    from cloud_brain.candidates import CandidateWorker
    from cloud_brain.db import open_database as open_cloud
    from cloud_brain.intake import ResultIntake
    from cloud_brain.publish import RecipePublisher
    from cloud_brain.recipe_store import RecipeStore
    from coatshare.pipeline_sim import run_in_sim
    from edge_gateway.cloud_link import CloudLink
    from edge_gateway.db import open_database as open_edge
    from edge_gateway.factory import load_factory
    from edge_gateway.recipe_inbox import RecipeInbox
    from edge_gateway.records import RECORD_TOPIC, PartRecordStore
    from edge_gateway.scheduler import plan as schedule
    from edge_gateway.scheduler import save_gantt
    from edge_gateway.service import create_app, ensure_operator
    from edge_gateway.service.auth import new_token
    from edge_gateway.service.queue import JobQueue
    from edge_gateway.service.quotes import queue_problem
    from pipelines import load_library, standard_catalog
    from recipes.approval import ApprovalVerifier, generate_key_pair
    from recipes.document import loads
    from sim.world import load_world

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    result = DemoResult(out)
    factory = load_factory()
    edge_db = open_edge(sqlite_path=out / "edge.db")
    cloud_db = open_cloud(sqlite_path=out / "cloud.db")
    operator = new_token()
    ensure_operator(edge_db, operator)
    say(f"edge gateway '{factory.site}' and cloud up (SQLite in {out})")
    cloud_key = generate_key_pair()  # the cloud's approval key; the site trusts its public half
    store = RecipeStore(cloud_db, cloud_key)
    planner = CandidateWorker(store)
    inbox = RecipeInbox(edge_db, ApprovalVerifier(cloud_key.public_key_hex), out / "recipes")
    server = _Server(create_app(edge_db, factory, promise_time_limit_s=2.0, recipes=inbox))
    broker = EmbeddedBroker()
    intake = ResultIntake(
        cloud_db, port=broker.port, client_id="cloud-demo", on_stored=planner.on_stored
    )
    publisher = RecipePublisher(cloud_db, port=broker.port, client_id="cloud-demo-recipes")
    link = CloudLink(edge_db, factory.site, port=broker.port, resend_s=5.0, inbox=inbox)
    try:
        if not (intake.start() and link.start() and publisher.start()):
            raise RuntimeError("the cloud link did not connect to the embedded broker")
        http = _Http(f"http://127.0.0.1:{server.port}")
        say(f"edge API on {http.base}; MQTT broker on 127.0.0.1:{broker.port}")
        now = datetime.now(UTC)
        for firm_id, name, spec, qty, finish, due_h in BOOKINGS:
            token = http.call("POST", "/firms", operator, {"id": firm_id, "name": name})["token"]
            say(f"{name}: quote for {qty} x {spec} in {finish} (plans the part once) ...")
            body = {
                "part_spec": spec,
                "quantity": qty,
                "finish": finish,
                "due_at": (now + timedelta(hours=due_h)).isoformat(),
            }
            quote = http.call("POST", "/quotes", token, body)
            job = http.call("POST", f"/quotes/{quote['id']}/accept", token)
            say(f"  EUR {quote['price_eur']}, promised {quote['promise_at'][:16]} UTC: booked")
            result.quotes.append({**quote, "firm_name": name})
            result.jobs.append(job)
        result.recipes = _recipes_reviewed(result, factory, link, store, publisher, inbox, say)
        say("scheduling the queue ...")
        problem = queue_problem(edge_db, factory, datetime.now(UTC))
        plan = schedule(problem, time_limit_s=5.0)
        result.files["gantt"] = save_gantt(plan, out / "schedule.png", problem, "the queue")
        for cell_id, slots in plan.cells.items():
            for s in slots:
                result.plan_rows.append(
                    dict(cell=cell_id, job=s.job, finish=s.finish, start_h=s.start_s / 3600,
                         end_h=s.end_s / 3600)
                )  # fmt: skip
        door_job = result.jobs[0]
        offer = factory.offer(door_job["finish"])
        say(f"cell 1 paints {parts} parts of {door_job['id'][:8]} through spray-default ...")
        held = loads(inbox.current("door", offer.finish)["document"])
        run = run_in_sim(
            load_library("spray_default"),
            standard_catalog(),
            load_world(WORLD),
            parts=parts,
            finish=offer.finish,
            database=out / "edge.db",
            job_id=door_job["id"],
            on_part=lambda row: say(_part_line(row)),
            approved=({"door": held}, cloud_key),
        )
        result.parts = [r.to_dict() for r in run.rows]
        result.summary = run.summary()
        painted = sum(1 for r in run.rows if r.completed)
        JobQueue(edge_db).report_progress(door_job["id"], painted)
        result.edge_records = PartRecordStore(edge_db).count()
        say("sending the records to the cloud ...")
        deadline = time.monotonic() + 60
        while link.fill().waiting:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cloud did not acknowledge every record: {link.fill()}")
            link.pump()
            time.sleep(0.1)
        result.cloud_records = intake.count(factory.site, RECORD_TOPIC)
        say(f"  {result.cloud_records} of {result.edge_records} records stored in the cloud")
        from recipes.finish import FINISHES

        result.files.update(_heatmaps(run, out, FINISHES[offer.finish]))
        result.files["report"] = _report(result, factory, door_job)
        return result
    finally:
        link.stop()
        publisher.stop()
        intake.stop()
        planner.shutdown()
        broker.close()
        server.close()
        edge_db.dispose()
        cloud_db.dispose()


def _recipes_reviewed(result, factory, link, store, publisher, inbox, say) -> list[dict]:
    """Step 3: the bookings' recipe requests reach the cloud, which plans candidates; an
    approver approves each; the edge holds them, verified. The reviewed versions."""
    from cloud_brain.heatmaps import heatmap_png
    from cloud_brain.users import User
    from recipes.parts.loader import load_part

    pairs = {
        (load_part(q["part_spec"])[0].name, factory.offer(q["finish"]).finish)
        for q in result.quotes
    }
    say(f"recipes: {len(pairs)} part and finish pairs without one; the edge asks the cloud ...")
    _until(lambda: not link.fill().waiting and len(store.list()) >= len(pairs), link, 120)
    approver = User("ana", "approver")
    reviewed = []
    for version in store.list("pending"):
        v = store.approve(version["recipe_id"], version["version"], approver)
        publisher.publish(v)
        png = result.out / f"recipe_{v['recipe_id']}.png"
        png.write_bytes(heatmap_png(v["document"], v["content_hash"]))
        result.files[f"recipe {v['recipe_id']}"] = png
        reviewed.append(v)
        within = v["metrics"].get("within_tol_pct")
        say(
            f"  {v['recipe_id']} v{v['version']}: planned by the cloud ({within:.1f} % within "
            f"tolerance predicted), approved by {approver.name}, signed {v['key_id']}"
        )
    _until(lambda: inbox.stored >= len(reviewed), link, 30)
    say(f"  {inbox.stored} held at the edge, signatures verified; files in {inbox.recipe_dir}")
    return reviewed


def _until(done: Callable[[], bool], link, timeout_s: float) -> None:
    """Pump the cloud link until ``done()``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout_s:.0f} s in vain ({link.fill()})")
        link.pump()
        time.sleep(0.1)


def _qc(passed: bool | None) -> str:
    return "" if passed is None else ("pass" if passed else "FAIL")


def _part_line(row) -> str:
    line = f"  {row.part_id} {row.label:<10} {row.status:<9} {_qc(row.qc_passed)}"
    if row.simulated_within_tol_pct is not None:
        line += f" {row.simulated_within_tol_pct:.1f} % within ±tol"
    return line


def _heatmaps(run, out: Path, finish) -> dict[str, Path]:
    from recipes.heatmap import render_heatmap

    files = {}
    for part_id, (film, program) in list(run.films.items())[:2]:
        files[f"film {part_id}"] = render_heatmap(
            film, program, finish, out / f"film_{part_id}.png", f"{part_id}: the simulated film"
        )
    return files


def _report(result: DemoResult, factory, door_job: dict) -> Path:
    lines = [
        "# coatshare factory demo",
        "",
        f"Site `{factory.site}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Everything ran on "
        "embedded defaults: SQLite, the amqtt broker, the simulated cell.",
        "",
        "## Quotes and bookings",
        "",
        "| firm | parts | finish | price EUR | cycle s | promised (UTC) | meets due date |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in result.quotes:
        lines.append(
            f"| {q['firm_name']} | {q['quantity']} x {q['part_spec']} | {q['finish']} | "
            f"{q['price_eur']} | {q['cycle_time_s']} | {q['promise_at'][:16]} | "
            f"{q['details']['meets_due_date']} |"
        )
    lines += ["", "## Recipes", "",
              "Planned by the cloud for each part and finish booked without one, approved "
              "in its review (signed with the cloud's key), published to the site and held "
              "there once the signature verified.", "",
              "| recipe | part | finish | predicted within tol % | paint ml | cycle s | "
              "approved by | key |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for v in result.recipes:
        m = v["metrics"]
        lines.append(
            f"| {v['recipe_id']} v{v['version']} | {v['part']} | {v['finish']} | "
            f"{m.get('within_tol_pct', 0):.1f} | {m.get('paint_ml', 0):.1f} | "
            f"{m.get('cycle_s', 0):.1f} | {v['decided_by']} | {v['key_id']} |"
        )
    for name, path in result.files.items():
        if name.startswith("recipe "):
            lines += ["", f"![{name}]({path.name})"]
    lines += ["", "## The plan", "", "![schedule](schedule.png)", "",
              "| cell | job | finish | start h | end h |", "|---|---|---|---|---|"]  # fmt: skip
    for r in result.plan_rows:
        lines.append(
            f"| {r['cell']} | {r['job'][:8]} | {r['finish']} | {r['start_h']:.2f} | "
            f"{r['end_h']:.2f} |"
        )
    lines += [
        "",
        f"## Cell 1: job {door_job['id'][:8]} through `spray-default`",
        "",
        "| part | truth | status | pose error mm | predicted % | simulated % | QC | cycle s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in result.parts:
        held = f" ({p['held_by']})" if p["held_by"] else ""
        qc = _qc(p["qc_passed"])
        lines.append(
            f"| {p['part_id']} | {p['label']} | {p['status']}{held} | "
            f"{p['pose_error_mm'] if p['pose_error_mm'] is not None else ''} | "
            f"{p['predicted_within_tol_pct'] or ''} | {p['simulated_within_tol_pct'] or ''} | "
            f"{qc} | {p['cycle_s'] or ''} |"
        )  # fmt: skip
    for name, path in result.files.items():
        if name.startswith("film"):
            lines += ["", f"![{name}]({path.name})"]
    lines += [
        "",
        "## Results in the cloud",
        "",
        f"{result.edge_records} part records at the edge, {result.cloud_records} stored in "
        "the cloud (each once, acknowledged by key).",
        "",
    ]
    path = result.out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


__all__ = ["BOOKINGS", "DemoResult", "EmbeddedBroker", "run_factory_demo"]
