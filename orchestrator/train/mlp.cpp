#include "orchestrator/train/mlp.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace dojo::train {

Mlp::Mlp(MlpShape shape, std::uint64_t seed)
    : shape_(std::move(shape)),
      widths_(layer_widths(shape_)),
      params_(initial_parameters(shape_, seed)) {}

std::vector<std::size_t> Mlp::parameter_counts() const {
  std::vector<std::size_t> counts;
  for (const auto& p : params_)
    counts.push_back(p.size());
  return counts;
}

double Mlp::forward_flops_per_sample() const {
  double flops = 0;
  for (std::size_t l = 0; l + 1 < widths_.size(); ++l)
    flops += 2.0 * widths_[l] * widths_[l + 1];
  return flops;
}

Mlp::BatchResult Mlp::run(const float* x, const std::uint8_t* labels, std::size_t rows,
                          std::vector<std::vector<float>>& activations,
                          std::vector<float>* logits_grad) const {
  const std::size_t layers = widths_.size() - 1;
  activations.resize(layers);
  const float* input = x;
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t in = widths_[l];
    const std::size_t out = widths_[l + 1];
    std::vector<float>& z = activations[l];
    z.resize(rows * out);
    // z = input * W^T + b, then ReLU on every layer but the last.
    const std::vector<float>& bias = params_[2 * l + 1];
    for (std::size_t r = 0; r < rows; ++r)
      std::memcpy(&z[r * out], bias.data(), out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                static_cast<int>(out), static_cast<int>(in), 1.0f, input, static_cast<int>(in),
                params_[2 * l].data(), static_cast<int>(in), 1.0f, z.data(), static_cast<int>(out));
    if (l + 1 < layers) {
      for (float& v : z)
        v = v > 0.0f ? v : 0.0f;
    }
    input = z.data();
  }

  // Softmax cross-entropy on the logits, and its gradient for the mean loss.
  const std::size_t classes = shape_.classes;
  const std::vector<float>& logits = activations.back();
  BatchResult result;
  if (logits_grad != nullptr)
    logits_grad->resize(rows * classes);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = &logits[r * classes];
    const float top = *std::max_element(row, row + classes);
    double sum = 0;
    for (std::size_t c = 0; c < classes; ++c)
      sum += std::exp(static_cast<double>(row[c] - top));
    const double log_sum = std::log(sum) + top;
    const std::uint8_t label = labels[r];
    result.loss_sum += log_sum - row[label];
    if (std::max_element(row, row + classes) - row == label)
      ++result.correct;
    if (logits_grad != nullptr) {
      float* g = &(*logits_grad)[r * classes];
      for (std::size_t c = 0; c < classes; ++c) {
        const double p = std::exp(static_cast<double>(row[c]) - log_sum);
        g[c] = static_cast<float>((p - (c == label ? 1.0 : 0.0)) / static_cast<double>(rows));
      }
    }
  }
  return result;
}

Mlp::BatchResult Mlp::forward(const float* x, const std::uint8_t* labels, std::size_t rows) {
  input_ = x;
  rows_ = rows;
  return run(x, labels, rows, activations_, &logits_grad_);
}

Mlp::BatchResult Mlp::evaluate(const float* x, const std::uint8_t* labels, std::size_t rows) const {
  std::vector<std::vector<float>> activations;
  return run(x, labels, rows, activations, nullptr);
}

void Mlp::backward(const std::function<std::span<float>(std::size_t)>& gradient,
                   const std::function<void(std::size_t)>& ready) {
  if (input_ == nullptr)
    throw Error("backward() before forward()");
  const std::size_t layers = widths_.size() - 1;
  const int rows = static_cast<int>(rows_);
  std::vector<float> delta = logits_grad_;  // d loss / d z of the current layer
  for (std::size_t l = layers; l-- > 0;) {
    const int in = static_cast<int>(widths_[l]);
    const int out = static_cast<int>(widths_[l + 1]);
    const float* below = l == 0 ? input_ : activations_[l - 1].data();

    std::span<float> weight_grad = gradient(2 * l);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.0f, delta.data(), out,
                below, in, 0.0f, weight_grad.data(), in);
    ready(2 * l);
    std::span<float> bias_grad = gradient(2 * l + 1);
    std::fill(bias_grad.begin(), bias_grad.end(), 0.0f);
    for (int r = 0; r < rows; ++r) {
      const float* d = &delta[static_cast<std::size_t>(r) * out];
      for (int o = 0; o < out; ++o)
        bias_grad[static_cast<std::size_t>(o)] += d[o];
    }
    ready(2 * l + 1);

    if (l == 0)
      break;
    // d loss / d activation below, then through the ReLU.
    scratch_.resize(static_cast<std::size_t>(rows) * in);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, delta.data(), out,
                params_[2 * l].data(), in, 0.0f, scratch_.data(), in);
    const std::vector<float>& z_below = activations_[l - 1];
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
      if (z_below[i] <= 0.0f)
        scratch_[i] = 0.0f;
    }
    delta.swap(scratch_);
  }
}

}  // namespace dojo::train
