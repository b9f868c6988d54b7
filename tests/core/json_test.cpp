// The JSON text the host writes by hand (stored orders, fills, the risk
// state) must be byte for byte what the library writes for the same value.
#include <gtest/gtest.h>

#include <string>

#include "core/json.h"

namespace th {
namespace {

bool plainByTheDefinition(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

// Every byte that needs escaping or replacing, and the plain ones beside
// them, at every place in a text long enough for two eight-byte words and a
// tail: the fast check agrees with the definition, and the text written is
// the library's.
TEST(JsonText, AStringIsWrittenAsTheLibraryWritesItWhereverItsSpecialByteIs) {
  const unsigned char bytes[] = {0x00, 0x01, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\', 0x5d,
                                 0x7e, 0x7f, 0x80, 0xc3, 0xe9, 0xfe, 0xff, 'a'};
  for (size_t length : {1u, 7u, 8u, 9u, 16u, 19u}) {
    for (size_t at = 0; at < length; ++at) {
      for (unsigned char b : bytes) {
        std::string text(length, 'k');
        text[at] = static_cast<char>(b);
        EXPECT_EQ(plainJsonText(text), plainByTheDefinition(text)) << "byte " << int(b) << " at " << at;
        std::string out = "x";
        appendJsonString(out, text, ',', ':');
        EXPECT_EQ(out, "x," + jsonString(text) + ":") << "byte " << int(b) << " at " << at << " of " << length;
      }
    }
  }
  // A valid two-byte character across a word's edge is kept as it is.
  std::string cafe = "0123456caf\xc3\xa9";
  EXPECT_FALSE(plainJsonText(cafe));
  std::string out;
  appendJsonString(out, cafe);
  EXPECT_EQ(out, "\"0123456caf\xc3\xa9\"");
  out.clear();
  appendJsonString(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace th
