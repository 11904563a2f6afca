-- wrk script: one request of the Buzz /rest flow. Set BENCH_METHOD, BENCH_PATH, and optionally
-- BENCH_BODY (JSON) and BENCH_COOKIE ("name=value") (bench/run does).
wrk.method = os.getenv("BENCH_METHOD")
wrk.path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx answers: %d\n", summary.errors.status))
end
