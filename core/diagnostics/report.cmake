# core/diagnostics: the report model shared by the checklist, discovery and exports.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/diagnosticreport.h
    ${CMAKE_CURRENT_LIST_DIR}/diagnosticreport.cpp
)
