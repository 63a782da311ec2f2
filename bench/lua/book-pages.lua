-- GET /books/:id for ids drawn at random from the catalog, so no single page is ever hot.
-- wrk -s bench/lua/book-pages.lua http://127.0.0.1:3000 -- FIRST_ID LAST_ID

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  first_id = tonumber(args[1])
  last_id = tonumber(args[2])
  math.randomseed(os.time() * 100 + thread_number)
end

function request()
  return wrk.format("GET", "/books/" .. math.random(first_id, last_id))
end
