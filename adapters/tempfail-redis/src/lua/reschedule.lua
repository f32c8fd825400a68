-- reschedule: ARGV[3] key, ARGV[4] now (hex), ARGV[5] due (hex), ARGV[6]
-- priority. A waiting entry keeps its insertion sequence; one whose lease
-- ended returns to waiting as if inserted now. Answers {'ok'}, {'nf'} or
-- {'busy'}.
local k, now, d, p = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local r = redis.call('HGET', ENTRIES, k)
if not r then return {'nf'} end
local e = parse(r)
local old = e.p
if leased(e) then
  if now < e.x then return {'busy'} end
  to_waiting(k, e, d, p)
else
  from_band(k, e)
  e.d = d; e.p = p
  redis.call('HSET', ENTRIES, k, record(e))
  to_band(k, e)
end
if old ~= p then
  count_add(old, -1)
  count_add(p, 1)
end
return {'ok'}
