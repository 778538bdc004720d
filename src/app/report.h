// SPDX-License-Identifier: GPL-3.0-or-later
// report.json of `parley translate`: per utterance its span, source text,
// translations and stage timings; totals for the file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/utterance.h"

namespace parley::app {

struct UtteranceRecord {
  pipeline::Utterance utterance;
  std::map<std::string, pipeline::TranslationResult> translations;  // by language
};

struct RunTotals {
  double audio_s = 0;
  double processing_s = 0;
  std::string input;
  std::string from;
  std::vector<std::string> targets;
};

nlohmann::json build_report(const std::vector<UtteranceRecord>& records, const RunTotals& totals);

// Median of a list of values; 0 for an empty list.
double median(std::vector<double> values);

}  // namespace parley::app
