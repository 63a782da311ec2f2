-- Checkouts through purchase's API, two requests each: POST /api/orders (one copy of a book drawn
-- from BOOK_IDS, a fresh Idempotency-Key), then POST /api/orders/:id/payment with the order's id
-- and the approved test card. wrk sends one request per connection at a time; an order's answer
-- queues its payment, and the thread's next request sends it.
-- wrk -s bench/lua/checkout.lua http://127.0.0.1:3003 -- PROVIDER_ID EXP_YEAR BOOK_IDS BUYER_ID:TOKEN...
-- done() prints: bench: checkout placed=N paid=N pending=N refused=N failed=N seconds=S

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Keys must differ between runs (the warm-up and the measured run send the same arguments).
function random_hex(bytes)
  local source = assert(io.open("/dev/urandom", "rb"))
  local text = source:read(bytes)
  source:close()
  return (string.gsub(text, ".", function(c) return string.format("%02x", string.byte(c)) end))
end

function init(args)
  provider_id = args[1]
  exp_year = args[2]
  books = {}
  for id in string.gmatch(args[3], "%d+") do table.insert(books, id) end
  tokens = {}
  buyers = {}
  for i = 4, #args do
    local buyer, token = string.match(args[i], "^(%d+):(.+)$")
    tokens[buyer] = token
    table.insert(buyers, buyer)
  end
  key_prefix = "bench-" .. random_hex(8) .. "-" .. thread_number .. "-"
  sent = 0
  awaiting_payment = {}
  placed, paid, pending, refused, failed = 0, 0, 0, 0, 0
  math.randomseed(os.time() * 100 + thread_number)
  payment_body = '{"cardNumber":"4242424242424242","expMonth":12,"expYear":' .. exp_year .. ',"cvc":"123","holder":"Bench Buyer"}'
end

local function headers_for(buyer)
  sent = sent + 1
  return {
    ["Authorization"] = "Bearer " .. tokens[buyer],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key_prefix .. sent,
  }
end

function request()
  local order = table.remove(awaiting_payment)
  if order then
    return wrk.format("POST", "/api/orders/" .. order.id .. "/payment", headers_for(order.buyer), payment_body)
  end
  local buyer = buyers[(sent % #buyers) + 1]
  local body = '{"items":[{"bookId":' .. books[math.random(#books)] .. ',"quantity":1}],"providerId":' .. provider_id .. '}'
  return wrk.format("POST", "/api/orders", headers_for(buyer), body)
end

function response(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"id":"(ord_[a-z2-7]+)"')
    local buyer = string.match(body, '"buyerId":(%d+)')
    if id and buyer and tokens[buyer] then
      placed = placed + 1
      table.insert(awaiting_payment, { id = id, buyer = buyer })
    else
      failed = failed + 1
    end
  elseif status == 200 and string.find(body, '"status":"paid"', 1, true) then
    paid = paid + 1
  elseif status == 202 then
    pending = pending + 1
  elseif status == 409 then
    refused = refused + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local totals = { placed = 0, paid = 0, pending = 0, refused = 0, failed = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + (thread:get(name) or 0) end
  end
  io.write(string.format("bench: checkout placed=%d paid=%d pending=%d refused=%d failed=%d seconds=%.3f\n",
    totals.placed, totals.paid, totals.pending, totals.refused, totals.failed, summary.duration / 1e6))
end
