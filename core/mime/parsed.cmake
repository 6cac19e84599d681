# ParsedMessage: a read-only MIME reader for received .eml files, a
# plain C++/Qt tree the capture view shows.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/parsedmessage.h
    ${CMAKE_CURRENT_LIST_DIR}/parsedmessage.cpp
)
