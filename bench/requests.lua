-- wrk script: POSTs the requests of a file, one a line: path TAB header TAB value TAB body.
-- Thread i of n takes lines i, i+n, ... so a line (a signed callback) is sent once per pass.
-- done() prints one JSON line: requests, seconds, p50/p99 (ms), status counts, errors.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, count = args[1], tonumber(args[2])
  requests, statuses, position = {}, {}, 0
  local line_no = 0
  for line in io.lines(file) do
    if line_no % count == index then
      local path, name, value, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/json", [name] = value}
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    line_no = line_no + 1
  end
  assert(#requests > 0, "fewer lines than threads in " .. file)
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests_)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, seen in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + seen
    end
  end
  local parts = {}
  for status, seen in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, seen))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "statuses": {%s}, '
      .. '"socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, table.concat(parts, ", "),
    e.connect + e.read + e.write + e.timeout))
end
