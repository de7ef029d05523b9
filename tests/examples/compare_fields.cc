// compare_fields TOL REF OUT: compares two files of raw doubles (the examples' --out files).
// TOL = 0: they must be bitwise identical. TOL > 0: the relative 2-norm difference
// ||out - ref|| / ||ref|| must be <= TOL. Prints both measures; exit 0 = pass, 1 = fail, 2 = usage.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

bool ReadDoubles(const char* path, std::vector<double>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() % sizeof(double) != 0) return false;
  out->resize(bytes.size() / sizeof(double));
  std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: compare_fields TOL REF OUT\n");
    return 2;
  }
  std::vector<double> ref, out;
  if (!ReadDoubles(argv[2], &ref) || !ReadDoubles(argv[3], &out)) {
    std::fprintf(stderr, "compare_fields: cannot read %s or %s as doubles\n", argv[2], argv[3]);
    return 1;
  }
  if (ref.size() != out.size() || ref.empty()) {
    std::fprintf(stderr, "compare_fields: sizes differ (%zu vs %zu) or empty\n", ref.size(),
                 out.size());
    return 1;
  }
  const double tol = std::atof(argv[1]);
  double diff2 = 0, ref2 = 0, max_abs = 0;
  size_t differing = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::memcmp(&ref[i], &out[i], sizeof(double)) != 0) ++differing;
    double d = out[i] - ref[i];
    diff2 += d * d;
    ref2 += ref[i] * ref[i];
    max_abs = std::fmax(max_abs, std::fabs(d));
  }
  const double rel = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  std::printf(
      "compare_fields: %zu values, %zu bitwise different, max |diff| %.3e, rel 2-norm %.3e"
      " (tolerance %s)\n",
      ref.size(), differing, max_abs, rel, tol == 0 ? "bitwise" : argv[1]);
  if (std::isnan(rel)) return 1;
  if (tol == 0) return differing == 0 ? 0 : 1;
  return rel <= tol ? 0 : 1;
}
