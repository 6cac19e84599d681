# ui/outbox: the outbox panel: messages whose send failed, waiting for a retry.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/outboxpanel.h
    ${CMAKE_CURRENT_LIST_DIR}/outboxpanel.cpp
)
