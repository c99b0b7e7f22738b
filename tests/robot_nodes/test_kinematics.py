"""Forward kinematics, analytic IK and branch selection of painter6."""

import math

import numpy as np
import pytest

from recipes.errors import InvalidInputError, UnreachableTargetError
from robot_nodes.kinematics import (
    CONFIGS,
    PAINTER6_JOINT_LIMITS,
    PAINTER6_URDF,
    IkStatus,
    RobotModel,
    SerialChain,
    SphericalWristIK,
    load_robot,
    parse_urdf,
    rotation_log,
)

from .conftest import R_GUN_DOWN, tcp_pose

# painter6 dimensions, from the URDF: shoulder offset, upper arm, forearm (x, z)
A1, C1, C2, C3, A2, C4, GUN = 0.15, 0.60, 0.70, 0.80, 0.10, 0.10, 0.25


def pose_errors(T_a: np.ndarray, T_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (mm) and rotation (deg) differences, batched."""
    dp = np.linalg.norm(T_a[..., :3, 3] - T_b[..., :3, 3], axis=-1) * 1000.0
    R = T_a[..., :3, :3] @ np.swapaxes(T_b[..., :3, :3], -1, -2)
    dr = np.linalg.norm(rotation_log(R.reshape(-1, 3, 3)), axis=1).reshape(dp.shape)
    return dp, np.degrees(dr)


def test_fk_known_poses(painter6: RobotModel) -> None:
    fk = painter6.chain.fk
    T0 = fk(np.zeros(6))  # arm up, forearm forward, gun along +x
    np.testing.assert_allclose(T0[:3, 3], [A1 + C3 + C4 + GUN, 0.0, C1 + C2 + A2], atol=1e-12)
    np.testing.assert_allclose(T0[:3, 2], [1.0, 0.0, 0.0], atol=1e-12)
    T_home = fk(painter6.home_rad)  # gun pointing down
    np.testing.assert_allclose(T_home[:3, 3], [A1 + C3, 0.0, C1 + C2 + A2 - C4 - GUN], atol=1e-12)
    np.testing.assert_allclose(T_home[:3, :3], R_GUN_DOWN, atol=1e-12)
    T_side = fk(np.array([math.pi / 2, 0, 0, 0, 0, 0]))
    np.testing.assert_allclose(T_side[:3, 3], [0.0, A1 + C3 + C4 + GUN, C1 + C2 + A2], atol=1e-12)
    T_bow = fk(np.array([0, math.pi / 2, 0, 0, 0, 0]))  # upper arm forward, forearm down
    np.testing.assert_allclose(T_bow[:3, 3], [A1 + C2 + A2, 0.0, C1 - C3 - C4 - GUN], atol=1e-12)


def test_fk_is_batched(painter6: RobotModel) -> None:
    q = np.random.default_rng(3).uniform(-1, 1, size=(20, 6))
    batch = painter6.chain.fk(q)
    assert batch.shape == (20, 4, 4)
    for i in (0, 7, 19):
        np.testing.assert_allclose(batch[i], painter6.chain.fk(q[i]), atol=1e-15)


def test_jacobian_matches_finite_differences(painter6: RobotModel) -> None:
    chain = painter6.chain
    q = np.array([0.3, 0.4, -0.2, 0.5, 1.1, -0.7])
    J = chain.jacobian(q)
    h = 1e-6
    for j in range(6):
        dq = np.zeros(6)
        dq[j] = h
        Tp, Tm = chain.fk(q + dq), chain.fk(q - dq)
        np.testing.assert_allclose(J[:3, j], (Tp[:3, 3] - Tm[:3, 3]) / (2 * h), atol=1e-8)
        w = rotation_log((Tp[:3, :3] @ Tm[:3, :3].T)[None])[0] / (2 * h)
        np.testing.assert_allclose(J[3:, j], w, atol=1e-8)


def _reachable_samples(robot: RobotModel, n: int, seed: int) -> np.ndarray:
    """Joint vectors within limits and clear of the singularity margins (by geometry)."""
    rng = np.random.default_rng(seed)
    chain = robot.chain
    beta = math.atan2(-C2 * C3, C2 * A2)  # arm fully stretched at joint_3 = beta
    out = []
    while sum(len(o) for o in out) < n:
        q = rng.uniform(chain.lower_rad, chain.upper_rad, size=(2 * n, 6))
        frames, _ = chain.joint_frames(q)
        wrist = frames[:, 4, :3, 3]
        ok = (
            (np.abs(np.sin(q[:, 4])) > math.sin(math.radians(6)))
            & (np.hypot(wrist[:, 0], wrist[:, 1]) > 0.06)
            & (np.abs(np.sin(q[:, 2] - beta)) > math.sin(math.radians(3)))
        )
        out.append(q[ok])
    return np.concatenate(out)[:n]


def test_ik_round_trip_1000_random_poses(painter6: RobotModel) -> None:
    q_true = _reachable_samples(painter6, 1000, seed=20240601)
    T = painter6.chain.fk(q_true)
    sols = painter6.ik.solve(T, q_true)
    valid = sols.valid
    assert valid.any(axis=1).all()
    # every usable solution reproduces the pose
    T_sol = painter6.chain.fk(sols.q_rad.reshape(-1, 6)).reshape(1000, 8, 4, 4)
    dp_mm, dr_deg = pose_errors(T_sol, T[:, None])
    assert dp_mm[valid].max() < 0.01
    assert dr_deg[valid].max() < 0.01
    assert painter6.chain.within_limits(sols.q_rad[valid]).all()
    # the joint vector the pose came from is among them
    dist = np.where(valid, np.abs(sols.q_rad - q_true[:, None]).max(axis=2), np.inf)
    assert dist.min(axis=1).max() < 1e-9
    counts = valid.sum(axis=1)
    assert counts.max() == 8 and set(np.unique(counts)) <= {1, 2, 3, 4, 5, 6, 7, 8}


def test_solutions_carry_their_configuration(painter6: RobotModel) -> None:
    T = tcp_pose(1.0, 0.2, 1.0)
    sols = painter6.ik.solve(T)
    q = sols.q_rad[0]
    for k in np.nonzero(sols.valid[0])[0]:
        wrist = CONFIGS[k][2]
        assert np.sign(q[k, 4]) == wrist  # wrist + means joint_5 > 0
    assert CONFIGS[0].tolist() == [1, 1, 1]


def test_solve_near_keeps_the_reference_branch(painter6: RobotModel) -> None:
    T = painter6.chain.fk(np.array([0.2, 0.3, -0.1, 0.4, 0.9, -0.5]))
    sols = painter6.ik.solve(T)
    for k in np.nonzero(sols.valid[0])[0]:
        ref = sols.q_rad[0, k] + 0.05
        np.testing.assert_allclose(painter6.ik.solve_near(T, ref), sols.q_rad[0, k], atol=1e-12)


def _dense_line(p0: np.ndarray, p1: np.ndarray, step_m: float = 0.002) -> np.ndarray:
    n = int(np.ceil(np.linalg.norm(p1 - p0) / step_m)) + 1
    return np.array([tcp_pose(*p) for p in np.linspace(p0, p1, n)])


def test_straight_stroke_is_continuous_without_flips(painter6: RobotModel) -> None:
    T = _dense_line(np.array([1.0, -0.5, 1.0]), np.array([1.0, 0.5, 1.0]))
    q = painter6.ik.solve_path(T, painter6.home_rad)
    dp_mm, dr_deg = pose_errors(painter6.chain.fk(q), T)
    assert dp_mm.max() < 1e-6 and dr_deg.max() < 1e-6
    steps = np.abs(np.diff(q, axis=0)).max(axis=0)
    assert steps.max() < 0.01  # rad per 2 mm
    assert np.all(q[:, 4] > 0)  # the wrist stays on the home side
    assert np.abs(q[0] - painter6.home_rad).max() < 0.6  # configuration nearest home


def test_wide_joint_unwraps_instead_of_jumping(painter6: RobotModel) -> None:
    # spin the gun about its own axis past +-pi: joint_6 must run on, not wrap
    angles = np.linspace(0, 1.5 * np.pi, 400)
    T = np.array(
        [tcp_pose(1.0, 0.0, 1.0, R_GUN_DOWN @ np.array(
            [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]))
         for a in angles]
    )  # fmt: skip
    q = painter6.ik.solve_path(T, painter6.home_rad)
    assert np.abs(np.diff(q, axis=0)).max() < 0.02
    assert np.ptp(q[:, 5]) == pytest.approx(1.5 * np.pi, abs=1e-6)


def test_unreachable_pose_is_refused_with_reason(painter6: RobotModel) -> None:
    with pytest.raises(UnreachableTargetError) as info:
        painter6.ik.solve_near(tcp_pose(3.0, 0.0, 1.0), painter6.home_rad, field="waypoints[4]")
    assert info.value.field == "waypoints[4]"
    assert "TCP at (3000.0, 0.0, 1000.0) mm" in info.value.reason
    assert "8 beyond reach (0.106..1.506 m)" in info.value.reason


def test_wrist_centre_on_the_base_axis_is_refused(painter6: RobotModel) -> None:
    R_gun_forward = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    T = tcp_pose(C4 + GUN, 0.0, 1.4, R_gun_forward)  # wrist centre at (0, 0, 1.4)
    with pytest.raises(UnreachableTargetError) as info:
        painter6.ik.solve_near(T, painter6.home_rad)
    assert info.value.reason.endswith("8 wrist centre within 50 mm of joint 1 axis")


def test_path_over_the_base_is_refused(painter6: RobotModel) -> None:
    T = _dense_line(np.array([0.3, 0.0, 1.05]), np.array([-0.3, 0.0, 1.05]), 0.005)
    with pytest.raises(UnreachableTargetError) as info:
        painter6.ik.solve_path(T, painter6.home_rad, field="stroke")
    assert info.value.field == "stroke"
    assert "no single arm configuration covers the path; pose 41: TCP at (95.0" in str(info.value)
    assert "outside joint limits" in info.value.reason


def test_path_into_the_wrist_singularity_is_refused(painter6: RobotModel) -> None:
    # straighten the wrist (joint_5 from 90 deg to 0): joints 4 and 6 align
    q = np.zeros((100, 6))
    q[:, 4] = np.linspace(math.pi / 2, 0.0, 100)
    T = painter6.chain.fk(q)
    sols = painter6.ik.solve(T[-1])
    assert (sols.status[0] != IkStatus.OK).all()
    assert (sols.status[0, :2] == IkStatus.WRIST_SINGULAR).all()
    # joint_5 = 90 deg (1 - i / 99) drops below the 5 deg margin first at i = 94
    with pytest.raises(UnreachableTargetError, match=r"pose 94: .* 2 within 5.0 deg of the wrist"):
        painter6.ik.solve_path(T, painter6.home_rad)


def _variant(old: str, new: str) -> str:
    text = PAINTER6_URDF.read_text()
    assert old in text
    return text.replace(old, new)


def test_arbitrary_tcp_offset_and_tilt(tmp_path) -> None:
    path = tmp_path / "tilted.urdf"
    path.write_text(
        _variant('<origin xyz="0 0 0.25" rpy="0 0 0"/>',
                 '<origin xyz="0.03 -0.05 0.25" rpy="0.3 -0.2 0.1"/>')
    )  # fmt: skip
    robot = load_robot(path, PAINTER6_JOINT_LIMITS)
    q_true = _reachable_samples(robot, 200, seed=7)
    T = robot.chain.fk(q_true)
    sols = robot.ik.solve(T, q_true)
    dist = np.where(sols.valid, np.abs(sols.q_rad - q_true[:, None]).max(axis=2), np.inf)
    assert dist.min(axis=1).max() < 1e-9


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('<origin xyz="0.10 0 0" rpy="0 0 0"/>', '<origin xyz="0.10 0.02 0" rpy="0 0 0"/>',
         "meet in one point"),
        ('<origin xyz="0.15 0 0.30" rpy="0 0 0"/>\n    <axis xyz="0 1 0"/>',
         '<origin xyz="0.15 0 0.30" rpy="0 0 0"/>\n    <axis xyz="1 0 0"/>',
         "parallel to base y"),
    ],
)  # fmt: skip
def test_other_geometries_are_refused(old: str, new: str, message: str) -> None:
    model = parse_urdf(_variant(old, new))
    with pytest.raises(InvalidInputError, match=message):
        SphericalWristIK(SerialChain.from_urdf(model, "base_link", "gun_tcp"))


def test_chain_near_the_class_is_polished_by_newton_steps(painter6: RobotModel) -> None:
    """A wrist offset of 0.5 um is within the class's tolerance: the closed form is then off
    by about that much and Newton steps on the full chain remove it; painter6 itself is
    exact, checked once at construction, and needs none."""
    from robot_nodes.kinematics.chain import rotation_log

    model = parse_urdf(_variant('<origin xyz="0.10 0 0" rpy="0 0 0"/>',
                                '<origin xyz="0.10 0.0000005 0" rpy="0 0 0"/>'))  # fmt: skip
    chain = SerialChain.from_urdf(model, "base_link", "gun_tcp")
    polished, raw = SphericalWristIK(chain), SphericalWristIK(chain, newton_steps=0)
    assert not polished.closed_form_exact and painter6.ik.closed_form_exact
    q_true = np.random.default_rng(3).uniform(-1.0, 1.0, (50, 6)) + [0, 0.3, -0.3, 0, 1.2, 0]
    T = chain.fk(q_true)

    def worst_error(ik: SphericalWristIK) -> float:
        sols = ik.solve(T, q_true)
        F = chain.fk(sols.q_rad[sols.valid])
        target = np.repeat(T[:, None], 8, axis=1)[sols.valid]
        dp = np.abs(F[:, :3, 3] - target[:, :3, 3]).max()
        dr = np.abs(rotation_log(target[:, :3, :3] @ F[:, :3, :3].transpose(0, 2, 1))).max()
        return max(dp, dr)

    assert worst_error(raw) > 1e-8 and worst_error(polished) < 1e-11
    q_path = polished.solve_path(T[:1], q_true[0])
    np.testing.assert_allclose(chain.fk(q_path[0]), T[0], atol=1e-11)
