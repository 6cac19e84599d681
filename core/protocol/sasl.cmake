# SASL client steps (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/256 through libgsasl;
# XOAUTH2 and OAUTHBEARER formatted here).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/sasl.h
    ${CMAKE_CURRENT_LIST_DIR}/sasl.cpp
)
