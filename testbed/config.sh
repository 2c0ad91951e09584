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

# ---- S7comm, python-snap7 3.3.0 pure-python server with realistic SZL 0x0011/0x001C
S7_IP=127.0.0.20 S7_PORT=102
S7_ORDER="6ES7 315-2EH14-0AB0" S7_FW="3.2.6" S7_MODULE="CPU 315-2 PN/DP"
S7_SERIAL="S C-X4U421302009" S7_ASNAME="SIMATIC 300(1)" S7_PLANT="Pump-Station-3"
# ---- S7comm, python-snap7 2.0.2 native libsnap7 server (libsnap7's built-in SZL answers)
S7N_IP=127.0.0.21 S7N_PORT=102

# ---- EtherNet/IP (cpppo 5.2.5), TCP+UDP 44818
ENIP_IP=127.0.0.30 ENIP_PORT=44818
ENIP_VENDOR=1 ENIP_DEVTYPE=14 ENIP_PRODCODE=155
ENIP_REV_MAJOR=32 ENIP_REV_MINOR=11           # cpppo wants minor<<8|major = 2848
ENIP_SERIAL=1623369201 ENIP_PRODNAME="1769-L33ER/A CompactLogix 5370" ENIP_HOSTNAME="plc1"

# ---- BACnet/IP (bacpypes3 0.0.110), UDP 47808
BACNET_IP=127.0.0.40 BACNET_PORT=47808
BACNET_INSTANCE=1001 BACNET_NAME="AHU-1" BACNET_VENDOR_ID=5 BACNET_VENDOR_NAME="Johnson Controls, Inc."
BACNET_MODEL="MS-FEC2611-0" BACNET_FIRMWARE="10.1.0.5000" BACNET_APPVER="FEC 10.1"
BACNET_LOCATION="Mech Room B2" BACNET_DESCRIPTION="AHU-1 field controller"

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

# ---- scripted DCOM/WMI responder (impacket structures), 135/tcp + dynamic port on the same address
WMI_IP=127.0.0.70 WMI_PORT=135
WMI_USER=${WMI_USER:-alice} WMI_PASS=${WMI_PASS:-Passw0rd!} WMI_DOMAIN=LAB
WMI_DATASET=$TB/wmi/datasets/eng-ws-01.json
WMI_AUTHN_HINT=${WMI_AUTHN_HINT:-5}             # authnHint in the activation reply (5 integrity, 6 privacy)

MODBUS_PEERS="modbus modbus2 modbusgw modbus-silent modbus-midframe modbus-exception modbus-biglen modbus-garbage"
ALL_PEERS="$MODBUS_PEERS s7 s7native enip bacnet snmpsim snmpd nsd knot wmi"
# peer groups, expanded by start.sh / stop.sh / check-peers.sh (lib.sh expand_peers): all, modbus-all
