# ui/diagnose: the Diagnose tab: checklist, details, waterfall, exports.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/checklistmodel.h
    ${CMAKE_CURRENT_LIST_DIR}/checklistmodel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/waterfallchart.h
    ${CMAKE_CURRENT_LIST_DIR}/waterfallchart.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diagnosecontroller.h
    ${CMAKE_CURRENT_LIST_DIR}/diagnosecontroller.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diagnoseview.h
    ${CMAKE_CURRENT_LIST_DIR}/diagnoseview.cpp
)
