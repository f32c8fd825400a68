-- destroy: deletes every key of the queue, the meta hash last (UNLINK: big
-- hashes are freed in the background). Answers {'ok', entries removed}.
local n = redis.call('HLEN', ENTRIES)
for _, p in ipairs(redis.call('ZRANGE', BANDS, 0, -1)) do
  redis.call('UNLINK', band(p))
end
redis.call('UNLINK', ITEMS, ENTRIES, LEASES, BANDS, COUNTS, META)
return {'ok', n}
