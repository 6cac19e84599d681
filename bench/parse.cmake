# bench_parse: ParsedMessage (core/mime) on hostile and large messages, each
# case in a child process: parse time and peak memory growth.
qt_add_executable(bench_parse ${CMAKE_CURRENT_LIST_DIR}/bench_parse.cpp)
target_link_libraries(bench_parse PRIVATE core)
