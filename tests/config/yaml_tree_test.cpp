// The YAML tree built from yaml-cpp's events.
#include <doctest/doctest.h>

#include "orchestrator/config/yaml_tree.h"

using namespace dojo::config;

namespace {

NodePtr parse(const std::string& text, Diagnostics& d) {
  return parse_yaml(text, std::make_shared<const std::string>("t.yaml"), d);
}

}  // namespace

TEST_CASE("positions are 1-based line and column of each key and value") {
  Diagnostics d;
  const NodePtr root = parse("a: 1\nb:\n  c: \"x\"\n", d);
  REQUIRE(d.empty());
  REQUIRE(root->kind == NodeKind::kMap);
  const MapEntry* b = root->find("b");
  REQUIRE(b != nullptr);
  CHECK(b->key->where.line == 2);
  CHECK(b->key->where.column == 1);
  const MapEntry* c = b->value->find("c");
  CHECK(c->value->where.line == 3);
  CHECK(c->value->where.column == 6);
  CHECK(c->value->quoted);
  CHECK_FALSE(root->find("a")->value->quoted);
}

TEST_CASE("an empty value points at its key") {
  Diagnostics d;
  const NodePtr root = parse("a:\nb: 2\n", d);
  const MapEntry* a = root->find("a");
  CHECK(a->value->kind == NodeKind::kNull);
  CHECK(a->value->where.line == 1);
}

TEST_CASE("duplicate keys are errors that name the first definition") {
  Diagnostics d;
  const NodePtr root = parse("a: 1\nb: 2\na: 3\n", d);
  REQUIRE(d.size() == 1);
  CHECK(d.items()[0].format() == "t.yaml:3:1: error: duplicate key \"a\" (first defined at 1:1)");
  REQUIRE(root != nullptr);  // the rest of the file is still checked
  CHECK(root->find("a")->value->scalar == "1");
}

TEST_CASE("aliases share nodes and merge keys fill in what the mapping lacks") {
  Diagnostics d;
  const NodePtr root = parse("base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n", d);
  REQUIRE(d.empty());
  const Node& use = *root->find("use")->value;
  CHECK(use.find("x")->value->scalar == "1");
  CHECK(use.find("y")->value->scalar == "3");
  CHECK(use.find("<<") == nullptr);
}

TEST_CASE("recursive aliases are refused and not followed") {
  Diagnostics d;
  CHECK(parse("a: &x [*x]\n", d) == nullptr);
  REQUIRE(d.size() == 1);
  CHECK(d.items()[0].format() ==
        "t.yaml:1:8: error: recursive alias *x: it refers to a list (at 1:4) that contains it");
}

TEST_CASE("deep nesting is a clear error and not a stack overflow") {
  Diagnostics d;
  const std::string deep = "a: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  CHECK(parse(deep, d) == nullptr);
  REQUIRE(d.size() == 1);
  CHECK(d.items()[0].message.find("YAML syntax:") == 0);
}

TEST_CASE("unsupported tags and a second document are errors") {
  Diagnostics d;
  parse("a: !!binary aGk=\n", d);
  REQUIRE(d.size() == 1);
  CHECK(d.items()[0].message ==
        "YAML tag 'tag:yaml.org,2002:binary' is not supported in dojo configs");
  Diagnostics d2;
  parse("a: 1\n---\nb: 2\n", d2);
  REQUIRE(d2.size() == 1);
  CHECK(d2.items()[0].where.line == 2);
}

TEST_CASE("an unreadable file is a diagnostic naming it") {
  Diagnostics d;
  CHECK(parse_yaml_file("/nonexistent/dojo.yaml", d) == nullptr);
  REQUIRE(d.size() == 1);
  CHECK(d.items()[0].format() ==
        "/nonexistent/dojo.yaml: error: cannot read: No such file or directory");
}
