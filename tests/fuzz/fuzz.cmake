# libFuzzer target for the SMTP reply parser (also checks DataEncoder on the
# same bytes), plus a short CTest smoke run. Configured only with
# -DSMTPSCOPE_BUILD_FUZZERS=ON and clang (tests/CMakeLists.txt).

add_executable(replyparser_fuzzer ${CMAKE_CURRENT_LIST_DIR}/replyparser_fuzzer.cpp)
target_link_libraries(replyparser_fuzzer PRIVATE core)
target_compile_options(replyparser_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(replyparser_fuzzer PRIVATE -fsanitize=fuzzer)

set(_replyparser_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/replyparser)
file(MAKE_DIRECTORY ${_replyparser_work_corpus})
# New inputs go to the first (build-tree) directory; the seeds in the source
# tree are only read.
add_test(NAME fuzz_replyparser_smoke
         COMMAND replyparser_fuzzer -max_total_time=20 -max_len=8192 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/smtp.dict
                 ${_replyparser_work_corpus} ${CMAKE_CURRENT_LIST_DIR}/corpus/replyparser)
set_tests_properties(fuzz_replyparser_smoke PROPERTIES TIMEOUT 120 LABELS fuzz)
