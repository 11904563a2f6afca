-- wrk script: GET /v1.1/instances/<i>/user/ with an API key and a user key (the hot read path).
-- Set BENCH_INSTANCE, BENCH_API_KEY and BENCH_USER_KEY (bench/run does).
wrk.method = "GET"
wrk.path = "/v1.1/instances/" .. os.getenv("BENCH_INSTANCE") .. "/user/"
wrk.headers["X-API-KEY"] = os.getenv("BENCH_API_KEY")
wrk.headers["X-USER-KEY"] = os.getenv("BENCH_USER_KEY")

done = function(summary, latency, requests)
  io.write(string.format("non-200 answers: %d\n", summary.errors.status))
end
