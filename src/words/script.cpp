// SPDX-License-Identifier: GPL-3.0-or-later
#include "words/script.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>

namespace parley::words {
namespace {

// Alignment scores. A word the script has, as recognised, earns 2; one a
// letter or two off (a plural, a misheard ending) earns 1; a wrong word
// costs 1, and so does a recognised word the script lacks (an insertion)
// or a script word left out. Leaving out more than a few (a skipped
// passage) costs a flat kJump, wherever it lands.
constexpr float kExact = 2.0F;
constexpr float kNear = 1.0F;
constexpr float kWrong = -1.0F;
constexpr float kInsert = -1.0F;
constexpr float kSkip = -1.0F;
constexpr float kJump = -4.0F;
// Starting away from where the speaker was costs this much.
constexpr float kStartAway = -3.0F;
// "Where the speaker was": this many tokens back, and ahead.
constexpr size_t kNearBack = 3;
constexpr size_t kNearAhead = 40;
// The script is searched this far around the position (a seek reaches further).
constexpr size_t kWindowBack = 1500;
constexpr size_t kWindowAhead = 3000;
// An unmatched stretch of the final this long is shown as recognised, not dropped.
constexpr size_t kAdLibWords = 3;
// A shown stretch that starts or ends this few words short of its
// sentence's edge is shown to the edge: recognisers often lose or merge a
// word next to a pause, and readers rarely stop a word or two before a full
// stop.
constexpr size_t kEdgeWords = 2;

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// `opposite`: the heard word is the script's with a negating prefix
// ("impossible" for "possible"): never shown as the script's.
enum class Kind : uint8_t { exact, near, wrong, opposite };

Kind compare(std::string_view heard, std::string_view written) {
  if (heard == written) return Kind::exact;
  const size_t shorter = std::min(heard.size(), written.size());
  if (shorter < 4) return Kind::wrong;
  // A word run together with a short one before it ("edmister" for "and
  // mister"), as recognisers do at a pause.
  const std::string_view longer = heard.size() > written.size() ? heard : written;
  const std::string_view other = heard.size() > written.size() ? written : heard;
  if (shorter >= 5 && longer.substr(longer.size() - other.size()) == other) {
    // Not when the extra part makes the opposite word ("impossible").
    const std::string_view extra = longer.substr(0, longer.size() - other.size());
    for (std::string_view neg : {"un", "in", "im", "il", "ir", "dis", "non", "mis"}) {
      if (extra == neg) return Kind::opposite;
    }
    return Kind::near;
  }
  const size_t allowed = shorter >= 8 ? 2 : 1;
  const size_t length_gap = heard.size() > written.size() ? heard.size() - written.size() : written.size() - heard.size();
  if (length_gap > allowed) return Kind::wrong;
  return edit_distance(heard, written) <= allowed ? Kind::near : Kind::wrong;
}

float score(Kind k) { return k == Kind::exact ? kExact : k == Kind::near ? kNear : kWrong; }
bool is_wrong(Kind k) { return k == Kind::wrong || k == Kind::opposite; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string join(const std::vector<std::string>& w, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to; ++i) s += (s.empty() ? "" : " ") + w[i];
  return s;
}

}  // namespace

Script::Script(std::string text) : text_(std::move(text)), tokens_(spoken_tokens(text_)) {
  for (size_t t = 0; t < tokens_.size(); ++t) {
    if (t == 0 || tokens_[t].sentence_start) sentence_first_token_.push_back(t);
  }
}

size_t Script::sentence_of(size_t t) const {
  if (sentence_first_token_.empty()) return 0;
  auto it = std::upper_bound(sentence_first_token_.begin(), sentence_first_token_.end(), t);
  return static_cast<size_t>(std::max<std::ptrdiff_t>(0, it - sentence_first_token_.begin() - 1));
}

size_t Script::first_token(size_t sentence) const {
  if (sentence >= sentence_first_token_.size()) return tokens_.size();
  return sentence_first_token_[sentence];
}

std::string_view Script::sentence_text(size_t s) const {
  if (s >= sentence_first_token_.size()) return {};
  const size_t a = tokens_[sentence_first_token_[s]].begin;
  const size_t b = s + 1 < sentence_first_token_.size() ? tokens_[sentence_first_token_[s + 1]].begin : text_.size();
  std::string_view v = std::string_view(text_).substr(a, b - a);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

std::string ScriptMatch::text() const {
  std::string s;
  for (const auto& p : pieces) {
    if (p.text.empty()) continue;
    s += (s.empty() ? "" : " ") + p.text;
  }
  return s;
}

bool ScriptMatch::any_from_script() const {
  return std::any_of(pieces.begin(), pieces.end(), [](const ShownPiece& p) { return p.from_script; });
}

void ScriptFollower::seek_sentence(size_t s) { position_ = script_.first_token(std::min(s, script_.n_sentences())); }

Script Script::followed_by(std::string_view more) const {
  std::string text = text_;
  if (!text.empty() && !more.empty()) text += "\n\n";
  text += more;
  return Script(std::move(text));
}

void ScriptFollower::append(std::string_view more) { script_ = script_.followed_by(more); }

size_t ScriptFollower::position_sentence() const { return script_.sentence_of(position_); }

ScriptMatch ScriptFollower::follow(std::string_view recognised_words, std::string_view recognised_sentence) {
  ScriptMatch out;
  const std::vector<std::string> heard = split_words(recognised_words);
  const auto& tokens = script_.tokens();
  auto as_recognised = [&] {
    out.pieces = {{std::string(recognised_sentence), false}};
    return out;
  };
  if (heard.empty() || tokens.empty()) return as_recognised();

  const size_t lo = position_ > kWindowBack ? position_ - kWindowBack : 0;
  const size_t hi = std::min(tokens.size(), position_ + kWindowAhead);
  const size_t n = hi - lo;  // script tokens in the window
  const size_t m = heard.size();
  constexpr float kNone = -std::numeric_limits<float>::infinity();

  // D[i][j]: the best score of the first i heard words, ending just before
  // window token j. Moves: 1 diagonal (heard word against token), 2 up (an
  // inserted word), 3 left (a token skipped), 4 jump (from jump_from[i][j]),
  // 0 start.
  std::vector<float> prev(n + 1), cur(n + 1);
  std::vector<uint8_t> move((m + 1) * (n + 1), 0);
  std::vector<uint32_t> jump_from((m + 1) * (n + 1), 0);
  auto at = [n](size_t i, size_t j) { return i * (n + 1) + j; };
  for (size_t j = 0; j <= n; ++j) {
    const size_t tok = lo + j;
    const bool near_position = tok + kNearBack >= position_ && tok <= position_ + kNearAhead;
    prev[j] = near_position ? 0.0F : kStartAway;
  }
  std::vector<Kind> kinds(m * n);
  for (size_t i = 1; i <= m; ++i) {
    float best_left = kNone;  // max of cur[j'] for j' < j - 1
    size_t best_left_j = 0;
    cur[0] = prev[0] + kInsert;
    move[at(i, 0)] = 2;
    for (size_t j = 1; j <= n; ++j) {
      const Kind k = compare(heard[i - 1], tokens[lo + j - 1].word);
      kinds[(i - 1) * n + (j - 1)] = k;
      float best = prev[j - 1] + score(k);
      uint8_t mv = 1;
      if (prev[j] + kInsert > best) {
        best = prev[j] + kInsert;
        mv = 2;
      }
      if (cur[j - 1] + kSkip > best) {
        best = cur[j - 1] + kSkip;
        mv = 3;
      }
      if (j >= 2 && cur[j - 2] > best_left) {
        best_left = cur[j - 2];
        best_left_j = j - 2;
      }
      if (best_left + kJump > best) {
        best = best_left + kJump;
        mv = 4;
        jump_from[at(i, j)] = static_cast<uint32_t>(best_left_j);
      }
      cur[j] = best;
      move[at(i, j)] = mv;
    }
    std::swap(prev, cur);
  }
  // Ties go to the later end: a last word heard wrongly in the place of the
  // script's next word still covers it.
  size_t end_j = 0;
  for (size_t j = 1; j <= n; ++j) {
    if (prev[j] >= prev[end_j]) end_j = j;
  }

  // Trace back into steps, first to last.
  struct Step {
    uint8_t move;
    size_t i, j;  // heard word i-1 / token j-1 for diagonal moves
  };
  std::vector<Step> steps;
  for (size_t i = m, j = end_j; i > 0;) {
    const uint8_t mv = move[at(i, j)];
    steps.push_back({mv, i, j});
    if (mv == 1) {
      --i;
      --j;
    } else if (mv == 2) {
      --i;
    } else if (mv == 3) {
      --j;
    } else if (mv == 4) {
      j = jump_from[at(i, j)];
    }
  }
  std::reverse(steps.begin(), steps.end());

  // Runs: stretches of the script the final follows without a jump or an
  // ad-lib; each is judged on its own.
  struct Run {
    size_t first_tok = SIZE_MAX, end_tok = 0;  // window tokens
    size_t first_heard = SIZE_MAX, end_heard = 0;
    size_t n_matched = 0, n_tokens = 0;
    bool ad_lib = false;  // heard words the script lacks
    bool misheard = false;  // words heard in the place of the script's, but not them: shown as heard
  };
  std::vector<Run> runs;
  auto wrong_at = [&](size_t k) {
    return k < steps.size() && steps[k].move == 1 && is_wrong(kinds[(steps[k].i - 1) * n + (steps[k].j - 1)]);
  };
  size_t heard_from = SIZE_MAX;  // inserted words that open a misheard stretch
  for (size_t s = 0; s < steps.size(); ++s) {
    const Step& st = steps[s];
    if (st.move == 2) {
      // A block of inserted words: an ad-lib when long, else noise inside a run.
      size_t e = s;
      while (e < steps.size() && steps[e].move == 2) ++e;
      if (e - s < kAdLibWords && wrong_at(e) && wrong_at(e + 1) && wrong_at(e + 2)) {
        heard_from = steps[s].i - 1;  // they belong to the words said instead
        s = e - 1;
        continue;
      }
      const bool ad_lib = e - s >= kAdLibWords || runs.empty() || e == steps.size();
      if (ad_lib) {
        runs.push_back({});
        runs.back().ad_lib = true;
      }
      Run& r = runs.back();
      for (size_t k = s; k < e; ++k) {
        r.first_heard = std::min(r.first_heard, steps[k].i - 1);
        r.end_heard = std::max(r.end_heard, steps[k].i);
      }
      s = e - 1;
      continue;
    }
    // Three or more wrong words in a row are something else said in the
    // script's place ("a great many roses" for "four hundred tulips"):
    // shown as heard, never as the script. One or two are taken for the
    // recogniser's errors (on 8 kHz telephone speech, splitting at two cost
    // twice the errors of what was shown: docs/benchmarks.md).
    if (st.move == 1 && is_wrong(kinds[(st.i - 1) * n + (st.j - 1)])) {
      size_t e = s;
      bool opposite = false;
      while (e < steps.size() && steps[e].move == 1 && is_wrong(kinds[(steps[e].i - 1) * n + (steps[e].j - 1)])) {
        opposite = opposite || kinds[(steps[e].i - 1) * n + (steps[e].j - 1)] == Kind::opposite;
        ++e;
      }
      if (e - s >= kAdLibWords || opposite) {
        runs.push_back({});
        Run& heard_run = runs.back();
        heard_run.ad_lib = true;
        heard_run.misheard = true;
        heard_run.first_heard = std::min(heard_from, steps[s].i - 1);
        heard_from = SIZE_MAX;
        heard_run.end_heard = steps[e - 1].i;
        s = e - 1;
        continue;
      }
    }
    heard_from = SIZE_MAX;
    if (st.move == 4 || runs.empty() || runs.back().ad_lib) runs.push_back({});
    Run& r = runs.back();
    if (st.move == 1) {
      const Kind k = kinds[(st.i - 1) * n + (st.j - 1)];
      r.first_tok = std::min(r.first_tok, st.j - 1);
      r.end_tok = std::max(r.end_tok, st.j);
      r.first_heard = std::min(r.first_heard, st.i - 1);
      r.end_heard = std::max(r.end_heard, st.i);
      ++r.n_tokens;
      if (!is_wrong(k)) ++r.n_matched;
    } else if (st.move == 3) {
      ++r.n_tokens;  // a script word the speaker (or the recogniser) left out
    }
  }

  // A run is shown from the script when three of its words match (two,
  // where the speaker was), and three fifths of both its script words and
  // its heard words do.
  const size_t was_at = position_;
  auto accepted = [&](const Run& r) {
    if (r.ad_lib || r.first_tok == SIZE_MAX) return false;
    const size_t heard_words = r.end_heard - r.first_heard;
    const size_t at = lo + r.first_tok;
    const bool where_expected = at + kNearBack >= was_at && at <= was_at + kNearAhead;
    return (r.n_matched >= 3 || (r.n_matched >= 2 && where_expected)) && 5 * r.n_matched >= 3 * r.n_tokens &&
           5 * r.n_matched >= 3 * heard_words;
  };
  if (std::none_of(runs.begin(), runs.end(), accepted)) return as_recognised();

  const std::string& text = script_.text();
  auto script_span = [&](size_t a, size_t b) {
    size_t from = tokens[lo + a].begin;
    size_t to = tokens[lo + b - 1].end;
    // Opening quotes and brackets before the first word, closing punctuation after the last.
    while (from > 0 && !is_space(text[from - 1]) && std::isalnum(static_cast<unsigned char>(text[from - 1])) == 0) --from;
    while (to < text.size() && !is_space(text[to]) && std::isalnum(static_cast<unsigned char>(text[to])) == 0) ++to;
    return text.substr(from, to - from);
  };
  bool any_shown = false;
  size_t last_accepted = SIZE_MAX, last_heard_piece = SIZE_MAX;
  for (size_t k = 0; k < runs.size(); ++k) {
    if (accepted(runs[k])) last_accepted = k;
    else if (runs[k].first_heard != SIZE_MAX &&
             !(runs[k].ad_lib && !runs[k].misheard && runs[k].end_heard - runs[k].first_heard < kAdLibWords)) {
      last_heard_piece = k;
    }
  }
  for (size_t k = 0; k < runs.size(); ++k) {
    const Run& r = runs[k];
    if (accepted(r)) {
      size_t a = lo + r.first_tok;
      size_t b = lo + r.end_tok;
      // The sentence's first words, lost or merged, when nothing was shown before them.
      if (!any_shown && a > was_at && a - was_at <= kEdgeWords && script_.sentence_of(was_at) == script_.sentence_of(a) &&
          script_.first_token(script_.sentence_of(a)) == was_at) {
        a = was_at;
      }
      // Its last words, when this stretch ends the final.
      if (k == last_accepted && (last_heard_piece == SIZE_MAX || last_heard_piece < k)) {
        const size_t sentence_end = script_.first_token(script_.sentence_of(b - 1) + 1);
        if (sentence_end > b && sentence_end - b <= kEdgeWords) b = sentence_end;
      }
      out.pieces.push_back({script_span(a - lo, b - lo), true});
      out.first_token = out.n_matched == 0 ? a : std::min(out.first_token, a);
      out.end_token = std::max(out.end_token, b);
      out.n_matched += r.n_matched;
      position_ = b;
      any_shown = true;
      continue;
    }
    if (r.first_heard == SIZE_MAX) continue;
    // Short leftovers at the edges of a shown stretch are recogniser noise.
    const size_t len = r.end_heard - r.first_heard;
    if (r.ad_lib && !r.misheard && len < kAdLibWords) continue;
    std::string words = join(heard, r.first_heard, r.end_heard);
    if (!any_shown && !words.empty()) words[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(words[0])));
    out.pieces.push_back({std::move(words), false});
    any_shown = true;
  }
  // Neighbouring pieces of the same kind read as one.
  std::vector<ShownPiece> merged;
  for (auto& p : out.pieces) {
    if (!merged.empty() && merged.back().from_script == p.from_script && !p.from_script) {
      merged.back().text += " " + p.text;
    } else {
      merged.push_back(std::move(p));
    }
  }
  out.pieces = std::move(merged);
  // A caption that ends in recognised words still ends a sentence.
  if (!out.pieces.empty() && !out.pieces.back().from_script) {
    const char last = out.pieces.back().text.back();
    if (last != '.' && last != '?' && last != '!') out.pieces.back().text += '.';
  }
  return out;
}

}  // namespace parley::words
