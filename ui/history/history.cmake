# ui/history: the History page (historyview.h), its paged list model, and stored
# results turned back into SendResults for the live views.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/historyview.h
    ${CMAKE_CURRENT_LIST_DIR}/historyview.cpp
    ${CMAKE_CURRENT_LIST_DIR}/historylistmodel.h
    ${CMAKE_CURRENT_LIST_DIR}/historylistmodel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/storedresult.h
    ${CMAKE_CURRENT_LIST_DIR}/storedresult.cpp
)
