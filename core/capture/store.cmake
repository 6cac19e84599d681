# Capture server storage: MessageStore (durable .eml files, their SQLite index
# and the thread that commits them) and CertificateAuthority (the capture
# server's own CA and certificate). QtSql comes with core (core/store).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/messagestore.h
    ${CMAKE_CURRENT_LIST_DIR}/messagestore.cpp
    ${CMAKE_CURRENT_LIST_DIR}/certificateauthority.h
    ${CMAKE_CURRENT_LIST_DIR}/certificateauthority.cpp
)
