# bench_json compares the sluice parser with json-c, jansson and cJSON (Debian
# libjson-c-dev, libjansson-dev, libcjson-dev; scripts/deps.sh --bench). Each
# one that is missing is left out of the table instead of failing the build.
foreach(lib json-c jansson libcjson)
  string(REGEX REPLACE "[^A-Za-z0-9]" "_" var "BENCH_${lib}")
  string(TOUPPER "${var}" var)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET ${lib})
  if(${var}_FOUND)
    target_link_libraries(${BENCH_TARGET} PRIVATE PkgConfig::${var})
    target_compile_definitions(${BENCH_TARGET} PRIVATE HAVE_${var}=1)
  else()
    message(STATUS "bench_json: ${lib} not found; it will be skipped")
  endif()
endforeach()
