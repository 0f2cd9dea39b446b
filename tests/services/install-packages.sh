#!/usr/bin/env bash
# Installs the Debian packages the integration tests use: a single-node Slurm
# (munge, slurmctld, slurmd, client), the gfal2 copy tools and Chromium (the
# dashboard test opens the HTML report in it headless). Idempotent.
set -euo pipefail
needed=()
command -v slurmctld >/dev/null || needed+=(slurmctld)
command -v slurmd >/dev/null || needed+=(slurmd)
command -v sbatch >/dev/null || needed+=(slurm-client)
command -v munged >/dev/null || needed+=(munge)
command -v gfal-copy >/dev/null || needed+=(gfal2-util-scripts gfal2-plugin-file)
command -v chromium >/dev/null || needed+=(chromium)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-packages: need root to install ${needed[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
