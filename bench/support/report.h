// The benchmark report: samples and their statistics, and one JSON line per figure.
//
// Every benchmark program prints its figures to stdout as JSON lines, one object per figure:
//   {"bench":"issuance","figure":"x509_in_process","value":1234.5,"unit":"svid/s",
//    "limit":1500.0,"ratio":0.82,"goal":"ratio >= 0.80","params":{...}}
// "limit", "ratio" and "goal" are present only when the figure has them. Human-readable
// progress goes to stderr. scripts/bench.sh runs each program several times and aggregates
// the lines into min/median/max per figure (Markdown table and JSON file).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace spinel::bench {

// Measurements of one quantity (latencies in microseconds, say). Not thread-safe.
class Samples {
 public:
  void Add(double value) { values_.push_back(value); }
  void Reserve(size_t n) { values_.reserve(n); }
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }
  // The p-th percentile (0 <= p <= 100) by nearest rank; 0 when empty.
  double Percentile(double p) const;
  double Median() const { return Percentile(50); }
  double Min() const;
  double Max() const;
  double Mean() const;

 private:
  std::vector<double> values_;
};

// One reported figure.
struct Figure {
  std::string name;  // e.g. "x509_in_process", "first_x509_p99_us_100_clients"
  double value = 0;
  std::string unit;             // e.g. "svid/s", "us", "MB", "s"
  std::optional<double> limit;  // the physical limit measured in the same run, same unit
  std::string goal;             // e.g. "ratio >= 0.80" or "< 2000 us"; empty if none
  nlohmann::json params = nlohmann::json::object();  // sizes, clients, repeats, ...
};

// Writes figures of one benchmark program as JSON lines on stdout.
class Report {
 public:
  explicit Report(std::string bench_name) : bench_(std::move(bench_name)) {}
  // Prints `figure` immediately (so a later crash keeps earlier figures) and a readable
  // line on stderr.
  void Add(const Figure& figure);

 private:
  std::string bench_;
};

}  // namespace spinel::bench
