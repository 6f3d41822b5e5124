// Every key the commented example configs document, with the default they
// give, is checked against the validator: the key must be accepted where the
// comment says it lives, and loading a document with `--set key=DEFAULT`
// must give exactly the configuration the same document gives without it.
// A renamed key or a changed default that the comment does not follow fails
// here, naming the file and line of the comment.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "orchestrator/config/loader.h"
#include "tests/support.h"

using namespace dojo::config;
using dojo::test::configs_dir;

namespace {

struct DocumentedKey {
  std::string path;         ///< below the kind, e.g. workload.optimizer.momentum
  std::string value;        ///< the documented default, as YAML; empty: none given
  std::string description;  ///< the comment text, continuation lines joined
  int line = 0;             ///< of the key in the file
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t.");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

/// The literal default in a description: the text after "(default " or
/// "(defaults " up to ':' ';' ',' or ')' (a list up to its ']'); one value
/// per key for a line that documents several. Words (a prose default such as
/// "the node's slots", or "none" for an absent key) are no literal.
std::vector<std::string> defaults_of(const std::string& description, std::size_t keys) {
  static const std::regex kDefault(R"(\(defaults? ([^)]*)\))");
  std::smatch m;
  if (!std::regex_search(description, m, kDefault))
    return {};
  std::string text = m[1];
  std::vector<std::string> values;
  if (text.starts_with("[")) {
    values.push_back(text.substr(0, text.find(']') + 1));
  } else if (keys > 1) {
    text = text.substr(0, text.find_first_of(";:"));
    for (std::size_t at = 0; at != std::string::npos;) {
      const std::size_t comma = text.find(',', at);
      values.push_back(trim(text.substr(at, comma == std::string::npos ? comma : comma - at)));
      at = comma == std::string::npos ? comma : comma + 1;
    }
  } else {
    values.push_back(trim(text.substr(0, text.find_first_of(";:,"))));
  }
  const bool none_is_a_value = description.find("none |") != std::string::npos;
  for (std::string& v : values) {
    if ((v.find(' ') != std::string::npos && !v.starts_with("[")) ||
        (v == "none" && !none_is_a_value))
      v.clear();
  }
  return values;
}

/// The "Keys of ..." comment block of a config file: keys at indents 3, 5,
/// 7, 9 (two per level) after the '#'; deeper lines continue a description.
/// A key whose description says it is a list takes its entries' keys at
/// index 0.
std::vector<DocumentedKey> documented_keys(const std::filesystem::path& file,
                                           const std::string& prefix = "") {
  static const std::regex kKey(R"(^([a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*)*):?(?:\s+(.*))?$)");
  static const std::regex kList(R"(\blist\b(?! of)|Each )");
  std::ifstream in(file);
  std::string raw;
  std::vector<DocumentedKey> keys;
  std::vector<std::string> stack;  // the path to the current level
  std::vector<bool> list_at;       // whether each level's key is a list
  std::vector<std::size_t> open;   // keys whose description is still growing
  bool in_block = false;
  for (int number = 1; std::getline(in, raw); ++number) {
    if (!raw.starts_with("#"))
      break;
    const std::string text = raw.substr(1);
    if (text.find("Keys of") != std::string::npos) {
      in_block = true;
      continue;
    }
    const std::size_t indent = text.find_first_not_of(' ');
    if (!in_block || indent == std::string::npos || indent < 3) {
      open.clear();
      continue;
    }
    std::smatch m;
    const std::string rest = text.substr(indent);
    if (indent <= 9 && indent % 2 == 1 && std::regex_match(rest, m, kKey)) {
      const std::size_t level = (indent - 3) / 2;
      if (level > stack.size())
        continue;  // prose that looks like a key
      stack.resize(level);
      list_at.resize(level);
      std::string parent = prefix;
      for (std::size_t l = 0; l < level; ++l)
        parent += stack[l] + (list_at[l] ? ".0." : ".");
      std::vector<std::string> names;
      const std::string list = m[1];
      for (std::size_t at = 0; at != std::string::npos;) {
        const std::size_t comma = list.find(", ", at);
        names.push_back(list.substr(at, comma == std::string::npos ? comma : comma - at));
        at = comma == std::string::npos ? comma : comma + 2;
      }
      open.clear();
      for (const std::string& name : names) {
        keys.push_back({parent + name, "", m[2], number});
        open.push_back(keys.size() - 1);
      }
      stack.push_back(names.front());
      const std::string first_line = m[2];
      list_at.push_back(std::regex_search(first_line, kList));
      continue;
    }
    for (std::size_t k : open)
      keys[k].description += " " + rest;
  }
  // Defaults once descriptions are whole; several keys on a line share one.
  for (std::size_t k = 0; k < keys.size();) {
    std::size_t same = k + 1;
    while (same < keys.size() && keys[same].line == keys[k].line)
      ++same;
    const auto values = defaults_of(keys[k].description, same - k);
    for (std::size_t i = 0; i < values.size() && k + i < same; ++i)
      keys[k + i].value = values[i];
    k = same;
  }
  return keys;
}

template <class T>
T load_as(const std::string& text, const std::vector<Override>& overrides) {
  return std::get<T>(load_document_text(text, configs_dir() / "defaults-check.yaml", overrides));
}

/// Checks every documented default of `file` against `base` (a minimal valid
/// document of kind T); returns how many were checked.
template <class T>
int check_defaults(const std::filesystem::path& file, const std::string& kind,
                   const std::function<std::string(const DocumentedKey&)>& base,
                   const std::string& prefix = "") {
  int checked = 0;
  for (const DocumentedKey& key : documented_keys(file, prefix)) {
    if (key.value.empty())
      continue;
    const std::string flag = "--set " + kind + "." + key.path + "=" + key.value;
    INFO(file.filename().string() << ":" << key.line << ": " << key.path << " (default "
                                  << key.value << "), checked as " << flag);
    const std::string text = base(key);
    const T without = load_as<T>(text, {});
    T with;
    CHECK_NOTHROW(with = load_as<T>(text, {parse_override(flag.substr(6))}));
    CHECK(with == without);
    ++checked;
  }
  MESSAGE(file.filename().string() << ": " << checked << " documented defaults checked");
  return checked;
}

/// The other way round: every key the validator knows in a mapping the
/// comment documents is documented. The validator names them when it meets
/// an unknown key ("known keys: a b c").
void check_all_documented(const std::filesystem::path& file, const std::string& kind,
                          const std::string& base, const std::string& prefix = "") {
  std::set<std::string> documented, parents{""};
  std::map<std::string, std::string> same_keys_as;  // "the keys of intra_node"
  static const std::regex kSameKeys(R"(the keys of ([a-z_]+))");
  for (const DocumentedKey& key : documented_keys(file)) {
    documented.insert(key.path);
    const auto dot = key.path.rfind('.');
    if (dot != std::string::npos)
      parents.insert(key.path.substr(0, dot));
    std::smatch m;
    if (std::regex_search(key.description, m, kSameKeys)) {
      parents.insert(key.path);
      same_keys_as[key.path] =
          (dot == std::string::npos ? std::string() : key.path.substr(0, dot + 1)) +
          std::string(m[1]);
    }
  }
  for (const std::string& parent : parents) {
    const std::string path = kind + "." + prefix + parent + (parent.empty() ? "" : ".");
    std::string known;
    try {
      load_document_text(base, configs_dir() / "defaults-check.yaml",
                         {parse_override(path + "zz_not_a_key=1")});
    } catch (const ConfigError& e) {
      const std::string message = e.diagnostics().at(0).message;
      const auto at = message.find("(known keys: ");
      if (at != std::string::npos)
        known = message.substr(at + 13, message.size() - at - 14);
    }
    INFO(file.filename().string() << ": the keys of " << path);
    if (known.empty())
      continue;  // not a mapping of fixed keys (a list entry, a map of names)
    std::istringstream words(known);
    for (std::string word; words >> word;) {
      const std::string key = parent.empty() ? word : parent + "." + word;
      const auto alias = same_keys_as.find(parent);
      const bool found =
          documented.count(key) == 1 ||
          (alias != same_keys_as.end() && documented.count(alias->second + "." + word) == 1);
      INFO("the validator knows " << key << "; the comment does not document it");
      CHECK(found);
    }
  }
}

std::string catalog() {
  return (configs_dir() / "accelerators.yaml").string();
}

}  // namespace

TEST_CASE("the comment parser finds keys, nesting, lists and defaults") {
  dojo::test::TempDir dir;
  const auto file = dir.write("c.yaml",
                              "# Keys of `job:`\n"
                              "#   name          the name (required)\n"
                              "#   workload:\n"
                              "#     epochs        passes (default 10)\n"
                              "#     beta1, beta2  moments (default 0.9,\n"
                              "#                   0.999)\n"
                              "#     hidden        widths (default [1, 2])\n"
                              "#     where         somewhere (default: this machine)\n"
                              "#   nodes         list (required). Each node:\n"
                              "#     slots         slots (default 1)\n"
                              "version: 1\n");
  const auto keys = documented_keys(file);
  REQUIRE(keys.size() == 9);
  CHECK(keys[0].path == "name");
  CHECK(keys[0].value.empty());
  CHECK(keys[2].path == "workload.epochs");
  CHECK(keys[2].value == "10");
  CHECK(keys[3].path == "workload.beta1");
  CHECK(keys[3].value == "0.9");
  CHECK(keys[4].path == "workload.beta2");
  CHECK(keys[4].value == "0.999");
  CHECK(keys[5].value == "[1, 2]");
  CHECK(keys[6].value.empty());
  CHECK(keys[7].path == "nodes");
  CHECK(keys[8].path == "nodes.0.slots");
  CHECK(keys[8].value == "1");
  CHECK(keys[8].line == 10);
}

TEST_CASE("every default documented in the job example is the validator's") {
  const auto base = [](const DocumentedKey& key) {
    const bool synthetic = key.description.find("synthetic:") != std::string::npos;
    return std::string("job:\n  name: t\n  workload: {type: ") + (synthetic ? "synthetic" : "mlp") +
           "}\n  resources: {ranks: 1}\n";
  };
  CHECK(check_defaults<JobConfig>(configs_dir() / "jobs" / "fashion-mnist.yaml", "job", base) >=
        40);
  check_all_documented(configs_dir() / "jobs" / "fashion-mnist.yaml", "job", base(DocumentedKey{}));
}

TEST_CASE("every default documented in the cluster example is the validator's") {
  const auto base = [](const DocumentedKey& key) {
    std::string text = "cluster:\n  name: c\n  accelerators: " + catalog() +
                       "\n  nodes:\n    - {host: n1, accelerator: cpu}\n";
    if (key.path.starts_with("unlisted_nodes."))
      text += "  unlisted_nodes: {accelerator: cpu}\n";
    return text;
  };
  CHECK(check_defaults<ClusterConfig>(configs_dir() / "cluster" / "local.yaml", "cluster", base) >=
        8);
  check_all_documented(configs_dir() / "cluster" / "local.yaml", "cluster",
                       base(DocumentedKey{"unlisted_nodes.x"}));
}

TEST_CASE("every default documented in the accelerator catalog is the validator's") {
  const auto base = [](const DocumentedKey&) {
    return std::string(
        "accelerators:\n  x: {kind: cpu, bf16_tflops: 1, memory_gib: 1, power_w: 1}\n");
  };
  CHECK(check_defaults<AcceleratorCatalog>(configs_dir() / "accelerators.yaml", "accelerators",
                                           base, "x.") >= 1);
  check_all_documented(configs_dir() / "accelerators.yaml", "accelerators", base(DocumentedKey{}),
                       "x.");
}

TEST_CASE("every default documented in the capacity example is the validator's") {
  const auto base = [](const DocumentedKey& key) {
    std::string text = "capacity:\n  name: c\n  accelerators: " + catalog() +
                       "\n  pools:\n    - {name: p, accelerator: cpu, count: 1, online: "
                       "2024-01-01}\n  plan:\n    milestones: [{date: 2024-03-31, h100e: 1}]\n";
    if (key.path.starts_with("vehicle_fleet."))
      text += "  vehicle_fleet: {vehicles: 10}\n";
    return text;
  };
  CHECK(check_defaults<CapacityConfig>(configs_dir() / "capacity" / "tesla-2024.yaml", "capacity",
                                       base) >= 5);
  check_all_documented(configs_dir() / "capacity" / "tesla-2024.yaml", "capacity",
                       base(DocumentedKey{"vehicle_fleet.x"}));
}
