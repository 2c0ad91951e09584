#!/bin/bash
# testbed/stop.sh [peer...] -- stop peers (default: every peer with a pid file) by their saved PID.
set -uo pipefail
TB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$TB/config.sh"; . "$TB/lib.sh"
if [ $# -gt 0 ]; then names=$(expand_peers "$@"); else names=$(ls "$RUN"/*.pid 2>/dev/null | xargs -r -n1 basename | sed 's/\.pid$//'); fi
for n in $names; do
  if ! pid=$(peer_pid "$n"); then
    [ -f "$RUN/$n.pid" ] && echo "[stop] $n: not running (stale pid file removed)"
    rm -f "$RUN/$n.pid"; continue
  fi
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null; echo "[stop] $n: pid $pid needed SIGKILL"; fi
  # children that outlived their parent (nsd workers) are killed by their own PIDs
  for k in $kids; do [ "$k" != "$pid" ] && alive "$k" && kill -TERM "$k" 2>/dev/null; done
  rm -f "$RUN/$n.pid"
  echo "[stop] $n stopped (pid $pid)"
done
