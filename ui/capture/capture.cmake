# ui/capture: the capture view (capturepanel.h): list model, safe HTML view, panel.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/capturepanel.h
    ${CMAKE_CURRENT_LIST_DIR}/capturepanel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/capturelistmodel.h
    ${CMAKE_CURRENT_LIST_DIR}/capturelistmodel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/safehtmlbrowser.h
    ${CMAKE_CURRENT_LIST_DIR}/safehtmlbrowser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/faultsdialog.h
    ${CMAKE_CURRENT_LIST_DIR}/faultsdialog.cpp
)
