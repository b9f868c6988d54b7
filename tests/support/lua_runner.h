// Lua tests of pure strategy code against reference values: a sandbox, a
// JSON reference file, and a run that hands JSON in and takes JSON out.
#pragma once

#include <gtest/gtest.h>
#include <lua.hpp>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "script/lua_engine.h"
#include "support/lua_modules.h"

namespace th::test {

// A sandbox that resolves `require` like LuaTestModules, with a JSON
// reference file (the expected values of an independent implementation).
// run() sets one global from JSON, runs the code, and returns the global
// `result` as JSON; a failure is a test failure with the Lua error.
class LuaRunner {
 public:
  LuaRunner(const std::string& folder, const std::string& reference_file)
      : sdk_(std::string(TH_SOURCE_DIR) + "/sdk/lua"), modules_(folder, sdk_) {
    auto created = LuaSandbox::create(64u << 20, modules_);
    if (!created) throw std::runtime_error(created.error().message);
    box_ = std::move(*created);
    std::ifstream in(std::string(TH_SOURCE_DIR) + "/" + reference_file);
    if (!in) throw std::runtime_error(reference_file + " is missing");
    reference_ = nlohmann::json::parse(in);
  }
  const nlohmann::json& reference() const { return reference_; }
  nlohmann::json run(const char* global, const nlohmann::json& value, const std::string& code) {
    lua_State* L = box_->state();
    pushJson(L, value);
    lua_setglobal(L, global);
    auto ran = box_->run(code, "test.lua");
    EXPECT_TRUE(ran) << (ran ? "" : ran.error().message);
    lua_getglobal(L, "result");
    auto out = luaToJson(L, -1, "result");
    lua_pop(L, 1);
    EXPECT_TRUE(out) << (out ? "" : out.error().message);
    return out ? *out : nlohmann::json();
  }
  // The error `code` stops with, or "" when it runs.
  std::string error(const std::string& code) {
    auto ran = box_->run(code, "test.lua");
    return ran ? "" : ran.error().message;
  }

 private:
  SdkModules sdk_;
  LuaTestModules modules_;
  std::unique_ptr<LuaSandbox> box_;
  nlohmann::json reference_;
};

}  // namespace th::test
