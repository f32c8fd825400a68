-- Shared by every queue script (prepended at build time).
-- KEYS[1] = the queue's meta hash; ARGV[1] = the schema version this crate
-- writes; ARGV[2] = the key prefix "tempfail:{name}:". Every other key the
-- script touches starts with that prefix, so it carries the same hash tag and
-- lives in the same Cluster slot as KEYS[1].
--
-- Times are 16 hex digits of milliseconds, so string order is time order and
-- every u64 is exact; sorted-set scores are the same milliseconds clamped to
-- 2^53 (exact below it), and members start with the hex time, so equal
-- (clamped) scores still sort exactly.
local META = KEYS[1]
local P = ARGV[2]
local version = redis.call('HGET', META, 'version')
if not version then return {'missing'} end
if version ~= ARGV[1] then return {'schema', version} end

local LEASES = P .. 'leases'
local BANDS = P .. 'bands'
local COUNTS = P .. 'counts'
local CLAMP = 9007199254740992

local function ekey(k) return P .. 'e:' .. k end
local function band(p) return P .. 'w:' .. p end
local function hex(n) return string.format('%016x', n) end
local function score(h)
  local n = tonumber(h, 16)
  if n >= CLAMP then n = CLAMP end
  return string.format('%.0f', n)
end
local function lease_member(x, t, k) return x .. hex(tonumber(t)) .. k end

-- A waiting entry joins its band, behind everything inserted before it.
local function to_band(k, d, s, p)
  redis.call('ZADD', band(p), score(d), d .. s .. k)
  redis.call('ZADD', BANDS, p, p)
end

local function from_band(k, d, s, p)
  local b = band(p)
  redis.call('ZREM', b, d .. s .. k)
  if redis.call('ZCARD', b) == 0 then redis.call('ZREM', BANDS, p) end
end

local function next_seq() return hex(redis.call('HINCRBY', META, 'seq', 1)) end

local function count_add(p, n)
  if redis.call('HINCRBY', COUNTS, p, n) <= 0 then redis.call('HDEL', COUNTS, p) end
end

-- Ends the lease (token t, expiry x) of entry k and makes it wait at due d with
-- priority p, as if inserted now.
local function to_waiting(k, t, x, d, p)
  redis.call('ZREM', LEASES, lease_member(x, t, k))
  local s = next_seq()
  redis.call('HDEL', ekey(k), 't', 'x')
  redis.call('HSET', ekey(k), 'd', d, 'p', p, 's', s)
  to_band(k, d, s, p)
end

-- Members of sorted set z whose hex time prefix is at or before h, in order,
-- at most `limit` of them (0: no limit).
local function upto(z, h, limit)
  local args = {'ZRANGEBYSCORE', z, '-inf', score(h)}
  if limit > 0 then
    args[5] = 'LIMIT'; args[6] = 0; args[7] = limit
  end
  local ms = redis.call(unpack(args))
  local n = #ms
  for j = 1, #ms do
    if string.sub(ms[j], 1, 16) > h then n = j - 1; break end
  end
  return ms, n
end

-- The entry k is held by token t at time now: its fields t, x, d, p, or nil.
local function held(k, t, now)
  local h = redis.call('HMGET', ekey(k), 't', 'x', 'd', 'p')
  if h[1] ~= t or not (now < h[2]) then return nil end
  return h
end
