// SPDX-License-Identifier: GPL-3.0-or-later
// Phoneme and word timings for speech from an engine that gives none (a
// remote OpenAI-compatible voice): espeak-ng speaks the same text, and its
// phoneme events are carried over to the other audio by mapping espeak's
// voiced span onto the other audio's voiced span, linearly. The avatar's
// lip-sync (avatar/viseme.h) is then built as for espeak's own speech.
// docs/avatar.md describes the method and its measured error.
#pragma once

#include "audio/pcm.h"
#include "engines/tts/tts.h"

namespace parley::engines::tts {

// The first and last sample of `pcm` whose 10 ms frame carries voice (RMS
// above a tenth of the loudest frame's); {0, size} when nothing stands out.
std::pair<int64_t, int64_t> voiced_span(const audio::MonoPcm& pcm);

// `template_speech`'s phoneme and word events, moved onto `audio`: a sample
// position in the template maps to the same relative place between the
// voiced spans of the two. Positions are samples of `audio`.
Speech fit_timings(const Speech& template_speech, audio::MonoPcm audio);

}  // namespace parley::engines::tts
