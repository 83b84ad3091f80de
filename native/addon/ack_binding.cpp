// ackPass({table, n, k, assignment, sizes, lambda2, order, control}) -> Promise<number of moves>;
// updates assignment and sizes in place.
// ackPassSparse({scores, classes, width, n, k, assignment, sizes, lambda2, order, control}): the
// same pass on a sparse candidate table (n×width scores and classes, −1 = empty column).
#include "../core/ack_pass.h"
#include "registry.h"
#include "worker.h"

namespace ackaddon {
namespace {

class AckPassWorker : public PromiseWorker {
 public:
  AckPassWorker(Napi::Env env, const float* table, const int32_t* classes, int64_t width, int64_t n, int64_t k,
                int32_t* assignment, int32_t* sizes, double lambda2, const int32_t* order, int64_t count,
                double* control)
      : PromiseWorker(env, "ackmeans.ackPass"),
        table_(table),
        classes_(classes),
        width_(width),
        n_(n),
        k_(k),
        assignment_(assignment),
        sizes_(sizes),
        lambda2_(lambda2),
        order_(order),
        count_(count) {
    control_.attach(control);
  }

 protected:
  void Run() override {
    moves_ =
        ack::ack_pass_table(table_, classes_, width_, n_, k_, assignment_, sizes_, lambda2_, order_, count_, control_);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, double(moves_)); }

 private:
  const float* table_;
  const int32_t* classes_;
  int64_t width_, n_, k_;
  int32_t* assignment_;
  int32_t* sizes_;
  double lambda2_;
  const int32_t* order_;
  int64_t count_;
  int64_t moves_ = 0;
};

// What the dense and the sparse pass share: the state they update (assignment, sizes), the rule's
// λ², the visiting order and the control block, read from `o` and checked against n and k; then
// the pass runs on the scores `table` (n×width, with `classes` naming each column's class, or
// nullptr for the dense n×k table).
Napi::Value StartPass(Options& o, const float* table, const int32_t* classes, int64_t width, int64_t n, int64_t k) {
  Napi::Env env = o.Env();
  auto assignment = o.i32("assignment");
  auto sizes = o.i32("sizes");
  double lambda2 = o.number("lambda2");
  auto order = o.i32("order");
  double* control = o.control();
  requireLength(env, assignment, n, "assignment", "n");
  requireLength(env, sizes, k, "sizes", "k");
  auto* w = new AckPassWorker(env, table, classes, width, n, k, assignment.Data(), sizes.Data(), lambda2, order.Data(),
                              int64_t(order.ElementLength()), control);
  w->KeepAll(o);
  return w->Start();
}

Napi::Value AckPass(const Napi::CallbackInfo& info) {
  Options o(info);
  auto table = o.f32("table");
  int64_t n = o.integer("n");
  int64_t k = o.integer("k");
  if (n < 1 || k < 1) throw Napi::RangeError::New(info.Env(), "n and k must be >= 1");
  requireLength(info.Env(), table, n * k, "table", "n*k");
  return StartPass(o, table.Data(), nullptr, k, n, k);
}

Napi::Value AckPassSparse(const Napi::CallbackInfo& info) {
  Options o(info);
  auto scores = o.f32("scores");
  auto classes = o.i32("classes");
  int64_t width = o.integer("width");
  int64_t n = o.integer("n");
  int64_t k = o.integer("k");
  if (n < 1 || k < 1 || width < 1) throw Napi::RangeError::New(info.Env(), "n, k and width must be >= 1");
  requireLength(info.Env(), scores, n * width, "scores", "n*width");
  requireLength(info.Env(), classes, n * width, "classes", "n*width");
  return StartPass(o, scores.Data(), classes.Data(), width, n, k);
}

Registrar reg("ackPass", AckPass);
Registrar regSparse("ackPassSparse", AckPassSparse);

}  // namespace
}  // namespace ackaddon
