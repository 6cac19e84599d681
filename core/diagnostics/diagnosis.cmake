# core/diagnostics: a whole diagnosis (discovery, the checklist per endpoint, DNS records).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/diagnosis.h
    ${CMAKE_CURRENT_LIST_DIR}/diagnosis.cpp
)
