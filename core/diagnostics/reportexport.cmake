# core/diagnostics: the report exports (JSON, self-contained HTML, waterfall data,
# the command lines that reproduce a session).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/reportexport.h
    ${CMAKE_CURRENT_LIST_DIR}/reportexport.cpp
    ${CMAKE_CURRENT_LIST_DIR}/reportexport_shell.h
    ${CMAKE_CURRENT_LIST_DIR}/reportexport_html.cpp
)
