-- open: KEYS[1] = meta hash; ARGV[1] = version. Creates the queue's meta hash
-- when missing; answers the version stored.
redis.call('HSETNX', KEYS[1], 'version', ARGV[1])
return redis.call('HGET', KEYS[1], 'version')
