-- wrk script: durable intake. Every request is POST /v1/incidents with a grid worker's bearer token,
-- a new point spread over the district (lon 120.70–120.80, lat 37.75–37.82), category 0102 and a
-- client request id unique to the run, the thread and the request, so that no request is taken for
-- a repetition of another (the server deduplicates on it).
--
--   ONEGRID_TOKEN=... [ONEGRID_RUN=unique-run-tag] [ONEGRID_PREPARED=100000] wrk -t2 -c32 -d10s -s benchmarks/server/intake.lua http://127.0.0.1:PORT
--
-- The requests are formatted in init() (ONEGRID_PREPARED per thread; more are made on the way if a
-- run needs them), and there is no response() callback: the load generator shares the cores with
-- the server and should cost as little as it can. At the end it prints "status 2xx N" (answers
-- wrk counted as successes: 201 Created, as a repeated id would be 200) and "status other N".

local token = os.getenv("ONEGRID_TOKEN")
if token == nil or token == "" then error("intake.lua: set ONEGRID_TOKEN to a grid_worker token") end
local run_tag = os.getenv("ONEGRID_RUN")
if run_tag == nil or run_tag == "" then run_tag = tostring(os.time()) end
local prepared = tonumber(os.getenv("ONEGRID_PREPARED") or "100000")

local headers = {
   ["Authorization"] = "Bearer " .. token,
   ["Content-Type"] = "application/json",
}

local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
end

local function make(n)
   local lon = 120.70 + math.random() * 0.10
   local lat = 37.75 + math.random() * 0.07
   local body = string.format('{"category":"0102","lon":%.7f,"lat":%.7f,"description":"bench","request_id":"bench-%s-%d-%d"}',
                              lon, lat, run_tag, thread_no, n)
   return wrk.format("POST", "/v1/incidents", headers, body)
end

function init(args)
   -- A different sequence in every thread and every run.
   math.randomseed(thread_no * 1000003 + os.time())
   requests = {}
   for n = 1, prepared do requests[n] = make(n) end
   sent = 0
end

function request()
   sent = sent + 1
   local r = requests[sent]
   if r == nil then return make(sent) end
   requests[sent] = nil
   return r
end

function done(summary, latency, requests)
   local other = summary.errors.status
   io.write(string.format("status 2xx %d\n", summary.requests - other))
   io.write(string.format("status other %d\n", other))
end
