-- Shared by cairn.lua and etcd.lua (the wrk scripts of Scripts/bench-compare.sh), loaded with
-- dofile. Arguments after wrk's `--`: MODE KEYS VALUE_BYTES
--   put   writes of random keys, uniform over KEYS
--   get   reads of random keys (bench-compare.sh writes every key first)
-- Keys are named as redis-benchmark -r names them, key:%012d, so the same keys serve a node's
-- HTTP API and its Redis port. wrk cannot choose a source address: its target must be on
-- loopback, and it connects from the system's choice (127.0.0.1).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function key_name(i)
  return string.format("key:%012d", i)
end

function parse_args(args)
  mode = args[1] or "put"
  keys = tonumber(args[2] or "10000")
  value_bytes = tonumber(args[3] or "100")
  if mode ~= "put" and mode ~= "get" then
    error("mode must be put or get, not " .. tostring(mode))
  end
  math.randomseed(os.time() * 1000 + (id or 0))
end

function random_index()
  return math.random(0, keys - 1)
end
