-- SPDX-License-Identifier: Apache-2.0
-- wrk script of the end-to-end benchmark.
--
--   wrk ... -s bench/lua/workload.lua URL -- INPUT_DIR WORKLOAD
--
-- INPUT_DIR/WORKLOAD.path holds the request path (with its query), and
-- INPUT_DIR/WORKLOAD.cookie, when it exists, the Cookie header value.
-- bench/lib.sh writes these files; its curl checks send the very same bytes.
-- The request is built once in init() and is static, so wrk's own cost is
-- the same for every variant.  done() prints one machine-readable line.

local function slurp(name)
   local f = io.open(name, "rb")
   if not f then return nil end
   local s = f:read("*a")
   f:close()
   return (s:gsub("[\r\n]+$", ""))
end

function init(args)
   local dir, workload = args[1], args[2]
   if not dir or not workload then
      error("usage: -- INPUT_DIR WORKLOAD")
   end
   local path = slurp(dir .. "/" .. workload .. ".path")
   if not path then
      error("no input " .. dir .. "/" .. workload .. ".path")
   end
   wrk.path = path
   local cookie = slurp(dir .. "/" .. workload .. ".cookie")
   if cookie then
      wrk.headers["Cookie"] = cookie
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d " ..
      "max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d " ..
      "err_timeout=%d\n",
      summary.requests, summary.duration,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
