/**
 * The Lua scripts of RedisStorage (registered with ioredis `defineCommand`, run with EVALSHA). A script
 * runs atomically: nothing else happens in Redis while it runs.
 *
 * Keys are computed from the prefix (ARGV), not declared in KEYS: the layout fits a single Redis server
 * (or one primary with replicas), not Redis Cluster. The key names here and in `RedisKeys` (keys.ts)
 * must agree.
 */

/**
 * The commit of a write, and the check of a read set.
 *
 * ARGV[1] is a JSON program:
 * - `guards`: what the write read, each compared with what Redis holds now —
 *   `["get", key, value|null]`, `["hget", key, field, value|null]`, `["hgetall", key, {field: value}]`,
 *   `["smembers", key, [member…]]`. The first that differs aborts: `{0, index}` (nothing written).
 * - `check`: only compare the guards (`{1}` when they all hold).
 * - `events`: audit events (JSON); each gets the next id of `seq` and is appended to the `stream` under
 *   the entry id `0-<id>` (trimmed to about `max` entries when `max` > 0).
 * - `ops`: the writes — `["set", key, value]`, `["del", key]`, `["hset", key, field, value]`,
 *   `["hdel", key, field]`, `["sadd", key, member]`, `["srem", key, member]`, `["rpush", key, value]`.
 * - `revision`, `bump`, `epoch`, `epochValue`: the revision counter is incremented once per commit that changes
 *   what the snapshot holds (`bump`); the epoch is
 *   set when missing (a flushed store starts a new one).
 *
 * Returns `{1, revision, {eventIds…}, epoch}` once applied. Guards are all compared, and every op checked,
 * before the first write: a refused commit writes nothing.
 */
export const COMMIT_SCRIPT = `
local p = cjson.decode(ARGV[1])
local null = cjson.null
local function same(actual, expected)
  if expected == null then return actual == false end
  return actual == expected
end
for i, g in ipairs(p.guards) do
  local kind = g[1]
  local ok
  if kind == 'get' then
    ok = same(redis.call('GET', g[2]), g[3])
  elseif kind == 'hget' then
    ok = same(redis.call('HGET', g[2], g[3]), g[4])
  elseif kind == 'hgetall' then
    local flat = redis.call('HGETALL', g[2])
    local expected = g[3]
    local n = 0
    ok = true
    for j = 1, #flat, 2 do
      n = n + 1
      if expected[flat[j]] ~= flat[j + 1] then ok = false break end
    end
    if ok then
      local m = 0
      for _ in pairs(expected) do m = m + 1 end
      ok = m == n
    end
  elseif kind == 'smembers' then
    local members = redis.call('SMEMBERS', g[2])
    local expected = {}
    local m = 0
    for _, v in ipairs(g[3]) do expected[v] = true m = m + 1 end
    ok = #members == m
    if ok then
      for _, v in ipairs(members) do
        if not expected[v] then ok = false break end
      end
    end
  else
    return redis.error_reply('feature flags: unknown guard ' .. tostring(kind))
  end
  if not ok then return {0, i} end
end
if p.check then return {1} end
local arity = { set = 3, del = 2, hset = 4, hdel = 3, sadd = 3, srem = 3, rpush = 3 }
for _, o in ipairs(p.ops) do
  if arity[o[1]] == nil or #o ~= arity[o[1]] then
    return redis.error_reply('feature flags: malformed op ' .. tostring(o[1]))
  end
end
local ids = {}
for i, e in ipairs(p.events) do
  local id = redis.call('INCR', p.seq)
  if tonumber(p.max) > 0 then
    redis.call('XADD', p.stream, 'MAXLEN', '~', p.max, '0-' .. id, 'event', e)
  else
    redis.call('XADD', p.stream, '0-' .. id, 'event', e)
  end
  ids[i] = id
end
for _, o in ipairs(p.ops) do
  local c = o[1]
  if c == 'set' then redis.call('SET', o[2], o[3])
  elseif c == 'del' then redis.call('DEL', o[2])
  elseif c == 'hset' then redis.call('HSET', o[2], o[3], o[4])
  elseif c == 'hdel' then redis.call('HDEL', o[2], o[3])
  elseif c == 'sadd' then redis.call('SADD', o[2], o[3])
  elseif c == 'srem' then redis.call('SREM', o[2], o[3])
  elseif c == 'rpush' then redis.call('RPUSH', o[2], o[3])
  end
end
redis.call('SET', p.epoch, p.epochValue, 'NX')
local revision
if p.bump then revision = redis.call('INCR', p.revision) else revision = tonumber(redis.call('GET', p.revision) or '0') end
return {1, revision, ids, redis.call('GET', p.epoch)}
`;

/**
 * Consistent reads that span several keys (an index, then the records it names), in one atomic step.
 *
 * ARGV: prefix, what, a, b. `what`:
 * - `snapshot`: `{environments, flags, overrides, segments}` (JSON records);
 * - `environments`, `flags`, `segments`: every record of the kind;
 * - `overrides`: overrides, of environment id `a` and/or flag id `b` when not empty;
 * - `environment-by-id`, `flag-by-id`, `segment-by-id`: the record of id `a`, or nil;
 * - `override`: the override of environment id `a` and flag id `b`, or nil;
 * - `api-token-by-secret`, `client-key-by-secret`: the token or key whose secret hash is `a`, or nil;
 * - `api-tokens`, `client-keys`, `change-requests`: every record, in creation order.
 */
export const READ_SCRIPT = `
local p, what, a, b = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function all(index, prefix)
  local out = {}
  for _, name in ipairs(redis.call('HVALS', p .. index)) do
    local v = redis.call('GET', p .. prefix .. name)
    if v then out[#out + 1] = v end
  end
  return out
end
local function listed(list, prefix)
  local out = {}
  for _, id in ipairs(redis.call('LRANGE', p .. list, 0, -1)) do
    local v = redis.call('GET', p .. prefix .. id)
    if v then out[#out + 1] = v end
  end
  return out
end
local function byId(index, prefix, id)
  local name = redis.call('HGET', p .. index, id)
  if not name then return false end
  return redis.call('GET', p .. prefix .. name)
end
local function override(slug, key, out)
  local v = redis.call('GET', p .. 'override:' .. slug .. ':' .. key)
  if v then out[#out + 1] = v end
end
local function overridesOf(envId, slug, onlyFlag, out)
  for _, flagId in ipairs(redis.call('SMEMBERS', p .. 'environment-overrides:' .. envId)) do
    if onlyFlag == '' or onlyFlag == flagId then
      local key = redis.call('HGET', p .. 'index:flags', flagId)
      if key then override(slug, key, out) end
    end
  end
end
local function overrides(envId, flagId)
  local out = {}
  if envId ~= '' then
    local slug = redis.call('HGET', p .. 'index:environments', envId)
    if slug then overridesOf(envId, slug, flagId, out) end
  elseif flagId ~= '' then
    local key = redis.call('HGET', p .. 'index:flags', flagId)
    if key then
      for _, id in ipairs(redis.call('SMEMBERS', p .. 'flag-overrides:' .. flagId)) do
        local slug = redis.call('HGET', p .. 'index:environments', id)
        if slug then override(slug, key, out) end
      end
    end
  else
    local flat = redis.call('HGETALL', p .. 'index:environments')
    for i = 1, #flat, 2 do overridesOf(flat[i], flat[i + 1], '', out) end
  end
  return out
end
if what == 'snapshot' then
  return {all('index:environments', 'environment:'), all('index:flags', 'flag:'), overrides('', ''), all('index:segments', 'segment:')}
elseif what == 'environments' then return all('index:environments', 'environment:')
elseif what == 'flags' then return all('index:flags', 'flag:')
elseif what == 'segments' then return all('index:segments', 'segment:')
elseif what == 'overrides' then return overrides(a, b)
elseif what == 'environment-by-id' then return byId('index:environments', 'environment:', a)
elseif what == 'flag-by-id' then return byId('index:flags', 'flag:', a)
elseif what == 'segment-by-id' then return byId('index:segments', 'segment:', a)
elseif what == 'override' then
  local slug = redis.call('HGET', p .. 'index:environments', a)
  local key = redis.call('HGET', p .. 'index:flags', b)
  if not slug or not key then return false end
  return redis.call('GET', p .. 'override:' .. slug .. ':' .. key)
elseif what == 'api-token-by-secret' then return byId('index:api-token-secrets', 'api-token:', a)
elseif what == 'api-tokens' then return listed('api-tokens', 'api-token:')
elseif what == 'client-key-by-secret' then return byId('index:client-key-secrets', 'client-key:', a)
elseif what == 'client-keys' then return listed('client-keys', 'client-key:')
elseif what == 'change-requests' then return listed('change-requests', 'change-request:')
end
return redis.error_reply('feature flags: unknown read ' .. tostring(what))
`;
