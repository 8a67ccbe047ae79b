# midge_enable_nccl(TARGET): compiles TARGET with the NCCL gradient backend
# (src/distributed/nccl_comm.h) when NCCL's header is found next to a CUDA
# LibTorch; sets MIDGE_NCCL_FOUND. Only the header is needed: NCCL's
# functions are looked up at run time in the libnccl the CUDA LibTorch
# loads. Where nccl.h is looked for: $NCCL_HOME/include, the CUDA toolkit,
# PyPI's nvidia-nccl package beside torch.
function(midge_enable_nccl target)
  find_path(MIDGE_NCCL_INCLUDE_DIR nccl.h
            HINTS $ENV{NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS}
                  ${TORCH_INSTALL_PREFIX}/../nvidia/nccl/include)
  if(MIDGE_NCCL_INCLUDE_DIR)
    target_compile_definitions(${target} PRIVATE MIDGE_WITH_NCCL=1)
    target_include_directories(${target} PRIVATE ${MIDGE_NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS})
    set(MIDGE_NCCL_FOUND TRUE PARENT_SCOPE)
    message(STATUS "NCCL gradient backend: on (${MIDGE_NCCL_INCLUDE_DIR}/nccl.h)")
  else()
    set(MIDGE_NCCL_FOUND FALSE PARENT_SCOPE)
    message(STATUS "NCCL gradient backend: off (no nccl.h; set NCCL_HOME)")
  endif()
endfunction()
