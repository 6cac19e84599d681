# Capture server storage: MessageStore (durable .eml files and their
# index) and CertificateAuthority (the capture server's own CA and certificate).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/messagestore.h
    ${CMAKE_CURRENT_LIST_DIR}/messagestore.cpp
    ${CMAKE_CURRENT_LIST_DIR}/certificateauthority.h
    ${CMAKE_CURRENT_LIST_DIR}/certificateauthority.cpp
)
