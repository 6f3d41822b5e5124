// common: batch shares and their encodings, strict numbers, the flag
// parser, atomic files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "common/atomic_file.h"
#include "common/batch_shares.h"
#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "tests/support.h"

using dojo::check_given_shares;
using dojo::split_batch;

TEST_CASE("batch shares are whole samples that add up to the global batch") {
  CHECK(split_batch(128, 2, {}) == std::vector<int>{64, 64});
  CHECK(split_batch(128, 2, {3, 1}) == std::vector<int>{96, 32});
  CHECK(split_batch(10, 3, {}) == std::vector<int>{4, 3, 3});  // remainder to the lower rank
  CHECK(split_batch(100, 3, {1, 1, 2}) == std::vector<int>{25, 25, 50});
  const auto odd = split_batch(1001, 4, {5, 3, 2, 7});
  CHECK(std::accumulate(odd.begin(), odd.end(), 0) == 1001);
}

TEST_CASE("a batch that cannot give every rank a sample is an error that says why") {
  CHECK_THROWS_WITH_AS(
      split_batch(3, 4, {}),
      "the global batch of 3 samples is smaller than the 4 ranks: every rank needs "
      "at least one sample",
      dojo::Error);
  CHECK_THROWS_WITH_AS(
      split_batch(4, 2, {100, 1}),
      "rank 1 would get no sample of the global batch of 4 with shares weighted 1 of 101",
      dojo::Error);
  CHECK_THROWS_WITH_AS(split_batch(8, 3, {1, 1}), "resources.shares has 2 entries for 3 ranks",
                       dojo::Error);
  CHECK_NOTHROW(check_given_shares({96, 32}, 128));
  CHECK_THROWS_WITH_AS(
      check_given_shares({96, 30}, 128),
      "the ranks' DOJO_BATCH_SHARE add up to 126 samples, not the global batch of 128",
      dojo::Error);
  CHECK_THROWS_WITH_AS(check_given_shares({0, 128}, 128),
                       "DOJO_BATCH_SHARE of rank 0 is 0; every rank needs at least one sample",
                       dojo::Error);
}

TEST_CASE("shares are run-length encoded for people and for the environment") {
  std::vector<int> many(85000, 128);
  CHECK(dojo::shares_text(many) == "85000 x 128");
  CHECK(dojo::encode_shares(many) == "85000x128");
  CHECK(dojo::shares_text({96, 32}) == "96, 32");
  CHECK(dojo::shares_text({48, 48, 16, 16, 16}) == "2 x 48, 3 x 16");
  CHECK(dojo::encode_shares({48, 48, 16}) == "2x48,16");
  CHECK(dojo::share_of_rank("85000x128", 84999) == 128);
  CHECK(dojo::share_of_rank("85000x128", 85000) == std::nullopt);
  CHECK(dojo::share_of_rank("2x48,16", 2) == 16);
  CHECK(dojo::share_of_rank("96,32", 1) == 32);  // the plain list of earlier launchers
  CHECK(dojo::decode_shares("2x48,3x16") == std::vector<int>{48, 48, 16, 16, 16});
  for (const char* bad : {"", "x", "2x", "ax3", "1,,2", "-1", "2x-3", "3y4"})
    CHECK_MESSAGE(dojo::decode_shares(bad) == std::nullopt, bad);
}

TEST_CASE("numbers are read whole or not at all") {
  CHECK(dojo::parse_integer("12") == 12);
  CHECK(dojo::parse_integer("-3") == -3);
  CHECK(dojo::parse_integer("+7") == 7);
  for (const char* bad : {"", "12x", " 12", "1.5", "99999999999999999999", "x"})
    CHECK_MESSAGE(dojo::parse_integer(bad) == std::nullopt, bad);
  CHECK(dojo::parse_byte_size("64K") == 65536);
  CHECK(dojo::parse_byte_size("4M") == (4u << 20));
  CHECK(dojo::parse_byte_size("1X") == std::nullopt);
  CHECK(dojo::parse_finite_double("2.5") == 2.5);
  CHECK(dojo::parse_finite_double("nan") == std::nullopt);
}

TEST_CASE("environment numbers name the variable when they are bad") {
  ::setenv("DOJO_TEST_NUMBER", "x1", 1);
  CHECK_THROWS_WITH_AS(dojo::env_integer("DOJO_TEST_NUMBER", 0, 10),
                       "DOJO_TEST_NUMBER=\"x1\" is not an integer from 0 to 10", dojo::UsageError);
  ::setenv("DOJO_TEST_NUMBER", "11", 1);
  CHECK_THROWS_AS(dojo::env_integer("DOJO_TEST_NUMBER", 0, 10), dojo::UsageError);
  ::setenv("DOJO_TEST_NUMBER", "7", 1);
  CHECK(dojo::env_integer("DOJO_TEST_NUMBER", 0, 10) == 7);
  ::setenv("DOJO_TEST_NUMBER", "", 1);
  CHECK(dojo::env_integer("DOJO_TEST_NUMBER", 0, 10) == std::nullopt);
  ::unsetenv("DOJO_TEST_NUMBER");
  CHECK(dojo::env_double("DOJO_TEST_NUMBER", 0, 1) == std::nullopt);
}

TEST_CASE("the flag parser takes flags, lists and positionals and names what it refuses") {
  dojo::Flags flags("test");
  std::string value;
  std::vector<std::string> sets, files;
  bool dry = false;
  flags.text("--value", value);
  flags.list("--set", sets);
  flags.flag("--dry-run", dry);
  flags.positionals("FILE", files);
  const std::vector<std::string> args = {"a.yaml",    "--set",     "x=1",   "--value=v",
                                         "--set=y=2", "--dry-run", "b.yaml"};
  flags.parse(args);
  CHECK(value == "v");
  CHECK(sets == std::vector<std::string>{"x=1", "y=2"});
  CHECK(files == std::vector<std::string>{"a.yaml", "b.yaml"});
  CHECK(dry);

  dojo::Flags strict("test");
  std::string n;
  strict.text("--n", n);
  CHECK_THROWS_WITH_AS(strict.parse(std::vector<std::string>{"--bogus"}),
                       "unknown flag \"--bogus\"", dojo::UsageError);
  dojo::Flags missing("test");
  missing.text("--n", n);
  CHECK_THROWS_WITH_AS(missing.parse(std::vector<std::string>{"--n"}), "--n needs a value",
                       dojo::UsageError);
  CHECK_THROWS_WITH_AS(dojo::integer_flag("-n", "12x", 1, 100),
                       "-n expects an integer from 1 to 100, got \"12x\"", dojo::UsageError);
  CHECK_THROWS_WITH_AS(dojo::number_flag("--f", "fast", 0, 1),
                       "--f expects a number from 0 to 1, got \"fast\"", dojo::UsageError);
}

TEST_CASE("write_file_atomically replaces a file whole and leaves no temporary behind") {
  dojo::test::TempDir dir;
  const std::string path = (dir.path() / "port").string();
  dojo::write_file_atomically(path, "9100\n");
  dojo::write_file_atomically(path, "9200\n");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "9200\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  CHECK(entries == 1);
  CHECK_THROWS_WITH_AS(dojo::write_file_atomically((dir.path() / "no/such/dir/x").string(), "x"),
                       doctest::Contains("cannot create a temporary file next to"), dojo::Error);
}
