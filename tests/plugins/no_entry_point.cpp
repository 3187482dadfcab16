// Test-only: a shared library that is not a RecGrid plugin (no recgrid_plugin_info).
extern "C" int not_a_plugin(void) { return 42; }
