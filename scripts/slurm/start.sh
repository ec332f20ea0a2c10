#!/usr/bin/env bash
# Start a single-node SLURM on this machine (for tests and for trying the SLURM profile).
#
# Idempotent: installs Debian's packages if missing, writes /etc/slurm/slurm.conf for this host
# (refusing to replace one it did not write: on a real cluster node, use that cluster),
# creates a munge key if missing, starts munged (as the munge user), slurmctld and slurmd unless
# they already run, then waits until `sinfo` shows the node idle. Needs root.
# Stop it again with scripts/slurm/stop.sh (it uses the PID files written here).
#
# Environment: SLURM_START_TIMEOUT (seconds to wait for an idle node, default 60).
set -euo pipefail

timeout_s="${SLURM_START_TIMEOUT:-60}"
t0=$(date +%s%N)

die() { echo "scripts/slurm/start.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (it writes /etc/slurm and starts daemons)"

# Debian 12 packages; slurmdbd/MariaDB are not needed: the profile queries job states with squeue.
packages=(munge slurmctld slurmd slurm-client)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]} ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        >/tmp/slurm-apt-install.log 2>&1 \
        || die "apt-get install ${missing[*]} failed; see /tmp/slurm-apt-install.log"
fi

host=$(hostname -s)
cpus=$(nproc)
# Leave 10% of the memory to the OS: slurmd marks the node invalid if RealMemory is too large.
mem_total_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
real_mem_mb=$((mem_total_mb * 9 / 10))
def_mem_per_cpu=$((real_mem_mb / cpus < 2048 ? real_mem_mb / cpus : 2048))

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm

conf=$(cat <<EOF
# Written by scripts/slurm/start.sh for a single-node test cluster on host '${host}'.
ClusterName=ivit
SlurmctldHost=${host}
SlurmUser=slurm
AuthType=auth/munge
# Containers (gVisor here) lack a usable cgroup tree: track processes the plain Linux way.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Finished jobs stay visible to squeue this long (Snakemake's SLURM plugin polls with squeue).
MinJobAge=300
# Kill jobs past their time limit quickly (SIGTERM, then SIGKILL after KillWait seconds).
KillWait=5
OverTimeLimit=0
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
DefMemPerCPU=${def_mem_per_cpu}
NodeName=${host} CPUs=${cpus} RealMemory=${real_mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
)
header="# Written by scripts/slurm/start.sh"
if [[ -f /etc/slurm/slurm.conf ]] && [[ "$(head -1 /etc/slurm/slurm.conf)" != "$header"* ]]; then
    die "/etc/slurm/slurm.conf exists and was not written by this script: this machine has its \
own SLURM; submit to it (profiles/slurm) instead of starting a test cluster"
fi
conf_changed=0
if [[ ! -f /etc/slurm/slurm.conf ]] || [[ "$(cat /etc/slurm/slurm.conf)" != "$conf" ]]; then
    printf '%s\n' "$conf" >/etc/slurm/slurm.conf
    conf_changed=1
fi

if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge

# alive PIDFILE -> true if the process named in PIDFILE runs.
alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! alive /run/munge/munged.pid; then
    runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null || die "munge does not work; see /var/log/munge/munged.log"

if alive /run/slurmctld.pid; then
    ((conf_changed)) && scontrol reconfigure
else
    slurmctld
fi
if ! alive /run/slurmd.pid; then
    slurmd
fi

# Wait for the node to register and become idle.
deadline=$(($(date +%s) + timeout_s))
state=""
while :; do
    state=$(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null | head -1 || true)
    [[ "$state" == idle* || "$state" == mixed* || "$state" == allocated* ]] && break
    if [[ "$state" == down* || "$state" == drain* ]]; then
        scontrol update NodeName="$host" State=RESUME 2>/dev/null || true
    fi
    (($(date +%s) < deadline)) || die "node '$host' not idle after ${timeout_s}s (state: \
'${state:-no answer}'); see /var/log/slurm/slurmctld.log and /var/log/slurm/slurmd.log"
    sleep 0.2
done

t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
printf 'SLURM ready: node %s is %s (%d CPUs, %d MB) after %d.%03d s\n' \
    "$host" "$state" "$cpus" "$real_mem_mb" $((ms / 1000)) $((ms % 1000))
