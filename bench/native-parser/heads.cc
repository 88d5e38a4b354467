// Experiment only (bench/parsers-http.js): request-head parsing in C++ through
// N-API, to weigh against the TypeScript parser (lib/web/head.ts) before
// moving parsing into native/. Not part of the addon. One call parses every
// complete head in a Buffer of pipelined requests and writes compact records
// into an Int32Array: per head [end, methodEnd, targetEnd, minor, nFields,
// then nFields x (nameStart, nameEnd, valueStart, valueEnd)], the checks
// being those of head.ts (tchar names and methods, visible-ASCII targets,
// HTTP/1.x, field-value bytes, CRLF line ends, no obs-fold).
#include <node_api.h>
#include <cstdint>
#include <cstring>

namespace {

struct Tables {
  uint8_t tchar[256], target[256], value[256];
  Tables() {
    const char* sym = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; c++) {
      tchar[c] = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c && strchr(sym, c));
      target[c] = c > 0x20 && c < 0x7f;
      value[c] = c == 9 || (c >= 0x20 && c != 0x7f);
    }
  }
};
const Tables T;

// Parses the fields from i to the blank line; returns the offset past it, 0 if incomplete, -1 if refused.
long fields(const uint8_t* b, long i, long n, int32_t* rec, long* w, long cap) {
  int32_t* count = &rec[(*w)++];
  *count = 0;
  for (;;) {
    if (i + 1 >= n) return 0;
    if (b[i] == '\r') return b[i + 1] == '\n' ? i + 2 : -1;
    long ns = i;
    while (i < n && T.tchar[b[i]]) i++;
    if (i == ns || i >= n || b[i] != ':') return i >= n ? 0 : -1;
    long ne = i++;
    while (i < n && (b[i] == ' ' || b[i] == '\t')) i++;
    long vs = i;
    while (i < n && T.value[b[i]]) i++;
    if (i + 1 >= n) return 0;
    if (b[i] != '\r' || b[i + 1] != '\n') return -1;
    long ve = i;
    while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
    if (*w + 4 > cap) return -1;
    rec[(*w)++] = (int32_t)ns; rec[(*w)++] = (int32_t)ne; rec[(*w)++] = (int32_t)vs; rec[(*w)++] = (int32_t)ve;
    (*count)++;
    i += 2;
  }
}

// One head at b[i]: its record appended; the offset past it, 0 if incomplete, -1 if refused.
long head(const uint8_t* b, long i, long n, int32_t* rec, long* w, long cap) {
  long start = i;
  while (i < n && T.tchar[b[i]]) i++;
  if (i == start || i >= n || b[i] != ' ') return i >= n ? 0 : -1;
  long methodEnd = i++;
  long ts = i;
  while (i < n && T.target[b[i]]) i++;
  if (i == ts || i >= n || b[i] != ' ') return i >= n ? 0 : -1;
  long targetEnd = i++;
  if (i + 10 > n) return 0;
  if (memcmp(b + i, "HTTP/1.", 7) != 0 || (b[i + 7] != '0' && b[i + 7] != '1') || b[i + 8] != '\r' || b[i + 9] != '\n') return -1;
  if (*w + 5 > cap) return -1;
  long at = *w;
  rec[at + 1] = (int32_t)methodEnd; rec[at + 2] = (int32_t)targetEnd; rec[at + 3] = b[i + 7] - '0';
  *w = at + 4;
  long end = fields(b, i + 10, n, rec, w, cap);
  if (end <= 0) { *w = at; return end; }
  rec[at] = (int32_t)end;
  return end;
}

// parse(buffer, start, records): heads parsed (negative: refused after that many).
napi_value Parse(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data; size_t len; void* rdata; size_t rlen;
  napi_get_typedarray_info(env, argv[0], nullptr, &len, &data, nullptr, nullptr);
  int32_t start; napi_get_value_int32(env, argv[1], &start);
  napi_get_typedarray_info(env, argv[2], nullptr, &rlen, &rdata, nullptr, nullptr);
  const uint8_t* b = static_cast<const uint8_t*>(data);
  int32_t* rec = static_cast<int32_t*>(rdata);
  long i = start, w = 1, heads = 0;
  while (i < (long)len) {
    long next = head(b, i, (long)len, rec, &w, (long)rlen);
    if (next <= 0) { if (next < 0) heads = -heads - 1; break; }
    heads++; i = next;
  }
  rec[0] = (int32_t)heads;
  napi_value out; napi_create_int32(env, (int32_t)heads, &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "parse", NAPI_AUTO_LENGTH, Parse, nullptr, &fn);
  napi_set_named_property(env, exports, "parse", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
