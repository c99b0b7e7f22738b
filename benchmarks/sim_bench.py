"""Simulator benchmark: a camera frame, a door cycle, and production through the node loop.

1. **Camera**: one 1280x960 frame of a door on the demo belt (median of 30).
2. **Door cycle, pure functions**: the door's film from 250 Hz joint states (FK in PyBullet,
   deposition, QC metrics), the joint states being an ideal controller's interpolation of
   the time-parameterised path.
3. **Through the node loop**: :class:`sim.node.SimNode` on the ``dds`` backend, as fast as
   it goes, every step publishing ``/clock`` and ``joint_states`` to a subscriber in another
   process (which also takes the camera images and part results), the belt feeding doors,
   the camera rendering and publishing a frame per door, deposition and QC per door. The
   cell controller's logic (:class:`robot_nodes.controller.CellController`: validation,
   IK and timing, execution monitor, trigger schedule) drives it in sim time through the
   node's step hooks, in place of a ``coatshare cell run`` process; its time is measured
   apart and left out of the simulator's figures. Figures:
   a door cycle (part arrives at the station -> result published, including deposition;
   median over the doors) plus a camera frame, against 1.5 s; and the production rate, sim
   seconds per wall second, over a slice of doors (``--parts``, default 8) or a whole
   simulated hour (``--hour``), against one cell-hour in 3 minutes. Wall and CPU time
   (process) are both given, with the machine's load average: on a shared machine the wall
   figures carry the other jobs.
4. **Production through real processes** (``--production``, alone): :class:`sim.run.ProductionRun`
   on the demo world (faults, wrong and damaged parts off): ``python -m sim.node`` and
   ``coatshare cell run --use-sim-time`` in lock-step, this process as the edge, camera
   frames, deposition and QC, for a simulated cell-hour (``--sim-s``). Figures: wall time
   from the simulator's start to the hour against 3 minutes, sim seconds per wall second,
   CPU time of every process, the load average, door cycles (at the station -> result) in
   wall time, and the doors' quality.

The door's recipe is planned without edge passes: from the demo cell's robot position the
far edge pass is out of painter6's joint-5 range. The benchmark process is pinned to one
CPU (the simulator is single-threaded; BLAS one thread).

Run with ``python -m benchmarks.sim_bench [--parts N | --hour | --production [--sim-s S]]
[--out DIR]``; figures are printed with the machine and date, and written to
``DIR/sim.json`` (``DIR/sim_production.json``) when asked.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from scipy.interpolate import CubicHermiteSpline  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402
from recipes.planner import PlannerParams  # noqa: E402
from recipes.program import Program  # noqa: E402
from recipes.recipe import plan_from_spec  # noqa: E402
from robot_nodes.kinematics import load_painter6  # noqa: E402
from robot_nodes.timing import time_parameterize  # noqa: E402
from robot_nodes.toolpath import ToolPath  # noqa: E402
from sim.frames import PlanarPose, invert  # noqa: E402
from sim.gun import spray_from_joints  # noqa: E402
from sim.render import CameraRenderer, Lighting  # noqa: E402
from sim.robot import RobotSim  # noqa: E402
from sim.world import load_world, parse_world  # noqa: E402

DEMO_WORLD = Path(__file__).resolve().parents[1] / "sim" / "worlds" / "demo_cell.yaml"
JOINT_STATE_HZ = 250.0
FRAMES = 30
CYCLES = 3
BUDGET_S = 1.5
HOUR_BUDGET_S = 180.0
SLICE_PARTS = 8


def tool_path(program: Program, T_base_part: np.ndarray) -> ToolPath:
    """A recipe program as the gun path a SprayProgram carries (base frame, metres)."""
    y = np.cross(program.axis, program.fan_x)
    T = np.zeros((len(program), 4, 4))
    T[:, :3, 0], T[:, :3, 1], T[:, :3, 2] = program.fan_x, y, program.axis
    T[:, :3, 3] = program.position_mm
    T[:, 3, 3] = 1.0
    T = np.einsum("ij,njk->nik", T_base_part, T)
    T[:, :3, 3] /= 1000.0
    trigger = program.trigger.copy()
    trigger[0] = False
    return ToolPath(T, np.maximum(program.speed_mm_s, 1.0), trigger)


def _door_recipe():
    return plan_from_spec(
        "door", "benchmark", params=PlannerParams(edge_passes=False), recipe_id="door-benchmark"
    )


def bench_camera(cell) -> dict:
    t0 = time.perf_counter()
    renderer = CameraRenderer(cell.calibration, cell.belt, texture_seed=1)
    setup_s = time.perf_counter() - t0
    from sim.feed import PartFeed

    feed = PartFeed(cell.spec.feed, seed=1)
    nominal = PlanarPose(-2000.0, 0.0, 0.0)
    light = Lighting(gradient_strength=0.2, gradient_direction_deg=30.0, vignetting=0.1)
    times = []
    for k in range(FRAMES + 2):
        view = feed.part(k).view(nominal)
        t0 = time.perf_counter()
        renderer.render(
            [view], lighting=light, noise_std=2.0, blur_sigma_px=0.6, belt_offset_mm=3.7 * k, rng=k
        )
        times.append(time.perf_counter() - t0)
    t = np.array(times[2:])
    return dict(
        size=f"{cell.calibration.width}x{cell.calibration.height}",
        frames=FRAMES,
        setup_s=setup_s,
        median_ms=1000 * float(np.median(t)),
        p90_ms=1000 * float(np.percentile(t, 90)),
        min_ms=1000 * float(t.min()),
    )


def bench_cycle(cell, doc, pred) -> dict:
    program = doc.program.to_program()
    T_world_part = PlanarPose(0.0, 0.0, 0.0).T_world_part((300.0, 200.0))
    T_base_part = invert(cell.T_world_base) @ T_world_part
    traj = time_parameterize(load_painter6(), tool_path(program, T_base_part))
    t = np.arange(0.0, traj.duration_s, 1.0 / JOINT_STATE_HZ)
    q = CubicHermiteSpline(traj.t_s, traj.q_rad, traj.qd_rad_s, axis=0)(t)
    # gun output: on over the planned spray intervals, as the controller switches it
    on_at = np.interp(t, traj.t_s, np.arange(len(traj.t_s)))
    trigger = traj.trigger[np.minimum(np.ceil(on_at).astype(int), len(traj.t_s) - 1)]
    door = _door()
    samples = door.sample_surface(2.0)
    fk, total = [], []
    with RobotSim.for_cell(cell) as robot:
        for _ in range(CYCLES):
            t0 = time.perf_counter()
            robot.tool_poses(q)
            t1 = time.perf_counter()
            res = spray_from_joints(
                robot, t, q, trigger, door, T_world_part, doc.gun, doc.finish, samples=samples
            )
            fk.append(t1 - t0)
            total.append(time.perf_counter() - t1)
    fk_s, total_s = float(np.median(fk)), float(np.median(total))
    sim_top = res.metrics.faces["top"].within_tol_pct
    recipe_top = pred.metrics.faces["top"].within_tol_pct
    return dict(
        motion_s=float(traj.duration_s),
        joint_states=len(t),
        spray_s=res.traj.spray_time_s,
        surface_samples=len(res.samples),
        gun_samples=len(res.traj),
        fk_s=fk_s,
        deposition_s=total_s - fk_s,  # spray_from_joints runs the FK itself
        cycle_compute_s=total_s,
        real_time_factor=float(traj.duration_s) / total_s,
        within_tol_pct=dict(sim=res.metrics.within_tol_pct, recipe=pred.metrics.within_tol_pct),
        top_within_tol_pct=dict(sim=sim_top, recipe=recipe_top),
        paint_ml=dict(sim=res.metrics.paint_ml, recipe=pred.metrics.paint_ml),
    )


def _door():
    from recipes.parts.loader import load_part

    return load_part("door")[0]


# -- the node loop -----------------------------------------------------------------------------
class LockstepController:
    """The cell controller's logic stepped in sim time by the node (see the module docstring).

    It is the controller's output port: legs go to the cell's follower (started after the
    same delay the controller node stamps), the trigger to the gun valve, part results to the
    node. Interlocks come from the node's fault state at 10 Hz of sim time; joint states are
    the follower's, every step; a program (fitted to the part's real pose, as an edge with
    vision sends it) is given when a part arrives and the controller is IDLE.
    """

    def __init__(self, node, cell_id: str, doc, key) -> None:
        from recipes.approval import ApprovalVerifier, approve_recipe
        from robot_nodes.controller import (
            CellController,
            RecipeStore,
            load_cell_config,
            run_now,
        )
        from sim.cell import StationEvent
        from sim.cell_setup import nominal_T_world_part

        self._StationEvent = StationEvent
        self.node, self.id = node, cell_id
        self.cell = node.cells[cell_id]
        self.doc = approve_recipe(doc, key.signing_key_hex, "benchmark")
        self.key = key
        store = RecipeStore(None)
        store.add(self.doc)
        wc = self.cell.world_cell
        T = invert(wc.T_world_base) @ nominal_T_world_part(wc, "door")
        from sim.world_spec import Pose

        station = load_cell_config(None, cell_id=cell_id).model_dump(mode="json")["station"]
        station["T_base_part"] = Pose.model_validate(T.tolist()).model_dump(mode="json")
        config = load_cell_config(None, cell_id=cell_id, station=station)
        self.controller = CellController(
            config,
            load_painter6(),
            self,
            verifier=ApprovalVerifier(key.public_key_hex),
            recipes=store,
            submit=run_now,
        )
        self.now = 0.0
        self.steps = 0
        self.busy_s = 0.0  # wall time in the controller's logic
        self.busy_cpu_s = 0.0  # and process CPU time
        self.pending = None
        self._results: list = []
        node.step_hooks.append(self.on_step)
        node.event_hooks.append(self.on_event)

    # CellOutputs
    def start_delay_s(self, n_points: int) -> float:
        return 0.02 + 70e-6 * n_points

    def send_leg(self, leg, start_delay_s: float) -> None:
        start = self.now + start_delay_s
        self.cell.follower.set_trajectory(leg.t_s, leg.q_rad, leg.qd_rad_s, start, self.now)

    def set_gun(self, on: bool) -> None:
        self.cell.on_trigger(on, self.now)

    def set_gun_at(self, on: bool, at_s: float) -> None:
        self.cell.on_trigger(on, at_s)

    def publish_status(self, report) -> None:
        pass

    def publish_cell(self, report) -> None:
        pass

    def publish_part_result(self, report) -> None:
        self._results.append(report)

    def on_event(self, cell_id: str, event) -> None:
        if cell_id == self.id and isinstance(event, self._StationEvent):
            self.pending = event.cycle

    def on_step(self, now_s: float) -> None:
        from robot_nodes.bus import dds_types
        from sim.cell_setup import program_message
        from sim.node import program_of

        t0, c0 = time.perf_counter(), time.process_time()
        self.now = now_s
        ctl = self.controller
        if self.steps % 25 == 0:
            state = self.node.faults.state(self.id, now_s)
            for name, value in (
                ("estop", state.estop),
                ("door_closed", True),
                ("paint_pressure_ok", state.pressure_ok),
                ("booth_airflow_ok", True),
            ):
                ctl.on_interlock(name, value, now_s)
        self.steps += 1
        f = self.cell.follower
        ctl.on_joint_state(self.cell.robot.joint_names, f.q + f.offset, now_s)
        if self.pending is not None and ctl.state.value == "IDLE":
            cycle, self.pending = self.pending, None
            T = invert(self.cell.world_cell.T_world_base) @ cycle.T_world_part
            msg = program_message(
                dds_types.get_type,
                self.doc,
                program_id=f"bench-{cycle.part_id}",
                part_id=cycle.part_id,
                T_base_part=T,
                key_id=self.key.key_id,
            )
            ctl.on_program(msg, now_s)
        ctl.tick(now_s)
        results, self._results = self._results, []
        self.busy_s += time.perf_counter() - t0
        self.busy_cpu_s += time.process_time() - c0
        for report in results:  # the simulator's work: deposition, QC, publishing
            self.node.finish_part(self.id, report.part_id, program_of(report))


_LISTENER = """
import json, signal, sys, threading
from robot_nodes.bus import QOS_CLOCK, QOS_SENSOR_DATA, QOS_STATUS
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.cell_bus import create_cell_bus
stop = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stop.set())
n = dict(joint_states=0, clock=0, images=0, results=0)
def count(key):
    def cb(msg):
        n[key] += 1
    return cb
with create_cell_bus("dds", "bench_listener", "", domain_id=int(sys.argv[1]),
                     config_xml=LOOPBACK_CONFIG_XML) as bus:
    mt = bus.message_type
    bus.create_subscription(mt("sensor_msgs/msg/JointState"), "/cell_1/joint_states",
                            count("joint_states"), QOS_SENSOR_DATA)
    bus.create_subscription(mt("rosgraph_msgs/msg/Clock"), "/clock", count("clock"), QOS_CLOCK)
    bus.create_subscription(mt("sensor_msgs/msg/Image"), "/cell_1/camera/image_raw",
                            count("images"), QOS_SENSOR_DATA)
    bus.create_subscription(mt("std_msgs/msg/String"), "/cell_1/sim/part_result",
                            count("results"), QOS_STATUS)
    print("READY", flush=True)
    bus.spin(until=stop.is_set)
print(json.dumps(n), flush=True)
"""


def _pin_to_one_core() -> str:
    try:
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def bench_node(world_path: Path, doc, *, parts: int | None, sim_s: float | None) -> dict:
    """Doors through the node loop (see the module docstring)."""
    import sim.node as sim_node
    from recipes.approval import generate_key_pair
    from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
    from robot_nodes.cell_bus import create_cell_bus
    from sim.cell import SimCell
    from sim.results import RecipeBook

    data = yaml.safe_load(world_path.read_text())
    data["faults"] = []
    data["cells"][0]["feed"].update(p_wrong_part=0.0, p_damaged=0.0)
    world = parse_world(data, source=str(world_path), base_dir=world_path.parent)
    domain = random.SystemRandom().randint(1, 200)
    listener = subprocess.Popen(
        [sys.executable, "-c", _LISTENER, str(domain)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CYCLONEDDS_URI": LOOPBACK_CONFIG_XML},
    )
    assert listener.stdout is not None and listener.stdout.readline().strip() == "READY"
    pinned = _pin_to_one_core()
    spent = {"deposition": 0.0, "frame": 0.0}

    def timed(fn, key):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.perf_counter() - t0

        return wrapper

    originals = (sim_node.cycle_result, SimCell._camera, sim_node.SimNode._publish_frame)
    sim_node.cycle_result = timed(sim_node.cycle_result, "deposition")
    SimCell._camera = timed(SimCell._camera, "frame")
    sim_node.SimNode._publish_frame = timed(sim_node.SimNode._publish_frame, "frame")
    marks: dict[str, dict] = {}
    try:
        bus = create_cell_bus(
            "dds", "simulator", "", domain_id=domain, config_xml=LOOPBACK_CONFIG_XML
        )
        node = sim_node.SimNode(bus, world, recipes=RecipeBook(), max_parts=None)
        lock = LockstepController(node, "1", doc, generate_key_pair())
        node.recipes = RecipeBook(None, [lock.doc])
        joint_states = node._io["1"].joint_states.publisher
        deadline = time.monotonic() + 10.0
        while joint_states.subscription_count() == 0 and time.monotonic() < deadline:
            bus.spin_once(0.05)  # discovery with the listener

        def mark(kind: str, part_id: str) -> None:
            marks.setdefault(part_id, {})[kind] = dict(
                wall=time.perf_counter(),
                cpu=time.process_time(),
                ctl=lock.busy_s,
                ctl_cpu=lock.busy_cpu_s,
                sim=node.clock.now_s,
                frame=spent["frame"],
                dep=spent["deposition"],
            )

        node.event_hooks.append(
            lambda _c, e: mark("station", e.cycle.part_id) if hasattr(e, "cycle") else None
        )
        node.on_outcome = lambda o: mark("result", o.result["part_id"])
        load_before = os.getloadavg()
        t0, c0 = time.perf_counter(), time.process_time()

        def enough() -> bool:
            if parts is not None:
                return len(node.outcomes) >= parts
            return node.clock.now_s >= (sim_s or 3600.0)

        node.run(until=enough)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        load_after = os.getloadavg()
        sim_time = node.clock.now_s
        results = [o.result for o in node.outcomes]
        node.close()
        bus.shutdown()
    finally:
        sim_node.cycle_result, SimCell._camera, sim_node.SimNode._publish_frame = originals
        listener.send_signal(signal.SIGINT)
        out, _ = listener.communicate(timeout=30)
    received = json.loads(out.strip().splitlines()[-1])
    # door cycles, station -> result, from the second door on (the first waits for the belt)
    cycles = []
    for r in results[1:]:
        a, b = marks[r["part_id"]]["station"], marks[r["part_id"]]["result"]
        cycles.append(
            dict(
                sim_s=b["sim"] - a["sim"],
                wall_s=(b["wall"] - a["wall"]) - (b["ctl"] - a["ctl"]),
                cpu_s=(b["cpu"] - a["cpu"]) - (b["ctl_cpu"] - a["ctl_cpu"]),
                deposition_s=b["dep"] - a["dep"],
                motion_s=r["metrics"]["cycle_s"],
            )
        )
    frame_s = spent["frame"] / max(len(results), 1)
    sim_only = wall - lock.busy_s
    sim_cpu = cpu - lock.busy_cpu_s

    def stat(key: str, fn) -> float:
        return float(fn([c[key] for c in cycles])) if cycles else float("nan")

    median = functools.partial(np.median)
    p90 = functools.partial(np.percentile, q=90)
    cyc = {k: stat(k, median) for k in ("sim_s", "wall_s", "cpu_s", "deposition_s", "motion_s")}
    cyc.update(wall_p90_s=stat("wall_s", p90), cpu_p90_s=stat("cpu_s", p90))
    within = [(r["metrics"]["within_tol_pct"], r["predicted"]["within_tol_pct"]) for r in results]
    return dict(
        pinned=pinned,
        doors=len(results),
        sim_s=sim_time,
        steps=round(sim_time / node.clock.step_s),
        wall_s=wall,
        controller_s=lock.busy_s,
        sim_only_s=sim_only,
        sim_cpu_s=sim_cpu,
        load_average=[round(load_before[0], 2), round(load_after[0], 2)],
        deposition_s=spent["deposition"],
        frames_s=spent["frame"],
        sim_per_wall=sim_time / sim_only,
        cell_hour_s=3600.0 * sim_only / sim_time,
        cell_hour_cpu_s=3600.0 * sim_cpu / sim_time,
        door_cycle=dict(
            **cyc,
            doors=len(cycles),
            frame_s=frame_s,
            with_frame_s=cyc["wall_s"] + frame_s,
            with_frame_cpu_s=cyc["cpu_s"] + frame_s,
        ),
        step_us=1e6 * (sim_only - spent["deposition"] - spent["frame"]) / (sim_time / 0.004),
        received=received,
        within_tol_pct=dict(
            sim_mean=float(np.mean([w[0] for w in within])),
            sim_min=float(np.min([w[0] for w in within])),
            recipe=within[0][1],
        ),
        qc_passed=sum(1 for r in results if r["qc"]["passed"]),
    )


def run(out: Path | None = None, *, parts: int | None = SLICE_PARTS, hour: bool = False) -> dict:
    console = Console()
    cell = load_world(DEMO_WORLD).cells[0]
    with console.status("planning the door ..."):
        doc, pred = _door_recipe()
    with console.status("camera frames ..."):
        camera = bench_camera(cell)
    with console.status("door cycle (pure functions) ..."):
        cycle = bench_cycle(cell, doc, pred)
    what = "a simulated hour" if hour else f"{parts} doors"
    with console.status(f"node loop: {what} ..."):
        node = bench_node(DEMO_WORLD, doc, parts=None if hour else parts, sim_s=3600.0)
    per_cycle = node["door_cycle"]["with_frame_s"]
    figures = dict(
        machine=machine_info(),
        camera=camera,
        door_cycle=cycle,
        node=node,
        budget=dict(
            limit_s=BUDGET_S,
            one_cycle_and_frame_s=per_cycle,
            one_cycle_and_frame_cpu_s=node["door_cycle"]["with_frame_cpu_s"],
            met=per_cycle <= BUDGET_S,
            cell_hour_limit_s=HOUR_BUDGET_S,
            cell_hour_s=node["cell_hour_s"],
            cell_hour_cpu_s=node["cell_hour_cpu_s"],
            cell_hour_measured=hour,
            cell_hour_met=node["cell_hour_s"] <= HOUR_BUDGET_S,
        ),
    )
    _print(console, figures)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "sim.json").write_text(json.dumps(figures, indent=2, default=float))
    return figures


def _print(console: Console, f: dict) -> None:
    m = f["machine"]
    console.print(
        f"[bold]sim benchmark[/] {m['date']}  {m['cpu']}  {m['cores']} cores  "
        f"python {m['python']}  numpy {m['numpy']}  BLAS threads {m['blas_threads']}"
    )
    cam, cyc, node, b = f["camera"], f["door_cycle"], f["node"], f["budget"]
    t = Table(title="camera frame and door cycle (pure functions)")
    t.add_column("what")
    t.add_column("figure", justify="right")
    t.add_row(
        f"camera frame {cam['size']} median / p90 / min (ms)",
        f"{cam['median_ms']:.1f} / {cam['p90_ms']:.1f} / {cam['min_ms']:.1f}",
    )
    t.add_row("renderer setup (texture, ray maps) (s)", f"{cam['setup_s']:.2f}")
    t.add_row(
        "robot motion (s) / joint states at 250 Hz",
        f"{cyc['motion_s']:.2f} / {cyc['joint_states']}",
    )
    t.add_row("surface samples / gun samples", f"{cyc['surface_samples']} / {cyc['gun_samples']}")
    t.add_row("FK in PyBullet (s)", f"{cyc['fk_s']:.3f}")
    t.add_row("deposition + QC (s)", f"{cyc['deposition_s']:.3f}")
    t.add_row("door cycle total (s)", f"{cyc['cycle_compute_s']:.3f}")
    t.add_row(
        "top within +-tol: sim / recipe (%)",
        f"{cyc['top_within_tol_pct']['sim']:.2f} / {cyc['top_within_tol_pct']['recipe']:.2f}",
    )
    console.print(t)
    d = node["door_cycle"]
    t = Table(title=f"through the node loop ({node['pinned']}), {node['doors']} doors")
    t.add_column("what")
    t.add_column("figure", justify="right")
    t.add_row("sim time / steps of 4 ms", f"{node['sim_s']:.1f} s / {node['steps']}")
    t.add_row("load average (1 min) before / after", " / ".join(map(str, node["load_average"])))
    t.add_row(
        "wall: total / cell controller logic / simulator (s)",
        f"{node['wall_s']:.2f} / {node['controller_s']:.2f} / {node['sim_only_s']:.2f}",
    )
    t.add_row("simulator CPU time (s)", f"{node['sim_cpu_s']:.2f}")
    t.add_row(
        "simulator: deposition + QC / camera frames (s)",
        f"{node['deposition_s']:.2f} / {node['frames_s']:.2f}",
    )
    t.add_row("simulator per step, rest of the loop (us)", f"{node['step_us']:.0f}")
    t.add_row(
        f"door cycle, median of {d['doors']}: sim / robot motion (s)",
        f"{d['sim_s']:.2f} / {d['motion_s']:.2f}",
    )
    t.add_row(
        "  simulator wall / CPU, median (p90) (s)",
        f"{d['wall_s']:.3f} ({d['wall_p90_s']:.3f}) / {d['cpu_s']:.3f} ({d['cpu_p90_s']:.3f})",
    )
    t.add_row("  of which deposition + QC (s)", f"{d['deposition_s']:.3f}")
    t.add_row("  + its camera frame (render + publish) (s)", f"{d['frame_s']:.3f}")
    t.add_row(
        f"door cycle + frame vs budget {b['limit_s']} s: wall (CPU)",
        f"{b['one_cycle_and_frame_s']:.3f} ({b['one_cycle_and_frame_cpu_s']:.3f}) "
        f"{'met' if b['met'] else 'NOT met'}, "
        f"{d['sim_s'] / b['one_cycle_and_frame_s']:.1f}x real time",
    )
    t.add_row("sim seconds per wall second", f"{node['sim_per_wall']:.1f}")
    hour = "measured" if b["cell_hour_measured"] else f"from {node['doors']} doors"
    t.add_row(
        f"one cell-hour ({hour}) vs {b['cell_hour_limit_s']:.0f} s: wall (CPU)",
        f"{b['cell_hour_s']:.0f} s ({b['cell_hour_cpu_s']:.0f} s) "
        f"{'met' if b['cell_hour_met'] else 'NOT met'}",
    )
    w = node["within_tol_pct"]
    t.add_row(
        "within tol: sim mean / min vs recipe (%)",
        f"{w['sim_mean']:.2f} / {w['sim_min']:.2f} vs {w['recipe']:.2f}",
    )
    r = node["received"]
    t.add_row(
        "received by the listener: joint states / clock / images / results",
        f"{r['joint_states']} / {r['clock']} / {r['images']} / {r['results']}",
    )
    console.print(t)


# -- production through real processes ------------------------------------------------------
def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_production(world_path: Path, *, sim_s: float) -> dict:
    """A simulated cell-hour (``sim_s``) through ``sim.run.ProductionRun``'s processes."""
    from sim.run import ProductionRun, RunOptions

    data = yaml.safe_load(world_path.read_text())
    data["faults"] = []
    data["cells"][0]["feed"].update(p_wrong_part=0.0, p_damaged=0.0)
    with tempfile.TemporaryDirectory(prefix="sim_production_") as tmp:
        folder = Path(tmp)
        shutil.copy(world_path.parent / "demo_camera.yaml", folder / "demo_camera.yaml")
        (folder / "world.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        options = RunOptions(parts=100_000, timeout_s=3600.0)
        station_wall: dict[str, float] = {}
        cycles: list[float] = []
        with ProductionRun(folder / "world.yaml", folder / "report", options) as run:
            run.start()
            assert run.edge is not None
            edge = run.edge
            run.on_result = lambda r: cycles.append(
                time.monotonic() - station_wall.get(r["part_id"], float("nan"))
            )
            marks: list[tuple[float, float]] = []  # (wall, sim) at every new status
            seen = [0]  # edge events looked at
            cpu0: dict = {}

            def sim_time() -> float:
                for wall, _, text in edge.events[seen[0] :]:
                    if text.endswith("at the station"):
                        station_wall.setdefault(text.split()[0], wall)
                seen[0] = len(edge.events)
                t = float(edge.sim_status.get("t_s", 0.0))
                if not marks or t != marks[-1][1]:
                    marks.append((time.monotonic(), t))
                    if len(marks) == 2:  # measured from the first status that is fresh
                        cpu0.update(run.cpu_s(), edge=time.process_time())
                return t

            uptime_before, load_before = _uptime(), os.getloadavg()
            run.until(lambda: sim_time() >= 0.0 and len(marks) >= 2, 60.0)
            run.until(lambda: sim_time() >= marks[1][1] + sim_s, 3600.0)
            cpu1 = {**run.cpu_s(), "edge": time.process_time()}
            uptime_after, load_after = _uptime(), os.getloadavg()
            results = run.sorted_results()
    (w0, t0), (w1, t1) = marks[1], marks[-1]
    rate = (t1 - t0) / (w1 - w0)
    cpu = {k: (cpu1[k] or 0.0) - (cpu0[k] or 0.0) for k in cpu1}
    within = [r["metrics"]["within_tol_pct"] for r in results if r["metrics"]]
    done = [c for c in cycles if np.isfinite(c)]
    return dict(
        sim_s=t1 - t0,
        wall_s=w1 - w0,
        sim_per_wall=rate,
        cell_hour_s=3600.0 / rate,
        cpu_s=cpu,
        cpu_per_cell_hour_s={k: 3600.0 * v / (t1 - t0) for k, v in cpu.items()},
        load_average=[round(load_before[0], 2), round(load_after[0], 2)],
        uptime=[uptime_before, uptime_after],
        doors=len(results),
        qc_passed=sum(1 for r in results if r["qc"]["passed"]),
        within_tol_pct=dict(
            sim_mean=float(np.mean(within)) if within else float("nan"),
            sim_min=float(np.min(within)) if within else float("nan"),
            recipe=results[0]["predicted"]["within_tol_pct"] if results else float("nan"),
        ),
        door_cycle_wall_s=dict(
            median=float(np.median(done)) if done else float("nan"),
            p90=float(np.percentile(done, 90)) if done else float("nan"),
        ),
        door_cycle_sim_s=float(np.median([r["t_end_s"] - r["t_start_s"] for r in results]))
        if results
        else float("nan"),
    )


def run_production(out: Path | None = None, *, sim_s: float = 3600.0) -> dict:
    console = Console()
    with console.status(f"production through real processes: {sim_s:.0f} s of sim time ..."):
        figures = dict(
            machine=machine_info(),
            production=bench_production(DEMO_WORLD, sim_s=sim_s),
            cell_hour_limit_s=HOUR_BUDGET_S,
        )
    p = figures["production"]
    m = figures["machine"]
    console.print(
        f"[bold]sim benchmark, production[/] {m['date']}  {m['cpu']}  {m['cores']} cores  "
        f"python {m['python']}  numpy {m['numpy']}  BLAS threads {m['blas_threads']}"
    )
    t = Table(title="production through real processes (simulator, cell controller, edge)")
    t.add_column("what")
    t.add_column("figure", justify="right")
    t.add_row("sim time / wall time (s)", f"{p['sim_s']:.1f} / {p['wall_s']:.1f}")
    t.add_row("sim seconds per wall second", f"{p['sim_per_wall']:.2f}")
    met = "met" if p["cell_hour_s"] <= HOUR_BUDGET_S else "NOT met"
    t.add_row(f"one cell-hour vs {HOUR_BUDGET_S:.0f} s (wall)", f"{p['cell_hour_s']:.0f} s {met}")
    for name, cpu in p["cpu_s"].items():
        t.add_row(
            f"CPU {name} (s; per cell-hour)", f"{cpu:.1f}; {p['cpu_per_cell_hour_s'][name]:.0f}"
        )
    t.add_row("load average (1 min) before / after", " / ".join(map(str, p["load_average"])))
    c = p["door_cycle_wall_s"]
    t.add_row(
        f"door cycle, {p['door_cycle_sim_s']:.2f} s of sim time: wall median / p90 (s)",
        f"{c['median']:.2f} / {c['p90']:.2f}",
    )
    w = p["within_tol_pct"]
    t.add_row(
        "doors / passed QC; within tol mean / min vs recipe (%)",
        f"{p['doors']} / {p['qc_passed']}; {w['sim_mean']:.2f} / {w['sim_min']:.2f} vs "
        f"{w['recipe']:.2f}",
    )
    console.print(t)
    for line in p["uptime"]:
        console.print(f"uptime: {line}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "sim_production.json").write_text(json.dumps(figures, indent=2, default=float))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for sim.json")
    parser.add_argument("--parts", type=int, default=SLICE_PARTS, help="doors in the slice")
    parser.add_argument("--hour", action="store_true", help="run a whole simulated hour")
    parser.add_argument(
        "--production", action="store_true", help="production through real processes only"
    )
    parser.add_argument(
        "--sim-s", type=float, default=3600.0, help="with --production: sim time to run"
    )
    args = parser.parse_args()
    if args.production:
        run_production(args.out, sim_s=args.sim_s)
    else:
        run(args.out, parts=args.parts, hour=args.hour)


if __name__ == "__main__":
    main()
