#!/bin/bash
# testbed/start.sh [peer...] -- start the peers (default: all) in the background.
# pids and logs: $AT/run/<peer>.{pid,log} (AT = <repo>/.testbed); waits until each one listens (ss -lnt/-lnu).
# Peers: see ALL_PEERS in config.sh; groups: all, modbus-all (every Modbus peer, good and bad), s7-all (every S7 peer), enip-all,
# wmi-all (the WMI responder and its misbehaving twins).
set -uo pipefail
TB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$TB/config.sh"; . "$TB/lib.sh"
[ -x "$PY" ] && [ -x "$PY2" ] || { echo "[start] venvs missing: run $TB/setup.sh first" >&2; exit 1; }
"$TB/peers/prepare.sh" > /dev/null || { echo "[start] prepare failed" >&2; exit 1; }
peers=$(expand_peers "$@")
export PY SNMPSIM_V3_USER SNMPSIM_V3_AUTHKEY SNMPSIM_V3_PRIVKEY

launch() {  # launch NAME CMD... : own session, cwd $RUN, stdout+stderr -> $RUN/NAME.log
  local name=$1; shift
  ( cd "$RUN" && exec setsid "$@" > "$RUN/$name.log" 2>&1 < /dev/null ) &
  local pid=$!
  sleep 0.05
  echo "$pid $(starttime "$pid")" > "$RUN/$name.pid"
}

start_peer() {
  case $1 in
    modbus) launch modbus "$PY" "$TB/peers/modbus_server.py" --host "$MODBUS_IP" --port "$MODBUS_PORT" \
              --vendor "$MODBUS_VENDOR" --product-code "$MODBUS_PRODCODE" --revision "$MODBUS_REV" \
              --product-name "$MODBUS_PRODNAME" --model "$MODBUS_MODEL" --url "$MODBUS_URL" --app-name "$MODBUS_APPNAME" ;;
    modbus2) launch modbus2 "$PY" "$TB/peers/modbus_server.py" --host "$MODBUS2_IP" --port "$MODBUS2_PORT" \
              --vendor "$MODBUS2_VENDOR" --product-code "$MODBUS2_PRODCODE" --revision "$MODBUS2_REV" \
              --product-name "$MODBUS2_PRODNAME" --model "$MODBUS2_MODEL" --url "$MODBUS2_URL" --app-name "$MODBUS2_APPNAME" ;;
    modbusgw)
      local u v units=()
      for u in $MODBUSGW_UNITS; do v=MODBUSGW_UNIT$u; units+=(--unit "$u=${!v}"); done
      launch modbusgw "$PY" "$TB/peers/modbus_server.py" --host "$MODBUSGW_IP" --port "$MODBUSGW_PORT" \
              --vendor "$MODBUSGW_VENDOR" --product-code "$MODBUSGW_PRODCODE" --revision "$MODBUSGW_REV" \
              --product-name "$MODBUSGW_PRODNAME" --model "$MODBUSGW_MODEL" --url "$MODBUSGW_URL" --app-name "$MODBUSGW_APPNAME" \
              --self-unit "$MODBUSGW_SELF_UNIT" --unknown-unit "$MODBUSGW_UNKNOWN" "${units[@]}" ;;
    modbus-silent|modbus-midframe|modbus-exception|modbus-biglen|modbus-garbage)
      launch "$1" "$PY" "$TB/peers/bad_modbus.py" --host "$(bad_modbus_ip "$1")" --port "$MODBUS_BAD_PORT" \
              --mode "${1#modbus-}" --hold "$MODBUS_BIGLEN_HOLD" ;;
    s7) launch s7 "$PY" "$TB/peers/s7_server.py" "$S7_IP" "$S7_PORT" "$S7_ORDER" "$S7_FW" "$S7_MODULE" \
              "$S7_SERIAL" "$S7_ASNAME" "$S7_PLANT" --mode "$S7_MODE" --rack "$S7_RACK" \
              --cp "$S7_CP_SLOT|$S7_CP_ORDER|$S7_CP_FW|$S7_CP_MODULE|$S7_CP_SERIAL" ;;
    s7-silent|s7-refuse|s7-closeafter|s7-szlerror|s7-slot3)
      launch "$1" "$PY" "$TB/peers/bad_s7.py" --host "$(bad_s7_ip "$1")" --port "$S7_BAD_PORT" --mode "${1#s7-}" \
              --order "$S7_SLOT3_ORDER" --fw "$S7_SLOT3_FW" --module "$S7_SLOT3_MODULE" --serial "$S7_SLOT3_SERIAL" \
              --asname "$S7_SLOT3_ASNAME" --plant "$S7_SLOT3_PLANT" --state "$S7_SLOT3_MODE" ;;
    s7native) launch s7native "$PY2" "$TB/peers/s7_native_server.py" "$S7N_IP" "$S7N_PORT" ;;
    enip) launch enip "$PY" -m cpppo.server.enip --no-print -a "$ENIP_IP:$ENIP_PORT" -c "$AT/cfg/enip.cfg" 'Speed=INT[10]' ;;
    enip-chassis)
      local s p k v args=()
      for s in $ENIPCH_SLOTS; do
        v=ENIPCH_SLOT$s; args+=(--module "$s=${!v}")
        v=ENIPCH_SLOT${s}_PORTS
        [ -n "${!v:-}" ] || continue
        args+=(--ports "$s=$(echo ${!v} | tr ' ' ',')")
        for p in ${!v}; do
          p=${p%%:*}; v=ENIPCH_SLOT${s}_PORT${p}_NODES
          for k in ${!v:-}; do v=ENIPCH_SLOT${s}_PORT${p}_NODE$k; args+=(--node "$s/$p/$k=${!v}"); done
        done
      done
      launch enip-chassis "$PY" "$TB/peers/enip_chassis.py" --host "$ENIPCH_IP" --port "$ENIPCH_PORT" --mode chassis \
              --chassis-slots "$ENIPCH_CHASSIS_SLOTS" --self-slot "$ENIPCH_SELF_SLOT" --state "$ENIPCH_STATE" \
              --error-slot "$ENIPCH_ERROR_SLOT=$ENIPCH_ERROR_STATUS" "${args[@]}" ;;
    enip-silent|enip-truncated|enip-garbage)
      launch "$1" "$PY" "$TB/peers/enip_chassis.py" --host "$(bad_enip_ip "$1")" --port "$ENIP_BAD_PORT" --mode "${1#enip-}" ;;
    bacnet) launch bacnet "$PY" "$TB/peers/bacnet_device.py" --address "$BACNET_IP/32:$BACNET_PORT" \
              --instance "$BACNET_INSTANCE" --name "$BACNET_NAME" --vendor-id "$BACNET_VENDOR_ID" \
              --vendor-name "$BACNET_VENDOR_NAME" --model "$BACNET_MODEL" --firmware "$BACNET_FIRMWARE" \
              --app-version "$BACNET_APPVER" --location "$BACNET_LOCATION" --description "$BACNET_DESCRIPTION" ;;
    bacnet-router)
      local inst v f routed=()
      for inst in $BACNET_ROUTED; do
        v=BACNET_ROUTED_$inst; IFS='|' read -r -a f <<< "${!v}"
        routed+=(--device "${f[0]}|${f[1]}|$inst|${f[2]}|${f[3]}|${f[4]}|${f[5]}|${f[6]}|${f[7]}|${f[8]}|${f[9]}")
      done
      launch bacnet-router "$PY" "$TB/peers/bacnet_router.py" --ip "$BACNET_ROUTER_IP" --port "$BACNET_ROUTER_PORT" \
              --ip-net "$BACNET_ROUTER_IP_NET" --instance "$BACNET_ROUTER_INSTANCE" --name "$BACNET_ROUTER_NAME" \
              --vendor-id "$BACNET_ROUTER_VENDOR_ID" --vendor-name "$BACNET_ROUTER_VENDOR_NAME" --model "$BACNET_ROUTER_MODEL" \
              --firmware "$BACNET_ROUTER_FIRMWARE" --app-version "$BACNET_ROUTER_APPVER" --location "$BACNET_ROUTER_LOCATION" \
              --description "$BACNET_ROUTER_DESCRIPTION" "${routed[@]}" ;;
    snmpsim) launch snmpsim "$TB/peers/start_snmpsim.sh" "$SNMPSIM_IP" "$SNMPSIM_PORT" "$AT/snmpdata" \
              "$RUN/snmpsim.detail.log" "$AT/snmpsim-cache" ;;
    snmpd) rm -rf "$AT/snmpd/persist"; mkdir -p "$AT/snmpd/persist"
           launch snmpd snmpd -f -I -smux -C -c "$AT/snmpd/snmpd.conf" -Lf "$RUN/snmpd.detail.log" \
              --persistentDir="$AT/snmpd/persist" ;;
    nsd) launch nsd nsd -d -c "$AT/dns/nsd/nsd.conf" ;;
    knot) launch knot knotd -c "$AT/dns/knot/knot.conf" ;;
    dns-refuse) launch dns-refuse nsd -d -c "$AT/dns/nsd-refuse/nsd.conf" ;;
    wmi) launch wmi env WMI_PASS="$WMI_PASS" "$PY" "$TB/wmi/server.py" --host "$WMI_IP" --port "$WMI_PORT" \
              --dataset "$WMI_DATASET" --user "$WMI_USER" --authn-hint "$WMI_AUTHN_HINT" ;;
    wmi-frag|wmi-badsig|wmi-silent|wmi-closed|wmi-fault)
      local mode
      case $1 in
        wmi-frag) mode=fragment ;; wmi-badsig) mode=bad-signature ;; wmi-silent) mode=silent-dynamic ;;
        wmi-closed) mode=closed-dynamic ;; wmi-fault) mode=query-fault ;;
      esac
      launch "$1" env WMI_PASS="$WMI_PASS" "$PY" "$TB/wmi/server.py" --host "$(bad_wmi_ip "$1")" --port "$WMI_PORT" \
              --dataset "$WMI_DATASET" --user "$WMI_USER" --authn-hint "$WMI_AUTHN_HINT" --mode "$mode" \
              --frag-size "$WMI_FRAG_SIZE" --fault-status "$WMI_FAULT_STATUS" ;;
    *) echo "[start] unknown peer '$1' (known: $ALL_PEERS)" >&2; return 1 ;;
  esac
}

rc=0; started=()
for p in $peers; do
  peer_endpoints "$p" > /dev/null || { echo "[start] unknown peer '$p' (known: $ALL_PEERS)" >&2; rc=1; continue; }
  if pid=$(peer_pid "$p"); then echo "[start] $p already running (pid $pid)"; continue; fi
  busy=""
  while read -r pr ip port; do listening "$pr" "$ip" "$port" && busy="$busy $pr:$ip:$port"; done < <(peer_endpoints "$p")
  if [ -n "$busy" ]; then echo "[start] $p: FAILED, address already in use:$busy" >&2; rc=1; continue; fi
  start_peer "$p" && started+=("$p")
done

T0=$(date +%s.%N)
for p in "${started[@]}"; do
  timeout=30; [ "$p" = snmpsim ] && timeout=240
  ok=0
  for ((i = 0; i < timeout * 10; i++)); do
    all=1
    while read -r pr ip port; do listening "$pr" "$ip" "$port" || { all=0; break; }; done < <(peer_endpoints "$p")
    if [ $all = 1 ]; then ok=1; break; fi
    peer_pid "$p" > /dev/null || break
    sleep 0.1
  done
  pid=$(peer_pid "$p") || pid="dead"
  if [ $ok = 1 ]; then
    printf '[start] %-16s up   pid %-7s %s (%.1f s)\n' "$p" "$pid" "$(peer_endpoints "$p" | awk '{printf "%s%s:%s ", ($1=="t"?"tcp/":"udp/"), $2, $3}')" \
      "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')"
  else
    echo "[start] $p: FAILED to listen (pid $pid); last log lines:" >&2; tail -5 "$RUN/$p.log" >&2; rc=1
  fi
done

# safety net: every listening socket of our peers (and their children) must be on 127.0.0.0/8
pids=""
for f in "$RUN"/*.pid; do [ -f "$f" ] || continue; n=$(basename "$f" .pid); p=$(peer_pid "$n") && pids="$pids $(descendants "$p")"; done
if [ -n "${pids// }" ]; then
  re=$(echo $pids | tr ' ' '|')
  bad=$(ss -Hlntup | grep -E "pid=($re)," | awk '{print $5}' | grep -vE '^(127\.|\[::ffff:127\.)' || true)
  if [ -n "$bad" ]; then
    echo "[start] SAFETY: non-loopback listener(s) found: $bad -- stopping everything" >&2
    "$TB/stop.sh"; exit 3
  fi
fi
exit $rc
