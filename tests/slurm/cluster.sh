#!/bin/bash
# A real two-node Slurm cluster on this machine, for tests/slurm/ (root only).
#
#   tests/slurm/cluster.sh start     install Slurm and munge if missing, start what is not running
#   tests/slurm/cluster.sh stop      stop what `start` started (slurmctld, both slurmd, munged)
#   tests/slurm/cluster.sh is-up     exit status 0 when both nodes answer (idle or busy)
#   tests/slurm/cluster.sh env       the line to source to use it: export SLURM_CONF=...
#
# Nodes n1 and n2 are two slurmd daemons of this machine (`slurmd -N n1`, `slurmd -N n2`)
# on 127.0.0.1 ports 17001 and 17002, one CPU each, partition `debug`; slurmctld listens
# on port 17000. n1 and n2 resolve to 127.0.0.1 through /etc/hosts (the launchers meet
# on the first node's name). The configuration, state, logs and pid files live in
# $TIMESFORMER_SLURM_DIR (default /tmp/timesformer-slurm); the system's own
# /etc/slurm is left alone, so client commands need SLURM_CONF=$TIMESFORMER_SLURM_DIR/slurm.conf.
#
# Environment knobs: TIMESFORMER_SLURM_DIR, SLURM_NODE_MEM_MB (memory each node offers,
# default 4096; not enforced: the nodes share this machine).

set -euo pipefail

STATE_DIR=${TIMESFORMER_SLURM_DIR:-/tmp/timesformer-slurm}
CONF=$STATE_DIR/slurm.conf
NODE_MEM_MB=${SLURM_NODE_MEM_MB:-4096}
NODES=(n1 n2)
PACKAGES=(slurmctld slurmd slurm-client munge)
START_TIMEOUT_S=60

log() { echo "cluster.sh: $*" >&2; }
fail() {
    log "error: $*"
    exit 1
}

# Wait up to $1 seconds for the command "${@:2}" to succeed.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# The pid in file $1 when that process is alive and named $2 (not a stale file whose pid
# went to another process), else nothing (status 1).
live_pid() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 1
    echo "$pid"
}

installed() {
    local command
    for command in slurmctld slurmd sbatch munged; do
        command -v "$command" >/dev/null || return 1
    done
    [[ -s /etc/munge/munge.key ]]
}

install_packages() {
    installed && return
    log "installing ${PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    if [[ ! -s /etc/munge/munge.key ]]; then
        mungekey --create --keyfile /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
}

add_host_names() {
    local node
    for node in "${NODES[@]}"; do
        if [[ $(getent ahostsv4 "$node" | awk 'NR == 1 { print $1 }') != 127.0.0.1 ]]; then
            [[ -z $(tail -c 1 /etc/hosts) ]] || echo >>/etc/hosts
            echo "127.0.0.1 ${NODES[*]}  # timesformer tests/slurm cluster" >>/etc/hosts
            return
        fi
    done
}

write_config() {
    local host node port=17001
    host=$(hostname)
    mkdir -p "$STATE_DIR/ctld"
    {
        echo "# Written by tests/slurm/cluster.sh: a two-node test cluster on one machine."
        echo "ClusterName=timesformer-test"
        echo "SlurmctldHost=${host}(127.0.0.1)"
        echo "SlurmctldPort=17000"
        echo "SlurmUser=root"
        echo "AuthType=auth/munge"
        echo "StateSaveLocation=$STATE_DIR/ctld"
        echo "SlurmctldPidFile=$STATE_DIR/slurmctld.pid"
        echo "SlurmctldLogFile=$STATE_DIR/slurmctld.log"
        echo "SlurmdSpoolDir=$STATE_DIR/slurmd.%n"
        echo "SlurmdPidFile=$STATE_DIR/slurmd.%n.pid"
        echo "SlurmdLogFile=$STATE_DIR/slurmd.%n.log"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_CPU_Memory"
        echo "SchedulerType=sched/backfill"
        echo "JobRequeue=1"
        echo "ReturnToService=2"
        echo "MpiDefault=none"
        echo "AccountingStorageType=accounting_storage/none"
        echo "JobAcctGatherType=jobacct_gather/none"
        echo "JobCompType=jobcomp/none"
        echo "SlurmdParameters=config_overrides"
        echo "KillWait=10"
        # A requeued job waits out the job credential's lifetime before it starts again
        # (120 s by default), then the next pass of the scheduler (60 s): shorter here.
        echo "AuthInfo=cred_expire=30"
        echo "SchedulerParameters=sched_interval=5,bf_interval=5"
        for node in "${NODES[@]}"; do
            echo "NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 Port=$port CPUs=1" \
                "RealMemory=$NODE_MEM_MB State=UNKNOWN"
            port=$((port + 1))
        done
        echo "PartitionName=debug Nodes=$(
            IFS=,
            echo "${NODES[*]}"
        ) Default=YES MaxTime=INFINITE State=UP"
    } >"$CONF.new"
    mv "$CONF.new" "$CONF"
}

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    munge_works && return
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$STATE_DIR/munged.started"
    wait_until 10 munge_works || fail "munged did not start (see /var/log/munge/munged.log)"
    log "started munged"
}

nodes_answer() {
    local states
    states=$(sinfo -h -N -p debug -o '%N %T' 2>/dev/null) || return 1
    [[ $(grep -cE ' (idle|allocated|mixed|completing)$' <<<"$states") -eq ${#NODES[@]} ]]
}

start() {
    [[ $EUID -eq 0 ]] || fail "the test cluster runs its daemons as root; run as root"
    install_packages
    mkdir -p "$STATE_DIR"
    add_host_names
    start_munge
    export SLURM_CONF=$CONF
    if ! live_pid "$STATE_DIR/slurmctld.pid" slurmctld >/dev/null; then
        write_config
        # -c: a fresh controller forgets the jobs of an earlier (interrupted) run.
        slurmctld -f "$CONF" -c
        wait_until "$START_TIMEOUT_S" scontrol ping ||
            fail "slurmctld did not answer within ${START_TIMEOUT_S}s; log: $STATE_DIR/slurmctld.log"
        log "started slurmctld (port 17000)"
    fi
    local node
    for node in "${NODES[@]}"; do
        if ! live_pid "$STATE_DIR/slurmd.$node.pid" slurmd >/dev/null; then
            mkdir -p "$STATE_DIR/slurmd.$node"
            slurmd -f "$CONF" -N "$node"
            log "started slurmd -N $node"
        fi
    done
    if ! wait_until "$START_TIMEOUT_S" nodes_answer; then
        sinfo -N -p debug >&2 || true
        fail "the nodes did not come up within ${START_TIMEOUT_S}s; logs: $STATE_DIR/*.log"
    fi
    log "cluster up: $(sinfo -h -N -p debug -o '%N:%T' | tr '\n' ' ')(SLURM_CONF=$CONF)"
}

# Stop the daemon whose pid file is $1 (process name $2, described as $3), waiting for it to exit.
stop_daemon() {
    local pid
    pid=$(live_pid "$1" "$2") || return 0
    kill "$pid"
    wait_until 30 bash -c "! kill -0 $pid" || {
        log "$3 (pid $pid) did not exit on SIGTERM; killing it"
        kill -9 "$pid" 2>/dev/null || true
    }
    rm -f "$1"
    log "stopped $3"
}

# Cancel the jobs of the test partition (all of them are the tests') and wait for them to go.
cancel_jobs() {
    live_pid "$STATE_DIR/slurmctld.pid" slurmctld >/dev/null || return 0
    export SLURM_CONF=$CONF
    scancel --partition=debug 2>/dev/null || true
    wait_until 30 bash -c '[[ -z $(squeue -h -p debug 2>/dev/null) ]]' ||
        log "jobs still ending after 30s: $(squeue -h -p debug -o '%i:%T' | tr '\n' ' ')"
}

stop() {
    local node
    cancel_jobs
    for node in "${NODES[@]}"; do
        stop_daemon "$STATE_DIR/slurmd.$node.pid" slurmd "slurmd -N $node"
    done
    stop_daemon "$STATE_DIR/slurmctld.pid" slurmctld slurmctld
    if [[ -e $STATE_DIR/munged.started ]]; then
        stop_daemon /run/munge/munged.pid munged munged
        rm -f "$STATE_DIR/munged.started"
    fi
}

is_up() {
    [[ -f $CONF ]] && live_pid "$STATE_DIR/slurmctld.pid" slurmctld >/dev/null || return 1
    munge_works && SLURM_CONF=$CONF nodes_answer
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    is-up) is_up ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *)
        echo "usage: $0 start|stop|is-up|env" >&2
        exit 2
        ;;
esac
