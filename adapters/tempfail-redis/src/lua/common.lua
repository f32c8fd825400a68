-- Shared by every queue script (prepended at build time).
-- KEYS[1] = the queue's meta hash; ARGV[1] = the schema version this crate
-- writes; ARGV[2] = the key prefix "tempfail:{name}:". Every other key the
-- script touches starts with that prefix, so it carries the same hash tag and
-- lives in the same Cluster slot as KEYS[1].
--
-- Times and tokens are 16 hex digits, so string order is numeric order and
-- every u64 is exact; sorted-set scores are milliseconds clamped to 2^53
-- (exact below it), and members start with the hex time, so equal (clamped)
-- scores still sort exactly.
--
-- An entry is a field of two hashes: `items` (its bytes) and `entries` (a
-- fixed-width record, 74 characters):
--   due (16 hex) | insertion sequence (16 hex) | priority (2 hex)
--   | attempts (8 hex) | lease token (16 hex, zeros when waiting)
--   | lease expiry (16 hex, zeros when waiting)
-- so a batch reads and writes many entries with one HMGET and one HSET.
local META = KEYS[1]
local P = ARGV[2]
local version = redis.call('HGET', META, 'version')
if not version then return {'missing'} end
if version ~= ARGV[1] then return {'schema', version} end

local ITEMS = P .. 'items'
local ENTRIES = P .. 'entries'
local LEASES = P .. 'leases'
local BANDS = P .. 'bands'
local COUNTS = P .. 'counts'
local CLAMP = 9007199254740992
local NONE = '0000000000000000'
local CHUNK = 500
local sub = string.sub

local function band(p) return P .. 'w:' .. p end
local function hex(n) return string.format('%016x', n) end
local function score(h)
  local n = tonumber(h, 16)
  if n >= CLAMP then n = CLAMP end
  return string.format('%.0f', n)
end

local function record(e)
  return e.d .. e.s .. string.format('%02x', e.p) .. string.format('%08x', e.a) .. e.t .. e.x
end

local function parse(r)
  return {
    d = sub(r, 1, 16), s = sub(r, 17, 32), p = tonumber(sub(r, 33, 34), 16),
    a = tonumber(sub(r, 35, 42), 16), t = sub(r, 43, 58), x = sub(r, 59, 74),
  }
end

local function leased(e) return e.t ~= NONE end
local function lease_member(e, k) return e.x .. e.t .. k end

-- Runs redis.call(cmd, key, <prefix...>, <list...>) in chunks (Lua's unpack
-- has a limit); answers the replies concatenated when they are arrays.
local function chunked(cmd, key, list)
  local out = {}
  for i = 1, #list, CHUNK do
    local last = math.min(i + CHUNK - 1, #list)
    local r = redis.call(cmd, key, unpack(list, i, last))
    if type(r) == 'table' then
      for j = 1, #r do out[#out + 1] = r[j] end
    end
  end
  return out
end

-- Flat [a1, b1, a2, b2, ...] lists must not be cut between a pair.
local function chunked_pairs(cmd, key, list)
  for i = 1, #list, 2 * CHUNK do
    redis.call(cmd, key, unpack(list, i, math.min(i + 2 * CHUNK - 1, #list)))
  end
end

-- A waiting entry joins its band, behind everything inserted before it.
local function to_band(k, e)
  redis.call('ZADD', band(e.p), score(e.d), e.d .. e.s .. k)
  redis.call('ZADD', BANDS, e.p, e.p)
end

local function from_band(k, e)
  local b = band(e.p)
  redis.call('ZREM', b, e.d .. e.s .. k)
  if redis.call('ZCARD', b) == 0 then redis.call('ZREM', BANDS, e.p) end
end

local function next_seq() return hex(redis.call('HINCRBY', META, 'seq', 1)) end

local function count_add(p, n)
  if redis.call('HINCRBY', COUNTS, p, n) <= 0 then redis.call('HDEL', COUNTS, p) end
end

-- Ends the lease of entry k (record e) and makes it wait at due d with
-- priority p, as if inserted now.
local function to_waiting(k, e, d, p)
  redis.call('ZREM', LEASES, lease_member(e, k))
  e.d = d; e.p = p; e.s = next_seq(); e.t = NONE; e.x = NONE
  redis.call('HSET', ENTRIES, k, record(e))
  to_band(k, e)
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
    if sub(ms[j], 1, 16) > h then n = j - 1; break end
  end
  return ms, n
end

-- The record of entry k when token t (hex) holds it at time now, else nil.
local function held_record(r, t, now)
  if not r then return nil end
  local e = parse(r)
  if e.t ~= t or not (now < e.x) then return nil end
  return e
end

local function held(k, t, now)
  return held_record(redis.call('HGET', ENTRIES, k), t, now)
end
