-- wrk script: requests as many different users, one after another, round the sample that
-- latchkey_seed_users wrote (bench/scale). BENCH_MODE=user: GET user/ with each user's key;
-- BENCH_MODE=login: POST user/auth/ with each username and BENCH_PASSWORD.
-- Set BENCH_INSTANCE, BENCH_API_KEY, BENCH_SAMPLES (the sample file) and BENCH_MODE.
local users = {}
for line in io.lines(os.getenv("BENCH_SAMPLES")) do
  local name, key = line:match("^(%S+) (%S+)$")
  users[#users + 1] = {name = name, key = key}
end
local mode = os.getenv("BENCH_MODE")
local base = "/v1.1/instances/" .. os.getenv("BENCH_INSTANCE") .. "/user/"
local api = os.getenv("BENCH_API_KEY")
local password = os.getenv("BENCH_PASSWORD")
local next = 0

request = function()
  next = next % #users + 1
  local user = users[next]
  if mode == "login" then
    local body = string.format('{"username": "%s", "password": "%s"}', user.name, password)
    return wrk.format("POST", base .. "auth/",
                      {["X-API-KEY"] = api, ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", base, {["X-API-KEY"] = api, ["X-USER-KEY"] = user.key})
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx answers: %d\n", summary.errors.status))
end
