# core/diagnostics: the per-endpoint checklist (servercheck.h) and its blocking SMTP dialog.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/servercheck.h
    ${CMAKE_CURRENT_LIST_DIR}/servercheck.cpp
    ${CMAKE_CURRENT_LIST_DIR}/servercheck_tls.h
    ${CMAKE_CURRENT_LIST_DIR}/servercheck_tls.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtpdialog.h
    ${CMAKE_CURRENT_LIST_DIR}/smtpdialog.cpp
)
