// Must NOT compile: a plugin that includes a host header. The plugin SDK (recgrid_sdk) is all a plugin
// links, and the host's headers (core/src/) are not on its include path, so this include fails -
// Layers.APluginCannotIncludeAHostHeader builds it and expects exactly that error.
#include "config/config.hpp"
#include "recgrid/sdk.hpp"
