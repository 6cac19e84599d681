# libFuzzer target for the MIME reader (core/mime/parsedmessage), plus a short
# CTest smoke run on a copy of the seeds.
# It also parses each input with GMime directly, to hold ParsedMessage's scan
# against what GMime builds, so it links GMime itself.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FUZZ_GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
add_executable(parsedmessage_fuzzer ${CMAKE_CURRENT_LIST_DIR}/parsedmessage_fuzzer.cpp)
target_link_libraries(parsedmessage_fuzzer PRIVATE core PkgConfig::FUZZ_GMIME)
target_compile_options(parsedmessage_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(parsedmessage_fuzzer PRIVATE -fsanitize=fuzzer)

set(_mime_seeds ${CMAKE_CURRENT_LIST_DIR}/corpus/parsedmessage)
set(_mime_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/parsedmessage)
add_test(NAME fuzz_parsedmessage_corpus
         COMMAND ${CMAKE_COMMAND} -E copy_directory ${_mime_seeds} ${_mime_work_corpus})
set_tests_properties(fuzz_parsedmessage_corpus PROPERTIES FIXTURES_SETUP fuzz_parsedmessage_corpus LABELS fuzz)
add_test(NAME fuzz_parsedmessage_smoke
         COMMAND parsedmessage_fuzzer -max_total_time=20 -max_len=8192 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/mime.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/parsedmessage-
                 ${_mime_work_corpus})
set_tests_properties(fuzz_parsedmessage_smoke PROPERTIES TIMEOUT 120 LABELS fuzz
                     FIXTURES_REQUIRED fuzz_parsedmessage_corpus)
