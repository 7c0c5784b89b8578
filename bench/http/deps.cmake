# bench_http starts tests/servers/generic_api.py from the source tree.
target_compile_definitions(${BENCH_TARGET} PRIVATE SL_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
