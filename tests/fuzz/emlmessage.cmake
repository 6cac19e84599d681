# libFuzzer target for the .eml reader (core/mime/emlmessage): each input is
# written to a temporary file and loaded, streamed and checked. Plus a short
# CTest smoke run on the seeds (new inputs go to the build tree's directory).
add_executable(emlmessage_fuzzer ${CMAKE_CURRENT_LIST_DIR}/emlmessage_fuzzer.cpp)
target_link_libraries(emlmessage_fuzzer PRIVATE core)
target_compile_options(emlmessage_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(emlmessage_fuzzer PRIVATE -fsanitize=fuzzer)

set(_emlmessage_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/emlmessage)
file(MAKE_DIRECTORY ${_emlmessage_work_corpus})
add_test(NAME fuzz_emlmessage_smoke
         COMMAND emlmessage_fuzzer -max_total_time=15 -max_len=8192 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/mime.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/emlmessage-
                 ${_emlmessage_work_corpus} ${CMAKE_CURRENT_LIST_DIR}/corpus/emlmessage)
set_tests_properties(fuzz_emlmessage_smoke PROPERTIES TIMEOUT 120 LABELS fuzz)
