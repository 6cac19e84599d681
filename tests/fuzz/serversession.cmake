# libFuzzer target for the capture server's sans-I/O session
# (core/capture/serversession), plus a short CTest smoke run on a copy of the seeds.
add_executable(serversession_fuzzer ${CMAKE_CURRENT_LIST_DIR}/serversession_fuzzer.cpp)
target_link_libraries(serversession_fuzzer PRIVATE core)
target_compile_options(serversession_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(serversession_fuzzer PRIVATE -fsanitize=fuzzer)

set(_server_seeds ${CMAKE_CURRENT_LIST_DIR}/corpus/serversession)
set(_server_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/serversession)
add_test(NAME fuzz_serversession_corpus
         COMMAND ${CMAKE_COMMAND} -E copy_directory ${_server_seeds} ${_server_work_corpus})
set_tests_properties(fuzz_serversession_corpus PROPERTIES FIXTURES_SETUP fuzz_serversession_corpus LABELS fuzz)
add_test(NAME fuzz_serversession_smoke
         COMMAND serversession_fuzzer -max_total_time=20 -max_len=4096 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/smtp.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/serversession-
                 ${_server_work_corpus})
set_tests_properties(fuzz_serversession_smoke PROPERTIES TIMEOUT 120 LABELS fuzz
                     FIXTURES_REQUIRED fuzz_serversession_corpus)
