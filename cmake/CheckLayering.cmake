# diffuscope_forbid_links(TARGET FORBIDDEN...) — fails the configure step when TARGET links any of FORBIDDEN,
# directly or through any library it links (LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES, followed to the end).
# It keeps the layering of the README's map true: engine → core → vis → cli, never back up.

function(_diffuscope_link_closure target out_var)
  set(seen "")
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo t)
    if(t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    foreach(prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
      get_target_property(libs ${t} ${prop})
      if(NOT libs)
        continue()
      endif()
      foreach(lib IN LISTS libs)
        # $<LINK_ONLY:x> (static libraries' private links) → x; other generator expressions are not followed.
        string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
        if(NOT lib MATCHES "^\\$<")
          list(APPEND todo ${lib})
        endif()
      endforeach()
    endforeach()
  endwhile()
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

function(diffuscope_forbid_links target)
  _diffuscope_link_closure(${target} closure)
  foreach(bad IN LISTS ARGN)
    if(bad IN_LIST closure)
      message(FATAL_ERROR "layering: ${target} links ${bad} (it links: ${closure}); "
                          "the engine and the domain library must not depend on the CLI, the window or the UI")
    endif()
  endforeach()
endfunction()
