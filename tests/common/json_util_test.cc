#include "common/json_util.h"

#include <doctest/doctest.h>

#include <string>

using nlohmann::json;
using spinel::common::DumpJson;
using spinel::common::FindMember;
using spinel::common::GetStringMember;
using spinel::common::kMaxJsonDepth;
using spinel::common::ParseJson;

namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("ParseJson accepts well-formed JSON of any top-level type") {
  CHECK(*ParseJson(R"({"a":[1,{"b":null}],"c":"d"})", "doc") ==
        json{{"a", {1, {{"b", nullptr}}}}, {"c", "d"}});
  CHECK(*ParseJson("[]", "doc") == json::array());
  CHECK(*ParseJson("5", "doc") == 5);
  CHECK(*ParseJson(" \"\\u00e9\" ", "doc") == "\xc3\xa9");
}

TEST_CASE("ParseJson rejects malformed input, naming what was parsed") {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{'a':1}", "{} {}", "nul", "\"\xff\""}) {
    CAPTURE(bad);
    auto r = ParseJson(bad, "widget");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(r.status()) == "widget: malformed JSON");
  }
}

TEST_CASE("ParseJson rejects duplicate members at any depth, but not repeated names elsewhere") {
  CHECK(Message(ParseJson(R"({"a":1,"a":2})", "doc").status()) == "doc: duplicate member \"a\"");
  CHECK_FALSE(ParseJson(R"({"x":{"a":1,"b":2,"a":3}})", "doc").ok());
  CHECK_FALSE(ParseJson(R"([{"a":1},{"b":1,"b":1}])", "doc").ok());
  CHECK(ParseJson(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})", "doc").ok());
}

TEST_CASE("ParseJson enforces size and nesting limits") {
  CHECK(Message(ParseJson("[1,2,3]", "doc", 6).status()).find("exceeds the limit of 6") !=
        std::string::npos);
  CHECK(ParseJson("[1,2,3]", "doc", 7).ok());
  auto nested = [](int depth, char open, char close) {
    return std::string(depth, open) + std::string(depth, close);
  };
  CHECK(ParseJson(nested(kMaxJsonDepth, '[', ']'), "doc").ok());
  CHECK(Message(ParseJson(nested(kMaxJsonDepth + 1, '[', ']'), "doc").status())
            .find("nested deeper") != std::string::npos);
  CHECK_FALSE(ParseJson(nested(100000, '[', ']'), "doc").ok());
  std::string objects;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  CHECK_FALSE(ParseJson(objects, "doc").ok());
}

TEST_CASE("member access is defensive about types") {
  json doc = {{"s", "text"}, {"n", 5}};
  CHECK(FindMember(doc, "s") != nullptr);
  CHECK(FindMember(doc, "missing") == nullptr);
  CHECK(FindMember(json::array({1}), "s") == nullptr);
  CHECK(*GetStringMember(doc, "s", "thing") == "text");
  CHECK(Message(GetStringMember(doc, "n", "thing").status()) ==
        "thing: \"n\" must be a string, not number");
  CHECK(Message(GetStringMember(doc, "x", "thing").status()) == "thing: missing \"x\"");
  CHECK_FALSE(GetStringMember(json("s"), "s", "thing").ok());
}

TEST_CASE("DumpJson reports invalid UTF-8 instead of throwing") {
  CHECK(*DumpJson(json{{"a", 1}}) == R"({"a":1})");
  CHECK_FALSE(DumpJson(json(std::string("\xff"))).ok());
}
