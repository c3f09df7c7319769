-- wrk script for bench/run: one request shape per run, chosen by environment variables, and a
-- machine-readable summary line at the end.
--
--   BENCH_BODY=<json>       POST this JSON body (verify, login, the floor)
--   BENCH_AUTH=<value>      send "Authorization: <value>" (GET /api/me/)
--   BENCH_REFRESH=<file>    refresh rotation: POST {"refresh": token}, a token from <file> (one
--                           a line), then the new refresh token from each 200 answer. Each token
--                           is used once, as rotation with BLACKLIST_AFTER_ROTATION demands:
--                           thread i of BENCH_THREADS takes lines i, i+n, i+2n, ...
--
-- done() prints one line: "RESULT requests=N seconds=S rps=R p50_ms=A p99_ms=B p999_ms=C errors=E
-- non2xx=M", where errors counts socket errors (connect, read, write, timeout).

local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local refresh_file = os.getenv("BENCH_REFRESH")

wrk.headers["Accept"] = "application/json"
if auth and auth ~= "" then
   wrk.headers["Authorization"] = auth
end
if body and body ~= "" then
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = "application/json"
end

local counter = 0
function setup(thread)
   thread:set("thread_index", counter)
   counter = counter + 1
end

if refresh_file and refresh_file ~= "" then
   local tokens = {}

   function init(args)
      local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
      local n = 0
      for line in io.lines(refresh_file) do
         if line ~= "" then
            if n % threads == thread_index then
               tokens[#tokens + 1] = line
            end
            n = n + 1
         end
      end
   end

   function request()
      -- An empty pool sends an empty token: a 400, counted as an error, never a silent stall.
      local token = table.remove(tokens) or ""
      return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
                        '{"refresh":"' .. token .. '"}')
   end

   function response(status, headers, resp_body)
      if status == 200 then
         local token = resp_body:match('"refresh"%s*:%s*"([^"]+)"')
         if token then
            tokens[#tokens + 1] = token
         end
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f errors=%d non2xx=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000,
      e.connect + e.read + e.write + e.timeout, e.status))
end
