#pragma once
// Calendar dates (proleptic Gregorian, no time zone) as configs write them: YYYY-MM-DD.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dojo::config {

struct Date {
  int year = 1970;
  int month = 1;  ///< 1..12
  int day = 1;    ///< 1..31, valid for the month

  /// Parses exactly "YYYY-MM-DD" with a real calendar day; nullopt otherwise.
  static std::optional<Date> parse(std::string_view text);
  /// The date `days` after 1970-01-01 (negative before).
  static Date from_days(std::int64_t days);
  /// Today in UTC.
  static Date today();

  /// Days since 1970-01-01.
  std::int64_t days() const;
  std::string str() const;

  friend auto operator<=>(const Date&, const Date&) = default;
};

}  // namespace dojo::config
