# core/store: comparing two stored sessions and exporting one as a bundle.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/sessioncompare.h
    ${CMAKE_CURRENT_LIST_DIR}/sessioncompare.cpp
)
