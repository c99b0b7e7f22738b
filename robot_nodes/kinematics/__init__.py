"""Robot kinematics: URDF reading, batched forward kinematics and analytic IK."""

from robot_nodes.kinematics.chain import SerialChain, axis_angle_matrices, rotation_log
from robot_nodes.kinematics.ik import SphericalWristIK
from robot_nodes.kinematics.robot import (
    PAINTER6_HOME_RAD,
    PAINTER6_JOINT_LIMITS,
    PAINTER6_URDF,
    URDF_DIR,
    RobotModel,
    load_painter6,
    load_robot,
)
from robot_nodes.kinematics.solutions import CONFIGS, IkSolutions, IkStatus, config_label
from robot_nodes.kinematics.urdf import (
    JointLimits,
    UrdfJoint,
    UrdfModel,
    load_joint_limits_yaml,
    load_urdf,
    parse_urdf,
    rpy_to_matrix,
)

__all__ = [
    "CONFIGS",
    "PAINTER6_HOME_RAD",
    "PAINTER6_JOINT_LIMITS",
    "PAINTER6_URDF",
    "URDF_DIR",
    "IkSolutions",
    "IkStatus",
    "JointLimits",
    "RobotModel",
    "SerialChain",
    "SphericalWristIK",
    "UrdfJoint",
    "UrdfModel",
    "axis_angle_matrices",
    "config_label",
    "load_joint_limits_yaml",
    "load_painter6",
    "load_robot",
    "load_urdf",
    "parse_urdf",
    "rotation_log",
    "rpy_to_matrix",
]
