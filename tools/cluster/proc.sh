# Processes and ports of the local cluster; sourced by tools/cluster.sh (which defines data,
# say, die and ports). Every component runs in its own session with its pid in $data/NAME.pid.

# --- processes --------------------------------------------------------------------------------
pid_of() { [[ -f "$data/$1.pid" ]] && cat "$data/$1.pid"; }
# alive PID: not yet gone. A Go process's main thread can be a zombie while its other threads
# still exit and hold its sockets, so a zombie counts as gone only once it is alone.
alive() {
  local state
  state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$state" != Z ]] || (($(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) > 1))
}
# ours PID: alive and started by this script for this checkout (its command line names the data
# directory), so a pid file outliving a reboot never makes us signal someone else's process.
ours() { alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$data/"; }
running() { local pid; pid=$(pid_of "$1") && ours "$pid"; }

# start NAME COMMAND...: in its own session, so closing the terminal or Ctrl-C in the shell that
# ran `up` does not take the cluster down; output to NAME.log, pid to NAME.pid. The lock's fd 9
# is closed for it: a daemon holding it would block every later up/down.
start() {
  local name=$1; shift
  setsid "$@" >>"$data/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$data/$name.pid"
}

# stop NAME...: SIGTERM, up to 10 s to exit, then SIGKILL (and up to 5 s more for the kernel to
# take the process and its sockets away). Prints how many were running.
stop() {
  local name pid pids=() deadline=$((SECONDS + 10))
  for name in "$@"; do
    if pid=$(pid_of "$name") && ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      say "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local until=$((SECONDS + 5))
      while alive "$pid" && ((SECONDS < until)); do sleep 0.1; done
    fi
  done
  for name in "$@"; do rm -f "$data/$name.pid"; done
  echo "${#pids[@]}"
}
stop_all() {
  local n=0
  n=$((n + $(stop kwok kube-scheduler kube-controller-manager)))
  n=$((n + $(stop kube-apiserver)))
  n=$((n + $(stop etcd)))
  echo "$n"
}

# --- ports --------------------------------------------------------------------------------------
# port_busy PORT [GRACE]: something listens on PORT, still after GRACE seconds (for sockets of
# processes just stopped).
port_busy() {
  local until=$((SECONDS + ${2:-0}))
  while [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; do ((SECONDS < until)) || return 0; sleep 0.1; done
  return 1
}
port_user() {
  local who
  who=$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -1)
  echo "${who:-a process this user cannot see}"
}
# check_ports_free GRACE: valid, distinct and free ports, or a one-line error naming the culprit.
check_ports_free() {
  local port var seen=" "
  while read -r port var; do
    [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "$var=$port is not a port number"
    [[ "$seen" != *" $port "* ]] || die "port $port is given twice ($var); choose distinct CATALYST_*_PORT values"
    seen+="$port "
    if port_busy "$port" "$1"; then
      die "port $port ($var) is already in use by $(port_user "$port"); stop it or choose another port: $var=..."
    fi
  done < <(ports)
}
