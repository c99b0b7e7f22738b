"""The deployment in ``compose/``, checked without a Docker engine: every command the services
and images run parses with the project's own CLI, every reference (services, networks,
volumes, files, build contexts) resolves, and the ROS 2 settings of the cells and the
simulator agree."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from coatshare.cli import app

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose"
ROS_RECOMMENDED_DOMAINS = range(0, 102)  # ROS 2 on Linux: 0..101
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}")


def _env_example() -> dict[str, str]:
    values = {}
    for line in (COMPOSE / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


ENV = _env_example()


def interpolate(value: Any, env: dict[str, str] = ENV) -> Any:
    """Compose's variable interpolation (``${X}``, ``${X:-default}``, ``${X:?error}``)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.groups()
        if env.get(name):
            return env[name]
        if op == "-":
            return arg
        raise AssertionError(
            f"${{{name}}} is not set by compose/env.example ({arg or 'no default'})"
        )

    return _VAR.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    raw = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    return interpolate(raw)


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _click(path: list[str]) -> Any:
    """The (click) command of ``coatshare <path...>``."""
    cmd = typer.main.get_command(app)
    for name in path:
        group = getattr(cmd, "commands", None)
        assert group is not None, f"'coatshare {' '.join(path)}': {name} is no command group"
        assert name in group, f"'coatshare {' '.join(path)}': no command '{name}'"
        cmd = group[name]
    return cmd


def check_coatshare_argv(argv: list[str]) -> dict[str, Any]:
    """Parse ``coatshare ...`` as the CLI would (types, choices, required options), without
    running it; returns the parsed parameters. ``--help`` must work too."""
    assert argv[0] == "coatshare"
    path = [a for a in argv[1:3] if not a.startswith("-")]
    cmd = _click(path)
    rest = argv[1 + len(path) :]
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    unknown = [a for a in rest if a.startswith("--") and a.split("=")[0] not in known]
    assert not unknown, f"'coatshare {' '.join(path)}' has no option {unknown}"
    ctx = cmd.make_context(" ".join(["coatshare", *path]), list(rest))
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return ctx.params


def _dockerfile(name: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Dockerfile, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in (COMPOSE / name).read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        instr, _, args = full.partition(" ")
        out.append((instr.upper(), args.strip()))
    return out


def _bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts (relative to compose/)."""
    mounts = {}
    for spec in service.get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith("."):
            mounts[target] = (COMPOSE / source).resolve()
    return mounts


def _host_path(service: dict[str, Any], container_path: str) -> Path | None:
    for target, source in _bind_mounts(service).items():
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return source / Path(container_path).relative_to(target)
    return None


def _cell_argv(service: dict[str, Any]) -> list[str]:
    """The command the cell image's entry point runs for ``service``'s environment."""
    env = {k: str(v) for k, v in service["environment"].items()}
    script = (COMPOSE / "cell-entrypoint.sh").read_text()
    argv: list[str] = []
    for line in script.splitlines():
        line = line.strip()
        m = re.search(r"args(\+?)=\((.*)\)", line)
        if not m:
            continue
        guard = re.match(r'if \[ -n "\$\{(\w+):-\}" \]', line)
        if guard and not env.get(guard.group(1)):
            continue
        words = shlex.split(m.group(2))
        argv = (argv if m.group(1) else []) + [
            re.sub(r"\$(\w+)", lambda v: env[v.group(1)], w) for w in words
        ]
    return argv


def _ros_services(services) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if "ros" in s.get("networks", [])}


def _cell_services(services) -> dict[str, dict[str, Any]]:
    def is_cell(service: dict[str, Any]) -> bool:
        return service.get("build", {}).get("dockerfile", "").endswith("Dockerfile.cell")

    return {n: s for n, s in services.items() if is_cell(s)}


# -- references ---------------------------------------------------------------------------
def test_every_reference_resolves(compose, services) -> None:
    networks, volumes = set(compose["networks"]), set(compose["volumes"])
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for net in service.get("networks", []):
            assert net in networks, f"{name}: network {net} is not declared"
        for spec in service.get("volumes", []):
            source = spec.split(":")[0]
            if not source.startswith("."):
                assert source in volumes, f"{name}: volume {source} is not declared"
            elif source.split("/")[1] != "approval":  # made by `cell keygen`, never committed
                assert (COMPOSE / source).exists(), f"{name}: {source} does not exist"
        build = service.get("build")
        if build is not None:
            context = (COMPOSE / build["context"]).resolve()
            assert context == REPO
            assert (context / build["dockerfile"]).is_file()
        assert "image" in service, name
    assert "approval/" in (COMPOSE / ".gitignore").read_text().split()
    assert ".env" in (COMPOSE / ".gitignore").read_text().split()


def test_services_that_share_an_image_build_it_alike(services) -> None:
    builds: dict[str, Any] = {}
    for name, service in services.items():
        if "build" in service:
            first = builds.setdefault(service["image"], service["build"])
            assert first == service["build"], f"{name} builds {service['image']} differently"
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for build in builds.values():
        wanted = build.get("args", {}).get("EXTRAS")
        for extra in wanted.split(",") if wanted else []:
            assert extra in extras, f"EXTRAS={extra} is not an extra of pyproject.toml"


def test_the_expected_services_are_there(services) -> None:
    assert {"postgres", "mosquitto", "cloud", "edge", "cell-1", "cell-2", "simulator"} <= set(
        services
    )


# -- commands -------------------------------------------------------------------------------
def test_cloud_and_edge_commands_parse_and_reach_their_peers(services) -> None:
    cloud = check_coatshare_argv(services["cloud"]["command"])
    edge = check_coatshare_argv(services["edge"]["command"])
    for params in (cloud, edge):
        host, port = params["mqtt"].split(":")
        assert host == "mosquitto" and 0 < int(port) < 65536
        assert params["host"] == "0.0.0.0"
    assert services["cloud"]["ports"] == [f"{cloud['port']}:{cloud['port']}"]
    assert services["edge"]["ports"] == [f"{edge['port']}:{edge['port']}"]
    factory = _host_path(services["edge"], str(edge["factory"]))
    assert factory is not None and factory.is_file()
    # the database URLs the commands read, on the postgres service, with a driver installed
    db = services["postgres"]["environment"]
    urls = {
        "cloud": services["cloud"]["environment"]["COATSHARE_CLOUD_DATABASE_URL"],
        "edge": services["edge"]["environment"]["COATSHARE_DATABASE_URL"],
    }
    for name, url in urls.items():
        m = re.fullmatch(r"postgresql\+psycopg://(\w+):(.+)@postgres:5432/(\w+)", url)
        assert m, url
        assert (m.group(1), m.group(2)) == (db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
        made = {db["POSTGRES_DB"]} | set(
            re.findall(
                r"CREATE DATABASE (\w+)", (COMPOSE / "postgres/init-databases.sql").read_text()
            )
        )
        assert m.group(3) in made, f"{name}: database {m.group(3)} is never created"
    assert services["cloud"]["environment"]["COATSHARE_CLOUD_OPERATOR_TOKEN"]
    assert services["edge"]["environment"]["COATSHARE_OPERATOR_TOKEN"]
    install = " ".join(a for i, a in _dockerfile("Dockerfile.services") if i == "RUN")
    assert "psycopg[binary]" in install


def test_each_cell_runs_the_controller_on_rclpy_with_its_files(services) -> None:
    cells = _cell_services(services)
    assert set(cells) == {"cell-1", "cell-2"}
    from robot_nodes.controller import load_cell_config

    for name, service in cells.items():
        argv = _cell_argv(service)
        params = check_coatshare_argv(argv)
        assert argv[:3] == ["coatshare", "cell", "run"]
        assert params["backend"] == "rclpy" and params["cell"] == service["environment"]["CELL_ID"]
        assert params["domain_id"] is None  # ROS_DOMAIN_ID decides, as for the simulator
        config = _host_path(service, str(params["config"]))
        assert config is not None and config.is_file(), name
        assert load_cell_config(config, cell_id=params["cell"]).cell_id == params["cell"]
        key = _host_path(service, str(params["approval_key"]))
        assert key is not None and key.parent == COMPOSE / "approval"
        assert str(params["recipe_dir"]) in {
            v.split(":")[1] for v in service["volumes"] if v.startswith("recipes:")
        }


def test_the_simulator_command_and_its_world(services) -> None:
    argv = services["simulator"]["command"]
    assert argv[:3] == ["python", "-m", "sim.node"]
    help_text = subprocess.run(
        [sys.executable, "-m", "sim.node", "--help"],
        capture_output=True, text=True, check=True, cwd=str(REPO),
    ).stdout  # fmt: skip
    for option in (a for a in argv[3:] if a.startswith("--")):
        assert option in help_text, f"python -m sim.node has no {option}"
    pace = argv[argv.index("--pace") + 1]
    assert pace in re.search(r"--pace \{([^}]*)\}", help_text).group(1).split(",")
    float(argv[argv.index("--real-time-factor") + 1])
    world = argv[3]
    assert world.startswith("/app/worlds/")
    copied = [
        a for i, a in _dockerfile("Dockerfile.services") if i == "COPY" and "/app/worlds" in a
    ]
    assert copied == ["sim/worlds /app/worlds"]
    world_file = REPO / "sim/worlds" / Path(world).relative_to("/app/worlds")
    data = yaml.safe_load(world_file.read_text())
    world_cells = sorted(str(c["id"]) for c in data["cells"])
    cells = sorted(s["environment"]["CELL_ID"] for s in _cell_services(services).values())
    assert world_cells == cells
    from edge_gateway.factory import load_factory

    edge = check_coatshare_argv(services["edge"]["command"])
    factory = load_factory(_host_path(services["edge"], str(edge["factory"])))
    assert sorted(c.id for c in factory.cells) == cells


# -- images ---------------------------------------------------------------------------------
def _copy_sources(instructions: list[tuple[str, str]]) -> list[str]:
    sources = []
    for instr, args in instructions:
        if instr == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    return sources


@pytest.mark.parametrize("name", ["Dockerfile.cell", "Dockerfile.services"])
def test_dockerfiles_copy_what_the_repository_has(name: str) -> None:
    instructions = _dockerfile(name)
    for source in _copy_sources(instructions):
        assert (REPO / source).exists(), f"{name}: COPY {source} does not exist"
    hatch = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    packages = set(hatch["targets"]["wheel"]["packages"]) | {"interfaces"}
    copied = {Path(s).parts[0] for s in _copy_sources(instructions)}
    assert packages <= copied, f"{name} does not copy {packages - copied}"


def test_cell_image_is_ros2_jazzy_with_the_overlay_and_cyclone() -> None:
    instructions = _dockerfile("Dockerfile.cell")
    assert instructions[0] == ("FROM", "ros:jazzy")
    runs = " ".join(a for i, a in instructions if i == "RUN")
    assert "ros-jazzy-rmw-cyclonedds-cpp" in runs
    assert "source /opt/ros/jazzy/setup.bash" in runs and "colcon build --merge-install" in runs
    copies = [a for i, a in instructions if i == "COPY"]
    assert "interfaces/coatshare_interfaces /opt/coatshare_ws/src/coatshare_interfaces" in copies
    assert (REPO / "interfaces/coatshare_interfaces/package.xml").is_file()
    env = " ".join(a for i, a in instructions if i == "ENV")
    assert "RMW_IMPLEMENTATION=rmw_cyclonedds_cpp" in env
    entry = [a for i, a in instructions if i == "ENTRYPOINT"]
    assert entry == ['["/usr/local/bin/coatshare-cell-entrypoint"]']
    assert "compose/cell-entrypoint.sh /usr/local/bin/coatshare-cell-entrypoint" in copies
    script = (COMPOSE / "cell-entrypoint.sh").read_text()
    # the overlay colcon builds (merge install in /opt/coatshare_ws/install) is what it sources
    assert "source /opt/ros/jazzy/setup.bash" in script
    assert "source /opt/coatshare_ws/install/setup.bash" in script
    assert (COMPOSE / "cell-entrypoint.sh").stat().st_mode & 0o111
    subprocess.run(["bash", "-n", str(COMPOSE / "cell-entrypoint.sh")], check=True)


def test_services_image_is_python_311_slim() -> None:
    froms = [a for i, a in _dockerfile("Dockerfile.services") if i == "FROM"]
    assert froms == ["python:3.11-slim AS build", "python:3.11-slim"]


# -- ROS 2 ----------------------------------------------------------------------------------
def test_ros_settings_agree(services) -> None:
    ros = _ros_services(services)
    assert set(ros) == {"cell-1", "cell-2", "simulator", "edge"}  # the edge dispatches
    domains = {n: s["environment"]["ROS_DOMAIN_ID"] for n, s in ros.items()}
    assert len(set(domains.values())) == 1, domains
    (domain,) = set(domains.values())
    assert int(domain) in ROS_RECOMMENDED_DOMAINS and int(domain) != 0
    for name, service in ros.items():
        env = service["environment"]
        # one middleware: Cyclone DDS on both backends (rclpy through rmw_cyclonedds_cpp)
        assert env.get("RMW_IMPLEMENTATION") == "rmw_cyclonedds_cpp", name
        assert "ROS_LOCALHOST_ONLY" not in env, f"{name}: deprecated in Jazzy"
        command = service.get("command") or _cell_argv(service)
        assert "--domain-id" not in command, f"{name}: the domain comes from ROS_DOMAIN_ID"
        assert "ros" in service["networks"], name
        assert service["networks"] == ["ros"] or name == "edge", name  # the edge: both
    uris = {s["environment"].get("CYCLONEDDS_URI") for s in ros.values()}
    assert len(uris) == 1, "every ROS service needs the same Cyclone configuration"
    others = set(services) - set(ros)
    for name in others:
        assert "ROS_DOMAIN_ID" not in services[name].get("environment", {}), name


def test_the_dds_backend_takes_its_domain_from_ros_domain_id(monkeypatch) -> None:
    """The simulator is started without --domain-id: the dds backend reads ROS_DOMAIN_ID, as
    rcl does for the cells."""
    from robot_nodes.bus import create_bus, lease_domain_id
    from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML

    with lease_domain_id() as lease:
        monkeypatch.setenv("ROS_DOMAIN_ID", str(lease.domain_id))
        with create_bus("dds", "probe", config_xml=LOOPBACK_CONFIG_XML) as bus:
            assert bus._participant.get_domain_id() == lease.domain_id
