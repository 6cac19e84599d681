# core/store: the history database, drafts and outbox (historystore.h,
# sessionrecord.h).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/historystore.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sessionrecord.cpp
)
