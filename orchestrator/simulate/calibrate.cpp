#include "orchestrator/simulate/calibrate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "collectives/bench/bench_csv.h"
#include "common/error.h"
#include "common/numbers.h"

namespace dojo::simulate {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ','))
    fields.push_back(field);
  return fields;
}

double parse_number(const std::string& text, const std::string& where, const char* column) {
  const std::optional<double> value = parse_finite_double(text);
  if (!value)
    throw Error(where + ": column " + column + " is not a number: \"" + text + "\"");
  return *value;
}

struct Row {
  double base = 0, hop = 0, transfer = 0;  // coefficients of base, latency, 1 / bandwidth
  double seconds = 0;
};

// Weighted least squares over the unknowns marked in `use`; the others are 0.
bool solve(const std::vector<Row>& rows, std::array<bool, 3> use, std::array<double, 3>& x) {
  std::array<std::array<double, 4>, 3> a{};
  for (const Row& r : rows) {
    const std::array<double, 3> f = {r.base / r.seconds, r.hop / r.seconds, r.transfer / r.seconds};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j)
        a[i][j] += f[i] * f[j];
      a[i][3] += f[i];  // target 1: seconds / seconds
    }
  }
  std::vector<int> idx;
  for (int i = 0; i < 3; ++i) {
    if (use[i])
      idx.push_back(i);
  }
  const std::size_t k = idx.size();
  std::vector<std::vector<double>> m(k, std::vector<double>(k + 1));
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j < k; ++j)
      m[i][j] = a[idx[i]][idx[j]];
    m[i][k] = a[idx[i]][3];
  }
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r) {
      if (std::abs(m[r][c]) > std::abs(m[pivot][c]))
        pivot = r;
    }
    if (std::abs(m[pivot][c]) < 1e-12 * std::max(1.0, std::abs(m[c][c])))
      return false;
    std::swap(m[c], m[pivot]);
    for (std::size_t r = 0; r < k; ++r) {
      if (r == c)
        continue;
      const double f = m[r][c] / m[c][c];
      for (std::size_t j = c; j <= k; ++j)
        m[r][j] -= f * m[c][j];
    }
  }
  x = {0, 0, 0};
  for (std::size_t i = 0; i < k; ++i)
    x[idx[i]] = m[i][k] / m[i][i];
  return true;
}

}  // namespace

std::vector<Measurement> read_bench_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in)
    throw Error(file.string() + ": cannot read the benchmark file");
  return read_bench_csv(in, file.string());
}

std::vector<Measurement> read_bench_csv(std::istream& in, const std::string& name) {
  const std::vector<std::string> header = split(collectives::bench::kAllReduceCsvHeader);
  const auto column = [&](const char* key) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), key) - header.begin());
  };
  const std::size_t c_ranks = column("ranks"), c_bytes = column("bytes"),
                    c_tensors = column("tensors"), c_time = column("time_us");
  std::vector<Measurement> rows;
  std::string line;
  int number = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == '#')
      continue;
    const std::string where = name + ":" + std::to_string(number);
    if (line == collectives::bench::kAllReduceCsvHeader) {
      header_seen = true;
      continue;
    }
    if (!header_seen) {
      throw Error(where + ": expected the header of `dojo bench allreduce --csv` (" +
                  std::string(collectives::bench::kAllReduceCsvHeader) + ")");
    }
    const std::vector<std::string> fields = split(line);
    if (fields.size() != header.size()) {
      throw Error(where + ": expected " + std::to_string(header.size()) + " columns, got " +
                  std::to_string(fields.size()));
    }
    Measurement m;
    m.ranks = static_cast<int>(parse_number(fields[c_ranks], where, "ranks"));
    m.bytes = parse_number(fields[c_bytes], where, "bytes");
    m.seconds = parse_number(fields[c_time], where, "time_us") * 1e-6;
    const double tensors = parse_number(fields[c_tensors], where, "tensors");
    if (m.ranks < 1 || m.bytes < 0 || !(m.seconds > 0))
      throw Error(where + ": ranks, bytes and time_us must be positive");
    if (m.ranks >= 2 && tensors == 1)
      rows.push_back(m);
  }
  if (!header_seen)
    throw Error(name + ": empty; expected `dojo bench allreduce --csv` output");
  return rows;
}

double predicted_seconds(const Calibration& c, const Measurement& m) {
  const double n = m.ranks;
  return c.base_latency_us * 1e-6 + 2 * (n - 1) * c.latency_us * 1e-6 +
         2 * (n - 1) / n * m.bytes / (c.bandwidth_gb_per_s * 1e9);
}

Calibration fit_ring(const std::vector<Measurement>& measurements) {
  std::set<double> sizes;
  std::set<int> ranks;
  std::vector<Row> rows;
  for (const Measurement& m : measurements) {
    sizes.insert(m.bytes);
    ranks.insert(m.ranks);
    const double n = m.ranks;
    rows.push_back({1.0, 2 * (n - 1), 2 * (n - 1) / n * m.bytes, m.seconds});
  }
  if (sizes.size() < 2) {
    throw Error(
        "calibration needs measurements of at least two message sizes at 2 or more "
        "ranks, got " +
        std::to_string(sizes.size()));
  }
  // Base and per-hop latency can be told apart only across rank counts.
  std::array<bool, 3> use = {ranks.size() > 1, true, true};
  std::array<double, 3> x{};
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!solve(rows, use, x))
      throw Error("calibration failed: the measurements do not determine latency and bandwidth");
    bool changed = false;
    for (int i = 0; i < 2; ++i) {
      if (use[i] && x[i] < 0) {
        use[i] = false;
        changed = true;
      }
    }
    if (!changed)
      break;
  }
  if (!(x[2] > 0)) {
    throw Error(
        "calibration failed: all-reduce time does not grow with message size, so no "
        "bandwidth can be fitted");
  }
  Calibration c;
  c.base_latency_us = std::max(0.0, x[0]) * 1e6;
  c.latency_us = std::max(0.0, x[1]) * 1e6;
  c.bandwidth_gb_per_s = 1.0 / x[2] / 1e9;
  c.ranks.assign(ranks.begin(), ranks.end());
  c.points = static_cast<int>(measurements.size());
  std::vector<double> errors;
  for (const Measurement& m : measurements)
    errors.push_back(std::abs(predicted_seconds(c, m) - m.seconds) / m.seconds);
  std::sort(errors.begin(), errors.end());
  c.median_relative_error = errors[errors.size() / 2];
  c.max_relative_error = errors.back();
  return c;
}

}  // namespace dojo::simulate
