# Sourced by scripts that run podman: the settings containers need on this project's machines
# (runc as the OCI runtime, cgroupfs, and containers.conf without default ulimits).
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf}
podman_cmd() {
  podman --runtime /usr/sbin/runc --cgroup-manager=cgroupfs "$@"
}
