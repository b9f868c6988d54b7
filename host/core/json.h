// JSON text for the API, the journal and the command line. Text in it can
// come from plugins and users, so invalid UTF-8 is replaced (U+FFFD) rather
// than thrown: one bad reject reason must not stop the core thread.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace th {

inline std::string jsonText(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A quoted, escaped JSON string.
inline std::string jsonString(std::string_view text) { return jsonText(nlohmann::json(std::string(text))); }

// One JSON object's text, written field by field, for the hot paths where
// building an nlohmann::json first costs more than the work it records (an
// order is stored on every report). With the fields added in key order, the
// text is byte for byte what jsonText prints for the same object: strings
// escaped and replaced alike, numbers in the same shortest form ("5.0").
class JsonObjectWriter {
 public:
  JsonObjectWriter() { out_.reserve(512); out_ += '{'; }

  JsonObjectWriter& text(std::string_view key, std::string_view value) {
    this->key(key);
    string(value);
    return *this;
  }
  JsonObjectWriter& number(std::string_view key, double value) {
    this->key(key);
    if (!std::isfinite(value)) {
      out_ += "null";
      return *this;
    }
    char buffer[64];
    char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, end);
    return *this;
  }
  JsonObjectWriter& integer(std::string_view key, int64_t value) {
    this->key(key);
    fmt::format_to(std::back_inserter(out_), "{}", value);
    return *this;
  }
  JsonObjectWriter& boolean(std::string_view key, bool value) {
    this->key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  // `json` is already JSON text: a nested object's finish(), for one.
  JsonObjectWriter& raw(std::string_view key, std::string_view json) {
    this->key(key);
    out_ += json;
    return *this;
  }
  std::string finish() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void key(std::string_view key) {
    if (out_.size() > 1) out_ += ',';
    string(key);
    out_ += ':';
  }
  void string(std::string_view value) {
    // Printable ASCII other than the quote and backslash is written as is;
    // anything else goes through the library, so escapes and replacements
    // are exactly jsonString's.
    for (char c : value) {
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        out_ += jsonString(value);
        return;
      }
    }
    out_ += '"';
    out_ += value;
    out_ += '"';
  }

  std::string out_;
};

}  // namespace th
