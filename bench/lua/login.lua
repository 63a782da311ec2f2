-- POST /api/sessions on auth, cycling through COUNT accounts bench-login-<n>@bench.test that share
-- one password. Each account logs in from its own address, passed the way the web front passes a
-- browser's (X-Client-Address with the service token), so neither the per-account nor the
-- per-address throttle is what is measured.
-- wrk -s bench/lua/login.lua http://127.0.0.1:3001 -- COUNT PASSWORD SERVICE_TOKEN

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  count = tonumber(args[1])
  password = args[2]
  service_token = args[3]
  -- Threads start at different accounts and step over each other's.
  next_account = thread_number * 7919
end

function request()
  next_account = next_account + 1
  local n = next_account % count
  local body = '{"email":"bench-login-' .. n .. '@bench.test","password":"' .. password .. '"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Service-Token"] = service_token,
    ["X-Client-Address"] = "10.77." .. math.floor(n / 256) .. "." .. (n % 256),
  }
  return wrk.format("POST", "/api/sessions", headers, body)
end
