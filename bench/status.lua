-- wrk script: one request from the environment (BENCH_METHOD, BENCH_PATH, BENCH_BODY, and
-- BENCH_API_KEY / BENCH_USER_KEY as X-API-KEY / X-USER-KEY when set), counting the answers
-- by status.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH") or "/healthz"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
if os.getenv("BENCH_API_KEY") then wrk.headers["X-API-KEY"] = os.getenv("BENCH_API_KEY") end
if os.getenv("BENCH_USER_KEY") then wrk.headers["X-USER-KEY"] = os.getenv("BENCH_USER_KEY") end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end

done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  local line = "answers by status:"
  for status, n in pairs(total) do line = line .. string.format(" %d=%d", status, n) end
  io.write(line .. "\n")
end
