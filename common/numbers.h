#pragma once
// Reading numbers from text the strict way: the whole text, nothing after it.
// Every number dojo reads from a flag, a file or the environment goes through
// these, so "12x", "" or "1e99" is an error and never a silent 0.

#include <cstdint>
#include <optional>
#include <string>

namespace dojo {

/// `text` as a finite double when all of it is one ("2.5", "1e-3"); nullopt
/// for "", "2.5x", "nan", "inf" or anything std::stod refuses.
std::optional<double> parse_finite_double(const std::string& text);

/// `text` as a base-10 integer when all of it is one ("12", "-3"); nullopt
/// for "", "12x", " 12", "1.5" or a value outside int64.
std::optional<std::int64_t> parse_integer(const std::string& text);

/// A byte count: "4096", "64K", "4M", "1G" (binary multiples). nullopt when
/// malformed or beyond 2^50.
std::optional<std::size_t> parse_byte_size(const std::string& text);

/// The environment variable `name` as an integer in [min, max]; nullopt when
/// it is unset or empty. Throws UsageError naming the variable otherwise
/// (`DOJO_ATTEMPT="x" is not an integer from 0 to 1000000`).
std::optional<std::int64_t> env_integer(const char* name, std::int64_t min, std::int64_t max);

/// The environment variable `name` as a finite double in [min, max]; as
/// env_integer.
std::optional<double> env_double(const char* name, double min, double max);

}  // namespace dojo
