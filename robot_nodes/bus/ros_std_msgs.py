"""Definitions of the standard ROS 2 messages the project uses.

Field layouts as shipped by ROS 2 Humble and Jazzy (identical for these types); comments
are left out. The tests check every definition against the ROS 2 type stores of
``rosbags``, an independent source.
"""

from __future__ import annotations

STANDARD_MSGS: dict[str, str] = {
    "builtin_interfaces/msg/Time": """
int32 sec
uint32 nanosec
""",
    "builtin_interfaces/msg/Duration": """
int32 sec
uint32 nanosec
""",
    "std_msgs/msg/Header": """
builtin_interfaces/Time stamp
string frame_id
""",
    "geometry_msgs/msg/Point": """
float64 x
float64 y
float64 z
""",
    "geometry_msgs/msg/Quaternion": """
float64 x 0
float64 y 0
float64 z 0
float64 w 1
""",
    "geometry_msgs/msg/Pose": """
Point position
Quaternion orientation
""",
    "sensor_msgs/msg/JointState": """
std_msgs/Header header
string[] name
float64[] position
float64[] velocity
float64[] effort
""",
    "sensor_msgs/msg/Image": """
std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data
""",
    "trajectory_msgs/msg/JointTrajectoryPoint": """
float64[] positions
float64[] velocities
float64[] accelerations
float64[] effort
builtin_interfaces/Duration time_from_start
""",
    "trajectory_msgs/msg/JointTrajectory": """
std_msgs/Header header
string[] joint_names
JointTrajectoryPoint[] points
""",
    "rosgraph_msgs/msg/Clock": """
builtin_interfaces/Time clock
""",
}
"""Full message name to ``.msg`` text."""
