"""A production run: the simulator and one cell controller per cell, as real processes.

:class:`ProductionRun` is what ``coatshare sim run WORLD.yaml --parts N --report DIR`` does:

1. **set-up**: an approval key made for the run and what each cell reads:
   ``setup/approval.pub``, ``setup/cell_<id>.yaml`` (:func:`sim.cell_setup.cell_config`:
   station pose from the world, the world's gun latencies, approval key and recipe
   folder), ``setup/recipes/``;
2. **start**: the simulator (``python -m sim.node``, started paused) and ``coatshare cell run
   --use-sim-time`` per cell, on one DDS domain (``CYCLONEDDS_URI`` from the environment,
   else loopback); while they come up, a recipe is planned for every part type the feeds
   will bring (the spray core's planner, the finish and gun given), approved and signed into
   ``setup/recipes/``; when every process is up the simulator is unpaused, and once every
   controller sees its robot the edge starts dispatching;
3. **run**: this process plays the edge (:class:`sim.edge.SimEdge`): when a part arrives at
   a station it sends the recipe's ``SprayProgram`` (base frame, placed at the part's pose:
   the ground truth, as a perfect vision system would locate it, or the nominal station
   pose), resets a cell whose controller is in FAULT or ESTOP, releases a part whose
   program was rejected, and collects the simulator's per-part results until every cell
   has done ``parts``;
4. **report**: :func:`sim.report.write_report`.

**Time.** The cell controllers run on sim time (``use_sim_time``) and the simulator steps
in lock-step with them, as fast as they keep up, a part's cycle as well as the belts
(:mod:`sim.node`, :mod:`robot_nodes.node_time`). With ``RunOptions(sim_time=False)`` the
controllers run on the host clock instead, and the simulator in real time (real-time
factor 1) while a cell works, as fast as it can while only belts move.
Children's output goes to ``DIR/logs``.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recipes.document import RecipeDoc
from recipes.document import save as save_recipe
from recipes.errors import CoatshareError, InvalidInputError
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.cell_bus import create_cell_bus
from sim.cell_setup import cell_config, plan_recipes
from sim.edge import EdgeCell, SimEdge
from sim.world import World, load_world

log = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class RunOptions:
    """How a production run goes.

    Attributes
    ----------
    parts : parts each cell paints.
    finish, gun : what the recipes are planned for (``coatshare recipe plan`` names).
    edge_passes : plan edge passes (the demo cell cannot reach a door's far edge).
    placement : ``"truth"`` (programs fitted to the part's real pose, as a perfect vision
        system would) or ``"nominal"`` (the station's nominal pose).
    domain_id : DDS domain (random in 101..200 when None).
    camera : render camera frames.
    timeout_s : give up after this long (wall); None: 120 s per part and cell + 60 s.
    sim_time : the controllers on sim time, the simulator in lock-step with them (else the
        controllers on the host clock, the simulator in real time while a cell works).
    """

    parts: int
    finish: str = "benchmark"
    gun: str | None = None
    edge_passes: bool = False
    placement: str = "truth"
    domain_id: int | None = None
    camera: bool = True
    timeout_s: float | None = None
    sim_time: bool = True

    def __post_init__(self) -> None:
        if self.parts < 1:
            raise InvalidInputError("parts", f"must be >= 1, got {self.parts}")
        if self.placement not in ("truth", "nominal"):
            raise InvalidInputError("placement", f"must be truth or nominal, got {self.placement}")


class _Child:
    """A child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_s(self) -> float | None:
        """CPU time (user + system) the process has used so far; None when unknown (not
        Linux, or the process has been reaped)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class ProductionRun:
    """The simulator, the cell controllers and an edge, for ``parts`` parts per cell.

    Parameters
    ----------
    world_path : path
    report_dir : path
        Set-up, per-part files, logs and the report go here.
    options : RunOptions
    recipes : mapping of part spec to RecipeDoc, optional
        Planned recipes to use instead of planning (approved and signed here).

    Use it as a context manager (children are stopped on exit): ``start()`` (or
    ``prepare()`` first), then ``run_to_end()`` or ``until(...)`` with :meth:`inject_fault`.
    """

    def __init__(
        self,
        world_path: str | Path,
        report_dir: str | Path,
        options: RunOptions,
        *,
        recipes: Mapping[str, RecipeDoc] | None = None,
    ) -> None:
        self.world_path = Path(world_path).resolve()
        self.report_dir = Path(report_dir).resolve()
        self.options = options
        self.world: World = load_world(self.world_path)
        self._given = dict(recipes or {})
        self.docs: dict[str, RecipeDoc] = {}
        self.domain_id = options.domain_id or secrets.SystemRandom().randint(101, 200)
        self.tag = f"run{secrets.token_hex(3)}"
        self.edge: SimEdge | None = None
        self._children: list[_Child] = []
        self._bus: Any = None
        self._key: Any = None
        self._started_wall: float | None = None
        self._on_result: Callable[[dict], None] | None = None

    # -- what the edge sees ----------------------------------------------------------------------
    @property
    def cells(self) -> dict[str, EdgeCell]:
        return {} if self.edge is None else self.edge.cells

    @property
    def results(self) -> list[dict]:
        return [] if self.edge is None else self.edge.results

    @property
    def events(self) -> list[tuple[float, str, str]]:
        return [] if self.edge is None else self.edge.events

    @property
    def on_result(self) -> Callable[[dict], None] | None:
        return self._on_result

    @on_result.setter
    def on_result(self, fn: Callable[[dict], None] | None) -> None:
        """Called with every part's result as it arrives."""
        self._on_result = fn
        if self.edge is not None:
            self.edge.on_result = fn

    # -- set-up ------------------------------------------------------------------------------
    @property
    def setup_dir(self) -> Path:
        return self.report_dir / "setup"

    def expected_specs(self) -> list[str]:
        """Every part spec the feeds bring in the first ``parts`` parts, in order of need."""
        specs: list[str] = []
        for cell in self.world.cells:
            seq = cell.spec.feed.sequence
            for i in range(self.options.parts):
                if seq[i % len(seq)] not in specs:
                    specs.append(seq[i % len(seq)])
        return specs

    def prepare(self) -> None:
        """Plan, approve and sign the recipes; write every cell's configuration."""
        self._write_setup()
        self._plan()

    def _write_setup(self) -> None:
        """The approval key (public half) and the cells' configurations."""
        from recipes.approval import generate_key_pair

        if self._key is not None:
            return
        self._key = generate_key_pair()
        (self.setup_dir / "recipes").mkdir(parents=True, exist_ok=True)
        (self.setup_dir / "approval.pub").write_text(self._key.public_key_hex + "\n")
        specs = self.expected_specs()
        for cell in self.world.cells:
            path = self.setup_dir / f"cell_{cell.id}.yaml"
            path.write_text(yaml.safe_dump(cell_config(cell, specs), sort_keys=False))

    def _plan(self) -> None:
        """Plan (unless given), approve, sign and store the recipes the feeds need; the cells
        and the simulator pick new files up from the folder when a program names them."""
        from recipes.approval import approve_recipe

        if self.docs:
            return
        specs = self.expected_specs()
        o = self.options
        missing = [s for s in specs if s not in self._given]
        planned = {**self._given, **plan_recipes(missing, o.finish, o.gun, o.edge_passes)}
        for spec in specs:
            doc = approve_recipe(planned[spec], self._key.signing_key_hex, "coatshare sim run")
            save_recipe(doc, self.setup_dir / "recipes" / f"{doc.id}-v{doc.version}.yaml")
            self.docs[spec] = doc

    # -- processes -----------------------------------------------------------------------------
    def _env(self) -> tuple[dict, str | None]:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
        config_xml = None
        if not env.get("CYCLONEDDS_URI"):
            env["CYCLONEDDS_URI"] = LOOPBACK_CONFIG_XML
            config_xml = LOOPBACK_CONFIG_XML
        return env, config_xml

    def start(self, *, ready_timeout_s: float = 90.0) -> None:
        """Start the simulator (paused) and the controllers, plan the recipes while they
        come up (unless :meth:`prepare` did), unpause once all are up and dispatch once
        every controller sees its robot (on sim time, that needs the clock running)."""
        self._write_setup()
        env, config_xml = self._env()
        logs = self.report_dir / "logs"
        o = self.options
        sim_args = [
            sys.executable, "-m", "sim.node", str(self.world_path),
            "--domain-id", str(self.domain_id),
            "--recipe-dir", str(self.setup_dir / "recipes"),
            "--parts", str(o.parts),
            "--out", str(self.report_dir / "parts"),
            "--paused",
        ]  # fmt: skip
        if not o.sim_time:
            sim_args += ["--real-time-factor", "1", "--pace", "cycles"]
        if not o.camera:
            sim_args.append("--no-camera")
        self._children.append(_Child("simulator", sim_args, logs / "sim.log", env))
        for cell in self.world.cells:
            args = [
                sys.executable, "-m", "coatshare", "cell", "run", "--cell", cell.id,
                "--config", str(self.setup_dir / f"cell_{cell.id}.yaml"),
                "--domain-id", str(self.domain_id),
            ]  # fmt: skip
            if o.sim_time:
                args.append("--use-sim-time")
            self._children.append(
                _Child(f"cell {cell.id}", args, logs / f"cell_{cell.id}.log", env)
            )
        self._bus = create_cell_bus(
            "dds", "sim_run_edge", "", domain_id=self.domain_id, config_xml=config_xml
        )
        edge = SimEdge(
            self._bus,
            self.world,
            self.docs,
            key_id=self._key.key_id,
            placement=o.placement,
            tag=self.tag,
        )
        edge.on_result = self._on_result
        self.edge = edge
        self._plan()
        deadline = time.monotonic() + ready_timeout_s
        for ready in (edge.connected, self._unpaused, edge.ready):
            if not self.until(ready, deadline - time.monotonic()):
                raise CoatshareError(
                    f"the cells did not come up within {ready_timeout_s:.0f} s: "
                    + edge.why_not_ready()
                )
        edge.dispatching = True
        log.info(
            "run %s on DDS domain %d: %d cell(s) up", self.tag, self.domain_id, len(self.cells)
        )

    def _unpaused(self) -> bool:
        """Unpause the simulator (again every 0.5 s until its status says so: the first
        command may reach it before it has matched this process)."""
        assert self.edge is not None
        if self.edge.sim_status.get("state") not in (None, "paused"):
            return True
        now = time.monotonic()
        if self._started_wall is None or now - self._started_wall >= 0.5:
            self.edge.control("unpause")
            self._started_wall = now
        return False

    # -- driving -------------------------------------------------------------------------------
    def spin(self, timeout_s: float = 0.02) -> None:
        """Handle what arrived within ``timeout_s``, then dispatch and reset as needed."""
        self._bus.spin_once(timeout_s)
        if self.edge is not None:
            self.edge.service()

    def until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Spin until ``predicate()`` (True) or the timeout (False)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.spin(0.02)
            self._check_children()
        return predicate()

    def inject_fault(self, command: Mapping | str) -> None:
        """A live fault command on ``/sim/fault`` (see :func:`sim.faults.parse_fault_command`)."""
        if self.edge is None:
            raise CoatshareError("the run has not started")
        self.edge.inject_fault(command)

    def _check_children(self) -> None:
        for child in self._children:
            if not child.alive():
                raise CoatshareError(
                    f"{child.name} exited with code {child.proc.returncode}; its log "
                    f"({child.log_path}) ends:\n{child.tail()}"
                )

    @property
    def expected_results(self) -> int:
        return self.options.parts * len(self.cells)

    def run_to_end(self) -> list[dict]:
        """Spin until every cell has done its parts (results sorted by cell and part)."""
        timeout = self.options.timeout_s or 60.0 + 120.0 * self.expected_results
        done = self.until(lambda: len(self.results) >= self.expected_results, timeout)
        if not done:
            raise CoatshareError(
                f"run timed out after {timeout:.0f} s with {len(self.results)} of "
                f"{self.expected_results} parts done"
            )
        return self.sorted_results()

    def sorted_results(self) -> list[dict]:
        return sorted(self.results, key=lambda r: (r["cell"], r["index"]))

    def cpu_s(self) -> dict[str, float | None]:
        """CPU time used so far by each child process (``simulator``, ``cell <id>``)."""
        return {child.name: child.cpu_s() for child in self._children}

    def close(self) -> None:
        """Stop the simulator and the controllers (SIGINT, then kill after a timeout)."""
        if self._bus is not None:
            try:
                if self.edge is not None:
                    self.edge.control("stop")
                self._bus.spin(timeout_s=0.2)
            finally:
                self._bus.shutdown()
                self._bus = None
        for child in reversed(self._children):
            child.stop()
        self._children.clear()

    def __enter__(self) -> ProductionRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def meta(self) -> dict:
        """What the report says about the run."""
        o = self.options
        return dict(
            world=str(self.world_path),
            world_name=self.world.doc.name,
            tag=self.tag,
            domain_id=self.domain_id,
            parts_per_cell=o.parts,
            cells=list(self.cells),
            finish=o.finish,
            gun=o.gun or "benchmark",
            edge_passes=o.edge_passes,
            placement=o.placement,
            time_base="sim time, lock-step" if o.sim_time else "host clock, real time",
            recipes={
                s: dict(id=d.id, version=d.version, predicted=d.metrics)
                for s, d in self.docs.items()
            },
            wall_s=None
            if self._started_wall is None
            else round(time.monotonic() - self._started_wall, 2),
            sim_s=None if self.edge is None else self.edge.sim_status.get("t_s"),
        )


__all__ = ["ProductionRun", "RunOptions"]
