#!/usr/bin/env bash
# Starts a private single-node Slurm (munged, slurmctld, slurmd) under DIR and waits
# until the node is idle. Prints SLURM_CONF=... on success; the caller exports it.
# Usage: start.sh DIR [CTLD_PORT SLURMD_PORT]   (free ports are picked when omitted)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mkdir -p "$1" && cd "$1" && pwd)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctld_port="${2:-$(free_port)}"
slurmd_port="${3:-$(free_port)}"
partition="${MCPROD_TEST_PARTITION:-debug}"
cpus="${MCPROD_TEST_SLURM_CPUS:-8}"

mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chmod 755 "$dir" "$dir/munge"
if [ ! -s "$dir/munge/munge.key" ]; then
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
fi
sed -e "s|@DIR@|$dir|g" -e "s|@CTLD_PORT@|$ctld_port|" -e "s|@SLURMD_PORT@|$slurmd_port|" \
    -e "s|@PARTITION@|$partition|" -e "s|@CPUS@|$cpus|" \
    "$here/slurm.conf.template" >"$dir/slurm.conf"
export SLURM_CONF="$dir/slurm.conf"

# munged refuses root without --force; its own key and socket keep this cluster private.
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost

for _ in $(seq 1 100); do
  state="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
  if [ "$state" = "idle" ]; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "start.sh: node did not become idle within 10 s (state: '${state:-none}'); logs in $dir" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
