#!/bin/bash
# Entry point of the cell image: the ROS 2 Jazzy environment and the coatshare_interfaces
# overlay, then the cell controller on the rclpy backend, configured from the environment:
#   CELL_ID       cell id; the namespace is /cell_<id> (required)
#   CELL_CONFIG   cell configuration YAML, laid over the defaults (optional)
#   APPROVAL_KEY  public approval key file (hex) (optional; else the configuration's)
#   RECIPE_DIR    folder of approved recipe files (optional; else the configuration's)
# ROS_DOMAIN_ID and RMW_IMPLEMENTATION are read by ROS 2 itself. With arguments, runs them
# in the same environment instead (e.g. `ros2 topic list`).
set -eo pipefail
# shellcheck disable=SC1091
source /opt/ros/jazzy/setup.bash
# shellcheck disable=SC1091
source /opt/coatshare_ws/install/setup.bash
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
: "${CELL_ID:?set CELL_ID, the cell id (namespace /cell_<id>)}"
args=(coatshare cell run --cell "$CELL_ID" --backend rclpy)
if [ -n "${CELL_CONFIG:-}" ]; then args+=(--config "$CELL_CONFIG"); fi
if [ -n "${APPROVAL_KEY:-}" ]; then args+=(--approval-key "$APPROVAL_KEY"); fi
if [ -n "${RECIPE_DIR:-}" ]; then args+=(--recipe-dir "$RECIPE_DIR"); fi
exec "${args[@]}"
