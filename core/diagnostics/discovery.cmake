# core/diagnostics: DNS discovery (MX, SRV, PTR) and the sender-domain records
# (SPF, DMARC, MTA-STS) of a diagnosis.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/discovery.h
    ${CMAKE_CURRENT_LIST_DIR}/discovery.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dnsrecords.cpp
)
# glibc's resolver (res_nquery) tells NODATA from NXDOMAIN where QDnsLookup 6.4 cannot.
find_library(RESOLV_LIBRARY resolv REQUIRED)
target_link_libraries(core PRIVATE ${RESOLV_LIBRARY})
