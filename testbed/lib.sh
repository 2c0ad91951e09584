# testbed/lib.sh -- helpers shared by start.sh / stop.sh / check-peers.sh (sourced after config.sh)

starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }   # field 22 of /proc/PID/stat
# alive PID -> 0 if PID runs; a zombie is dead (stopped peers are reparented to PID 1, which may reap late)
alive() { local s; s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $1}'); [ -n "$s" ] && [ "$s" != Z ]; }

# peer_pid NAME -> prints the saved PID if that very process (same start time) is still alive
peer_pid() {
  local f=$RUN/$1.pid pid st
  [ -f "$f" ] || return 1
  read -r pid st < "$f" || return 1
  [ -n "$pid" ] && alive "$pid" && [ "$(starttime "$pid")" = "$st" ] || return 1
  echo "$pid"
}

# listening PROTO(t|u) IP PORT -> 0 if a socket is bound there
listening() { ss -Hln"$1" "src $2:$3" 2>/dev/null | grep -q .; }

# descendants PID... -> PID plus all its descendants (nsd forks workers)
descendants() {
  local p out=""
  for p in "$@"; do
    out="$out $p"
    local kids; kids=$(ps -o pid= --ppid "$p" 2>/dev/null | tr -s ' \n' ' ')
    [ -n "${kids// }" ] && out="$out $(descendants $kids)"
  done
  echo $out
}

# peer_endpoints NAME -> "proto ip port" lines that must be listening for NAME to be up
peer_endpoints() {
  case $1 in
    modbus)   echo "t $MODBUS_IP $MODBUS_PORT" ;;
    modbus2)  echo "t $MODBUS2_IP $MODBUS2_PORT" ;;
    modbusgw) echo "t $MODBUSGW_IP $MODBUSGW_PORT" ;;
    modbus-silent|modbus-midframe|modbus-exception|modbus-biglen|modbus-garbage)
              echo "t $(bad_modbus_ip "$1") $MODBUS_BAD_PORT" ;;
    s7)       echo "t $S7_IP $S7_PORT" ;;
    s7native) echo "t $S7N_IP $S7N_PORT" ;;
    s7-silent|s7-refuse|s7-closeafter|s7-szlerror|s7-slot3)
              echo "t $(bad_s7_ip "$1") $S7_BAD_PORT" ;;
    enip)     echo "t $ENIP_IP $ENIP_PORT"; echo "u $ENIP_IP $ENIP_PORT" ;;
    enip-chassis) echo "t $ENIPCH_IP $ENIPCH_PORT"; echo "u $ENIPCH_IP $ENIPCH_PORT" ;;
    enip-silent|enip-truncated|enip-garbage)
              echo "t $(bad_enip_ip "$1") $ENIP_BAD_PORT"; echo "u $(bad_enip_ip "$1") $ENIP_BAD_PORT" ;;
    bacnet)   echo "u $BACNET_IP $BACNET_PORT" ;;
    bacnet-router) echo "u $BACNET_ROUTER_IP $BACNET_ROUTER_PORT" ;;
    snmpsim)  echo "u $SNMPSIM_IP $SNMPSIM_PORT" ;;
    snmpd)    echo "u $SNMPD_IP $SNMPD_PORT" ;;
    nsd)      echo "u $NSD_IP $NSD_PORT"; echo "t $NSD_IP $NSD_PORT" ;;
    knot)     echo "u $KNOT_IP $KNOT_PORT"; echo "t $KNOT_IP $KNOT_PORT"; echo "u $KNOT53_IP 53" ;;
    dns-refuse) echo "u $DNS_REFUSE_IP $DNS_REFUSE_PORT"; echo "t $DNS_REFUSE_IP $DNS_REFUSE_PORT" ;;
    wmi)      echo "t $WMI_IP $WMI_PORT" ;;
    wmi-frag|wmi-badsig|wmi-silent|wmi-closed|wmi-fault)
              echo "t $(bad_wmi_ip "$1") $WMI_PORT" ;;
    *) return 1 ;;
  esac
}

# bad_modbus_ip modbus-MODE -> the address of that misbehaving peer (MODBUS_<MODE>_IP)
bad_modbus_ip() { local v=MODBUS_${1#modbus-}_IP; v=${v^^}; echo "${!v}"; }
# bad_enip_ip enip-MODE -> the address of that misbehaving peer (ENIP_<MODE>_IP)
bad_enip_ip() { local v=ENIP_${1#enip-}_IP; v=${v^^}; echo "${!v}"; }

# bad_s7_ip s7-MODE -> the address of that scripted S7 peer (S7_<MODE>_IP)
bad_s7_ip() { local v=S7_${1#s7-}_IP; v=${v^^}; echo "${!v}"; }

# bad_wmi_ip wmi-MODE -> the address of that misbehaving WMI responder (WMI_<MODE>_IP)
bad_wmi_ip() { local v=WMI_${1#wmi-}_IP; v=${v^^}; echo "${!v}"; }

# expand_peers [name...] -> peer names with groups expanded (no argument = all):
#   all = $ALL_PEERS, modbus-all = $MODBUS_PEERS, s7-all = $S7_PEERS, enip-all = $ENIP_PEERS, wmi-all = $WMI_PEERS, dns-all = $DNS_PEERS
expand_peers() {
  local n out=""
  [ $# -gt 0 ] || set -- all
  for n in "$@"; do
    case $n in
      all)        out="$out $ALL_PEERS" ;;
      modbus-all) out="$out $MODBUS_PEERS" ;;
      s7-all)     out="$out $S7_PEERS" ;;
      enip-all)   out="$out $ENIP_PEERS" ;;
      wmi-all)    out="$out $WMI_PEERS" ;;
      dns-all)    out="$out $DNS_PEERS" ;;
      *)          out="$out $n" ;;
    esac
  done
  echo $out
}
