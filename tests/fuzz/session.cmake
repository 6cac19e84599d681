# libFuzzer target for the sans-I/O SMTP session (core/protocol/smtpsession),
# plus a short CTest smoke run. Included by tests/fuzz/CMakeLists.txt, which is
# configured only with -DSMTPSCOPE_BUILD_FUZZERS=ON and clang.
add_executable(session_fuzzer ${CMAKE_CURRENT_LIST_DIR}/session_fuzzer.cpp)
target_link_libraries(session_fuzzer PRIVATE core)
target_compile_options(session_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(session_fuzzer PRIVATE -fsanitize=fuzzer)

# The smoke run works on a copy of the seeds in the build tree: libFuzzer writes
# new inputs into its first corpus directory, and the source tree is only read.
# The copy is a CTest fixture, so `ctest -R fuzz_session_smoke` makes it too.
set(_session_seeds ${CMAKE_CURRENT_LIST_DIR}/corpus/session)
set(_session_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/session)
add_test(NAME fuzz_session_corpus
         COMMAND ${CMAKE_COMMAND} -E copy_directory ${_session_seeds} ${_session_work_corpus})
set_tests_properties(fuzz_session_corpus PROPERTIES FIXTURES_SETUP fuzz_session_corpus LABELS fuzz)
add_test(NAME fuzz_session_smoke
         COMMAND session_fuzzer -max_total_time=20 -max_len=4096 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/smtp.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/session-
                 ${_session_work_corpus})
set_tests_properties(fuzz_session_smoke PROPERTIES TIMEOUT 120 LABELS fuzz
                     FIXTURES_REQUIRED fuzz_session_corpus)
