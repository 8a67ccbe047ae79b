# Precompiled LibTorch headers (issue #27). <torch/torch.h> costs ~10 s of
# parsing and ~1 GB of compiler memory in every translation unit that
# includes it; precompiled once per target, it is loaded instead.
#
#   midge_torch_pch(TARGET)
#
# precompiles <torch/torch.h> for TARGET and uses it only in the target's
# sources that include it, directly or through a project header (found by
# reading the #include lines under src/ and tests/ at configure time, so a
# new file needs no list). The other sources would only be slowed by
# loading a header they do not use. Call it in the directory that defines
# TARGET. MIDGE_PCH=OFF turns it off (e.g. to time a build without it).
# It does nothing in a unity build (MIDGE_UNITY, the default): a batch
# parses the header once, and precompiling it (~30 s, before any of the
# target's batches can start) would cost more than it saves.
option(MIDGE_PCH "Precompile <torch/torch.h> for the targets with many torch translation units" ON)

# _midge_includes_torch(FILE HEADERS OUT): OUT is TRUE when FILE includes
# <torch/torch.h> (or <torch/script.h>) or one of HEADERS, the project
# headers known to include it.
function(_midge_includes_torch file headers out)
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include")
  set(uses FALSE)
  foreach(line IN LISTS includes)
    if(line MATCHES "#[ \t]*include[ \t]*<torch/(torch|script)\\.h>")
      set(uses TRUE)
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"" AND CMAKE_MATCH_1 IN_LIST headers)
      set(uses TRUE)
    endif()
  endforeach()
  set(${out} ${uses} PARENT_SCOPE)
endfunction()

# The project headers that bring in <torch/torch.h>, transitively, as paths
# relative to src/ or tests/ (the include roots): the global property
# MIDGE_TORCH_HEADERS, found once per configure.
function(_midge_find_torch_headers)
  get_property(done GLOBAL PROPERTY MIDGE_TORCH_HEADERS SET)
  if(done)
    return()
  endif()
  set(headers "")
  foreach(root src tests)
    file(GLOB_RECURSE found RELATIVE ${PROJECT_SOURCE_DIR}/${root} ${PROJECT_SOURCE_DIR}/${root}/*.h)
    foreach(h IN LISTS found)
      list(APPEND headers "${root}|${h}")
    endforeach()
  endforeach()
  # Until no header is added: a header that includes one found in a pass
  # is found in the next.
  set(torch "")
  set(changed TRUE)
  while(changed)
    set(changed FALSE)
    foreach(entry IN LISTS headers)
      string(REPLACE "|" ";" parts "${entry}")
      list(GET parts 0 root)
      list(GET parts 1 h)
      if(NOT h IN_LIST torch)
        _midge_includes_torch(${PROJECT_SOURCE_DIR}/${root}/${h} "${torch}" uses)
        if(uses)
          list(APPEND torch ${h})
          set(changed TRUE)
        endif()
      endif()
    endforeach()
  endwhile()
  set_property(GLOBAL PROPERTY MIDGE_TORCH_HEADERS ${torch})
endfunction()

function(midge_torch_pch target)
  if(NOT MIDGE_PCH OR MIDGE_UNITY)
    return()
  endif()
  _midge_find_torch_headers()
  get_property(torch_headers GLOBAL PROPERTY MIDGE_TORCH_HEADERS)
  get_target_property(sources ${target} SOURCES)
  set(torch_sources 0)
  foreach(source IN LISTS sources)
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT path MATCHES "\\.(cpp|cc|cxx)$")
      continue()
    endif()
    _midge_includes_torch(${path} "${torch_headers}" uses)
    if(uses)
      math(EXPR torch_sources "${torch_sources} + 1")
    else()
      set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  message(STATUS "${target}: <torch/torch.h> precompiled for ${torch_sources} source(s)")
endfunction()
