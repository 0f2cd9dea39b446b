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
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.05
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}
mapfile -t slurm_pids < <(pids_of "$dir/slurmd.pid" "$dir/slurmctld.pid")
stop_and_wait "${slurm_pids[@]}"
mapfile -t munge_pids < <(pids_of "$dir/munge/munged.pid")
stop_and_wait "${munge_pids[@]}"
