// Scalar conversions and the strict mapping reader.
#include <doctest/doctest.h>

#include "orchestrator/config/reader.h"

using namespace dojo::config;

namespace {

NodePtr parse(const std::string& text) {
  Diagnostics d;
  NodePtr root = parse_yaml(text, std::make_shared<const std::string>("t.yaml"), d);
  REQUIRE(d.empty());
  return root;
}

const Node& value_of(const NodePtr& root, const char* key) {
  return *root->find(key)->value;
}

}  // namespace

TEST_CASE("integers are decimal and signed and may group digits with underscores") {
  const NodePtr root =
      parse("a: 42\nb: -7\nc: 85_000\nd: 0x10\ne: 1.5\nf: 99999999999999999999\ng: '5'\nh: +3\n");
  Diagnostics d;
  std::int64_t v = 0;
  CHECK(read_value(value_of(root, "a"), "a", d, v));
  CHECK(v == 42);
  CHECK(read_value(value_of(root, "b"), "b", d, v));
  CHECK(v == -7);
  CHECK(read_value(value_of(root, "c"), "c", d, v));
  CHECK(v == 85000);
  CHECK(read_value(value_of(root, "h"), "h", d, v));
  CHECK(v == 3);
  CHECK(d.empty());
  CHECK_FALSE(read_value(value_of(root, "d"), "d", d, v));
  CHECK_FALSE(read_value(value_of(root, "e"), "e", d, v));
  CHECK_FALSE(read_value(value_of(root, "f"), "f", d, v));
  CHECK_FALSE(read_value(value_of(root, "g"), "g", d, v));
  REQUIRE(d.size() == 4);
  CHECK(d.items()[0].message == "d: expected an integer, got \"0x10\"");
  CHECK(d.items()[2].message == "f: integer 99999999999999999999 is out of range");
  CHECK(d.items()[3].message.find("quoted string") != std::string::npos);
  int narrow = 0;
  Diagnostics d2;
  CHECK_FALSE(read_value(*parse("x: 3000000000\n")->find("x")->value, "x", d2, narrow));
  CHECK(d2.items()[0].message == "x: integer 3000000000 is out of range");
}

TEST_CASE("numbers are decimal or exponent forms and never inf or nan or hex") {
  const NodePtr root = parse("a: 1.0e9\nb: .5\nc: .inf\nd: nan\ne: 1e999\nf: 12\n");
  Diagnostics d;
  double v = 0;
  CHECK(read_value(value_of(root, "a"), "a", d, v));
  CHECK(v == 1.0e9);
  CHECK(read_value(value_of(root, "b"), "b", d, v));
  CHECK(v == 0.5);
  CHECK(read_value(value_of(root, "f"), "f", d, v));
  CHECK(v == 12);
  CHECK_FALSE(read_value(value_of(root, "c"), "c", d, v));
  CHECK_FALSE(read_value(value_of(root, "d"), "d", d, v));
  CHECK_FALSE(read_value(value_of(root, "e"), "e", d, v));
  REQUIRE(d.size() == 3);
  CHECK(d.items()[2].message == "e: number 1e999 is out of range");
}

TEST_CASE("booleans are true and false only") {
  const NodePtr root = parse("a: true\nb: false\nc: yes\nd: 1\n");
  Diagnostics d;
  bool v = false;
  CHECK(read_value(value_of(root, "a"), "a", d, v));
  CHECK(v);
  CHECK(read_value(value_of(root, "b"), "b", d, v));
  CHECK_FALSE(v);
  CHECK_FALSE(read_value(value_of(root, "c"), "c", d, v));
  CHECK_FALSE(read_value(value_of(root, "d"), "d", d, v));
  CHECK(d.items()[1].message == "d: expected true or false, got \"1\"");
}

TEST_CASE("a list reports each bad item by index") {
  const NodePtr root = parse("l: [1, x, 3, y]\n");
  Diagnostics d;
  std::vector<int> v{9};
  CHECK_FALSE(read_value(value_of(root, "l"), "l", d, v));
  CHECK(v == std::vector<int>{9});  // untouched on error
  REQUIRE(d.size() == 2);
  CHECK(d.items()[0].message == "l[1]: expected an integer, got \"x\"");
  CHECK(d.items()[1].message == "l[3]: expected an integer, got \"y\"");
}

TEST_CASE("MapReader reports unknown keys once with a suggestion when one is close") {
  const NodePtr root = parse("m:\n  timeout_s: 3\n  timout_s: 4\n  colour: red\n");
  Diagnostics d;
  MapReader r(&value_of(root, "m"), "m", d);
  double timeout = 0;
  CHECK(r.optional("timeout_s", timeout));
  std::string missing;
  CHECK_FALSE(r.required("name", missing));
  r.finish();
  REQUIRE(d.size() == 3);
  CHECK(d.items()[0].format() == "t.yaml:2:3: error: m: missing required key \"name\"");
  CHECK(d.items()[1].format() ==
        "t.yaml:3:3: error: unknown key \"timout_s\" in m (did you mean \"timeout_s\"?)");
  CHECK(d.items()[2].format() ==
        "t.yaml:4:3: error: unknown key \"colour\" in m (known keys: timeout_s name)");
}

TEST_CASE("closest_match finds typos and not other words") {
  const std::vector<std::string> words{"bucket_mib", "backend", "timeout_s", "compression"};
  CHECK(closest_match("bucket_mb", words) == "bucket_mib");
  CHECK(closest_match("backnd", words) == "backend");
  CHECK(closest_match("compresion", words) == "compression");
  CHECK(closest_match("zzz", words).empty());
  CHECK(closest_match("x", {}).empty());
}
