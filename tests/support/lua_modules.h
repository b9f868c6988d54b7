// `require` for Lua tests outside the strategy service: a strategy's own
// folder on disk (when given) first, then sdk/lua, as the host resolves them.
#pragma once

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "script/lua_engine.h"

namespace th::test {

class LuaTestModules : public ModuleSource {
 public:
  LuaTestModules(std::string folder, const SdkModules& sdk) : folder_(std::move(folder)), sdk_(sdk) {}
  Result<std::pair<std::string, std::string>> find(const std::string& module) const override {
    std::string path = module;
    std::replace(path.begin(), path.end(), '.', '/');
    if (!folder_.empty()) {
      std::ifstream own(folder_ + "/" + path + ".lua");
      if (own) return std::pair{std::string(std::istreambuf_iterator<char>(own), {}), path + ".lua"};
    }
    for (const auto& candidate : {path + ".lua", path + "/init.lua"}) {
      if (auto text = sdk_.read(candidate)) return std::pair{*text, "sdk/lua/" + candidate};
    }
    return fail(ErrorCode::NotFound, "module '" + module + "' not found");
  }

 private:
  std::string folder_;
  const SdkModules& sdk_;
};

}  // namespace th::test
