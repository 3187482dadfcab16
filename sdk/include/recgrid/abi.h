/*
 * RecGrid plugin boundary, version 2: the C contract between the host and every plugin.
 *
 * A plugin is a shared library that exports exactly one symbol:
 *
 *     const rg_plugin_info* recgrid_plugin_info(void);
 *
 * The host calls it once after loading, checks `abi_version` FIRST (the only field whose
 * position never changes), then `struct_size`, the LibTorch major.minor and the C++ ABI flag,
 * and refuses the library if anything differs. Everything else goes through the function
 * pointers in the descriptor. Plugin authors do not write this by hand: `sdk.hpp` builds it.
 *
 * Rules every call follows
 * ------------------------
 *  - No C++ exception crosses this boundary. Every call returns rg_status (RG_OK = 0); on failure
 *    the message is read with `last_error()` of the same plugin, on the same thread, before the
 *    next call into that plugin.
 *  - Tensors cross as `rg_tensor_list`: an ordered list of (name, at::Tensor) pairs. A list
 *    holds real at::Tensor values (host and plugins share one libtorch), so autograd graphs
 *    survive the crossing: a plugin's loss back-propagates into another plugin's parameters.
 *
 * Ownership
 * ---------
 *  - `rg_tensor_list` objects are always created and destroyed by the HOST. A list passed as
 *    `const rg_tensor_list*` is borrowed for the duration of the call; a list passed as
 *    `rg_tensor_list*` (named `out`) is empty on entry and the plugin appends to it.
 *  - The at::Tensor values inside a list are reference counted. A plugin may keep a tensor it
 *    received (e.g. graph tensors from the context) for as long as it likes; the host may keep
 *    tensors it received (e.g. parameters, which the optimizer then updates in place).
 *  - `rg_instance` objects are created by `create` and released by `destroy`, both in the plugin.
 *  - Strings returned by the plugin (`last_error`, descriptor fields) stay owned by the plugin;
 *    `last_error` text is valid until the next call into that plugin on the same thread.
 *  - Libraries are never unloaded while the process runs (LibTorch registries and objects made
 *    by plugin code must not outlive that code).
 */
#ifndef RECGRID_ABI_H
#define RECGRID_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change of this file. Tests build a plugin with another value.
 * 2: rg_option_spec gained `range`. */
#ifndef RECGRID_ABI_VERSION
#define RECGRID_ABI_VERSION 2
#endif

#define RECGRID_ENTRY_POINT "recgrid_plugin_info"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t rg_status;
#define RG_OK 0
#define RG_ERROR 1

typedef enum rg_plugin_kind { RG_KIND_BASE_MODEL = 1, RG_KIND_ENHANCER = 2 } rg_plugin_kind;

typedef enum rg_mode { RG_MODE_TRAIN = 0, RG_MODE_EVAL = 1 } rg_mode;

/* Plugin flags (bit set). */
/* The base model's evaluation encoding is random (e.g. BIGCF's reparameterisation noise): the host
 * re-encodes for every evaluation user batch instead of once per pass. */
#define RG_FLAG_ENCODE_PER_EVAL_BATCH ((uint64_t)1)

/* Which rows a text table must have. */
typedef enum rg_rows { RG_ROWS_USERS = 1, RG_ROWS_ITEMS = 2 } rg_rows;

typedef struct rg_tensor_list_s rg_tensor_list; /* opaque in C; see tensor_list.hpp */
typedef struct rg_instance_s* rg_instance;      /* a plugin object */

/* One option of a plugin: name, type ("int", "float", "bool", "string"), default as JSON text, help,
 * and the valid values: NULL or "" (any value of the type), an interval "[1, inf)", "(0, 1]" (square =
 * closed, round = open), choices "{sum, mean}", or a union of those separated by '|', e.g.
 * "{auto} | {0} | [2, inf)" (0, 2 or more, or the word auto). A word a range lists is a valid value
 * whatever the type (an "int" option may be `auto`). The host checks every value against it before
 * anything loads, and refuses a plugin whose default is outside its own range. */
typedef struct rg_option_spec {
  const char* name;
  const char* type;
  const char* default_json;
  const char* help;
  const char* range;
} rg_option_spec;

/* One embedding table an enhancer needs (loaded and checked by the host). `cols` = 0: any width. */
typedef struct rg_input_spec {
  const char* name;
  int32_t rows; /* rg_rows */
  int64_t cols;
  const char* help;
} rg_input_spec;

/* One tensor of a base model's training encoding (what encode(RG_MODE_TRAIN) returns): in a base
 * model's `gives`, a tensor it returns; in an enhancer's `needs`, a tensor its loss reads. The host
 * checks every base model x enhancer pair of a configuration against these before anything trains.
 *  name:        "final", "intent.user", ..., or a per-layer family holding "<l>" once ("layer.<l>",
 *               "view2.layer.<l>"): one tensor for each layer l = first_layer .. L.
 *  layers:      a base model's family: the name of its int option holding L (e.g. "layers"); else NULL.
 *  first_layer: a family's first l: 0, or 1 for a view that shares layer 0 with the main encoding.
 *  parameter:   a base model's output that is one of its parameters as it is (intent prototypes): the
 *               parameter's name, so an enhancer finds it at creation through this declaration; else NULL.
 *  help:        one line for `recgrid plugins`.
 * In an enhancer's need, "{option}" in `name` stands for the value of its string option `option`
 * (IRLLRec's "{intent_view}layer.<l>"). A need is met by a tensor of the same name, or by a family
 * whose layers cover it; a family need "P<l>" by the base's family "P<l>" starting at or before its
 * first_layer, with L >= its first_layer. The loader refuses a declaration naming an option the
 * plugin does not declare (or one of the wrong type). */
typedef struct rg_tensor_spec {
  const char* name;
  const char* layers;
  int32_t first_layer;
  const char* parameter;
  const char* help;
} rg_tensor_spec;

/* What the host gives every plugin instance at creation.
 * `graph` names (all on `device`; V = n_users + n_items nodes, users first):
 *   "adj.rowptr" [V+1] int64, "adj.row" [E] int64, "adj.col" [E] int64 : the bipartite adjacency,
 *        both directions, sorted by (row, col); the same structure is the plain edge list P.
 *   "adj.norm" [E] float : D^-1/2 A D^-1/2 values of those entries.
 *   "adj.t_rowptr" [V+1], "adj.t_col" [E], "adj.t_perm" [E] int64 : the transpose (CSR), its entry k
 *        being entry t_perm[k] of the list above.
 *   "train.user" [T] int64, "train.item" [T] int64 : training interactions.
 * `inputs`: the enhancer's declared text tables, by declared name, float32 [rows x cols].
 * `base_parameters` (enhancers only, else NULL): the base model's parameters by name, so an enhancer
 *   can see at creation what the base model has. Convention: a base model with intent prototypes
 *   declares them among its `gives` as "intent.user" / "intent.item" with the parameter each one is
 *   (rg_tensor_spec.parameter) and returns them from encode() under those names. Appended after
 *   `inputs`: read it only when `struct_size` covers it.
 * `base_gives` (enhancers only, else NULL): the base model's declared `gives` (NULL also for a base
 *   model built before they were appended). Appended within ABI 2: read it only when `struct_size` covers it. */
typedef struct rg_context {
  uint32_t struct_size;
  int64_t n_users;
  int64_t n_items;
  const char* device;
  uint64_t seed;
  const rg_tensor_list* graph;
  const rg_tensor_list* inputs;
  const rg_tensor_list* base_parameters;
  int64_t base_embedding_size; /* enhancers: width d of the base model's layer 0; 0 for a base model.
                                  Added within ABI 2: read it only when struct_size covers it. */
  const rg_tensor_spec* base_gives;
  uint32_t n_base_gives;
} rg_context;

/* Calls only a base model has.
 *  layer0:  out <- "E0" [V x d], the layer-0 node embeddings before any enhancer touches them.
 *  encode:  out <- "user" [M x d], "item" [N x d] (final embeddings used by BPR and for scoring),
 *           "final" [V x d] (the same rows as one node-level tensor, users first),
 *           "layer.0" .. "layer.L" [V x d] (per-layer node embeddings), plus named extras.
 *           `e0` is NULL or a list holding "E0" that replaces layer0() (enhancers' transform).
 *  loss:    out <- named scalar loss terms (weights already applied) for `batch`
 *           ("users", "pos", "neg" int64 [B]) and the `encoding` returned by encode(TRAIN). */
typedef struct rg_base_model_api {
  rg_status (*layer0)(rg_instance self, rg_tensor_list* out);
  rg_status (*encode)(rg_instance self, int32_t mode, const rg_tensor_list* e0, rg_tensor_list* out);
  rg_status (*loss)(rg_instance self, const rg_tensor_list* batch, const rg_tensor_list* encoding,
                    rg_tensor_list* out);
} rg_base_model_api;

/* Calls only an enhancer has. Every pointer may be NULL (the hook is not used).
 *  transform_inputs: out <- "E0", given "E0" in `e0` (stacked enhancers chain in order).
 *  loss:             out <- named scalar loss terms, given the batch and the base encoding.
 *  after_step:       runs after every optimizer step (EMA teachers). */
typedef struct rg_enhancer_api {
  rg_status (*transform_inputs)(rg_instance self, int32_t mode, const rg_tensor_list* e0,
                                rg_tensor_list* out);
  rg_status (*loss)(rg_instance self, const rg_tensor_list* batch, const rg_tensor_list* encoding,
                    rg_tensor_list* out);
  rg_status (*after_step)(rg_instance self);
} rg_enhancer_api;

/* Calls only a fitted base model has: a model fitted to the training interactions in one call (closed
 * form, neighbourhoods, alternating least squares), not trained by the host's SGD loop. Such a plugin
 * has kind RG_KIND_BASE_MODEL, `base_model` NULL and `fitted` non-NULL; the host then skips the epoch
 * loop: it calls fit() once, evaluates once (validation and test) through score(), and saves buffers()
 * as the model's state. A fitted model takes no enhancer (they act on layer-0 embeddings and SGD).
 *  fit:   fits to the context's "train.user" / "train.item" (and the adjacency). out <- optional
 *         "sweep.loss" float [S]: the training objective after each of S iterations (iALS sweeps),
 *         which the host writes to metrics.jsonl as epochs 0..S-1.
 *  score: out <- "scores" float [B x (item_end - item_begin)]: the scores of `users` (int64 [B]) for
 *         items item_begin .. item_end-1. The host calls it tile by tile (a few hundred users times a
 *         few thousand items), never for a users x items matrix, and masks training items itself. */
typedef struct rg_fitted_model_api {
  rg_status (*fit)(rg_instance self, rg_tensor_list* out);
  rg_status (*score)(rg_instance self, const rg_tensor_list* users, int64_t item_begin, int64_t item_end,
                     rg_tensor_list* out);
} rg_fitted_model_api;

/* The descriptor. Field order is part of the ABI; `abi_version` stays first forever. */
typedef struct rg_plugin_info {
  uint32_t abi_version;
  uint32_t struct_size;
  int32_t torch_major;
  int32_t torch_minor;
  int32_t cxx11_abi; /* value of _GLIBCXX_USE_CXX11_ABI the plugin was built with */
  int32_t kind;      /* rg_plugin_kind */
  const char* name;
  const char* version;
  const char* description;
  uint64_t flags;
  const rg_option_spec* options;
  uint32_t n_options;
  const rg_input_spec* inputs;
  uint32_t n_inputs;

  const char* (*last_error)(void);
  /* options_json: a JSON object holding every declared option (the host fills defaults). */
  rg_status (*create)(const rg_context* context, const char* options_json, rg_instance* out);
  void (*destroy)(rg_instance self);
  /* out <- trainable parameters (the optimizer's), by name. */
  rg_status (*parameters)(rg_instance self, rg_tensor_list* out);
  /* out <- non-trainable state that checkpoints must keep (e.g. EMA teacher weights). The host's
   * regulariser sums the squares of every parameter and buffer, except buffers named "state.*"
   * (run state that is not a weight, e.g. cached activations). */
  rg_status (*buffers)(rg_instance self, rg_tensor_list* out);

  const rg_base_model_api* base_model; /* non-NULL iff kind == RG_KIND_BASE_MODEL (NULL for a fitted one) */
  const rg_enhancer_api* enhancer;     /* non-NULL iff kind == RG_KIND_ENHANCER */

  /* Added within ABI 2: the host reads it only when `struct_size` covers it; NULL = none.
   * out <- the plugin's own text-side embeddings at the current weights, for `recgrid export`
   * (e.g. "user" [M x d'], "item" [N x d']: an enhancer's projection of the text tables). */
  rg_status (*text_side)(rg_instance self, rg_tensor_list* out);

  /* Added within ABI 2: the host reads it only when `struct_size` covers it; NULL = an SGD-trained
   * base model or an enhancer. Non-NULL (with `base_model` NULL): a fitted base model, see above. */
  const rg_fitted_model_api* fitted;

  /* Added within ABI 2: the host reads them only when `struct_size` covers them (a plugin built before
   * declares nothing, and its pairs are not checked). See rg_tensor_spec.
   * gives: a base model's training encoding, the names of the `encode` contract above ("user", "item",
   *        "final", "layer.<l>") and its extras; none for a fitted model (it takes no enhancer).
   * needs: what an enhancer's loss reads from the base encoding; none for a base model. */
  const rg_tensor_spec* gives;
  uint32_t n_gives;
  const rg_tensor_spec* needs;
  uint32_t n_needs;
} rg_plugin_info;

typedef const rg_plugin_info* (*rg_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RECGRID_ABI_H */
