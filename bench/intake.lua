-- wrk script for bench/intake.sh: signed webhook deliveries, each with its
-- own X-GitHub-Delivery (so none is a redelivery), one body signed once.
local counter = 0
local thread_id = 0
local body, signature, event

function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
end

function init(args)
  event = args[1]
  body = io.open(args[2]):read("*a")
  signature = io.open(args[3]):read("*l")
end

function request()
  counter = counter + 1
  local headers = {
    ["X-GitHub-Event"] = event,
    ["X-GitHub-Delivery"] = "bench-" .. id .. "-" .. counter .. "-" .. math.random(1, 1000000000),
    ["X-Hub-Signature-256"] = signature,
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/webhook", headers, body)
end

function response(status)
  if status ~= 202 then
    error("unexpected status " .. status)
  end
end
