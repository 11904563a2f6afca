-- wrk script: POST /v1.1/instances/<i>/user/auth/ (password login: one argon2id verification).
-- Set BENCH_INSTANCE, BENCH_API_KEY, BENCH_USERNAME and BENCH_PASSWORD (bench/run does).
wrk.method = "POST"
wrk.path = "/v1.1/instances/" .. os.getenv("BENCH_INSTANCE") .. "/user/auth/"
wrk.headers["X-API-KEY"] = os.getenv("BENCH_API_KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"username": "%s", "password": "%s"}',
                         os.getenv("BENCH_USERNAME"), os.getenv("BENCH_PASSWORD"))

done = function(summary, latency, requests)
  io.write(string.format("non-2xx answers: %d\n", summary.errors.status))
end
