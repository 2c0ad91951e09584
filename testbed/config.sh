# testbed/config.sh -- sourced by every testbed script: addresses, identities and credentials.
# Every address is on 127.0.0.0/8; nothing here may ever point elsewhere.

TB=${TB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}   # this folder, wherever it is checked out
AT=${TESTBED_TMP:-$(dirname "$TB")/.testbed}              # runtime state: venvs, data, pids, logs (<repo>/.testbed, git-ignored)
RUN=$AT/run
VENV=$AT/venv;          PY=$VENV/bin/python
VENV2=$AT/venv-snap7v2; PY2=$VENV2/bin/python
umask 022

# ---- Modbus/TCP (pymodbus 3.16.1), FC43/MEI14 device identification
MODBUS_IP=127.0.0.10 MODBUS_PORT=502
MODBUS_VENDOR="Schneider Electric" MODBUS_PRODCODE="BMX P34 2020" MODBUS_REV="v2.70"
MODBUS_PRODNAME="Modicon M340" MODBUS_MODEL="BMX P34 2020"
MODBUS_URL="http://www.example.invalid" MODBUS_APPNAME="pump-station-3"
# a second, different device (same server script)
MODBUS2_IP=127.0.0.11 MODBUS2_PORT=502
MODBUS2_VENDOR="Wago" MODBUS2_PRODCODE="750-8212" MODBUS2_REV="03.10.08"
MODBUS2_PRODNAME="PFC200" MODBUS2_MODEL="750-8212/025-000"
MODBUS2_URL="http://www.wago.example.invalid" MODBUS2_APPNAME="boiler-house-1"
# a gateway: unit ids MODBUSGW_UNITS answer, each with its own FC43 identity MODBUSGW_UNIT<id> =
# "VENDOR|PRODUCT CODE|REVISION|PRODUCT NAME|MODEL" (objects 0-2 basic, 3-4 regular; no URL/app name) and
# HR n = id*100 + n; unit MODBUSGW_SELF_UNIT answers as the gateway itself (MODBUSGW_* identity);
# any other unit id (0 too) gets exception 0x0B (MODBUSGW_UNKNOWN=exception) or no answer (=silent)
MODBUSGW_IP=127.0.0.12 MODBUSGW_PORT=502
MODBUSGW_VENDOR="Moxa" MODBUSGW_PRODCODE="MGate MB3170" MODBUSGW_REV="v4.3"
MODBUSGW_PRODNAME="MGate MB3170 Modbus gateway" MODBUSGW_MODEL="MB3170-T"
MODBUSGW_URL="http://www.moxa.example.invalid" MODBUSGW_APPNAME="line-2-gateway"
MODBUSGW_SELF_UNIT=255 MODBUSGW_UNKNOWN=exception
MODBUSGW_UNITS="1 2 17"
MODBUSGW_UNIT1="ABB|ACS580-01-12A7-4|2.15.0.1|Unit 1 drive|ACS580"
MODBUSGW_UNIT2="Danfoss|131B0002|1.42|Unit 2 drive|FC-302"
MODBUSGW_UNIT17="Schneider Electric|METSEPM5560|2.3.4|Unit 17 power meter|PM5560"
# misbehaving scripted peers (peers/bad_modbus.py --mode <suffix>), and an address where nothing listens
MODBUS_SILENT_IP=127.0.0.13      # accepts, reads, never answers
MODBUS_MIDFRAME_IP=127.0.0.14    # first 4 bytes of an MBAP header, then close
MODBUS_EXCEPTION_IP=127.0.0.15   # every request: function|0x80, exception 0x01
MODBUS_BIGLEN_IP=127.0.0.16      # MBAP length 65535 + 3 bytes, held open MODBUS_BIGLEN_HOLD s, then close
MODBUS_BIGLEN_HOLD=3
MODBUS_GARBAGE_IP=127.0.0.17     # 64 random-looking bytes per read
MODBUS_CLOSED_IP=127.0.0.18      # nothing listens on 502: connection refused
MODBUS_BAD_PORT=502

# ---- S7comm, python-snap7 3.3.0 pure-python server with realistic SZL 0x0011/0x001C/0x0424/0x0D91
S7_IP=127.0.0.20 S7_PORT=102
S7_ORDER="6ES7 315-2EH14-0AB0" S7_FW="3.2.6" S7_MODULE="CPU 315-2 PN/DP"
S7_SERIAL="S C-X4U421302009" S7_ASNAME="SIMATIC 300(1)" S7_PLANT="Pump-Station-3"
S7_MODE=STOP                                   # SZL 0x0424: RUN, STOP, STARTUP, HOLD or DEFECT
# an S7-300 rack (SZL 0x0D91 index 0), "slot:kind[:logical address]", kind cpu, in, out or cp: the
# CPU answers on TSAP rack 0 / its slot, the CP on S7_CP_SLOT with its own identity (SZL 0x0011 and
# 0x001C; station name S7_ASNAME, no plant id); any other TSAP gets a COTP disconnect request
S7_RACK="2:cpu 4:in:0 5:out:4 6:in:256 7:cp:272"
S7_CP_SLOT=7 S7_CP_ORDER="6GK7 343-1EX30-0XE0" S7_CP_FW="3.2.3" S7_CP_MODULE="CP 343-1"
S7_CP_SERIAL="S C-H3J728472011"
# ---- S7comm, python-snap7 2.0.2 native libsnap7 server: libsnap7's built-in answers, not configurable;
#      recorded here for the tests (SZL 0x0011/0x001C/0x0424/0x0D91 as libsnap7 sends them; every TSAP
#      reaches the CPU)
S7N_IP=127.0.0.21 S7N_PORT=102
S7N_ORDER="6ES7 315-2EH14-0AB0" S7N_FW="3.2.6" S7N_MODULE="CPU 315-2 PN/DP"
S7N_SERIAL="S C-C2UR28922012" S7N_ASNAME="SNAP7-SERVER" S7N_MODE=RUN S7N_RACK="2:cpu"
# misbehaving and edge-case scripted S7 peers (peers/bad_s7.py --mode <suffix>), and an address where
# nothing listens
S7_SILENT_IP=127.0.0.22       # accepts, reads, never answers
S7_REFUSE_IP=127.0.0.23       # every COTP connection request: disconnect request (reason 0x03), close
S7_CLOSEAFTER_IP=127.0.0.24   # COTP connection confirm, then closes when Setup Communication arrives
S7_SZLERROR_IP=127.0.0.25     # setup accepted; every SZL read: return code 0x0a, parameter error 0xd401
S7_SLOT3_IP=127.0.0.26        # S7-400-like CPU on TSAP rack 0 / slot 3 only (others: DR); SZL 0x001C in 2 fragments
S7_SLOT3_ORDER="6ES7 416-3ES07-0AB0" S7_SLOT3_FW="7.0.3" S7_SLOT3_MODULE="CPU 416-3 PN/DP"
S7_SLOT3_SERIAL="S Q-D7V608422014" S7_SLOT3_ASNAME="SIMATIC 400(1)" S7_SLOT3_PLANT="Boiler-House-2"
S7_SLOT3_MODE=RUN
S7_CLOSED_IP=127.0.0.29       # nothing listens on 102: connection refused
S7_BAD_PORT=102

# ---- EtherNet/IP (cpppo 5.2.5), TCP+UDP 44818
ENIP_IP=127.0.0.30 ENIP_PORT=44818
ENIP_VENDOR=1 ENIP_DEVTYPE=14 ENIP_PRODCODE=155
ENIP_REV_MAJOR=32 ENIP_REV_MINOR=11           # cpppo wants minor<<8|major = 2848
ENIP_SERIAL=1623369201 ENIP_PRODNAME="1769-L33ER/A CompactLogix 5370" ENIP_HOSTNAME="plc1"
ENIP_STATUS=12384 ENIP_STATE=3                 # 0x3060: an I/O connection in run mode (PLC mode run); operational
# ---- EtherNet/IP scripted 1756 chassis (peers/enip_chassis.py), TCP+UDP 44818. List Identity answers as the
#      module in ENIPCH_SELF_SLOT (the EN2T whose address this is) with state ENIPCH_STATE; Unconnected Send
#      (0x52) routed to backplane port 1, slot N reads module N's Identity object. Slots ENIPCH_SLOTS hold
#      modules ENIPCH_SLOT<n> = "VENDOR|DEVTYPE|PRODCODE|MAJOR.MINOR|SERIAL|STATUS|PRODUCT NAME"; the chassis has
#      slots 0..ENIPCH_CHASSIS_SLOTS-1; empty slots and slots beyond: routing error 0x01/0x0312.
#      ENIPCH_SLOT<n>_PORTS = "PORT:TYPE ..." (Port object: 1 backplane, 4 EtherNet/IP, 5 DeviceNet); the nodes
#      ENIPCH_SLOT<n>_PORT<p>_NODES behind a port answer as ENIPCH_SLOT<n>_PORT<p>_NODE<k>; absent nodes: 0x01/0x0204.
#      ENIPCH_ERROR_SLOT answers every request with general status ENIPCH_ERROR_STATUS (0x08 service not supported).
ENIPCH_IP=127.0.0.31 ENIPCH_PORT=44818
ENIPCH_CHASSIS_SLOTS=10 ENIPCH_SELF_SLOT=1 ENIPCH_STATE=3
ENIPCH_SLOTS="0 1 2 3 4"
ENIPCH_SLOT0="1|14|168|33.11|0x00d1c0a5|0x3160|1756-L83E/B LOGIX5583E"
ENIPCH_SLOT1="1|12|166|11.2|0x00e1f0b2|0x0060|1756-EN2T/D"
ENIPCH_SLOT2="1|7|9|3.1|0x00a1b2c3|0x0060|1756-IB16/A   DCIN"
ENIPCH_SLOT3="1|7|37|3.4|0x00a1b2c4|0x0060|1756-OB16E/A  DCOUT"
ENIPCH_SLOT4="1|12|14|7.4|0x00f00d04|0x0030|1756-DNB/A"
ENIPCH_SLOT1_PORTS="1:1 2:4"
ENIPCH_SLOT4_PORTS="1:1 2:5"
ENIPCH_SLOT4_PORT2_NODES="3 12"
ENIPCH_SLOT4_PORT2_NODE3="1|2|144|5.1|0x4f2a1c03|0x0060|PowerFlex 525 480V 4.0kW"
ENIPCH_SLOT4_PORT2_NODE12="1|12|102|3.12|0x0b0a0c0c|0x0030|1734-ADN/B POINT I/O"
ENIPCH_ERROR_SLOT=6 ENIPCH_ERROR_STATUS=0x08
# misbehaving EtherNet/IP peers (peers/enip_chassis.py --mode <suffix>, TCP+UDP), and an address where nothing listens
ENIP_SILENT_IP=127.0.0.32      # accepts and reads, never answers
ENIP_TRUNCATED_IP=127.0.0.33   # List Identity: the Identity item claims its full length but holds 20 bytes
ENIP_GARBAGE_IP=127.0.0.34     # 64 random-looking bytes per read / datagram
ENIP_CLOSED_IP=127.0.0.35      # nothing listens on 44818: TCP refused, UDP port unreachable
ENIP_BAD_PORT=44818

# ---- BACnet/IP (bacpypes3 0.0.110), UDP 47808
BACNET_IP=127.0.0.40 BACNET_PORT=47808
BACNET_INSTANCE=1001 BACNET_NAME="AHU-1" BACNET_VENDOR_ID=5 BACNET_VENDOR_NAME="Johnson Controls, Inc."
BACNET_MODEL="MS-FEC2611-0" BACNET_FIRMWARE="10.1.0.5000" BACNET_APPVER="FEC 10.1"
BACNET_LOCATION="Mech Room B2" BACNET_DESCRIPTION="AHU-1 field controller"
# a BACnet router (peers/bacnet_router.py, bacpypes3 0.0.110): itself a device on UDP 47808 (IP side =
# network BACNET_ROUTER_IP_NET), routing to virtual BACnet networks with the devices BACNET_ROUTED
# (instance numbers) behind it; BACNET_ROUTED_<instance> = "NET|MAC|NAME|VENDOR_ID|VENDOR_NAME|MODEL|
# FIRMWARE|APP_VERSION|LOCATION|DESCRIPTION" (MAC: one octet, 2-254; the router is MAC 1 on each network)
BACNET_ROUTER_IP=127.0.0.41 BACNET_ROUTER_PORT=47808 BACNET_ROUTER_IP_NET=1
BACNET_ROUTER_INSTANCE=2000 BACNET_ROUTER_NAME="BR-1" BACNET_ROUTER_VENDOR_ID=8 BACNET_ROUTER_VENDOR_NAME="Delta Controls"
BACNET_ROUTER_MODEL="DSM-RTR" BACNET_ROUTER_FIRMWARE="3.40.1123" BACNET_ROUTER_APPVER="RTR 3.40"
BACNET_ROUTER_LOCATION="Electrical Room 1" BACNET_ROUTER_DESCRIPTION="BACnet/IP to MS/TP router"
BACNET_ROUTED="20005 20012 30007"
BACNET_ROUTED_20005="2|5|VAV-2-05|7|Siemens Schweiz AG|PXC4.E16|V04.20.120|VAV Control 4.2|Floor 2 East|VAV box 2-05"
BACNET_ROUTED_20012="2|12|VAV-2-12|24|Automated Logic Corporation|ZN341|6.00a|drv_zn341_6-00a|Floor 2 West|VAV box 2-12"
BACNET_ROUTED_30007="3|7|FCU-3-07|28|KMC Controls, Inc.|BAC-5901|R1.5.0.3|FCU app 1.5|Floor 3 Lobby|Fan coil unit 3-07"

# ---- snmpsim 1.2.2 (switch recordings from snmpsim-data 1.0.1); community = short name
SNMPSIM_IP=127.0.0.51 SNMPSIM_PORT=161
# community:recording path inside snmpsim_data/data
SNMPSIM_RECS="hpe-procurve:network/switch/hpe-procurve-516733-b21 cisco-c3750:network/switch/cisco-c3750 cisco-c3560:network/switch/cisco-c3560"
SNMPSIM_V3_USER=simulator SNMPSIM_V3_AUTHKEY="auctoritas" SNMPSIM_V3_PRIVKEY="privatus"   # SHA / AES

# ---- net-snmp snmpd
SNMPD_IP=127.0.0.60 SNMPD_PORT=161
SNMPD_COMMUNITY="public" SNMPD_V3_USER=opsv3 SNMPD_V3_AUTH="authpass123" SNMPD_V3_PRIV="privpass123"   # SHA / AES
# more v3 users (same passwords): noAuthNoPriv, authNoPriv, and one per auth/priv algorithm pair
SNMPD_V3_NOAUTH_USER=opsnoauth SNMPD_V3_AUTHONLY_USER=opsauth   # opsauth: SHA-256, no privacy
SNMPD_V3_ALGO_USERS="ops-md5-des:MD5:DES ops-sha224-aes192:SHA-224:AES-192 ops-sha256-aes256:SHA-256:AES-256 ops-sha384-aes:SHA-384:AES ops-sha512-aes256:SHA-512:AES-256 ops-md5-aes:MD5:AES ops-sha-des:SHA:DES ops-sha-aes192c:SHA:AES-192-C ops-md5-aes256c:MD5:AES-256-C"
SNMPD_SYSNAME="plant-sw-60" SNMPD_SYSLOCATION="Rack 4, Substation B" SNMPD_SYSCONTACT="ot-team@example.invalid"

# ---- DNS: 10.20.0.0/16 reverse zone, every address -> dev-10-20-A-B.ot.example. (zone data only:
#      queries go to the servers below on loopback; nothing is ever sent to 10.20.x.y)
NSD_IP=127.0.0.53 NSD_PORT=5300
KNOT_IP=127.0.0.54 KNOT_PORT=5300
KNOT53_IP=127.0.0.56                          # same knotd also on port 53 (nmap --dns-servers takes no port)
DNS_REV_NET=10.20 DNS_DOMAIN=ot.example
# special cases, zone 21.10.in-addr.arpa on both servers (peers/dns/gen_zone.py); every address of
# 10.21.0.0/16 not listed here has no name (NXDOMAIN), e.g. DNS_GAP_IP
DNS_SPECIAL_NET=10.21
DNS_HOSTS="1 2 3 5 6 8 9"                   # 10.21.0.N -> host-N.plant.ot.example.
DNS_GAP_IP=10.21.0.4                        # a gap: NXDOMAIN
DNS_TWO_PTR_IP=10.21.0.10 DNS_TWO_PTR_NAMES="hmi-10.plant.ot.example. hmi-10-backup.plant.ot.example."
DNS_LONG_IP=10.21.0.11 DNS_LONG_NAME="historian-primary-archive-server-01.control-room-2.plant.ot.example."
DNS_MANY_IP=10.21.0.12 DNS_MANY_COUNT=40    # many-12-01 .. many-12-40.plant.ot.example.: TC over UDP, whole over TCP
DNS_RFC2317_NET=10.21.0.64/26               # N.0 CNAME N.64/26.0 -> child zone: PTR cell-N.line-4.ot.example.
DNS_RFC2317_GAP_IP=10.21.0.100              # CNAME into a name the child lacks: NXDOMAIN at the chain's end
DNS_SERVFAIL_NET=10.22                      # zone 22.10.in-addr.arpa does not load: SERVFAIL
# a second nsd with no zones at all: REFUSED for every query
DNS_REFUSE_IP=127.0.0.57 DNS_REFUSE_PORT=5300
# nothing listens here (UDP: ICMP port unreachable); tests bind their own silent sockets on this
# address for the timeout case
DNS_CLOSED_IP=127.0.0.58 DNS_CLOSED_PORT=5300

# ---- scripted DCOM/WMI responder (impacket structures), 135/tcp + dynamic port on the same address
WMI_IP=127.0.0.70 WMI_PORT=135
WMI_USER=${WMI_USER:-alice} WMI_PASS=${WMI_PASS:-Passw0rd!} WMI_DOMAIN=LAB
WMI_DATASET=$TB/wmi/datasets/eng-ws-01.json
WMI_AUTHN_HINT=${WMI_AUTHN_HINT:-5}             # authnHint in the activation reply (5 integrity, 6 privacy)
# misbehaving WMI responders: the same server.py and dataset, one --mode each (135 + dynamic port)
WMI_FRAG_IP=127.0.0.71 WMI_FRAG_SIZE=200        # every response in fragments of at most 200 stub bytes
WMI_BADSIG_IP=127.0.0.72                        # responses on the dynamic port carry a corrupted NTLM signature
WMI_SILENT_IP=127.0.0.73                        # the dynamic port accepts connections and never answers
WMI_CLOSED_IP=127.0.0.74                        # activation names a dynamic port where nothing listens
WMI_FAULT_IP=127.0.0.75 WMI_FAULT_STATUS=0x80041003   # every ExecQuery gets a FAULT with this status
WMI_NOLISTEN_IP=127.0.0.79                      # nothing listens here: TCP 135 refused

MODBUS_PEERS="modbus modbus2 modbusgw modbus-silent modbus-midframe modbus-exception modbus-biglen modbus-garbage"
DNS_PEERS="nsd knot dns-refuse"
S7_PEERS="s7 s7native s7-silent s7-refuse s7-closeafter s7-szlerror s7-slot3"
ENIP_PEERS="enip enip-chassis enip-silent enip-truncated enip-garbage"
WMI_PEERS="wmi wmi-frag wmi-badsig wmi-silent wmi-closed wmi-fault"
ALL_PEERS="$MODBUS_PEERS $S7_PEERS $ENIP_PEERS bacnet bacnet-router snmpsim snmpd $DNS_PEERS $WMI_PEERS"
# peer groups, expanded by start.sh / stop.sh / check-peers.sh (lib.sh expand_peers): all, modbus-all, s7-all, enip-all, wmi-all, dns-all
