#!/usr/bin/env bash
# bench/snmp/run.sh -- otsensor's SNMP walks and switch discovery against net-snmp's snmpbulkwalk
# on the testbed's snmpsim (same agent, one run, interleaved); writes bench/RESULTS-snmp.md.
# Needs the snmpsim peer:  TESTBED_TMP=... testbed/start.sh snmpsim
# Loopback only: every request goes to SNMPSIM_IP from testbed/config.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck disable=SC1091  # testbed/config.sh
. testbed/config.sh
case "$SNMPSIM_IP" in 127.*) ;; *) echo "SNMPSIM_IP must be on 127.0.0.0/8" >&2; exit 1 ;; esac
snmpget -v2c -c hpe-procurve -t 3 -r 1 "$SNMPSIM_IP" 1.3.6.1.2.1.1.3.0 > /dev/null \
  || { echo "snmpsim does not answer on $SNMPSIM_IP: testbed/start.sh snmpsim" >&2; exit 1; }
# the debug build (the project builds release only when it must; the agent, not the client's
# CPU, dominates these times)
cargo build -q -p otsensor-snmp --example walk
python3 bench/snmp/bench.py target/debug/examples/walk bench/RESULTS-snmp.md "${REPEATS:-3}"
echo "wrote bench/RESULTS-snmp.md"
