"""Robot cells on ROS 2: the bus, robot kinematics and gun-path timing.

Subpackages and modules (each exports its public names):

``robot_nodes.bus``
    One node interface over two backends, ``dds`` (Cyclone DDS) and ``rclpy``.
``robot_nodes.kinematics``
    URDF reading, batched forward kinematics, analytic IK of the painter6 class of robots.
``robot_nodes.toolpath`` / ``robot_nodes.timing``
    Gun paths with per-segment speed and trigger, and their time-parameterisation into
    joint trajectories within joint limits.
``robot_nodes.convert``
    ROS 2 messages to and from the numpy arrays above.
``robot_nodes.controller`` / ``robot_nodes.cell_bus`` / ``robot_nodes.node``
    The cell controller: its logic (no bus), its topics and messages, and the node that
    wires one to the other.

Importing this package imports neither ``cyclonedds`` nor ``rclpy``.
"""
