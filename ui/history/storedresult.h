#pragma once
// A stored send or probe turned back into the SendResult the live views take, so
// a past session opens in the very ResultPanel and TranscriptView a live one
// uses. Read from the record's result map (SendResult::toVariantMap()), its
// transcript, and its PEM chain for the certificates (the map holds only their
// summaries).

#include "store/sessionrecord.h"

[[nodiscard]] SendResult sendResultFromRecord(const Store::SessionRecord &record);
