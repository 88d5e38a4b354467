// A stand-in for libFuzzer where clang is not installed: feeds the target
// random inputs (and small mutations of the last one) from a seed, for a
// bounded time or number of runs, under ASan + UBSan like the real thing.
// Files given on the command line are run first, as a corpus would be.
//
//   fuzz_x [-seed=N] [-runs=N] [-max_total_time=S] [-max_len=N] [file...]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Options {
  uint64_t seed = 1;
  long runs = -1;
  double seconds = 10;
  size_t max_len = 4096;
  std::vector<std::string> files;
};

bool flag(const char* arg, const char* name, std::string* value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (flag(argv[i], "-seed", &v)) o.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag(argv[i], "-runs", &v)) o.runs = std::strtol(v.c_str(), nullptr, 10);
    else if (flag(argv[i], "-max_total_time", &v)) o.seconds = std::strtod(v.c_str(), nullptr);
    else if (flag(argv[i], "-max_len", &v)) o.max_len = std::strtoul(v.c_str(), nullptr, 10);
    else if (argv[i][0] != '-') o.files.push_back(argv[i]);
  }
  return o;
}

// Half fresh random inputs, half the previous input with a few bytes changed,
// inserted or cut, so structured prefixes survive long enough to matter.
void next_input(std::mt19937_64& rng, size_t max_len, std::vector<uint8_t>* buf) {
  if (buf->empty() || rng() % 2 == 0) {
    buf->resize(rng() % (max_len + 1));
    for (uint8_t& b : *buf) b = static_cast<uint8_t>(rng());
    return;
  }
  for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
    size_t at = rng() % (buf->size() + 1);
    switch (rng() % 3) {
      case 0: if (at < buf->size()) (*buf)[at] = static_cast<uint8_t>(rng()); break;
      case 1: if (buf->size() < max_len) buf->insert(buf->begin() + static_cast<long>(at), static_cast<uint8_t>(rng())); break;
      default: if (at < buf->size()) buf->erase(buf->begin() + static_cast<long>(at)); break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  for (const std::string& f : o.files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  std::mt19937_64 rng(o.seed);
  std::vector<uint8_t> buf;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.seconds);
  long done = 0;
  for (; (o.runs < 0 || done < o.runs) && std::chrono::steady_clock::now() < end; ++done) {
    next_input(rng, o.max_len, &buf);
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("standalone driver: %ld runs, seed %llu, no findings\n", done,
              static_cast<unsigned long long>(o.seed));
  return 0;
}
