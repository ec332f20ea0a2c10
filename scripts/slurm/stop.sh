#!/usr/bin/env bash
# Stop the single-node SLURM started by scripts/slurm/start.sh: slurmd, slurmctld, then munged.
# Only the processes named in their PID files are signalled. Safe to run when nothing runs.
# It also removes the /etc/slurm/slurm.conf that start.sh wrote: while a slurm.conf names a
# controller that is not running, every SLURM client call waits ~9 s for it, and Snakemake's
# SLURM plugin makes one such call each time Snakemake starts (any executor, any profile).
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "scripts/slurm/stop.sh: must run as root" >&2; exit 1; }

# stop NAME PIDFILE: SIGTERM the PID in PIDFILE and wait up to 10 s for it to exit.
stop() {
    local name=$1 pidfile=$2 pid
    [[ -s "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name (pid $pid) did not stop after 10 s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
if [[ "$(head -1 /etc/slurm/slurm.conf 2>/dev/null)" == "# Written by scripts/slurm/start.sh"* ]]; then
    rm -f /etc/slurm/slurm.conf
fi
echo "SLURM stopped"
