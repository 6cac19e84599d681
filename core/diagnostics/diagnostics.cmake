# core/diagnostics: plain-words explanations of replies and engine errors.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/replyexplainer.h
    ${CMAKE_CURRENT_LIST_DIR}/replyexplainer.cpp
)
