// Byte-pair encoding of one word. CLIP's reference repeatedly merges every
// occurrence of the lowest-ranked adjacent pair, rescanning the word each
// time (quadratic in the word length). Here candidate pairs sit in a min-heap
// ordered by (rank, position) over a linked list of symbols, so a word of n
// bytes costs O(n log n). The result is the same because a merge can only
// create pairs of higher rank than its own (Vocabulary checks that every
// merged spelling is new), so the heap visits ranks in ascending order and,
// within a rank, occurrences left to right, as the reference's passes do.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "clipcaer/text/vocabulary.hpp"

namespace clipcaer::text {

// Buffers reused from word to word.
struct BpeScratch {
  struct Symbol {
    std::int32_t id;  // -1 once merged into its left neighbour
    std::int32_t prev, next;
  };
  struct Candidate {
    std::int32_t rank, pos, left, right, result;
    bool operator>(const Candidate& o) const noexcept { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

// Appends the token ids of `word` (UTF-8 bytes of one pattern match, not empty).
inline void bpe_word(const Vocabulary& vocab, std::string_view word, std::vector<std::int32_t>& out,
                     BpeScratch& scratch) {
  using Candidate = BpeScratch::Candidate;
  auto& sym = scratch.symbols;
  auto& heap = scratch.heap;
  const auto n = static_cast<std::int32_t>(word.size());
  sym.resize(word.size());
  heap.clear();
  for (std::int32_t k = 0; k < n; ++k) {
    const auto byte = static_cast<unsigned char>(word[static_cast<std::size_t>(k)]);
    sym[k] = {k + 1 < n ? Vocabulary::byte_token(byte) : Vocabulary::end_of_word_byte_token(byte), k - 1,
              k + 1 < n ? k + 1 : -1};
  }
  const auto push_pair = [&](std::int32_t pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    const std::int32_t left = sym[pos].id, right = sym[sym[pos].next].id;
    if (const auto* m = vocab.find_merge(left, right)) {
      heap.push_back({m->rank, pos, left, right, m->result});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (std::int32_t k = 0; k + 1 < n; ++k) push_pair(k);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const Candidate c = heap.back();
    heap.pop_back();
    auto& left = sym[c.pos];
    if (left.id != c.left || left.next < 0 || sym[left.next].id != c.right) continue;  // stale
    auto& right = sym[left.next];
    left.id = c.result;
    left.next = right.next;
    if (right.next >= 0) sym[right.next].prev = c.pos;
    right.id = -1;
    push_pair(left.prev);
    push_pair(c.pos);
  }
  for (std::int32_t k = 0; k >= 0; k = sym[k].next) out.push_back(sym[k].id);
}

}  // namespace clipcaer::text
