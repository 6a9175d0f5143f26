/**
 * The Lua scripts that change a room in Redis. A script runs atomically, so each of these is one
 * step nobody can interleave with: a name is reserved and its join appended together, a leave
 * happens once whoever asks, and of several survivors exactly one appends a dead node's leaves.
 * Every log entry gets the next number from the room's `seq` counter, so readers see any gap.
 *
 * Each script declares the room keys it uses; the per-node keys a reaper derives from the node
 * set share the room's hash tag, so they live in the same slot (see redis-keys.ts).
 */

/** The room key and epoch, created once: the first node's proposal wins, everyone reads the result. */
export const ENSURE_ROOM = {
  numberOfKeys: 2, // roomKey, epoch
  lua: `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
redis.call('SET', KEYS[2], ARGV[2], 'NX')
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}`,
};

/**
 * Reserves a name and appends its join, or returns nil when the name is someone else's.
 * KEYS: owners, order, seq, log, names(node), nodes. ARGV: name, owner, node, retention.
 */
export const JOIN = {
  numberOfKeys: 6,
  lua: `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return false end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[3])
return redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*',
  'seq', seq, 'type', 'join', 'name', ARGV[1], 'owner', ARGV[2])`,
};

/**
 * Releases a name and appends its leave, only if this owner still holds it (so asking twice, or
 * after a reaper, appends nothing). KEYS: owners, order, seq, log, names(node). ARGV: name, owner, retention.
 */
export const LEAVE = {
  numberOfKeys: 5,
  lua: `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
local seq = redis.call('INCR', KEYS[3])
return redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*',
  'seq', seq, 'type', 'leave', 'name', ARGV[1], 'owner', ARGV[2])`,
};

/**
 * Appends chat messages, one entry each, in order: the hot path, so a node sends the messages of
 * one turn in one call, and each entry has three fields, not eight (every field is a string each
 * node's reader decodes): `c` holds `encrypted|sentAt|publishId|owner|name` (log-entry.ts).
 * KEYS: seq, log. ARGV: retention, then head, message pairs.
 */
export const CHAT = {
  numberOfKeys: 2,
  lua: `
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
for i = 2, #ARGV, 2 do
  seq = seq + 1
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq, 'c', ARGV[i], 'm', ARGV[i + 1])
end
redis.call('SET', KEYS[1], seq)
return seq`,
};

/**
 * The node's heartbeat: renews its lease, then (when ARGV[7] is 1) removes the members of every
 * node whose lease has expired, appending their leaves, and always those of ARGV[5] (this node's
 * previous run, at start-up). Returns {leaves appended, 1 if another run of this node id holds the
 * lease else 0}. KEYS: nodes, seq, log, owners, order.
 * ARGV: prefix, node, instance, leaseMs, reapNode, retention, reapExpired (1/0).
 */
export const HEARTBEAT = {
  numberOfKeys: 5,
  lua: `
local prefix, self = ARGV[1], ARGV[2]
local leaseKey = prefix .. 'lease:' .. self
local holder = redis.call('GET', leaseKey)
local taken = 0
if holder and holder ~= ARGV[3] and ARGV[5] ~= self then taken = 1 end
redis.call('SET', leaseKey, ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[1], self)
local reaped = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node == ARGV[5] or (ARGV[7] == '1' and node ~= self
      and redis.call('EXISTS', prefix .. 'lease:' .. node) == 0) then
    local namesKey = prefix .. 'names:' .. node
    for _, name in ipairs(redis.call('SMEMBERS', namesKey)) do
      local owner = redis.call('HGET', KEYS[4], name)
      if owner and string.sub(owner, 1, #node + 1) == node .. '/' then
        redis.call('HDEL', KEYS[4], name)
        redis.call('ZREM', KEYS[5], name)
        local seq = redis.call('INCR', KEYS[2])
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*',
          'seq', seq, 'type', 'leave', 'name', name, 'owner', owner)
        reaped = reaped + 1
      end
    end
    redis.call('DEL', namesKey)
    if node ~= self then redis.call('SREM', KEYS[1], node) end
  end
end
return {reaped, taken}`,
};

/**
 * The room as of one point of its log: members in join order with their owners, the last entry's
 * ID and the last sequence number. KEYS: order, owners, log, seq.
 */
export const SNAPSHOT = {
  numberOfKeys: 4,
  lua: `
local names = redis.call('ZRANGE', KEYS[1], 0, -1)
local owners = {}
for i, name in ipairs(names) do owners[i] = redis.call('HGET', KEYS[2], name) or '' end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {names, owners, id, redis.call('GET', KEYS[4]) or '0'}`,
};

/**
 * After Redis lost the room (restarted without its data): this node puts back the names it still
 * serves, each with a `present` entry (not a join: nobody joined, so nobody is told so), which
 * rebuilds every node's roster from the new log. Returns the names another node took meanwhile.
 * KEYS: owners, order, seq, names(node), nodes, log. ARGV: node, retention, then name, owner pairs.
 */
export const RESTORE_MEMBERS = {
  numberOfKeys: 6,
  lua: `
local lost = {}
redis.call('SADD', KEYS[5], ARGV[1])
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    local seq = redis.call('INCR', KEYS[3])
    redis.call('ZADD', KEYS[2], seq, ARGV[i])
    redis.call('SADD', KEYS[4], ARGV[i])
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[2], '*',
      'seq', seq, 'type', 'present', 'name', ARGV[i], 'owner', ARGV[i + 1])
  elseif redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    lost[#lost + 1] = ARGV[i]
  end
end
return lost`,
};

/** A node that stops cleanly: its lease goes at once. KEYS: nodes, lease(node), names(node). ARGV: node, instance. */
export const RELEASE = {
  numberOfKeys: 3,
  lua: `
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if redis.call('SCARD', KEYS[3]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
return 1`,
};
