-- The catalog's cache version, held in this gateway's memory: it keys the gateway's cache of
-- public catalog answers (gateway.conf.template), so a new version makes every cached answer old.
--
-- Two ways in, no shared file:
-- * catalog pushes each new version to every gateway (PUT /catalog-cache-version on the
--   internal port) after the write commits and before the write answers (catalog/gateways.py);
-- * worker 0 polls catalog's own version endpoint every LEASE/3 seconds, which teaches a new or
--   restarted gateway the version and renews its lease.
-- The version only moves forward, whatever order pushes and polls arrive in.
--
-- The version is trusted only under a lease: LEASE seconds from when the last poll that answered
-- was sent. Without one (no poll answered yet, or catalog unreachable that long) the gateway
-- serves nothing from its cache and every public read goes on to catalog.
--
-- Why no replica serves an answer older than a write that has answered: catalog answers a write
-- once every gateway it knows took the push, or else once LEASE seconds (and a margin) have passed
-- since the commit. A gateway that missed the push holds the older version only under the lease
-- of a poll that read it before the commit, so was sent before the commit: that lease has run
-- out by then. Leases are counted on the monotonic clock, so a step of the wall clock moves none.
local time = require("resty.core.time")

local shared = ngx.shared.catalog_version
-- Held while a read-then-write of the dict runs: each dict operation is atomic, a pair is not.
-- It expires by itself after a second, should a worker die holding it.
local LOCK = "lock"
local VERSION = "version"
local LEASE_UNTIL_MS = "lease_until_ms"
local POLL_PATH = "/catalog-cache-version/poll"
local POLL_TIMEOUT_MS = 1000

local function as_version(text)
    local version = tonumber(text)
    if version and version >= 0 and version % 1 == 0 then
        return version
    end
    return nil
end

local function raise(version, lease_until_ms)
    while not shared:add(LOCK, true, 1) do
        ngx.sleep(0.001)
    end
    if version > (shared:get(VERSION) or -1) then
        shared:set(VERSION, version)
    end
    if lease_until_ms and lease_until_ms > (shared:get(LEASE_UNTIL_MS) or 0) then
        shared:set(LEASE_UNTIL_MS, lease_until_ms)
    end
    shared:delete(LOCK)
end

local function json_error(status, detail)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.say('{"detail":"' .. detail .. '","status":' .. status .. "}")
    return ngx.exit(status)
end

local M = {}

-- The version to key the cache with, or "" (cache skipped) without a lease.
function M.current()
    local lease_until_ms = shared:get(LEASE_UNTIL_MS)
    if not lease_until_ms or lease_until_ms <= time.monotonic_msec() then
        return ""
    end
    return tostring(shared:get(VERSION) or "")
end

-- PUT /catalog-cache-version with the version as its body: catalog's push.
function M.take_push()
    if ngx.req.get_method() ~= "PUT" then
        ngx.header["Allow"] = "PUT"
        return json_error(405, "PUT the catalog's cache version here.")
    end
    ngx.req.read_body()
    local version = as_version(ngx.req.get_body_data())
    if not version then
        return json_error(400, "The body must be the catalog's cache version: a whole number.")
    end
    -- A push renews no lease: a delayed push of an old version must not extend what a poll
    -- proved, since catalog's wait for an unreachable gateway counts from its commit.
    raise(version, nil)
    return ngx.exit(ngx.HTTP_NO_CONTENT)
end

local function poll(premature, host, port, lease_ms)
    if premature then
        return
    end
    local asked_at_ms = time.monotonic_msec()
    local socket = ngx.socket.tcp()
    socket:settimeout(POLL_TIMEOUT_MS)
    local ok, err = socket:connect(host, port)
    if not ok then
        ngx.log(ngx.WARN, "catalog cache version: cannot reach this gateway's internal server: ", err)
        return
    end
    socket:send("GET " .. POLL_PATH .. " HTTP/1.0\r\nHost: gateway\r\n\r\n")
    local status_line, receive_err = socket:receive("*l")
    local line = status_line
    while line and line ~= "" do
        line = socket:receive("*l")
    end
    local body = socket:receive("*a")
    socket:close()
    local version = status_line and status_line:match("^HTTP/%d%.%d 200 ") and as_version(body)
    if not version then
        ngx.log(ngx.WARN, "catalog cache version: none from catalog: ", status_line or receive_err)
        return
    end
    raise(version, asked_at_ms + lease_ms)
end

-- From init_worker: the first worker polls at once, then every lease/3 seconds, through this
-- gateway's own internal server, which proxies to catalog (so catalog is found the way every
-- route finds it). ``internal_listen`` is that server's listen: an IP address and port, or a
-- port alone (every address: this one is reached on the loopback).
function M.start_polling(internal_listen, lease_seconds)
    if ngx.worker.id() ~= 0 then
        return
    end
    local host, port = internal_listen:match("^(.+):(%d+)$")
    if not host then
        host, port = "127.0.0.1", internal_listen
    elseif host == "*" or host == "0.0.0.0" then
        host = "127.0.0.1"
    end
    local lease_ms = lease_seconds * 1000
    ngx.timer.at(0, poll, host, tonumber(port), lease_ms)
    local ok, err = ngx.timer.every(lease_seconds / 3, poll, host, tonumber(port), lease_ms)
    if not ok then
        ngx.log(ngx.ERR, "catalog cache version: cannot poll: ", err)
    end
end

return M
