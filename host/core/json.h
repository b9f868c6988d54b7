// JSON text for the API, the journal and the command line. Text in it can
// come from plugins and users, so invalid UTF-8 is replaced (U+FFFD) rather
// than thrown: one bad reject reason must not stop the core thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace th {

inline std::string jsonText(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A quoted, escaped JSON string.
inline std::string jsonString(std::string_view text) { return jsonText(nlohmann::json(std::string(text))); }

}  // namespace th
