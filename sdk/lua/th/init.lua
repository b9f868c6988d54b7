-- The tradehost strategy library: require "th" for all of it, or one part
-- ("th.time", "th.session", "th.indicators", "th.options", "th.sizing").
return {
  time = require("th.time"),
  session = require("th.session"),
  indicators = require("th.indicators"),
  options = require("th.options"),
  sizing = require("th.sizing"),
}
