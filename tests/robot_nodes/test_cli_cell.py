"""``coatshare cell``: key generation and the refusals of ``run`` before anything starts."""

from __future__ import annotations

from typer.testing import CliRunner

from coatshare.cli_cell import cell_app
from recipes.approval import ApprovalVerifier, read_key_file
from recipes.errors import InvalidInputError

runner = CliRunner()


def test_keygen_writes_a_usable_key_pair(tmp_path) -> None:
    result = runner.invoke(cell_app, ["keygen", "--out", str(tmp_path), "--name", "ops"])
    assert result.exit_code == 0, result.output
    key_id = result.output.split()[1]
    verifier = ApprovalVerifier.from_file(tmp_path / "ops.pub")
    assert verifier.key_id == key_id
    assert len(read_key_file(tmp_path / "ops.key")) == 64


def test_run_needs_a_cell_id() -> None:
    result = runner.invoke(cell_app, ["run"])
    assert result.exit_code != 0 and "--cell" in result.output


def test_run_refuses_a_bad_config_before_starting(tmp_path) -> None:
    bad = tmp_path / "cell.yaml"
    bad.write_text("execution:\n  tracking_error_limit_mm: -3\n")
    result = runner.invoke(cell_app, ["run", "--cell", "c9", "--config", str(bad)])
    assert isinstance(result.exception, InvalidInputError)
    assert result.exception.field == "execution.tracking_error_limit_mm"


def test_run_refuses_an_unknown_backend() -> None:
    result = runner.invoke(cell_app, ["run", "--cell", "c9", "--backend", "zenoh"])
    assert result.exit_code != 0 and "zenoh" in result.output
