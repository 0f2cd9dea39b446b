#!/usr/bin/env bash
# Stops the daemons start.sh started under DIR (by their pid files): the Slurm
# daemons together, then munged, which they use until they exit.
# Usage: stop.sh DIR
set -uo pipefail
dir="$1"
pids_of() {
  local file
  for file in "$@"; do
    [ -s "$file" ] && cat "$file"
  done
}
stop_and_wait() {
  local pids=("$@") pid
  [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null
  for _ in $(seq 1 40); do  # the test daemons' saved state does not matter after 2 s
    local alive=0
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.05
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}
# Jobs still queued or running would outlive slurmd (slurmstepd keeps them): cancel them.
if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
  SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --full --user="$(id -un)" 2>/dev/null
  for _ in $(seq 1 50); do
    [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h -t running,completing -o %i 2>/dev/null)" ] && break
    sleep 0.1
  done
fi
mapfile -t slurm_pids < <(pids_of "$dir/slurmd.pid" "$dir/slurmctld.pid")
stop_and_wait "${slurm_pids[@]}"
mapfile -t munge_pids < <(pids_of "$dir/munge/munged.pid")
stop_and_wait "${munge_pids[@]}"
