-- The tradehost strategy library: require "th" for all of it, or one part
-- ("th.time", "th.session").
return {
  time = require("th.time"),
  session = require("th.session"),
}
