-- SPDX-License-Identifier: Apache-2.0
-- wrk_sticky.lua - wrk load that checks stickiness on every response.
--
--   wrk -s wrk_sticky.lua URL -- PREFIX ROUTES
--
-- PREFIX is the balancer's path ("/k"), ROUTES a comma-separated list of
-- member routes ("K4" or "K1,K2,K3").  Thread i sticks to route
-- ROUTES[i mod n]; its requests alternate between the route cookie
-- (ROUTEID=.ROUTE) and the URL parameter (alias=wI.ROUTE with a cookie
-- naming no member).  The members answer {"member": NAME, ...} and are
-- named like their routes in lower case, so every response is counted as
-- ok (that member answered), mismatched (another member did) or non200.
-- The totals are printed by done() as one "wrk-sticky:" line.

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
    table.insert(threads, thread)
end

function init(args)
    prefix = args[1]
    local routes = {}
    for r in string.gmatch(args[2], "[^,]+") do
        table.insert(routes, r)
    end
    route = routes[(id - 1) % #routes + 1]
    expect = '"member": "' .. string.lower(route) .. '"'
    ok, mismatched, non200, n = 0, 0, 0, 0
end

function request()
    n = n + 1
    if n % 2 == 0 then
        return wrk.format("GET", prefix .. "/wrk?alias=w" .. id .. "." ..
                          route, {["Cookie"] = "ROUTEID=.none"})
    end
    return wrk.format("GET", prefix .. "/wrk/" .. n,
                      {["Cookie"] = "_ga=GA1.2.3; ROUTEID=." .. route})
end

function response(status, headers, body)
    if status ~= 200 then
        non200 = non200 + 1
    elseif string.find(body, expect, 1, true) then
        ok = ok + 1
    else
        mismatched = mismatched + 1
    end
end

function done(summary, latency, requests)
    local o, m, b = 0, 0, 0
    for _, t in ipairs(threads) do
        o = o + t:get("ok")
        m = m + t:get("mismatched")
        b = b + t:get("non200")
    end
    local e = summary.errors
    io.write(string.format("wrk-sticky: requests %d ok %d mismatched %d " ..
                           "non200 %d connect %d read %d write %d " ..
                           "timeout %d\n", summary.requests, o, m, b,
                           e.connect, e.read, e.write, e.timeout))
end
