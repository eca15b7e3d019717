-- wrk script: durable intake. Every request is POST /v1/incidents with a grid worker's bearer token,
-- a new point spread over the district (lon 120.70–120.80, lat 37.75–37.82), category 0102 and a
-- client request id unique to the run, the thread and the request, so that no request is taken for
-- a repetition of another (the server deduplicates on it). Counts the responses by status and
-- prints them at the end as "status NNN COUNT" lines, with the body of the first response that was
-- not 201.
--
--   ONEGRID_TOKEN=... [ONEGRID_RUN=unique-run-tag] wrk -t2 -c32 -d10s -s benchmarks/server/intake.lua http://127.0.0.1:PORT

local token = os.getenv("ONEGRID_TOKEN")
if token == nil or token == "" then error("intake.lua: set ONEGRID_TOKEN to a grid_worker token") end
local run_tag = os.getenv("ONEGRID_RUN")
if run_tag == nil or run_tag == "" then run_tag = tostring(os.time()) end

local headers = {
   ["Authorization"] = "Bearer " .. token,
   ["Content-Type"] = "application/json",
}

local threads = {}
local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   first_error = ""
   sent = 0
   -- A different sequence in every thread and every run.
   math.randomseed(thread_no * 1000003 + os.time())
end

function request()
   sent = sent + 1
   local lon = 120.70 + math.random() * 0.10
   local lat = 37.75 + math.random() * 0.07
   local body = string.format('{"category":"0102","lon":%.7f,"lat":%.7f,"description":"bench","request_id":"bench-%s-%d-%d"}',
                              lon, lat, run_tag, thread_no, sent)
   return wrk.format("POST", "/v1/incidents", headers, body)
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status ~= 201 and first_error == "" then first_error = body end
end

function done(summary, latency, requests)
   local total = {}
   local sample = ""
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
      local e = t:get("first_error")
      if sample == "" and e ~= nil and e ~= "" then sample = e end
   end
   local keys = {}
   for k in pairs(total) do table.insert(keys, k) end
   table.sort(keys)
   for _, k in ipairs(keys) do io.write(string.format("status %s %d\n", k, total[k])) end
   if sample ~= "" then io.write("first non-201 body: " .. string.sub(sample, 1, 400) .. "\n") end
end
