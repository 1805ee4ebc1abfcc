-- wrk against etcd's JSON gateway (grpc-gateway, etcd 3.4: /v3/kv/put, /v3/kv/range), for
-- Scripts/bench-compare.sh:
--   wrk -t2 -c16 -d10s --latency -s Scripts/wrk/etcd.lua http://127.0.0.20:2379 -- put 10000 100
-- put: POST /v3/kv/put {"key": base64, "value": base64}; get: POST /v3/kv/range {"key": base64}
-- (a linearizable read, etcd's default). The gateway takes keys and values in base64; every
-- key's encoding is computed once per thread, before the run.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 with padding (RFC 4648), three bytes at a time.
local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = alphabet:sub(c1 + 1, c1 + 1) .. alphabet:sub(c2 + 1, c2 + 1)
      .. (b and alphabet:sub(c3 + 1, c3 + 1) or "=") .. (c and alphabet:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

function init(args)
  parse_args(args)
  encoded_keys = {}
  for i = 0, keys - 1 do encoded_keys[i] = base64(key_name(i)) end
  encoded_value = base64(string.rep("v", value_bytes))
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  local k = encoded_keys[random_index()]
  if mode == "get" then
    return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. k .. '"}')
  end
  return wrk.format("POST", "/v3/kv/put", headers, '{"key":"' .. k .. '","value":"' .. encoded_value .. '"}')
end
