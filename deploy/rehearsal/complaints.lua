-- wrk script for scripts/rehearse: every request is a new complaint from a different citizen,
-- with an Idempotency-Key of its own, so a request nginx retries on another intake process
-- (proxy_next_upstream ... non_idempotent) can never become a second complaint.
--
--   wrk -t2 -c16 -d30s --timeout 10s -s complaints.lua http://127.0.0.1:PORT/api/v1/complaints -- RUN OUTDIR
--
-- RUN names the run (it prefixes every key); each thread writes OUTDIR/acks-RUN-<thread>.txt
-- (the ticket of every 2xx answer, one a line) and OUTDIR/status-RUN-<thread>.txt (the status
-- of every other answer). `done` prints one machine-readable line: REHEARSE rps=... .

local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

-- Categories with a province-wide routing rule (data/routing-rules.toml), so routing assigns
-- every complaint to a unit: one in triage means routing was not reached.
local categories = { "kesehatan", "pendidikan", "transportasi", "bencana", "ketenagakerjaan", "listrik", "pertanahan" }
local regions = { "52.01", "52.02", "52.03", "52.04", "52.05", "52.06", "52.07", "52.08", "52.71", "52.72" }
local what = { "Jalan rusak", "Lampu jalan mati", "Pelayanan lambat", "Pungutan liar", "Sekolah kekurangan guru",
  "Puskesmas tutup", "Banjir di permukiman", "Bus tidak beroperasi", "Upah tidak dibayar", "Listrik padam" }
local where = { "di depan pasar", "dekat kantor desa", "di jalan utama", "di dusun kami", "sejak seminggu" }

local counter = 0

function init(args)
  run = args[1] or "run"
  local out = args[2] or "."
  acks = assert(io.open(string.format("%s/acks-%s-%d.txt", out, run, tid), "w"))
  statuses = assert(io.open(string.format("%s/status-%s-%d.txt", out, run, tid), "w"))
  -- Line-buffered: a line written is a line kept, whatever ends wrk.
  acks:setvbuf("line")
  statuses:setvbuf("line")
  math.randomseed(os.time() * 100 + tid)
end

local function pick(list)
  return list[math.random(#list)]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"description": "%s %s (uji beban %s-%d-%d)", "region_code": "%s", "category": "%s", "privacy": "public", '
      .. '"reporter": {"name": "Warga Uji", "phone": "+62812%08d"}}',
    pick(what), pick(where), run, tid, counter, pick(regions), pick(categories), math.random(0, 99999999))
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, counter),
  }
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    acks:write((body:match('"ticket"%s*:%s*"([^"]+)"') or "?"), "\n")
  else
    statuses:write(status, "\n")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "REHEARSE rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d socket_errors=%d timeouts=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.connect + e.read + e.write, e.timeout, e.status))
end
