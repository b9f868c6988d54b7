// JSON text for the API, the journal and the command line. Text in it can
// come from plugins and users, so invalid UTF-8 is replaced (U+FFFD) rather
// than thrown: one bad reject reason must not stop the core thread.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace th {

inline std::string jsonText(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// How deep JSON from outside the host (request bodies, WebSocket messages,
// arguments handed to a strategy) may nest. The parser's result is walked
// and printed by recursion: a document nested thousands deep would end the
// process on a stack overflow instead of being answered.
inline constexpr int kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in JSON text (strings skipped),
// counted without parsing; stops counting past `limit`.
inline int jsonNesting(std::string_view text, int limit = kMaxJsonDepth) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// JSON text from outside the host, parsed; discarded (is_discarded()) when
// it is not valid JSON or nests deeper than kMaxJsonDepth (`too_deep` says
// which).
inline nlohmann::json parseExternalJson(std::string_view text, bool* too_deep = nullptr) {
  const bool deep = jsonNesting(text) > kMaxJsonDepth;
  if (too_deep) *too_deep = deep;
  if (deep) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, false);
}

// A quoted, escaped JSON string.
inline std::string jsonString(std::string_view text) { return jsonText(nlohmann::json(std::string(text))); }

// Printable ASCII other than the quote and backslash: JSON writes it as is.
// Eight bytes at a time (every key and value of a stored order passes here):
// a byte is flagged when it is 0x80 or more, below 0x20, or equal to 0x7f,
// '"' or '\\' (the usual "has a zero byte" test on the word XORed with each).
inline bool plainJsonText(std::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto hasZero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const char* p = text.data();
  size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t flagged = (w & kHigh) | ((w - kOnes * 0x20) & ~w & kHigh) | hasZero(w ^ (kOnes * 0x7f)) |
                             hasZero(w ^ (kOnes * '"')) | hasZero(w ^ (kOnes * '\\'));
    if (flagged) return false;
  }
  for (; n > 0; ++p, --n) {
    const char c = *p;
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

// Appends `before`, `text` as a quoted JSON string exactly as jsonString
// writes it, then `after` (each 0 for none), growing `out` once.
inline void appendJsonString(std::string& out, std::string_view text, char before = 0, char after = 0) {
  if (!plainJsonText(text)) {
    // Escapes and replacements go through the library, so they are jsonString's.
    if (before) out += before;
    out += jsonString(text);
    if (after) out += after;
    return;
  }
  const size_t at = out.size();
  out.resize(at + text.size() + 2 + (before != 0) + (after != 0));
  char* p = out.data() + at;
  if (before) *p++ = before;
  *p++ = '"';
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  p += text.size();
  *p++ = '"';
  if (after) *p = after;
}

// Appends `value` as jsonText prints a number: the shortest form that reads
// back the same ("5.0" for a whole number), null when not finite.
inline void appendJsonNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

inline void appendJsonInteger(std::string& out, int64_t value) {
  char buffer[24];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, written.ptr);
}

// One JSON object's text, written field by field, for the hot paths where
// building an nlohmann::json first costs more than the work it records (an
// order is stored on every report). With the fields added in key order, the
// text is byte for byte what jsonText prints for the same object: strings
// escaped and replaced alike, numbers in the same shortest form ("5.0").
class JsonObjectWriter {
 public:
  // `capacity`: the text's expected length, to write it without growing.
  explicit JsonObjectWriter(size_t capacity = 512) {
    out_.reserve(capacity);
    out_ += '{';
  }

  JsonObjectWriter& text(std::string_view key, std::string_view value) {
    this->key(key);
    string(value);
    return *this;
  }
  JsonObjectWriter& number(std::string_view key, double value) {
    this->key(key);
    appendJsonNumber(out_, value);
    return *this;
  }
  JsonObjectWriter& integer(std::string_view key, int64_t value) {
    this->key(key);
    appendJsonInteger(out_, value);
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
#ifndef NDEBUG
    // jsonText sorts an object's keys: so must the fields added here.
    assert(last_key_.empty() || last_key_ < key);
    last_key_ = key;
#endif
    appendJsonString(out_, key, out_.size() > 1 ? ',' : 0, ':');
  }
  void string(std::string_view value) { appendJsonString(out_, value); }

  std::string out_;
#ifndef NDEBUG
  std::string last_key_;
#endif
};

}  // namespace th
