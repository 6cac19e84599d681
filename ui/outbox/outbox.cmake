# ui/outbox: the outbox panel (issue 8): messages whose send failed, waiting for a retry.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/outboxpanel.h
    ${CMAKE_CURRENT_LIST_DIR}/outboxpanel.cpp
)
