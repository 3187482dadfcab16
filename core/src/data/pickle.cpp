#include "data/pickle.hpp"

#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "util/files.hpp"

namespace recgrid::data {

using Kind = PickleValue::Kind;

PickleValuePtr PickleValue::get(const std::string& key) const {
  if (kind != Kind::Dict) return nullptr;
  for (size_t k = 0; k + 1 < items.size(); k += 2)
    if (items[k]->kind == Kind::Str && items[k]->text == key) return items[k + 1];
  return nullptr;
}

namespace {

// The only globals a pickle may name. Anything else is refused before it could ever matter.
const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> names = {
      "scipy.sparse._coo.coo_matrix",        "scipy.sparse.coo.coo_matrix",
      "numpy.core.multiarray._reconstruct",  "numpy._core.multiarray._reconstruct",
      "numpy.core.numeric._frombuffer",      "numpy._core.numeric._frombuffer",
      "numpy.ndarray",                       "numpy.dtype",
      "_codecs.encode",
  };
  return names;
}

bool is_coo_class(const std::string& name) {
  return name == "scipy.sparse._coo.coo_matrix" || name == "scipy.sparse.coo.coo_matrix";
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

PickleValuePtr make(Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Class: return "class";
    case Kind::Object: return "object";
    case Kind::Array: return "ndarray";
    case Kind::DType: return "dtype";
  }
  return "?";
}

// UTF-8 text whose code points are all < 256 -> the latin-1 bytes (protocol 2 `_codecs.encode`).
std::string utf8_to_latin1(const std::string& s, const std::string& where) {
  std::string out;
  out.reserve(s.size());
  for (size_t k = 0; k < s.size(); ++k) {
    unsigned char c = s[k];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c & 0xE0) == 0xC0 && k + 1 < s.size()) {
      unsigned cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(s[k + 1]) & 0x3F);
      if (cp > 0xFF) throw FormatError(where + ": latin-1 text holds a code point above 255");
      out.push_back(static_cast<char>(cp));
      ++k;
    } else {
      throw FormatError(where + ": latin-1 text holds a code point above 255");
    }
  }
  return out;
}

class Machine {
 public:
  Machine(const std::string& bytes, std::string source) : in_(bytes), source_(std::move(source)) {}

  // Values hold their children by shared_ptr, so a pickle that puts a container inside itself (a
  // memo GET, then APPEND / SETITEM / BUILD; found by fuzzing) makes a reference cycle that would
  // never be freed. Every value made is remembered; these two cut the links of the ones that must go.
  void unlink_all() {
    for (const auto& w : made_) unlink(w.lock());
  }
  // True when `root` reaches itself or any value twice on one path; unlinks what `root` cannot reach.
  bool settle(const PickleValuePtr& root) {
    std::map<const PickleValue*, int> state;  // 1 = on the current path, 2 = done
    std::vector<std::pair<const PickleValue*, size_t>> path = {{root.get(), 0}};
    state[root.get()] = 1;
    while (!path.empty()) {
      auto& [v, next] = path.back();
      const PickleValue* child = next < v->items.size() ? v->items[next].get() : next == v->items.size() ? v->state.get() : nullptr;
      if (next++ > v->items.size()) {
        state[v] = 2;
        path.pop_back();
        continue;
      }
      if (!child) continue;
      int& seen = state[child];
      if (seen == 1) return true;
      if (seen == 0) {
        seen = 1;
        path.emplace_back(child, 0);
      }
    }
    for (const auto& w : made_)
      if (auto v = w.lock(); v && !state.count(v.get())) unlink(v);
    return false;
  }

  PickleValuePtr run() {
    while (true) {
      op_pos_ = pos_;
      const unsigned char op = u8("an opcode");
      if (op == '.') {
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with a malformed stack");
        return stack_.back();
      }
      step(op);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(source_ + ": byte " + std::to_string(op_pos_) + ": " + what);
  }

  // ---- raw reads ----
  void need(size_t n, const char* what) {
    if (pos_ + n > in_.size() || pos_ + n < pos_)
      throw FormatError(source_ + ": byte " + std::to_string(pos_) + ": file ends while reading " + what +
                        " (truncated file?)");
  }
  unsigned char u8(const char* what) {
    need(1, what);
    return static_cast<unsigned char>(in_[pos_++]);
  }
  uint64_t uint_le(size_t n, const char* what) {
    need(n, what);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[pos_ + k])) << (8 * k);
    pos_ += n;
    return v;
  }
  std::string raw(uint64_t n, const char* what) {
    need(static_cast<size_t>(n), what);
    std::string s = in_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::string line(const char* what) {
    const size_t end = in_.find('\n', pos_);
    if (end == std::string::npos) need(in_.size() - pos_ + 1, what);  // always throws: no newline left
    std::string s = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // ---- stack ----
  void push(PickleValuePtr v) { stack_.push_back(std::move(v)); }
  PickleValuePtr pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("stack underflow");
    PickleValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PickleValuePtr& top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PickleValuePtr> pop_to_mark() {
    if (marks_.empty()) fail("missing MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleValuePtr> items(stack_.begin() + static_cast<long>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  PickleValuePtr tuple(std::vector<PickleValuePtr> items) {
    auto t = make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  PickleValuePtr memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("memo key " + std::to_string(key) + " was never stored");
    return it->second;
  }
  PickleValuePtr& expect(PickleValuePtr& v, Kind kind, const std::string& role) {
    if (!v || v->kind != kind)
      fail("expected " + std::string(kind_name(kind)) + " as " + role + ", found " + (v ? kind_name(v->kind) : "nothing"));
    return v;
  }

  PickleValuePtr global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!allowed_globals().count(full))
      fail("refusing global '" + full +
           "': only scipy COO matrices, numpy arrays/dtypes and _codecs.encode are allowed (nothing is ever executed)");
    auto v = make(Kind::Class);
    v->text = full;
    return v;
  }

  // ---- the operations the allowed globals stand for ----
  PickleValuePtr reduce(PickleValuePtr callable, PickleValuePtr args) {
    expect(callable, Kind::Class, "REDUCE callable");
    expect(args, Kind::Tuple, "REDUCE arguments");
    const std::string& f = callable->text;
    auto& a = args->items;
    if (ends_with(f, "._reconstruct")) {  // (ndarray, (0,), b'b') -> an empty array BUILD fills
      if (a.size() != 3 || a[0]->kind != Kind::Class || a[0]->text != "numpy.ndarray")
        fail("expected _reconstruct(numpy.ndarray, shape, tag)");
      return make(Kind::Array);
    }
    if (f == "numpy.dtype") {  // ('f8', False, True)
      if (a.empty() || a[0]->kind != Kind::Str) fail("expected numpy.dtype('<type>', ...)");
      auto d = make(Kind::DType);
      try {
        d->dtype = DType::parse(a[0]->text);
      } catch (const std::invalid_argument& e) {
        fail(e.what());
      }
      return d;
    }
    if (f == "_codecs.encode") {  // (text, 'latin1') -> bytes
      if (a.size() != 2 || a[0]->kind != Kind::Str || a[1]->kind != Kind::Str ||
          (a[1]->text != "latin1" && a[1]->text != "latin-1"))
        fail("expected _codecs.encode(str, 'latin1')");
      auto b = make(Kind::Bytes);
      b->text = utf8_to_latin1(a[0]->text, source_ + ": byte " + std::to_string(op_pos_));
      return b;
    }
    if (ends_with(f, "._frombuffer")) {  // (buffer, dtype, shape, order)
      if (a.size() != 4 || a[0]->kind != Kind::Bytes || a[1]->kind != Kind::DType || a[2]->kind != Kind::Tuple ||
          a[3]->kind != Kind::Str)
        fail("expected _frombuffer(bytes, dtype, shape, order)");
      auto arr = make(Kind::Array);
      arr->array.dtype = a[1]->dtype;
      arr->array.shape = shape_of(a[2]);
      arr->array.fortran_order = a[3]->text == "F";
      arr->array.bytes = a[0]->text;
      check(arr->array);
      return arr;
    }
    fail("'" + f + "' cannot be called here");
  }

  std::vector<int64_t> shape_of(const PickleValuePtr& t) {
    std::vector<int64_t> shape;
    for (const auto& d : t->items) {
      if (d->kind != Kind::Int || d->integer < 0) fail("expected a shape of non-negative ints");
      shape.push_back(d->integer);
    }
    return shape;
  }
  void check(const NdArray& a) {
    try {
      a.check_size("array");
    } catch (const FormatError& e) {
      fail(e.what());
    }
  }

  void build(PickleValuePtr& obj, PickleValuePtr state) {
    if (obj->kind == Kind::Array) {  // (version, shape, dtype, is_fortran, raw)
      if (state->kind != Kind::Tuple || state->items.size() != 5) fail("expected ndarray state of 5 items");
      auto& s = state->items;
      if (s[1]->kind != Kind::Tuple || s[2]->kind != Kind::DType || s[3]->kind != Kind::Bool)
        fail("expected ndarray state (version, shape, dtype, fortran, data)");
      if (s[4]->kind != Kind::Bytes)
        fail("expected raw array bytes, found " + std::string(kind_name(s[4]->kind)) +
             " (object arrays are not supported)");
      obj->array.shape = shape_of(s[1]);
      obj->array.dtype = s[2]->dtype;
      obj->array.fortran_order = s[3]->boolean;
      obj->array.bytes = s[4]->text;
      check(obj->array);
    } else if (obj->kind == Kind::DType) {  // (3, '<', None, None, None, -1, -1, 0)
      if (state->kind != Kind::Tuple || state->items.size() < 2 || state->items[1]->kind != Kind::Str)
        fail("expected dtype state tuple");
      const std::string& order = state->items[1]->text;
      if (order == ">") obj->dtype.little = false;
      else if (order == "<" || order == "|" || order == "=") obj->dtype.little = true;
      else fail("unknown byte order '" + order + "'");
    } else if (obj->kind == Kind::Object) {
      if (state->kind != Kind::Dict) fail("expected a dict as object state");
      obj->state = state;
    } else {
      fail(std::string("BUILD on a ") + kind_name(obj->kind));
    }
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        const unsigned p = u8("protocol");
        if (p < 2 || p > 5) fail("unsupported pickle protocol " + std::to_string(p));
        return;
      }
      case 0x95: uint_le(8, "frame size"); return;  // FRAME: a hint only
      case '(': marks_.push_back(stack_.size()); return;
      case ')': push(tuple({})); return;
      case 't': push(tuple(pop_to_mark())); return;
      case 0x85: { auto a = pop(); push(tuple({a})); return; }
      case 0x86: { auto b = pop(); auto a = pop(); push(tuple({a, b})); return; }
      case 0x87: { auto c = pop(); auto b = pop(); auto a = pop(); push(tuple({a, b, c})); return; }
      case ']': push(make(Kind::List)); return;
      case 'l': { auto l = make(Kind::List); l->items = pop_to_mark(); push(l); return; }
      case 'a': { auto v = pop(); expect(top(), Kind::List, "APPEND target")->items.push_back(v); return; }
      case 'e': { auto vs = pop_to_mark(); auto& l = expect(top(), Kind::List, "APPENDS target");
                  l->items.insert(l->items.end(), vs.begin(), vs.end()); return; }
      case '}': push(make(Kind::Dict)); return;
      case 'd': { auto kv = pop_to_mark(); if (kv.size() % 2) fail("odd DICT items");
                  auto d = make(Kind::Dict); d->items = kv; push(d); return; }
      case 's': { auto v = pop(); auto k = pop(); auto& d = expect(top(), Kind::Dict, "SETITEM target");
                  d->items.push_back(k); d->items.push_back(v); return; }
      case 'u': { auto kv = pop_to_mark(); if (kv.size() % 2) fail("odd SETITEMS items");
                  auto& d = expect(top(), Kind::Dict, "SETITEMS target");
                  d->items.insert(d->items.end(), kv.begin(), kv.end()); return; }
      case 'N': push(make(Kind::None)); return;
      case 0x88: case 0x89: { auto b = make(Kind::Bool); b->boolean = op == 0x88; push(b); return; }
      case 'J': { auto v = make(Kind::Int); v->integer = static_cast<int32_t>(uint_le(4, "BININT")); push(v); return; }
      case 'K': { auto v = make(Kind::Int); v->integer = u8("BININT1"); push(v); return; }
      case 'M': { auto v = make(Kind::Int); v->integer = static_cast<int64_t>(uint_le(2, "BININT2")); push(v); return; }
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const unsigned n = u8("LONG1 size");
        if (n > 8) fail("integer wider than 64 bits");
        uint64_t raw_v = n ? uint_le(n, "LONG1") : 0;
        if (n && n < 8 && (raw_v >> (8 * n - 1)) & 1) raw_v |= ~uint64_t(0) << (8 * n);
        auto v = make(Kind::Int); v->integer = static_cast<int64_t>(raw_v); push(v); return;
      }
      case 'G': {  // BINFLOAT: big-endian double
        need(8, "BINFLOAT");
        unsigned char b[8];
        for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(in_[pos_ + 7 - k]);
        pos_ += 8;
        auto v = make(Kind::Float); std::memcpy(&v->real, b, 8); push(v); return;
      }
      case 0x8c: push_text(Kind::Str, u8("string size")); return;
      case 'X': push_text(Kind::Str, uint_le(4, "string size")); return;
      case 0x8d: push_text(Kind::Str, uint_le(8, "string size")); return;
      case 'C': push_text(Kind::Bytes, u8("bytes size")); return;
      case 'B': push_text(Kind::Bytes, uint_le(4, "bytes size")); return;
      case 0x8e: case 0x96: push_text(Kind::Bytes, uint_le(8, "bytes size")); return;
      case 0x94: memo_[memo_.size()] = top(); return;  // MEMOIZE
      case 'q': memo_[u8("memo key")] = top(); return;
      case 'r': memo_[uint_le(4, "memo key")] = top(); return;
      case 'h': push(memo_get(u8("memo key"))); return;
      case 'j': push(memo_get(uint_le(4, "memo key"))); return;
      case 'c': { std::string module = line("GLOBAL module"); std::string name = line("GLOBAL name");
                  push(global(module, name)); return; }
      case 0x93: { auto name = pop(); auto module = pop();
                   if (name->kind != Kind::Str || module->kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
                   push(global(module->text, name->text)); return; }
      case 'R': { auto args = pop(); auto f = pop(); push(reduce(f, args)); return; }
      case 0x81: {  // NEWOBJ cls() -- only for the COO class, with no arguments
        auto args = pop(); auto cls = pop();
        expect(cls, Kind::Class, "NEWOBJ class");
        if (!is_coo_class(cls->text)) fail("'" + cls->text + "' cannot be instantiated here");
        auto o = make(Kind::Object); o->text = cls->text; push(o); return;
      }
      case 'b': { auto state = pop(); build(top(), state); return; }
      case '0': pop(); return;
      case '1': pop_to_mark(); return;
      case '2': push(top()); return;
      default: {
        std::ostringstream msg;
        msg << "unsupported pickle opcode 0x" << std::hex << static_cast<int>(op)
            << " (expected one of the opcodes used by numpy/scipy data pickles)";
        fail(msg.str());
      }
    }
  }

  void push_text(Kind kind, uint64_t n) {
    auto v = make(kind);
    v->text = raw(n, kind == Kind::Str ? "a string" : "a byte string");
    push(v);
  }

  const std::string& in_;
  std::string source_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<PickleValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PickleValuePtr> memo_;
  std::vector<std::weak_ptr<PickleValue>> made_;  // every value, for unlink_all / settle

  PickleValuePtr make(Kind kind) {
    PickleValuePtr v = recgrid::data::make(kind);
    made_.push_back(v);
    return v;
  }
  static void unlink(const PickleValuePtr& v) {
    if (!v) return;
    v->items.clear();
    v->state.reset();
  }
};

const NdArray& array_field(const PickleValue& state, const std::string& key, const std::string& path) {
  PickleValuePtr v = state.get(key);
  if (!v || v->kind != Kind::Array)
    throw FormatError(path + ": COO matrix state has no numpy array '" + key + "'");
  return v->array;
}

}  // namespace

PickleValuePtr parse_pickle(const std::string& bytes, const std::string& source) {
  Machine machine(bytes, source);
  PickleValuePtr root;
  try {
    root = machine.run();
  } catch (...) {
    machine.unlink_all();
    throw;
  }
  if (machine.settle(root)) {
    machine.unlink_all();
    throw FormatError(source + ": a structure that contains itself (not a data pickle of numpy / scipy values)");
  }
  return root;
}

PickleValuePtr load_pickle(const std::string& path) { return parse_pickle(read_text<FormatError>(path), path); }

CooMatrix read_coo_pickle(const std::string& path) {
  PickleValuePtr root = load_pickle(path);
  if (root->kind != Kind::Object || !is_coo_class(root->text) || !root->state)
    throw FormatError(path + ": expected a pickled scipy.sparse coo_matrix, found " +
                      std::string(kind_name(root->kind)));
  const PickleValue& st = *root->state;
  PickleValuePtr shape = st.get("_shape");
  if (!shape || shape->kind != Kind::Tuple || shape->items.size() != 2 || shape->items[0]->kind != Kind::Int ||
      shape->items[1]->kind != Kind::Int)
    throw FormatError(path + ": COO matrix state has no 2-int '_shape'");
  CooMatrix m;
  m.rows = shape->items[0]->integer;
  m.cols = shape->items[1]->integer;
  m.row = array_field(st, "row", path).to_int64();
  m.col = array_field(st, "col", path).to_int64();
  m.data = array_field(st, "data", path).to_double();
  if (m.row.size() != m.col.size() || m.row.size() != m.data.size())
    throw FormatError(path + ": COO arrays differ in length (row " + std::to_string(m.row.size()) + ", col " +
                      std::to_string(m.col.size()) + ", data " + std::to_string(m.data.size()) + ")");
  return m;
}

FloatTable read_table_pickle(const std::string& path) {
  PickleValuePtr root = load_pickle(path);
  if (root->kind != Kind::Array)
    throw FormatError(path + ": expected a pickled 2-D numpy array, found " + std::string(kind_name(root->kind)));
  return to_float_table(root->array, path);
}

}  // namespace recgrid::data
