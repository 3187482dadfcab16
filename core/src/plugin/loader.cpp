#define BOOST_DLL_USE_STD_FS
#include "plugin/loader.hpp"

#include <torch/csrc/api/include/torch/version.h>

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "recgrid/option_range.hpp"

namespace recgrid::plugin {

namespace fs = std::filesystem;

const char* kind_name(int32_t kind) {
  return kind == RG_KIND_BASE_MODEL ? "base model" : kind == RG_KIND_ENHANCER ? "enhancer" : "unknown kind";
}

namespace {

std::string version_pair(int major, int minor) { return std::to_string(major) + "." + std::to_string(minor); }

// Each option's range parses and holds its own default: a declaration bug is the plugin author's to
// see at load, not a user's to meet as a confusing configuration error.
void check_option_ranges(const rg_plugin_info* info, const std::string& path) {
  for (uint32_t k = 0; k < info->n_options; ++k) {
    const rg_option_spec& o = info->options[k];
    if (!o.range || !*o.range) continue;
    try {
      const OptionRange range = OptionRange::parse(o.range);
      std::string value = o.default_json ? o.default_json : "";
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (const std::string why = range.check(value); !why.empty())
        throw std::invalid_argument("its default " + std::string(o.default_json) + " " + why);
    } catch (const std::invalid_argument& e) {
      throw PluginError("plugin " + path + ": option '" + std::string(o.name ? o.name : "?") + "' is declared wrongly: " +
                        e.what());
    }
  }
}

bool declares_option(const rg_plugin_info* info, const std::string& name, const char* type) {
  for (uint32_t k = 0; k < info->n_options; ++k)
    if (info->options[k].name && name == info->options[k].name) return std::string(info->options[k].type) == type;
  return false;
}

// The "{option}" words of a need's name.
std::vector<std::string> option_words(const std::string& name) {
  std::vector<std::string> words;
  for (size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open + 1)) {
    const size_t close = name.find('}', open);
    words.push_back(close == std::string::npos ? name.substr(open) : name.substr(open + 1, close - open - 1));
  }
  return words;
}

// What an encoding declaration (abi.h rg_tensor_spec) may not say: the options it names exist with
// their type, a family holds "<l>" once, a base model gives and an enhancer needs, never the other way.
std::string encoding_declaration_error(const rg_plugin_info* info, const rg_tensor_spec& t, bool given) {
  if (!t.name || !*t.name) return "a tensor without a name";
  const std::string name = t.name;
  const size_t at = name.find("<l>");
  if (at != std::string::npos && name.find("<l>", at + 1) != std::string::npos) return "'" + name + "' holds <l> twice";
  if (t.first_layer < 0 || (at == std::string::npos && (t.first_layer != 0 || t.layers)))
    return "'" + name + "' has a layer range but no <l>";
  if (given && t.layers && !declares_option(info, t.layers, "int"))
    return "'" + name + "' counts its layers by '" + t.layers + "', which is not an int option of the plugin";
  if (given && name.find('{') != std::string::npos) return "given '" + name + "' names an option (only a need may)";
  if (!given && (t.layers || t.parameter)) return "need '" + name + "' sets layers or parameter (only a base model's output may)";
  for (const std::string& word : option_words(name))
    if (!declares_option(info, word, "string"))
      return "need '" + name + "' names {" + word + "}, which is not a string option of the plugin";
  return "";
}

void check_encoding_declaration(const rg_plugin_info* info, const std::string& path) {
  if (info->struct_size < offsetof(rg_plugin_info, n_needs) + sizeof(info->n_needs)) return;
  const bool base = info->kind == RG_KIND_BASE_MODEL;
  if ((info->n_gives && (!base || !info->gives)) || (info->n_needs && (base || !info->needs)))
    throw PluginError("plugin " + path + ": " + (base ? "a base model declares no needs" : "an enhancer declares no gives") +
                      " (abi.h rg_tensor_spec)");
  for (uint32_t k = 0; k < info->n_gives + info->n_needs; ++k) {
    const bool given = k < info->n_gives;
    const rg_tensor_spec& t = given ? info->gives[k] : info->needs[k - info->n_gives];
    if (const std::string why = encoding_declaration_error(info, t, given); !why.empty())
      throw PluginError("plugin " + path + ": its encoding is declared wrongly: " + why);
  }
}

void check_descriptor(const rg_plugin_info* info, const std::string& path) {
  if (!info) throw PluginError("plugin " + path + ": " RECGRID_ENTRY_POINT "() returned no descriptor");
  if (info->abi_version != RECGRID_ABI_VERSION)
    throw PluginError("plugin " + path + " was built for RecGrid plugin ABI version " +
                      std::to_string(info->abi_version) + ", but this host uses ABI version " +
                      std::to_string(RECGRID_ABI_VERSION) + ": rebuild the plugin against this RecGrid");
  // Within ABI 2 the descriptor only grows at its end: a plugin built before `text_side` was
  // appended is as valid as one built after (the host reads text_side only when the size covers it).
  if (info->struct_size < offsetof(rg_plugin_info, text_side) || info->struct_size > sizeof(rg_plugin_info))
    throw PluginError("plugin " + path + ": descriptor size " + std::to_string(info->struct_size) +
                      " is not one of ABI version " + std::to_string(RECGRID_ABI_VERSION) + " (" +
                      std::to_string(offsetof(rg_plugin_info, text_side)) + " to " +
                      std::to_string(sizeof(rg_plugin_info)) + "): rebuild the plugin");
  if (info->torch_major != TORCH_VERSION_MAJOR || info->torch_minor != TORCH_VERSION_MINOR)
    throw PluginError("plugin " + path + " was built with LibTorch " + version_pair(info->torch_major, info->torch_minor) +
                      ", but this host uses LibTorch " + version_pair(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR));
  if (info->cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    throw PluginError("plugin " + path + " was built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(info->cxx11_abi) +
                      ", but this host uses " + std::to_string(_GLIBCXX_USE_CXX11_ABI));
  const bool base = info->kind == RG_KIND_BASE_MODEL, enh = info->kind == RG_KIND_ENHANCER;
  const bool fitted = info->struct_size >= offsetof(rg_plugin_info, fitted) + sizeof(info->fitted) && info->fitted;
  // A base model has exactly one of the SGD calls and the fitted calls, each complete.
  const bool base_ok = fitted ? !info->base_model && info->fitted->fit && info->fitted->score : info->base_model != nullptr;
  if ((!base && !enh) || (base && !base_ok) || (enh && (!info->enhancer || fitted)) || !info->create ||
      !info->destroy || !info->last_error || !info->parameters || !info->buffers || !info->name)
    throw PluginError("plugin " + path + ": incomplete descriptor (kind " + std::to_string(info->kind) + ")");
  check_option_ranges(info, path);
  check_encoding_declaration(info, path);
}

}  // namespace

const LoadedPlugin& load_plugin(const std::string& path) {
  // Libraries and descriptors live until the process ends (never unloaded).
  static std::mutex mutex;
  static auto* loaded = new std::map<std::string, std::unique_ptr<LoadedPlugin>>();
  static auto* libraries = new std::vector<std::unique_ptr<boost::dll::shared_library>>();
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = fs::weakly_canonical(path).string();
  if (auto it = loaded->find(key); it != loaded->end()) return *it->second;

  auto lib = std::make_unique<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(key, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) throw PluginError("plugin " + path + ": cannot load library: " + ec.message());
  if (!lib->has(RECGRID_ENTRY_POINT))
    throw PluginError("plugin " + path + ": not a RecGrid plugin (no exported '" RECGRID_ENTRY_POINT "' entry point)");
  auto entry = lib->get<const rg_plugin_info*()>(RECGRID_ENTRY_POINT);
  const rg_plugin_info* info = entry();
  check_descriptor(info, path);
  auto plugin = std::make_unique<LoadedPlugin>(LoadedPlugin{key, info});
  libraries->push_back(std::move(lib));
  const LoadedPlugin& result = *plugin;
  (*loaded)[key] = std::move(plugin);
  return result;
}

std::vector<std::string> plugin_search_path(const std::vector<std::string>& given) {
  std::vector<std::string> dirs = given;
  if (const char* env = std::getenv("RECGRID_PLUGIN_PATH"); env && *env) {
    std::stringstream ss(env);
    for (std::string d; std::getline(ss, d, ':');)
      if (!d.empty()) dirs.push_back(d);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back((exe.parent_path().parent_path() / "plugins").string());
    dirs.push_back((exe.parent_path().parent_path() / "lib" / "recgrid" / "plugins").string());
  }
  // A folder named twice (a --plugin-dir that is also a default) is searched once, where it came first.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& d : dirs)
    if (seen.insert(fs::weakly_canonical(d, ec).string()).second) unique.push_back(d);
  return unique;
}

Registry::Registry(const std::vector<std::string>& dirs) : dirs_(dirs) {
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      try {
        const LoadedPlugin& p = load_plugin(f.string());
        const bool duplicate = std::any_of(plugins_.begin(), plugins_.end(),
                                           [&](const LoadedPlugin* q) { return q->name() == p.name(); });
        if (duplicate)  // shadowed by a folder earlier in the search path
          problems_.push_back("plugin " + f.string() + ": name '" + p.name() + "' is already taken by a plugin found earlier");
        else plugins_.push_back(&p);
      } catch (const PluginError& e) {
        problems_.push_back(e.what());
      }
    }
  }
}

std::string Registry::where() const {
  std::string s;
  for (const auto& d : dirs_) s += (s.empty() ? "" : ", ") + d;
  return s.empty() ? "(no plugin folders)" : s;
}

const LoadedPlugin& Registry::get(const std::string& name, rg_plugin_kind kind) const {
  std::string known;
  for (const LoadedPlugin* p : plugins_) {
    if (p->info->kind != kind) continue;
    if (p->name() == name) return *p;
    known += (known.empty() ? "" : ", ") + p->name();
  }
  std::string msg = "no " + std::string(kind_name(kind)) + " plugin named '" + name + "' in " + where() +
                    " (available: " + (known.empty() ? "none" : known) + ")";
  for (const auto& problem : problems_) msg += "\n  refused: " + problem;
  throw PluginError(msg);
}

const rg_fitted_model_api* LoadedPlugin::fitted_api() const {
  const bool covered = info->struct_size >= offsetof(rg_plugin_info, fitted) + sizeof(info->fitted);
  return covered ? info->fitted : nullptr;
}

bool LoadedPlugin::declares_encoding() const {
  return info->struct_size >= offsetof(rg_plugin_info, n_needs) + sizeof(info->n_needs);
}

std::vector<rg_tensor_spec> LoadedPlugin::gives() const {
  if (!declares_encoding() || !info->gives) return {};
  return std::vector<rg_tensor_spec>(info->gives, info->gives + info->n_gives);
}

std::vector<rg_tensor_spec> LoadedPlugin::needs() const {
  if (!declares_encoding() || !info->needs) return {};
  return std::vector<rg_tensor_spec>(info->needs, info->needs + info->n_needs);
}

// ---- Instance ----

Instance::Instance(const LoadedPlugin& plugin, const rg_context& context, const std::string& options_json)
    : plugin_(plugin), name_(plugin.name()) {
  check(plugin_.info->create(&context, options_json.c_str(), &handle_), "create");
}

Instance::~Instance() {
  if (handle_) plugin_.info->destroy(handle_);
}

void Instance::check(rg_status status, const char* call) const {
  if (status == RG_OK) return;
  const char* msg = plugin_.info->last_error();
  throw PluginError("plugin '" + name_ + "' failed in " + call + "(): " + (msg && *msg ? msg : "(no message)"));
}

const rg_base_model_api& Instance::base(const char* call) const {
  if (!plugin_.info->base_model)
    throw PluginError("plugin '" + name_ + "' is not a base model; cannot call " + call + "()");
  return *plugin_.info->base_model;
}

const rg_enhancer_api& Instance::enhancer(const char* call) const {
  if (!plugin_.info->enhancer) throw PluginError("plugin '" + name_ + "' is not an enhancer; cannot call " + call + "()");
  return *plugin_.info->enhancer;
}

const rg_fitted_model_api& Instance::fitted(const char* call) const {
  const rg_fitted_model_api* api = plugin_.fitted_api();
  if (!api) throw PluginError("plugin '" + name_ + "' is not a fitted model; cannot call " + call + "()");
  return *api;
}

NamedTensors Instance::parameters() {
  rg_tensor_list out;
  check(plugin_.info->parameters(handle_, &out), "parameters");
  return out.items;
}

NamedTensors Instance::buffers() {
  rg_tensor_list out;
  check(plugin_.info->buffers(handle_, &out), "buffers");
  return out.items;
}

at::Tensor Instance::layer0() {
  rg_tensor_list out;
  check(base("layer0").layer0(handle_, &out), "layer0");
  return out.items.at("E0");
}

NamedTensors Instance::encode(rg_mode mode, const at::Tensor* e0) {
  rg_tensor_list in, out;
  if (e0) in.items.add("E0", *e0);
  check(base("encode").encode(handle_, mode, e0 ? &in : nullptr, &out), "encode");
  return out.items;
}

NamedTensors Instance::loss(const NamedTensors& batch, const NamedTensors& encoding) {
  const rg_tensor_list b{batch}, enc{encoding};
  rg_tensor_list out;
  check(base("loss").loss(handle_, &b, &enc, &out), "loss");
  return out.items;
}

at::Tensor Instance::transform_inputs(rg_mode mode, const at::Tensor& e0) {
  const auto& api = enhancer("transform_inputs");
  if (!api.transform_inputs) return e0;
  rg_tensor_list in, out;
  in.items.add("E0", e0);
  check(api.transform_inputs(handle_, mode, &in, &out), "transform_inputs");
  return out.items.at("E0");
}

NamedTensors Instance::enhancer_loss(const NamedTensors& batch, const NamedTensors& encoding) {
  const auto& api = enhancer("loss");
  if (!api.loss) return {};
  const rg_tensor_list b{batch}, enc{encoding};
  rg_tensor_list out;
  check(api.loss(handle_, &b, &enc, &out), "loss");
  return out.items;
}

void Instance::after_step() {
  const auto& api = enhancer("after_step");
  if (api.after_step) check(api.after_step(handle_), "after_step");
}

NamedTensors Instance::text_side() {
  const rg_plugin_info& info = *plugin_.info;
  const bool covered = info.struct_size >= offsetof(rg_plugin_info, text_side) + sizeof(info.text_side);
  if (!covered || !info.text_side) return {};
  rg_tensor_list out;
  check(info.text_side(handle_, &out), "text_side");
  return out.items;
}

}  // namespace recgrid::plugin

namespace recgrid::plugin {

NamedTensors Instance::fit() {
  rg_tensor_list out;
  check(fitted("fit").fit(handle_, &out), "fit");
  return out.items;
}

at::Tensor Instance::score(const at::Tensor& users, int64_t item_begin, int64_t item_end) {
  rg_tensor_list in, out;
  in.items.add("users", users);
  check(fitted("score").score(handle_, &in, item_begin, item_end, &out), "score");
  const at::Tensor s = out.items.at("scores");
  if (s.dim() != 2 || s.size(0) != users.size(0) || s.size(1) != item_end - item_begin)
    throw PluginError("plugin '" + name_ + "' returned scores of shape " + std::string(c10::str(s.sizes())) + " from score(), expected [" +
                      std::to_string(users.size(0)) + ", " + std::to_string(item_end - item_begin) + "]");
  return s;
}

}  // namespace recgrid::plugin
