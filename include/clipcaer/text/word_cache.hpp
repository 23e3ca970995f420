// A bounded, thread-safe map from a word's bytes to its BPE token ids. CLIP's
// reference caches every word forever; here the cache stops growing at a
// fixed size (inputs can be arbitrarily varied), and a reader lock lets
// threads sharing one tokenizer look words up concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace clipcaer::text {

class WordCache {
 public:
  static constexpr std::size_t kMaxEntries = 1u << 16;
  static constexpr std::size_t kMaxWordBytes = 64;  // longer words are rare and costly to key

  // Appends the cached ids of `word` to out and returns true, or returns false.
  bool lookup(const std::string& word, std::vector<std::int32_t>& out) const {
    if (word.size() > kMaxWordBytes) return false;
    std::shared_lock<std::shared_mutex> lock(mutex_);
    const auto it = map_.find(word);
    if (it == map_.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }

  void insert(const std::string& word, const std::int32_t* ids, std::size_t count) {
    if (word.size() > kMaxWordBytes) return;
    std::unique_lock<std::shared_mutex> lock(mutex_);
    if (map_.size() >= kMaxEntries) return;
    map_.emplace(word, std::vector<std::int32_t>(ids, ids + count));
  }

  std::size_t size() const {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    return map_.size();
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::vector<std::int32_t>> map_;
};

}  // namespace clipcaer::text
