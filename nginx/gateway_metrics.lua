-- The gateway's own Prometheus metrics: counted by every nginx worker in one shared dict
-- (gateway.conf.template: the main server's log phase, and the token check's answers), rendered
-- on the internal server's /metrics, which no public route reaches.
--
-- Each key of the dict is a whole series, name and labels ('gateway_requests_total{...}'), and its
-- value the series' value: a dict operation is atomic, so workers never lose a count. A histogram
-- keeps its buckets cumulative as Prometheus reads them: an observation adds one to every bucket
-- it fits in.
local shared = ngx.shared.gateway_metrics

-- Seconds, as Prometheus' client libraries bucket latencies by default.
local BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }

local FAMILIES = {
    { "gateway_requests_total", "counter", "Requests the gateway answered, by the service it asked (gateway: none) and status." },
    { "gateway_upstream_response_seconds", "histogram", "How long a service took to answer the gateway, by service." },
    { "gateway_cache_requests_total", "counter", "Answers the gateway could cache, by service and cache status (HIT, MISS, BYPASS, EXPIRED...)." },
    { "gateway_token_checks_total", "counter", "The gateway's token checks (auth's /internal/verify), by result and whether its cache answered." },
}

local function add(series, amount)
    local _, err = shared:incr(series, amount or 1, 0)
    if err then
        ngx.log(ngx.WARN, "gateway metrics: cannot count ", series, ": ", err)
    end
end

local function observe(name, labels, seconds)
    for _, bound in ipairs(BUCKETS) do
        if seconds <= bound then
            add(name .. "_bucket{" .. labels .. ',le="' .. bound .. '"}')
        end
    end
    add(name .. "_bucket{" .. labels .. ',le="+Inf"}')
    add(name .. "_sum{" .. labels .. "}", seconds)
    add(name .. "_count{" .. labels .. "}")
end

-- "0.004", or one time per upstream tried ("0.002, 0.010") or per internal redirect ("0.1 : 0.2").
local function total_seconds(times)
    local total, any = 0, false
    for number in string.gmatch(times or "", "[%d%.]+") do
        total, any = total + tonumber(number), true
    end
    return any and total or nil
end

-- The family a series belongs to: its name, less a histogram's _bucket, _sum or _count.
local function family_of(series, kind)
    local name = series:match("^([%w_]+){") or ""
    if kind == "histogram" then
        name = name:gsub("_bucket$", ""):gsub("_sum$", ""):gsub("_count$", "")
    end
    return name
end

local M = {}

-- The series a request is counted in, built once per worker for each pair of label values
-- (strings built per request are work on the path of every cached read). The pairs are few:
-- the services of the routes, HTTP statuses, cache statuses.
local function memoized(build)
    local by_first = {}
    return function(first, second)
        local by_second = by_first[first]
        if not by_second then
            by_second = {}
            by_first[first] = by_second
        end
        local key = by_second[second]
        if not key then
            key = build(first, second)
            by_second[second] = key
        end
        return key
    end
end

local requests_series = memoized(function(service, status)
    return 'gateway_requests_total{service="' .. service .. '",status="' .. status .. '"}'
end)
local cache_series = memoized(function(service, status)
    return 'gateway_cache_requests_total{service="' .. service .. '",status="' .. status .. '"}'
end)

-- The service a request went to: the one its path names (/api/<service>/, /admin/<service>/,
-- /static/<service>/), auth for the other routes it serves (the login pages), or "gateway" when
-- no service was asked (the gateway's own answers, its refusals). Only a request the gateway
-- passed on or answered from its cache is labelled with a name from its path, so a client
-- cannot make up labels.
local function service_of(var, cache_status)
    if cache_status == "" and (var.upstream_addr or "") == "" then
        return "gateway"
    end
    local uri = var.uri
    return string.match(uri, "^/api/([%w_-]+)/")
        or string.match(uri, "^/admin/([%w_-]+)/")
        or string.match(uri, "^/static/([%w_-]+)/")
        or "auth"
end

-- The main server's log phase: every request, whichever location answered it.
function M.request_done()
    local var = ngx.var
    local cache_status = var.upstream_cache_status or ""
    local service = service_of(var, cache_status)
    add(requests_series(service, ngx.status))
    if cache_status ~= "" then
        add(cache_series(service, cache_status))
        -- A hit asked no service: it has no upstream time to observe.
        if cache_status == "HIT" then
            return
        end
    end
    local seconds = total_seconds(var.upstream_response_time)
    if seconds then
        observe("gateway_upstream_response_seconds", 'service="' .. service .. '"', seconds)
    end
end

-- The header filter of the token check's subrequest: auth's answer, or its cached copy.
function M.token_checked()
    local status = ngx.status
    local result = "unavailable"
    if status >= 200 and status < 300 then
        result = "valid"
    elseif status == 401 or status == 403 then
        result = "refused"
    end
    local cache = ngx.var.upstream_cache_status
    if not cache or cache == "" then
        cache = "NONE"
    end
    add('gateway_token_checks_total{result="' .. result .. '",cache="' .. cache .. '"}')
end

-- GET /metrics on the internal server: Prometheus' text format.
function M.render()
    local series = shared:get_keys(0)
    table.sort(series)
    local lines = {}
    for _, family in ipairs(FAMILIES) do
        local name, kind, help = family[1], family[2], family[3]
        lines[#lines + 1] = "# HELP " .. name .. " " .. help
        lines[#lines + 1] = "# TYPE " .. name .. " " .. kind
        for _, key in ipairs(series) do
            if family_of(key, kind) == name then
                lines[#lines + 1] = key .. " " .. tostring(shared:get(key) or 0)
            end
        end
    end
    ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    ngx.say(table.concat(lines, "\n"))
end

return M
