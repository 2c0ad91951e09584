-- wrk script: GET /api/devices pages with an API token, the kind of page chosen by SCENARIO.
--
-- Environment: TOKEN (the API token's secret), SCENARIO (first | deep | sorted | filtered |
-- big | mixed), TOTAL (devices in the store: deepest page), TOP (top-level devices),
-- SUBNETS ("16-200": third octets of the seeded /24s), RESULT (file for the JSON summary).
-- Every request is a device-list page; wrk counts non-2xx answers as errors.

local token = os.getenv("TOKEN") or ""
local scenario = os.getenv("SCENARIO") or "mixed"
local total = tonumber(os.getenv("TOTAL") or "100000")
local top = tonumber(os.getenv("TOP") or "50000")
local lo, hi = string.match(os.getenv("SUBNETS") or "16-200", "(%d+)-(%d+)")
lo, hi = tonumber(lo), tonumber(hi)
local result_file = os.getenv("RESULT")

local sorts = { "ip", "vendor", "type", "name", "first_seen", "last_seen" }
local orders = { "asc", "desc" }
local types = { "plc", "io_module", "communication_adapter", "hmi", "building_controller",
  "drive", "switch", "workstation" }
local vendors = { "Siemens", "Rockwell", "Schneider", "Johnson", "Moxa", "Hirschmann", "WAGO",
  "Cisco", "Honeywell", "ABB" }
local protocols = { "s7", "enip", "modbus", "bacnet", "snmp", "wmi" }
local words = { "CPU 1516", "1756-IB16", "AHU-1", "ews-0", "pump-station", "6ES7 331", "MGate",
  "VAV-", "Modicon" }

local function pick(list) return list[math.random(#list)] end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function first_page()
  return "/api/devices?page=1&per_page=50&sort=ip"
end

local function deep_page()
  return string.format("/api/devices?page=%d&per_page=50&sort=ip", math.random(1, math.ceil(total / 50)))
end

local function sorted_page()
  local pages = math.ceil(total / 50)
  local page = (math.random() < 0.5) and math.random(1, 20) or math.random(1, pages)
  return string.format("/api/devices?page=%d&per_page=50&sort=%s&order=%s", page, pick(sorts), pick(orders))
end

local function filtered_page()
  local q = {}
  local kind = math.random(6)
  if kind == 1 then q[#q + 1] = "type=" .. pick(types)
  elseif kind == 2 then q[#q + 1] = "vendor=" .. urlencode(pick(vendors))
  elseif kind == 3 then q[#q + 1] = "protocol=" .. pick(protocols)
  elseif kind == 4 then q[#q + 1] = string.format("subnet=127.33.%d.0/24", math.random(lo, hi))
  elseif kind == 5 then q[#q + 1] = "q=" .. urlencode(pick(words))
  else q[#q + 1] = "top_level=true" end
  if math.random() < 0.3 then q[#q + 1] = "top_level=true" end
  q[#q + 1] = "sort=" .. pick(sorts)
  q[#q + 1] = "order=" .. pick(orders)
  q[#q + 1] = "page=" .. math.random(1, 5)
  q[#q + 1] = "per_page=50"
  return "/api/devices?" .. table.concat(q, "&")
end

local function big_page()
  return string.format("/api/devices?page=%d&per_page=1000&sort=ip", math.random(1, math.ceil(total / 1000)))
end

local makers = { first = first_page, deep = deep_page, sorted = sorted_page,
  filtered = filtered_page, big = big_page }

local function mixed_page()
  local r = math.random()
  if r < 0.3 then return first_page()
  elseif r < 0.5 then return deep_page()
  elseif r < 0.7 then return sorted_page()
  else return filtered_page() end
end

local make = makers[scenario] or mixed_page

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 7919)
end

function init(args)
  math.randomseed((seed or 1) + os.time())
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
end

function request()
  return wrk.format("GET", make())
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"scenario":"%s","requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d}}',
    scenario, summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max)
  io.write(out .. "\n")
  if result_file then
    local f = io.open(result_file, "w")
    if f then f:write(out .. "\n"); f:close() end
  end
end
