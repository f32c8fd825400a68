-- defer / release: ARGV[3] key, ARGV[4] token, ARGV[5] now (hex), ARGV[6]
-- new due (hex; empty: keep the due time), ARGV[7] '1' to take back the
-- attempt (release).
local k, t = ARGV[3], ARGV[4]
local h = held(k, t, ARGV[5])
if not h then return {'lost'} end
local d = ARGV[6]
if d == '' then d = h[3] end
if ARGV[7] == '1' then
  local a = tonumber(redis.call('HGET', ekey(k), 'a')) or 0
  if a > 0 then redis.call('HSET', ekey(k), 'a', a - 1) end
end
to_waiting(k, t, h[2], d, h[4])
return {'ok'}
