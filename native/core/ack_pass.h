// The ACK-means assignment pass (SPEC §1): images visited in a given order, each leaves its
// class and joins argmin_h d(i,h) + λ2·s[h] (ties keep its class), sizes updated as it goes.
// Sequential by nature (every move changes the sizes the next image sees), so single-threaded;
// the rows are visited in random order, so the next rows are prefetched.
#pragma once
#include <cstdint>

#include "control.h"

namespace ack {

// table: n×k (row-major); assignment: n classes in [0, k), updated; sizes: k counts, updated;
// order: `count` image indices in [0, n). Returns the number of moves. Throws std::out_of_range
// on an index or class outside its range, Cancelled when asked to stop.
int64_t ack_pass(const float* table, int64_t n, int64_t k, int32_t* assignment, int32_t* sizes, double lambda2,
                 const int32_t* order, int64_t count, Control& control);

// The same pass on a sparse table: image i has `width` candidate columns, column c holding the
// dissimilarity scores[i·width + c] to class classes[i·width + c] (−1: an empty column). Classes
// outside an image's candidates cost +inf for it. The dense pass is this with classes = nullptr
// (column c is class c, width = k). Ties go to the image's own class, else to the lowest class.
int64_t ack_pass_table(const float* scores, const int32_t* classes, int64_t width, int64_t n, int64_t k,
                       int32_t* assignment, int32_t* sizes, double lambda2, const int32_t* order, int64_t count,
                       Control& control);

}  // namespace ack
