-- wrk against Cairn's HTTP API (docs/api.md), for Scripts/bench-compare.sh:
--   wrk -t2 -c16 -d10s --latency -s Scripts/wrk/cairn.lua http://127.0.0.1:7180 -- put 10000 100
-- put: PUT /v1/keys/key:NNNNNNNNNNNN with a VALUE_BYTES-byte body (a plain write: no context, so
-- the node reads a quorum and supersedes what it found); get: GET of the same.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function init(args)
  parse_args(args)
  value = string.rep("v", value_bytes)
  put_headers = { ["Content-Type"] = "application/octet-stream" }
end

function request()
  local path = "/v1/keys/" .. key_name(random_index())
  if mode == "get" then return wrk.format("GET", path) end
  return wrk.format("PUT", path, put_headers, value)
end
