# bench_yaml loads an OpenAPI spec from the shared folder by default.
target_compile_definitions(${BENCH_TARGET} PRIVATE SL_SHARED_DIR="${SLUICE_SHARED_DIR}")
